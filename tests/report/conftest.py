"""Report fixtures: the hand-written results folder (summary.json + tables.json -> Parquet) and a hostile copy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import FIXTURES

REPORT_FIXTURES = FIXTURES / "report"


def build_results(target: Path, summary: dict | None = None, tables: dict | None = None) -> Path:
    """Write a results folder at ``target`` from the fixture (or the given summary/tables)."""
    target.mkdir(parents=True, exist_ok=True)
    src = REPORT_FIXTURES / "results"
    summary = summary if summary is not None else json.loads((src / "summary.json").read_text(encoding="utf-8"))
    if tables is None:
        tables = json.loads((src / "tables.json").read_text(encoding="utf-8"))
    (target / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    for name, rows in tables.items():
        if not name.startswith("_"):
            columns = list(dict.fromkeys(key for row in rows for key in row))  # rows may omit keys: union them
            pq.write_table(pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows]),
                           target / f"{name}.parquet")
    return target


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    return build_results(tmp_path / "results")


@pytest.fixture
def fixture_summary() -> dict:
    return json.loads((REPORT_FIXTURES / "results" / "summary.json").read_text(encoding="utf-8"))


def copy_fixture(name: str, target: Path) -> Path:
    shutil.copytree(REPORT_FIXTURES / name, target)
    return target


#: A name of 10,000 characters without a space (must neither break the layout nor bloat the page).
LONG_NAME = "A" * 10_000


@pytest.fixture(scope="session")
def hostile_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/fixtures/report/hostile.csv (LONG_NAME_10K expanded) ingested into a dataset."""
    from permadani import ingest

    folder = tmp_path_factory.mktemp("hostile")
    text = (REPORT_FIXTURES / "hostile.csv").read_text(encoding="utf-8").replace("LONG_NAME_10K", LONG_NAME)
    source = folder / "hostile.csv"
    source.write_text(text, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:  # session scope: the autouse key fixture is not active yet
        mp.setenv("PERMADANI_KEY", "test-key")
        ingest([source], folder / "dataset", options={"platform": "<script>alert('platform')</script>"})
    return folder / "dataset"


HOSTILE = ["<script>alert('x')</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)", LONG_NAME,
           "someone@example.com", "[bold red]markup[/]", "</style><script>alert(2)</script>"]


def hostile_summary(summary: dict) -> dict:
    """The fixture summary with hostile strings in every place a data string can reach the page."""
    s = json.loads(json.dumps(summary))
    ds = s["dataset"]
    ds["dataset"] = HOSTILE[0]
    ds["platforms"] = {HOSTILE[1]: 10, HOSTILE[3]: 5}
    ds["sources"][0]["path"] = HOSTILE[1] + HOSTILE[3]
    ds["sources"][0]["format"] = HOSTILE[2]
    ds["rejects_by_reason"] = {HOSTILE[0]: 2, HOSTILE[2]: 1, HOSTILE[3]: 1}
    s["written_at"] = HOSTILE[6]
    s["params"]["engine"] = HOSTILE[1]
    s["params"]["status"] = HOSTILE[0]
    s["sections"]["tiers"]["measure"] = HOSTILE[1]
    for card, name in zip(s["sections"]["accounts"]["top"], HOSTILE, strict=False):
        card["display_name"] = name
        card["platform"] = HOSTILE[2]
    s["sections"]["accounts"]["top"][2]["author_id"] = HOSTILE[3]
    s["sections"]["accounts"]["top"][2]["tier"] = HOSTILE[0]
    resp = s["sections"]["responsiveness"]
    resp["gaps"][0]["name"] = HOSTILE[0]
    resp["matrix"][0]["from"] = HOSTILE[1]
    s["sections"]["inequality"][HOSTILE[0]] = HOSTILE[1]
    s["sections"]["conversation"]["top_community"] = "write to someone@example.com " + HOSTILE[3]
    s["sections"]["conversation"]["top_broadcasters"][0]["display_name"] = HOSTILE[1] + HOSTILE[3]
    s["sections"]["inequality"]["most_unequal_communities"][0]["community"] = HOSTILE[0] + HOSTILE[3]
    s["sections"]["mobility"]["matrix"][0]["from"] = HOSTILE[0]
    s["sections"]["rich_club"]["platforms"][HOSTILE[0]] = {"nodes": 5}
    return s


def hostile_tables(tables: dict) -> dict:
    t = json.loads(json.dumps(tables))
    t["mobility_transitions"][0]["from_tier"] = HOSTILE[0]
    t["conversation_communities"][0]["community"] = HOSTILE[1] + HOSTILE[3]
    t["trend"][0]["period"] = HOSTILE[1]
    t["trend"][1]["period"] = HOSTILE[3]
    t["cards"][1]["display_name"] = HOSTILE[1]
    t["tiers"][0]["tier"] = HOSTILE[0]
    return t


@pytest.fixture
def hostile_results(tmp_path: Path, fixture_summary: dict) -> Path:
    tables = json.loads((REPORT_FIXTURES / "results" / "tables.json").read_text(encoding="utf-8"))
    return build_results(tmp_path / "hostile-results", hostile_summary(fixture_summary), hostile_tables(tables))
