"""Tiers, percentiles, status measures and newcomer flags, with hand-computed expectations."""

from __future__ import annotations

import pyarrow as pa
import pytest

from permadani import Dataset, UsageError
from permadani.analyses.replies import reply_edges
from permadani.analyses.status import default_measure, status_scores
from permadani.analyses.tiers import assign_tiers, established_posts, newcomer_flags
from permadani.engine import Engine


def _scores(engine: Engine, values: list[float], platform: str = "x") -> pa.Table:
    table = pa.table({"platform": [platform] * len(values),
                      "author_id": [f"a{i:03d}" for i in range(len(values))],
                      "status": pa.array(values, pa.float64())})
    return engine.register("scores", table)


def test_tier_sizes_and_ties(duckdb_engine: Engine) -> None:
    # 200 accounts; statuses 0..199 except a tie at the top: a000 and a001 both 500.
    values = [500.0, 500.0] + [float(v) for v in range(198)]
    out = duckdb_engine.execute(assign_tiers(_scores(duckdb_engine, values)).order_by("author_id")).to_pylist()
    tiers = [r["tier"] for r in out]
    # upper = ⌈0.01·200⌉ = 2 accounts, middle = ⌈0.10·200⌉ − 2 = 18, lower = 180
    assert (tiers.count("upper"), tiers.count("middle"), tiers.count("lower")) == (2, 18, 180)
    assert tiers[:2] == ["upper", "upper"]
    # the two tied accounts share a percentile: 198 accounts strictly below, of 200
    assert out[0]["percentile"] == out[1]["percentile"] == pytest.approx(198 / 200)
    assert out[2]["percentile"] == 0.0  # a002 has status 0
    # middle tier = statuses 197..180 (positions 2..19)
    assert {r["status"] for r in out if r["tier"] == "middle"} == {float(v) for v in range(180, 198)}


def test_tier_tie_at_boundary_broken_by_author_id(duckdb_engine: Engine) -> None:
    values = [1.0] * 10  # ten equal accounts, upper = ⌈0.1·10⌉ = 1 → the smallest author_id
    out = duckdb_engine.execute(assign_tiers(_scores(duckdb_engine, values), upper=0.1, middle=0.2)
                                .order_by("author_id")).to_pylist()
    assert [r["tier"] for r in out] == ["upper"] + ["middle"] * 2 + ["lower"] * 7
    assert {r["percentile"] for r in out} == {0.0}


def test_tiers_are_per_platform(duckdb_engine: Engine) -> None:
    table = pa.table({"platform": ["p"] * 3 + ["q"] * 3, "author_id": list("abcdef"),
                      "status": [3.0, 2.0, 1.0, 30.0, 20.0, 10.0]})
    out = duckdb_engine.execute(assign_tiers(duckdb_engine.register("s", table), upper=0.3, middle=0.3)
                                .order_by("author_id"))
    assert out.column("tier").to_pylist() == ["upper", "middle", "lower"] * 2


def test_bad_shares_are_usage_errors(duckdb_engine: Engine) -> None:
    with pytest.raises(UsageError, match="tier shares"):
        assign_tiers(_scores(duckdb_engine, [1.0]), upper=0.6, middle=0.6)


def test_status_measures_on_hand_thread(hand_dataset: Dataset, duckdb_engine: Engine) -> None:
    posts = duckdb_engine.posts(hand_dataset)
    accounts = duckdb_engine.accounts(hand_dataset)
    edges = reply_edges(posts)

    def scores(measure: str) -> dict[str, float]:
        expr = status_scores(posts, accounts, edges, measure, duckdb_engine).order_by("author_id")
        return {r["author_id"]: r["status"] for r in duckdb_engine.execute(expr).to_pylist()}

    # attention: distinct repliers. A ← B, C, D; B ← A; C ← A; D ← nobody
    assert scores("attention") == {"A": 3.0, "B": 1.0, "C": 1.0, "D": 0.0}
    # reputation: no platform reputation → sum of post scores (A: 10+1+0+0, B: 1+0+0, C: 1+0, D: 0)
    assert scores("reputation") == {"A": 11.0, "B": 1.0, "C": 1.0, "D": 0.0}
    # seniority: days from first post to the window end (c1, 8 days 3 hours after p1)
    senior = scores("seniority")
    assert senior["A"] == pytest.approx(8 + 3 / 24) and senior["C"] == pytest.approx(8 + 1 / 24)
    assert scores("followers") == {"A": 0.0, "B": 0.0, "C": 0.0, "D": 0.0}
    rank = scores("pagerank")
    assert max(rank, key=rank.__getitem__) == "A" and sum(rank.values()) == pytest.approx(1.0)


def test_default_measure() -> None:
    assert default_measure(["stackexchange"]) == "reputation"
    assert default_measure(["twitter"]) == "followers"
    assert default_measure(["wordpress"]) == "attention"
    assert default_measure(["twitter", "reddit"]) == "attention"


def test_newcomer_flags(hand_dataset: Dataset, duckdb_engine: Engine) -> None:
    posts = duckdb_engine.posts(hand_dataset)
    flags = duckdb_engine.execute(newcomer_flags(posts, days=0, first_posts=1).order_by("post_id"))
    new = {r["post_id"] for r in flags.to_pylist() if r["is_newcomer"]}
    assert new == {"p1", "r1", "r2", "r3"}  # each author's first post only; x1 (deleted) is not listed
    assert "x1" not in flags.column("post_id").to_pylist()
    # within 1 day: everything except the late answer a2 and c1 (8 days after A's / C's first post)
    flags = duckdb_engine.execute(newcomer_flags(posts, days=1, first_posts=0).order_by("post_id"))
    assert {r["post_id"] for r in flags.to_pylist() if not r["is_newcomer"]} == {"a2", "c1"}
    # the audit keeps the complement: exactly the posts flagged False
    kept = duckdb_engine.execute(established_posts(posts, days=1, first_posts=0))
    assert sorted(kept.column("post_id").to_pylist()) == ["a2", "c1"]
    assert kept.column_names == ["platform", "post_id"]
    kept = duckdb_engine.execute(established_posts(posts, days=0, first_posts=1))
    firsts = {"p1", "r1", "r2", "r3"}
    assert set(kept.column("post_id").to_pylist()) == set(flags.column("post_id").to_pylist()) - firsts


def test_established_posts_pruned_by_the_first_post_equal_a_plain_count(duckdb_engine: Engine) -> None:
    """The pruned window (only groups with a post ``days`` after the data's first post) finds exactly the posts a
    plain per-group count finds: at least ``first_posts`` earlier posts (by time, then id) and at least ``days``
    after the group's first post; with null communities, same-second ties and groups straddling the cut."""
    import datetime as dt
    from collections import defaultdict

    import numpy as np

    from permadani.schema import POSTS, conform

    rng = np.random.default_rng(11)
    start = dt.datetime(2022, 3, 1, tzinfo=dt.UTC)
    rows = []
    for i in range(3500):  # 2,500 posts by 50 regulars, 1,000 by 800 occasional posters, over 26 days
        author = f"u{int(rng.integers(50))}" if i < 2500 else f"o{int(rng.integers(800))}"
        community = [None, "c1", "c2"][int(rng.integers(3))]
        when = start + dt.timedelta(seconds=int(rng.integers(0, 26 * 86400)) // 3600 * 3600)  # many ties
        rows.append((f"p{i:04d}", author, community, when))
    posts = duckdb_engine.register("posts", conform(pa.table({
        "post_id": [r[0] for r in rows], "platform": ["x"] * len(rows), "author_id": [r[1] for r in rows],
        "community": pa.array([r[2] for r in rows], pa.string()),
        "created_at": pa.array([r[3] for r in rows], pa.timestamp("us", tz="UTC")),
        "kind": ["comment"] * len(rows), "source_file": ["t"] * len(rows)}), POSTS))
    days, first_posts = 20, 3
    groups = defaultdict(list)
    for post_id, author, community, when in rows:
        groups[(author, community)].append((when, post_id))
    expected = set()
    for posts_of in groups.values():
        posts_of.sort()
        first = posts_of[0][0]
        expected |= {pid for rank, (when, pid) in enumerate(posts_of)
                     if rank >= first_posts and (when - first).total_seconds() >= days * 86400}
    since = int(min(r[3] for r in rows).timestamp())
    plain = duckdb_engine.execute(established_posts(posts, days, first_posts)).column("post_id").to_pylist()
    pruned = duckdb_engine.execute(established_posts(posts, days, first_posts, since_s=since)
                                   ).column("post_id").to_pylist()
    assert 200 < len(expected) < 1500  # both rules bite
    assert set(plain) == expected
    assert sorted(pruned) == sorted(plain)
