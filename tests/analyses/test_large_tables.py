"""Tables with a row per account are written by the engine straight to the results folder (never held in
Python), and hold the same rows in the same order as when executed in memory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from permadani import Dataset, audit
from permadani.analyses.audit import AuditResult


def test_account_tables_written_by_the_engine_equal_the_executed_ones(
        synth_dataset: Callable[..., Dataset], tmp_path: Path) -> None:
    ds = synth_dataset(seed=5, accounts=300, threads=150, months=2)
    sections = ("tiers", "accounts")
    in_memory = audit(ds, sections=sections, n_boot=10)
    written = audit(ds, tmp_path / "results", sections=sections, n_boot=10)
    for name in ("tiers", "account_stats"):
        assert isinstance(in_memory.tables[name], pa.Table)
        assert written.tables[name] == tmp_path / "results" / f"{name}.parquet"
        expected, got = in_memory.table(name), written.table(name)
        assert expected.num_rows == got.num_rows > 250
        assert got.column_names == expected.column_names
        assert got.to_pylist() == expected.to_pylist(), name
    assert AuditResult.read(tmp_path / "results").table("tiers").to_pylist() == in_memory.table("tiers").to_pylist()
    assert written.summary == in_memory.summary | {"written_at": written.summary["written_at"]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]  # the staging folder is gone
