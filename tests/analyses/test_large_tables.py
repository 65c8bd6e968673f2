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


def test_section_scratch_tables_are_dropped_after_the_section(
        synth_dataset: Callable[..., Dataset], tmp_path: Path) -> None:
    """A section's scratch tables (account statistics, inequality's per-account aggregate) are dropped from the
    engine once its tables are written, while the shared context tables stay for the sections after it."""
    from permadani.analyses import audit as runner
    from permadani.engine import connect

    ds = synth_dataset(seed=5, accounts=300, threads=150, months=2)
    engine = connect("duckdb")
    seen: list[tuple[int, int]] = []
    original = runner.AuditContext.release_scratch

    def watched(ctx: runner.AuditContext) -> None:
        before = len(engine._cached)
        original(ctx)
        seen.append((before, len(engine._cached)))

    runner.AuditContext.release_scratch = watched  # type: ignore[method-assign]
    try:
        runner.audit(ds, tmp_path / "results", engine=engine, sections=("tiers", "accounts", "inequality"),
                     n_boot=10)
        names = {r[0] for r in engine.backend.con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        runner.AuditContext.release_scratch = original  # type: ignore[method-assign]
        engine.close()
    context_tables = 5  # edges, established posts, activity per period, active accounts, tiers
    assert seen == [
        (context_tables, context_tables),          # tiers: nothing of its own
        (context_tables + 2, context_tables + 1),  # accounts: the shared reply outcomes stay, its statistics go
        (context_tables + 2, context_tables + 1),  # inequality: its per-account aggregate goes
    ]
    # in DuckDB itself: the context tables and the shared outcomes remain, the dropped ones are gone
    assert len([n for n in names if n.startswith("ibis_cache")]) == context_tables + 1
