"""CLI contract: exit codes, stdout carries only data, every command documented."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import SAMPLE

TINY = SAMPLE / "tiny-forum.csv"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "permadani", *args], capture_output=True, text=True,
                          timeout=300)


def test_ingest_and_info_json(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    r = run("ingest", str(TINY), "-o", str(out), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["posts"] == 10
    r = run("info", str(out), "--json")
    info = json.loads(r.stdout)
    assert r.returncode == 0
    assert {"posts", "accounts", "threads", "platforms", "sources"} <= set(info)
    assert info["sources"][0] | {"path": None} == {
        "path": None, "format": "table", "read": 12, "kept": 10, "duplicates": 1, "rejected": 1}


def test_exit_codes(tmp_path: Path) -> None:
    r = run("info", str(tmp_path))
    assert r.returncode == 1 and "not a permadani dataset" in r.stderr and r.stdout == ""
    r = run("ingest", str(TINY))  # missing -o
    assert r.returncode == 2
    r = run("ingest", str(TINY), "-o", str(tmp_path / "x"), "--format", "nonsense")
    assert r.returncode == 2 and "unknown format" in r.stderr
    r = run("ingest", str(tmp_path / "absent.csv"), "-o", str(tmp_path / "x"))
    assert r.returncode == 1 and "absent.csv" in r.stderr


def test_every_command_and_option_is_documented() -> None:
    from typer.main import get_command

    from permadani.cli.app import app

    group = get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert command.help, f"command {name} has no help"
        for param in command.params:
            if param.name != "help" and getattr(param, "param_type_name", "") == "option":
                assert getattr(param, "help", None), f"option {param.name} of {name} has no help"
