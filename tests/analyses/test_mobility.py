"""Mobility: a planted cohort that rises to the upper tier is recovered (origin share, rise time, transitions)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from permadani.analyses import mobility
from permadani.analyses.structure import account_periods_expr, period_tiers_expr, split_period_tiers
from permadani.schema import ACCOUNTS, conform

from ._structure_helpers import UTC, Duck, posts_table, reply_edges

BASE = [f"b{i:02d}" for i in range(60)]
COHORT = ["c0", "c1", "c2"]


def _month(m: int, day: int) -> dt.datetime:
    return dt.datetime(2021, m + 1, day, 12, tzinfo=UTC)


def cohort_rows(rise: bool = True) -> list[tuple]:
    """60 accounts active every month (Jan–Jun 2021) with 2 distinct repliers each; a cohort of 3 arrives in
    March and, when ``rise``, gets replies from 20 distinct accounts each month from April on."""
    rows: list[tuple] = []
    for m in range(6):
        for i, a in enumerate(BASE):
            rows.append((f"p{m}{a}", a, None, _month(m, 1)))
            for d in (1, 2):
                rows.append((f"r{m}{a}{d}", BASE[(i + d) % 60], f"p{m}{a}", _month(m, 2)))
        if m >= 2:
            for j, c in enumerate(COHORT):
                rows.append((f"p{m}{c}", c, None, _month(m, 1)))
                if rise and m >= 3:
                    for d in range(20):
                        rows.append((f"q{m}{c}{d}", BASE[(20 * j + d) % 60], f"p{m}{c}", _month(m, 3)))
    return rows


def period_tier_table(rows: list[tuple], upper: float = 0.05, middle: float = 0.09) -> pa.Table:
    duck = Duck()
    posts = duck.table(posts_table(rows))
    authors = sorted({r[1] for r in rows})
    accounts = duck.table(conform(pa.table({"author_id": authors, "platform": ["forum"] * len(authors)}),
                                  ACCOUNTS))
    edges = reply_edges(posts)
    tiers = duck.execute(period_tiers_expr(posts, accounts, edges, "attention", "month", upper, middle))
    return split_period_tiers(tiers, duck.execute(account_periods_expr(posts, "month")))


@pytest.fixture(scope="module")
def risen() -> tuple[pa.Table, pa.Table, pa.Table, pa.Table]:
    pt = period_tier_table(cohort_rows(rise=True))
    return (pt, *mobility.compute(pt, k=3))


def test_period_tiers_follow_attention(risen: tuple) -> None:
    pt = risen[0]
    april = {r["author_id"]: r for r in pt.to_pylist() if r["period"] == "2021-04-01"}
    assert len(april) == 63
    # ceil(0.05 * 63) = 4 upper: the cohort (status 20) and b00 (first of the accounts tied at 2)
    assert sorted(a for a, r in april.items() if r["tier"] == "upper") == ["b00", *COHORT]
    assert april["c0"]["status"] == 20.0 and april["b30"]["status"] == 2.0
    assert {r["period"] for r in pt.to_pylist()} == {f"2021-0{m}-01" for m in range(1, 7)}


def test_planted_cohort_is_recovered_in_upper_origin(risen: tuple) -> None:
    origin = {r["period"]: r for r in risen[2].to_pylist()}
    assert [origin[p]["left_censored"] for p in sorted(origin)] == [True, True, True, False, False, False]
    assert (origin["2021-04-01"]["upper"], origin["2021-04-01"]["newcomers"]) == (4, 3)
    assert origin["2021-05-01"]["share"] == pytest.approx(0.75)
    assert origin["2021-06-01"]["newcomers"] == 0  # first seen 3 periods before: no longer new with k = 3


def test_rise_time_and_transitions(risen: tuple) -> None:
    pt, trans, origin, climb = risen
    rows = {r["author_id"]: r for r in climb.to_pylist()}
    for c in COHORT:
        assert rows[c]["first_period"] == "2021-03-01" and rows[c]["first_upper_period"] == "2021-04-01"
        assert rows[c]["periods_to_upper"] == 1
        assert rows[c]["days_to_upper"] == pytest.approx(31.0)
    assert rows["b00"]["periods_to_upper"] == 0
    t = {(r["period_to"], r["from_tier"], r["to_tier"]): r for r in trans.to_pylist()}
    assert t[("2021-03-01", "inactive", "lower")]["accounts"] == 3  # the cohort arrives
    assert t[("2021-04-01", "lower", "upper")]["accounts"] == 3     # and rises
    assert t[("2021-04-01", "lower", "upper")]["row_share"] == pytest.approx(3 / 54)
    assert not any(k[1] == k[2] == "inactive" for k in t)
    summary = mobility.summarise(pt, trans, origin, climb, 3, "month")
    assert summary["accounts_reaching_upper"] == climb.num_rows
    # b00-b02 upper from January, b03 in March (upper grows to 4 when the cohort arrives), the cohort after 1 month
    assert summary["periods_to_upper_histogram"] == [{"periods": 0, "accounts": 3}, {"periods": 1, "accounts": 3},
                                                     {"periods": 2, "accounts": 1}]
    assert summary["upper_newcomer_share"] == pytest.approx(6 / 12)
    m = {(r["from"], r["to"]): r for r in summary["matrix"]}
    assert sum(r["row_share"] for r in summary["matrix"] if r["from"] == "lower") == pytest.approx(1.0)
    assert m[("inactive", "lower")]["accounts"] == 3


def test_no_rise_without_the_planted_attention() -> None:
    pt = period_tier_table(cohort_rows(rise=False))
    _, origin, climb = mobility.compute(pt, k=3)
    assert all(r["newcomers"] == 0 for r in origin.to_pylist() if not r["left_censored"])
    assert not set(COHORT) & set(climb.column("author_id").to_pylist())


def test_period_index_counts_each_platforms_own_periods() -> None:
    from permadani.analyses.mobility import index_periods

    # platform "x" starts two months later and skips a month: its periods are numbered 0, 1 on its own
    jan, feb, mar, may = 1_704_067_200, 1_706_745_600, 1_709_251_200, 1_714_521_600
    pt = pa.table({"platform": ["r", "x", "r", "r", "x", "x"], "author_id": ["a", "a", "b", "a", "b", "a"],
                   "period_s": [mar, may, jan, feb, mar, mar]})
    got = index_periods(pt)
    assert got.column("t").to_pylist() == [2, 1, 0, 1, 0, 0]
    assert got.column("author_id").to_pylist() == pt.column("author_id").to_pylist()  # rows stay in place
