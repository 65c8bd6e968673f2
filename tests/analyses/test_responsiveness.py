"""Responsiveness on the hand-built thread (expected numbers worked out by hand) and the bootstrap machinery."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from permadani import Dataset, audit
from permadani.analyses.bootstrap import cluster_bootstrap
from permadani.analyses.context import AuditContext, AuditParams
from permadani.analyses.responsiveness import SHARED_OUTCOMES, nearest_rank, reply_outcomes
from permadani.engine import Engine

HAND = {"status": "attention", "upper": 0.25, "middle": 0.25, "newcomer_days": 0, "newcomer_posts": 1,
        "n_boot": 50}


def _cell(summary: dict, a: str, b: str) -> dict:
    return next(m for m in summary["sections"]["responsiveness"]["matrix"] if m["from"] == a and m["to"] == b)


def test_hand_thread_matrix(hand_dataset: Dataset) -> None:
    result = audit(hand_dataset, **HAND)
    s = result.summary
    # tiers by attention (A 3, B 1, C 1, D 0): A upper, B middle (tie with C broken by id), C and D lower
    tiers = {r["author_id"]: r["tier"] for r in result.table("tiers").to_pylist()}
    assert tiers == {"A": "upper", "B": "middle", "C": "lower", "D": "lower"}
    resp = s["sections"]["responsiveness"]
    assert (resp["replies"], resp["self_replies"], resp["answered"]) == (7, 1, 3)
    # a1 (A→B) answered by b1; a2 (A→C) answered by c1; r1 (B→A) answered, b1 not; r2 answered 8 days late
    assert (_cell(s, "upper", "middle")["replies"], _cell(s, "upper", "middle")["answered"]) == (1, 1)
    assert (_cell(s, "upper", "lower")["replies"], _cell(s, "upper", "lower")["answered"]) == (1, 1)
    assert (_cell(s, "middle", "upper")["replies"], _cell(s, "middle", "upper")["rate"]) == (2, 0.5)
    assert (_cell(s, "lower", "upper")["replies"], _cell(s, "lower", "upper")["rate"]) == (3, 0.0)
    # newcomer posts (first post of each author): r1 (answered), r2, r3 → 1/3
    assert _cell(s, "newcomer", "upper")["replies"] == 3
    assert _cell(s, "newcomer", "upper")["rate"] == pytest.approx(1 / 3)
    assert _cell(s, "upper", "upper")["rate"] is None
    # latencies of answered replies: 2 h (r1), 1 h (a1), 1 h (a2) → nearest-rank median 1 h, p90 2 h
    assert resp["latency_hours"] == {"median": 1.0, "p90": 2.0}
    gaps = {g["name"]: g for g in resp["gaps"]}
    assert gaps["upper_vs_lower"]["gap"] is None  # nobody upper replied to the upper tier


def test_window_controls_answered(hand_dataset: Dataset) -> None:
    s = audit(hand_dataset, **{**HAND, "window_days": 9}).summary
    assert _cell(s, "lower", "upper")["answered"] == 1  # a2 now answers r2 (8 days) in time
    assert s["sections"]["responsiveness"]["latency_hours"]["p90"] == pytest.approx(8 * 24)


def test_reply_outcomes_read_the_edge_table_without_a_materialised_copy(hand_dataset: Dataset,
                                                                        duckdb_engine: Engine) -> None:
    # a relation read twice in one query is materialised by DuckDB first: at 100M comments a copy of ~50M
    # replies (bench/README.md round 10); the outcomes must read the edge table itself, and still be right
    ctx = AuditContext.build(hand_dataset, duckdb_engine, AuditParams(**HAND))
    out = reply_outcomes(ctx.edges, ctx.tiers, ctx.established, ctx.params.window_days, ctx.one_platform)
    plan = duckdb_engine.backend.con.execute(
        "EXPLAIN " + duckdb_engine.backend.compile(out.select(*SHARED_OUTCOMES))).fetchall()[0][1]
    assert "CTE" not in plan
    rows = out.select("post_id", "answered", "latency_s").execute()
    answered = dict(zip(rows["post_id"], rows["answered"], strict=True))
    assert sorted(p for p, a in answered.items() if a) == ["a1", "a2", "r1"]
    assert len(answered) == 7  # the non-self replies; the self-reply is not among them


def test_nearest_rank() -> None:
    values, counts = np.array([1.0, 2.0, 10.0]), np.array([5, 4, 1])
    assert nearest_rank(values, counts, 0.5) == 1.0   # ⌈5⌉ = 5th smallest
    assert nearest_rank(values, counts, 0.9) == 2.0   # ⌈9⌉ = 9th smallest
    assert nearest_rank(values, counts, 0.95) == 10.0  # ⌈9.5⌉ = 10th
    assert nearest_rank(values, np.array([0, 0, 0]), 0.5) is None


def test_bootstrap_is_seeded_and_resamples_clusters() -> None:
    # two clusters: one always answered (10/10), one never (0/10)
    cluster, cell = np.array([0, 1]), np.array([0, 0])
    n, k = np.array([10, 10]), np.array([10, 0])
    a = cluster_bootstrap(cluster, cell, n, k, 1, n_boot=400, seed=7)
    b = cluster_bootstrap(cluster, cell, n, k, 1, n_boot=400, seed=7)
    assert np.array_equal(a.rates, b.rates, equal_nan=True)
    # with 2 clusters a replicate is {both, twice A, twice B} → rates 0.5, 1, 0 with probs ½, ¼, ¼
    values, freq = np.unique(a.rates[:, 0], return_counts=True)
    assert list(values) == [0.0, 0.5, 1.0]
    assert 0.4 < freq[1] / 400 < 0.6
    assert a.interval()[0] == (0.0, 1.0)


def test_bootstrap_sparse_path_equals_dense_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # the per-row path (used beyond _DENSE_CELLS, i.e. millions of repliers) must draw the same replicates as the
    # matrix-product path: same weights, same sums up to rounding
    from permadani.analyses import bootstrap

    rng = np.random.default_rng(3)
    cluster = np.sort(rng.integers(0, 300, 2_000))
    cell, n = rng.integers(0, 12, 2_000), rng.integers(1, 6, 2_000)
    k = np.minimum(n, rng.integers(0, 4, 2_000))
    dense = cluster_bootstrap(cluster, cell, n, k, 12, n_boot=50, seed=11)
    monkeypatch.setattr(bootstrap, "_DENSE_CELLS", 0)
    sparse = cluster_bootstrap(cluster, cell, n, k, 12, n_boot=50, seed=11)
    assert np.isnan(dense.rates).sum() == np.isnan(sparse.rates).sum()
    np.testing.assert_allclose(sparse.rates, dense.rates, rtol=1e-12)
    assert not np.allclose(dense.rates[0], dense.rates[1])  # replicates differ from each other


def test_score_intervals_match_published_values() -> None:
    from permadani.analyses.bootstrap import newcombe, union, wilson

    low, high = wilson(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    assert wilson(5, 10) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    # Newcombe (1998), example (a): 56/70 − 48/80 → 0.0524 to 0.3339
    assert newcombe(56, 70, 48, 80) == (pytest.approx(0.0524, abs=1e-4), pytest.approx(0.3339, abs=1e-4))
    assert union((0.1, 0.3), (0.2, 0.4)) == (0.1, 0.4) and union((None, None), (0.2, 0.4)) == (0.2, 0.4)


def test_clusters_are_grouped_by_exact_profile() -> None:
    from permadani.analyses.bootstrap import cluster_profiles

    # clusters 0 and 2 have the same profile written differently (cell 1 split over two rows, other order);
    # cluster 1 differs only in k; cluster 3 has no rows (an empty profile); cluster 4 = cluster 0 again
    cluster = np.array([0, 0, 0, 1, 1, 2, 2, 4, 4])
    cell = np.array([0, 1, 1, 0, 1, 1, 0, 0, 1])
    n = np.array([2, 1, 2, 2, 3, 3, 2, 2, 3])
    k = np.array([1, 0, 1, 1, 0, 1, 1, 1, 1])
    p = cluster_profiles(cluster, cell, n, k, 2)
    assert sorted(p.multiplicity.tolist()) == [1, 1, 3]
    assert p.multiplicity.sum() == 5 and p.profile.size == 4  # rows of the two non-empty profiles
    shared = int(np.flatnonzero(p.multiplicity == 3)[0])
    mine = p.profile == shared
    assert (p.cell[mine].tolist(), p.n[mine].tolist(), p.k[mine].tolist()) == ([0, 1], [2.0, 3.0], [1.0, 1.0])


def test_profile_grouping_survives_hash_collisions(monkeypatch: pytest.MonkeyPatch) -> None:
    # a hash that collides for everything must not merge different clusters: each becomes its own profile
    from permadani.analyses import bootstrap

    monkeypatch.setattr(bootstrap, "_mix", lambda x: np.zeros_like(x))
    p = bootstrap.cluster_profiles(np.array([0, 1, 2]), np.array([0, 0, 0]), np.array([1, 1, 2]),
                                   np.array([0, 0, 1]), 1)
    assert p.multiplicity.tolist() == [1, 1, 1] and p.n.tolist() == [1.0, 1.0, 2.0]


def test_profile_bootstrap_matches_resampling_clusters_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # the multinomial over profiles must give the distribution of drawing the clusters themselves: 300 clusters,
    # most with one reply (few profiles, high multiplicity), some heavy repliers; 4,000 replicates each way
    from permadani.analyses import bootstrap

    rng = np.random.default_rng(5)
    heavy = rng.random(300) < 0.1
    rows = [(c, int(rng.integers(0, 2)), int(n), int(rng.binomial(n, 0.2 if h else 0.6)))
            for c, h in enumerate(heavy) for n in [int(rng.integers(5, 40)) if h else 1]]
    cluster, cell, n, k = (np.array(col) for col in zip(*rows, strict=True))
    assert bootstrap.cluster_profiles(cluster, cell, n, k, 2).multiplicity.size < 100
    fast = cluster_bootstrap(cluster, cell, n, k, 2, n_boot=4000, seed=1).rates
    draws = np.random.default_rng(2).integers(0, 300, size=(4000, 300))
    w = np.stack([np.bincount(d, minlength=300) for d in draws])
    dense_n = np.zeros((300, 2))
    dense_k = np.zeros((300, 2))
    np.add.at(dense_n, (cluster, cell), n)
    np.add.at(dense_k, (cluster, cell), k)
    slow = (w @ dense_k) / (w @ dense_n)
    for j in range(2):
        sd = slow[:, j].std()
        assert abs(fast[:, j].mean() - slow[:, j].mean()) < 0.1 * sd
        assert abs(fast[:, j].std() - sd) < 0.1 * sd
        for q in (2.5, 50, 97.5):
            assert abs(np.percentile(fast[:, j], q) - np.percentile(slow[:, j], q)) < 0.25 * sd
    # and the draws do not depend on the block size
    monkeypatch.setattr(bootstrap, "_BLOCK_DRAWS", 1)
    assert np.array_equal(cluster_bootstrap(cluster, cell, n, k, 2, n_boot=40, seed=1).rates, fast[:40])


def test_engine_profiles_equal_python_grouping_of_the_same_outcomes() -> None:
    # random outcomes (two platforms, repliers with fixed tiers, newcomer replies): the profiles DuckDB groups
    # must be the clusters cluster_profiles groups from one row per outcome, with the same per-cell totals
    from collections import Counter

    from permadani.analyses.bootstrap import cluster_index, cluster_profiles
    from permadani.analyses.responsiveness import CELLS, FROM, TO, profiles_and_totals, replier_profiles
    from permadani.engine import connect

    rng = np.random.default_rng(8)
    repliers = 400
    tier_of = rng.choice(list(TO), repliers, p=[0.05, 0.15, 0.8])
    who = np.minimum(rng.geometric(0.02, 5_000) - 1, repliers - 1)
    platform = np.where((who % 7 == 0) & (rng.random(who.size) < 0.5), "b", "a")  # same name, two clusters
    out = pa.table({"platform": platform, "replier": [f"u{w}" for w in who], "replier_tier": tier_of[who],
                    "target_tier": rng.choice(list(TO), who.size), "is_newcomer": rng.random(who.size) < 0.3,
                    "answered": rng.random(who.size) < 0.4})
    with connect("duckdb") as engine:
        table = engine.execute(replier_profiles(engine.register("outcomes", out)))
    profiles, replies, answered = profiles_and_totals(table)

    cluster = cluster_index(out["platform"], out["replier"])
    own = np.array([FROM.index(r) * len(TO) + TO.index(t) for r, t in
                    zip(out["replier_tier"].to_pylist(), out["target_tier"].to_pylist(), strict=True)])
    new = out["is_newcomer"].to_numpy(zero_copy_only=False)
    newcomer_cell = np.array([FROM.index("newcomer") * len(TO) + TO.index(t) for t in out["target_tier"].to_pylist()])
    k = out["answered"].to_numpy(zero_copy_only=False).astype(np.int64)
    rows_cluster = np.concatenate([cluster, cluster[new]])
    rows_cell = np.concatenate([own, newcomer_cell[new]])
    rows_k = np.concatenate([k, k[new]])
    expected = cluster_profiles(rows_cluster, rows_cell, np.ones(rows_cell.size), rows_k, len(CELLS))

    def as_counter(p: object) -> Counter:
        shape = {t: tuple((int(c), int(n), int(kk)) for c, n, kk in
                          zip(p.cell[p.profile == t], p.n[p.profile == t], p.k[p.profile == t], strict=True))
                 for t in range(p.multiplicity.size)}
        return Counter({shape[t]: int(m) for t, m in enumerate(p.multiplicity)})

    assert as_counter(profiles) == as_counter(expected)
    assert profiles.multiplicity.sum() == len(set(zip(platform.tolist(), who.tolist(), strict=True)))
    assert profiles.multiplicity.size < profiles.multiplicity.sum()  # grouping happened
    assert replies.tolist() == np.bincount(rows_cell, minlength=len(CELLS)).tolist()
    assert answered.tolist() == np.bincount(rows_cell, weights=rows_k, minlength=len(CELLS)).astype(int).tolist()
    # the profile order is the engine's sort of the profile columns, so a rerun draws the same replicates
    assert table.equals(table.sort_by([(c, "ascending") for c in table.column_names if c != "repliers"]))

