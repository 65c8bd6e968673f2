"""Structure sections on a synthetic community: planted effects through the full path, and DuckDB = PySpark."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest

from permadani import Dataset
from permadani.analyses.context import AuditContext, AuditParams
from permadani.analyses.structure import wls_slope
from permadani.engine import Engine, connect
from permadani.synthetic import synth

SECTIONS = {
    "inequality": "permadani.analyses.inequality",
    "rich_club": "permadani.analyses.graph.richclub",
    "mobility": "permadani.analyses.mobility",
    "trend": "permadani.analyses.trend",
    "conversation": "permadani.analyses.conversation",
}
PARAMS = AuditParams(upper=0.05, middle=0.15, n_boot=50, rich_club_nulls=5)


def _run_all(dataset: Dataset, engine: Engine) -> dict[str, tuple[dict, dict]]:
    ctx = AuditContext.build(dataset, engine, PARAMS)
    out = {}
    for name, module in SECTIONS.items():
        result = importlib.import_module(module).run(ctx)
        out[name] = (result.tables, result.summary)
    return out


@pytest.fixture(scope="module")
def small(synth_dataset: Callable[..., Dataset]) -> Dataset:
    return synth_dataset(seed=3, accounts=300, threads=260, months=4)


@pytest.fixture(scope="module")
def duck_results(small: Dataset) -> Iterator[dict[str, tuple[dict, dict]]]:
    engine = connect("duckdb")
    yield _run_all(small, engine)
    engine.close()


def test_sections_agree_with_each_other(small: Dataset, duck_results: dict[str, tuple[dict, dict]]) -> None:
    """Independent code paths of different sections count the same things."""
    ineq, _ = duck_results["inequality"]
    overall = next(r for r in ineq["inequality"].to_pylist() if r["scope"] == "overall")
    conv_tables, conv = duck_results["conversation"]
    assert conv["posts"] == small.info()["posts"]
    assert overall["total"] == conv["replies"] > 300  # replies received = non-self replies written
    mob_tables, mob = duck_results["mobility"]
    assert sum(r["accounts"] for r in mob["matrix"]) == pc.sum(mob_tables["mobility_transitions"]["accounts"]).as_py()
    assert mob["periods"] >= 4
    _, trend = duck_results["trend"]
    assert trend["replies"] + trend["replies_without_tier"] == conv["replies"]
    _, rc = duck_results["rich_club"]
    assert rc["platforms"]["synthetic"]["null_samples"] == 5
    partners = pc.sum(conv_tables["conversation_accounts"]["partners"]).as_py()
    assert rc["platforms"]["synthetic"]["edges"] * 2 == partners  # each undirected pair counted at both ends


@pytest.mark.parametrize(("planted", "direction"), [(0.04, "shrinking"), (-0.04, "growing")])
def test_synthetic_gap_trend_sign_through_the_section(tmp_path: Path, planted: float, direction: str) -> None:
    """synth's gap_trend raises P[lower→upper] by ``planted`` per month, so the gap R[uu] − R[lu] moves by −planted;
    the generator's realised truth per month gives the slope to recover."""
    ds = synth(tmp_path / "t", seed=2, accounts=1200, threads=3000, months=8, upper=0.05, middle=0.15,
               reply_back={"lower:upper": 0.4}, gap_trend=planted)
    truth = ds.parameters["truth"]["by_month"]
    true_slope = wls_slope(np.array([r["month"] for r in truth], dtype=float),
                           np.array([r["gap_upper_vs_lower"] for r in truth], dtype=float))
    assert true_slope == pytest.approx(-planted, abs=0.005)
    with connect("duckdb") as engine:
        ctx = AuditContext.build(ds, engine, AuditParams(upper=0.05, middle=0.15, n_boot=200))
        result = importlib.import_module(SECTIONS["trend"]).run(ctx)
    gap = result.summary["gap_slope_per_period"]
    assert gap["direction"] == direction, gap
    assert gap["slope"] == pytest.approx(true_slope, abs=0.025)


@pytest.mark.spark
def test_duckdb_and_pyspark_agree_exactly(small: Dataset, duck_results: dict[str, tuple[dict, dict]],
                                          spark_engine: Engine) -> None:
    spark = _run_all(small, spark_engine)
    for name, (tables, summary) in duck_results.items():
        s_tables, s_summary = spark[name]
        assert s_summary == summary, name
        assert sorted(s_tables) == sorted(tables), name
        for table_name, table in tables.items():
            other = s_tables[table_name]
            assert other.schema.equals(table.schema), table_name
            assert other.equals(table), table_name


def test_audit_api_writes_structure_results(small: Dataset, tmp_path: Path) -> None:
    from permadani import audit
    from permadani.analyses.audit import AuditResult

    mine = tuple(SECTIONS)
    result = audit(small, output=tmp_path / "results", sections=mine, n_boot=20, rich_club_nulls=3)
    assert list(result.summary["sections"]) == list(mine)
    back = AuditResult.read(tmp_path / "results")
    for name in ("inequality", "lorenz", "rich_club", "period_tiers", "mobility_transitions",
                 "mobility_upper_origin", "mobility_rise", "trend", "conversation_communities",
                 "conversation_accounts", "conversation_depth"):
        assert back.table(name).equals(result.table(name)), name
    assert back.summary["sections"]["rich_club"]["platforms"]["synthetic"]["null_samples"] == 3
    lorenz = back.table("lorenz")
    assert pc.max(lorenz["x"]).as_py() == 1.0 and pc.min(lorenz["y"]).as_py() == 0.0
