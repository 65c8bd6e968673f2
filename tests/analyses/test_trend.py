"""Separation trend: the sign of a planted growing / shrinking responsiveness gap is recovered with its CI."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from permadani.analyses import trend
from permadani.analyses.responsiveness import reply_outcomes
from permadani.analyses.status import status_scores
from permadani.analyses.structure import account_periods_expr, period_tiers_expr, split_period_tiers
from permadani.analyses.tiers import assign_tiers, established_posts
from permadani.schema import ACCOUNTS, conform

from ._structure_helpers import UTC, Duck, posts_table, reply_edges

UPPER = [f"u{i}" for i in range(4)]
LOWER = [f"l{i:03d}" for i in range(196)]


def planted_rows(gap_trend: float, months: int = 12, seed: int = 0) -> list[tuple]:
    """4 upper accounts (reputation 1000) and 196 lower ones. Each month every upper account posts 2 threads;
    each gets 20 replies from lower accounts and 3 from the other upper accounts. Upper authors answer upper
    repliers with probability 0.6 and lower repliers with 0.4 − gap_trend·month (within a day)."""
    rng = np.random.default_rng(seed)
    rows: list[tuple] = []
    for m in range(months):
        base = dt.datetime(2020 + (m // 12), m % 12 + 1, 1, tzinfo=UTC)
        p_low = 0.4 - gap_trend * m
        for lo in LOWER:  # keep every lower account active in every month
            rows.append((f"s{m}{lo}", lo, None, base))
        for u in UPPER:
            for t in range(2):
                root = f"p{m}{u}{t}"
                rows.append((root, u, None, base + dt.timedelta(days=1)))
                repliers = [*rng.choice(LOWER, 20, replace=False), *[v for v in UPPER if v != u]]
                for i, who in enumerate(repliers):
                    rid = f"{root}r{i}"
                    at = base + dt.timedelta(days=2, minutes=i)
                    rows.append((rid, str(who), root, at))
                    p = 0.6 if who in UPPER else p_low
                    if rng.random() < p:
                        rows.append((f"{rid}a", u, rid, at + dt.timedelta(hours=3)))
    return rows


def trend_of(rows: list[tuple], n_boot: int = 200) -> tuple[pa.Table, dict]:
    duck = Duck()
    posts = duck.table(posts_table(rows))
    authors = sorted({r[1] for r in rows})
    accounts = duck.table(conform(pa.table({
        "author_id": authors, "platform": ["forum"] * len(authors),
        "reputation": [1000 if a in UPPER else 1 for a in authors]}), ACCOUNTS))
    edges = reply_edges(posts)
    pt = split_period_tiers(
        duck.execute(period_tiers_expr(posts, accounts, edges, "reputation", "month", upper=0.02, middle=0.0)),
        duck.execute(account_periods_expr(posts, "month")))
    tiers = duck.table(pt.select(["platform", "author_id", "period_s", "tier"]))
    global_tiers = assign_tiers(status_scores(posts, accounts, edges, "reputation"), 0.02, 0.0)
    out = reply_outcomes(edges, global_tiers, established_posts(posts), window_days=7)
    counts = duck.execute(trend.trend_counts(out, "month", tiers))
    return trend.compute(counts, "month", n_boot=n_boot, seed=1)


@pytest.mark.parametrize(("planted", "direction"), [(0.025, "growing"), (-0.025, "shrinking"), (0.0, None)])
def test_planted_gap_trend_sign_is_recovered(planted: float, direction: str | None) -> None:
    table, slopes = trend_of(planted_rows(planted))
    gap = slopes["gap"]
    assert table.num_rows == 12 and table.column("x").to_pylist() == list(range(12))
    if direction is None:
        assert gap["ci_low"] < 0 < gap["ci_high"]
        assert abs(gap["slope"]) < 0.02
    else:
        assert gap["direction"] == direction
        assert gap["slope"] == pytest.approx(planted, abs=0.012)
    # the tiers per period match the planted ones: 24 upper->upper replies a month plus the answers to them
    uu = table.column("upper_upper_replies").to_pylist()
    assert uu == [24 + k for k in table.column("upper_upper_answered").to_pylist()]
    assert table.column("lower_upper_replies").to_pylist() == [4 * 2 * 20] * 12


def test_crossing_share_by_hand() -> None:
    table, slopes = trend_of(planted_rows(0.0, months=3), n_boot=20)
    for r in table.to_pylist():
        # all replies cross tiers except upper->upper; upper answers to lower repliers cross too
        answers_to_lower = r["replies"] - r["upper_upper_replies"] - r["lower_upper_replies"]
        assert answers_to_lower == r["lower_upper_answered"]
        assert r["crossing"] == r["lower_upper_replies"] + answers_to_lower
        assert r["crossing_share"] == pytest.approx(r["crossing"] / r["replies"])
        assert r["gap"] == pytest.approx(r["rate_upper_upper"] - r["rate_lower_upper"])
        assert r["gap_ci_low"] <= r["gap"] <= r["gap_ci_high"]
    assert slopes["crossing_share"]["periods"] == 3


def test_slope_skips_calendar_gaps_and_weights() -> None:
    from permadani.analyses.structure import wls_slope

    assert wls_slope(np.array([0, 1, 3]), np.array([0.0, 1.0, 3.0])) == pytest.approx(1.0)
    assert wls_slope(np.array([0, 1, 2]), np.array([0.0, 1.0, 0.0]), np.array([1.0, 1.0, 0.0])) == pytest.approx(1)
    assert np.isnan(wls_slope(np.array([2, 2]), np.array([0.0, 1.0])))


def test_unknown_period_is_a_usage_error() -> None:
    from permadani.analyses.structure import period_unit
    from permadani.errors import UsageError

    assert period_unit("quarter") == "Q"
    with pytest.raises(UsageError, match=r"fortnight.*day, week, month, quarter, year"):
        period_unit("fortnight")
