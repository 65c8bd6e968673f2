"""CLI: ``synth`` → ``audit`` → ``account``: exit codes, stdout is JSON data only, results folder contents."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from permadani.cli.app import main


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture()
def run(capsys: pytest.CaptureFixture[str]):
    """Run the CLI in-process (what ``permadani ARGS`` does, minus interpreter start-up)."""

    def invoke(*args: str) -> Ran:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return Ran(code, out, err)

    return invoke


def test_real_process_stdout_is_json(tmp_path: Path) -> None:
    """One real subprocess: exit code and a clean stdout (progress and notes on stderr only)."""
    ds = tmp_path / "ds"
    r = subprocess.run([sys.executable, "-m", "permadani", "synth", "-o", str(ds), "--accounts", "200",
                        "--threads", "60", "--months", "1", "--json"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["authors"] == 200


def test_synth_audit_account(tmp_path: Path, run) -> None:
    ds, res = tmp_path / "ds", tmp_path / "res"
    r = run("synth", "-o", str(ds), "--seed", "2", "--accounts", "300", "--threads", "200", "--months", "2",
            "--reply-back", "lower:upper=0.05,upper:upper=0.9", "--newcomer-penalty", "0", "--json")
    assert r.returncode == 0, r.stderr
    made = json.loads(r.stdout)
    assert made["parameters"]["reply_back"]["lower:upper"] == 0.05 and made["authors"] == 300

    r = run("audit", str(ds), "-o", str(res), "--n-boot", "50", "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)  # stdout is exactly one JSON document
    assert summary["planted"]["seed"] == 2 and summary["params"]["n_boot"] == 50
    assert summary["params"]["status"] == "reputation" and summary["params"]["engine"] == "duckdb"
    assert "Responsiveness (95% CI)" in r.stderr and "upper vs lower" in r.stderr  # the Rich summary
    assert json.loads((res / "summary.json").read_text()) == summary
    assert {"tiers", "responsiveness", "bootstrap", "account_stats", "cards"} <= {p.stem for p in res.glob("*.parquet")}
    assert pq.read_table(res / "tiers.parquet").num_rows == 300
    cell = next(m for m in summary["sections"]["responsiveness"]["matrix"]
                if (m["from"], m["to"]) == ("lower", "upper"))
    assert cell["rate"] < 0.2  # planted 0.05

    r = run("account", str(ds), "u00001", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["author_id"] == "u00001"
    r = run("account", str(ds), "u00001")
    assert r.returncode == 0 and "reply-back rate" in r.stdout


def test_audit_errors(tmp_path: Path, run) -> None:
    r = run("audit", str(tmp_path))
    assert r.returncode == 1 and "not a permadani dataset" in r.stderr and r.stdout == ""
    r = run("synth", "-o", str(tmp_path / "d"), "--reply-back", "top:bottom=0.5")
    assert r.returncode == 2 and "tier pair" in r.stderr
    r = run("synth", "-o", str(tmp_path / "d"), "--accounts", "300", "--threads", "50", "--months", "1", "-q")
    assert r.returncode == 0, r.stderr
    r = run("audit", str(tmp_path / "d"), "--status", "karma")
    assert r.returncode == 2 and "unknown status measure" in r.stderr
    r = run("audit", str(tmp_path / "d"), "--upper", "0.7", "--middle", "0.5")
    assert r.returncode == 2 and "tier shares" in r.stderr
    r = run("audit", str(tmp_path / "d"), "--sections", "tiers,karma")
    assert r.returncode == 2 and "unknown sections ['karma']" in r.stderr
    r = run("audit", str(tmp_path / "d"), "--sections", "tiers, responsiveness", "--n-boot", "20", "--json")
    assert r.returncode == 0, r.stderr
    assert list(json.loads(r.stdout)["sections"]) == ["tiers", "responsiveness"]
    r = run("account", str(tmp_path / "d"), "ghost")
    assert r.returncode == 1 and "no active account" in r.stderr
