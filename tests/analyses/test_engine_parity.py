"""DuckDB and PySpark give IDENTICAL results (every table, every number) on the same datasets."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from permadani import Dataset, audit, ingest
from permadani.analyses.cards import account
from permadani.engine import Engine
from tests.conftest import SAMPLE

pytestmark = pytest.mark.spark


def _comparable(summary: dict) -> str:
    summary = dict(summary)
    summary.pop("written_at")
    summary["params"] = {k: v for k, v in summary["params"].items() if k != "engine"}
    return json.dumps(summary, sort_keys=True)


def _assert_identical(ds: Dataset, spark: Engine, **params: object) -> dict:
    duck = audit(ds, engine="duckdb", **params)
    other = audit(ds, engine=spark, **params)
    assert sorted(duck.tables) == sorted(other.tables)
    for name, table in duck.tables.items():
        assert table.schema.equals(other.tables[name].schema), name
        assert table.equals(other.tables[name]), name
    assert _comparable(duck.summary) == _comparable(other.summary)
    return duck.summary


CORE = ("tiers", "responsiveness", "accounts")


def test_parity_synthetic(synth_dataset: Callable[..., Dataset], spark_engine: Engine) -> None:
    ds = synth_dataset(seed=11, accounts=300, threads=250, months=3)
    summary = _assert_identical(ds, spark_engine, n_boot=50, sections=CORE)
    assert summary["sections"]["responsiveness"]["replies"] > 500


def test_parity_pagerank_and_card(hand_dataset: Dataset, spark_engine: Engine) -> None:
    _assert_identical(hand_dataset, spark_engine, status="pagerank", n_boot=20, sections=CORE)
    assert account(hand_dataset, "A", engine=spark_engine) == account(hand_dataset, "A")


def test_parity_real_tiny_forum(tmp_path: Path, spark_engine: Engine) -> None:
    ds = ingest([SAMPLE / "tiny-forum.csv"], tmp_path / "tiny")
    _assert_identical(ds, spark_engine, n_boot=20, sections=CORE)


def test_parity_stackexchange(shared_data: Path, tmp_path: Path, spark_engine: Engine) -> None:
    from permadani.adapters import registry

    if "stackexchange" not in registry():
        pytest.skip("the stackexchange adapter is not registered yet")
    ds = ingest([shared_data / "stackexchange-cardano"], tmp_path / "se", format="stackexchange")
    summary = _assert_identical(ds, spark_engine, n_boot=50, sections=CORE)
    assert summary["sections"]["tiers"]["measure"] == "reputation"
