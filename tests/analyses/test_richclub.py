"""Rich club: φ by hand, a planted dense core recovered (ρ ≫ 1), random graphs give ρ ≈ 1 inside the band."""

from __future__ import annotations

import igraph as ig
import numpy as np
import pyarrow as pa
import pytest

from permadani.analyses.graph import author_graph, undirected_pairs
from permadani.analyses.graph import richclub as rc

from ._structure_helpers import Duck, posts_table, reply_edges, ts


def test_phi_by_hand() -> None:
    # degrees: 0:4, 1:4, 2:2, 3:2, 4:1, 5:1
    edges = np.array([(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (4, 0), (5, 1)])
    degrees = np.bincount(edges.ravel(), minlength=6)
    n, e, phi = rc.phi_by_degree(degrees, edges, np.array([0, 1, 2, 3]))
    assert n.tolist() == [6, 4, 2, 2]
    assert e.tolist() == [7, 5, 1, 1]
    assert phi.tolist() == pytest.approx([14 / 30, 10 / 12, 1.0, 1.0])
    # status ranking: 2 and 3 best, then 0; club of 3 = {2, 3, 0} has edges (0,2), (0,3)
    rank = rc.status_rank(np.array([5.0, 1.0, 9.0, 9.0, np.nan, 0.0]))
    assert rank.tolist() == [2, 3, 0, 1, 5, 4]
    e_in, phi_r = rc.phi_by_rank(rank, edges, np.array([2, 3, 4]))
    assert e_in.tolist() == [0, 2, 5]
    assert phi_r.tolist() == pytest.approx([0.0, 4 / 6, 10 / 12])


def test_thresholds_are_sampled_and_clubs_not_too_small() -> None:
    degrees = np.arange(1, 501)
    ks = rc.degree_thresholds(degrees, max_k=30, min_club=3)
    assert 25 <= ks.size <= 30
    assert ks[0] == 0 and ks[-1] == 497  # degree > 497 leaves exactly 3 nodes
    fr, sizes = rc.club_sizes(1000, (0.001, 0.002, 0.005, 0.01), min_club=3)
    assert fr.tolist() == [0.005, 0.01] and sizes.tolist() == [5, 10]


def test_null_plan_respects_the_trial_budget() -> None:
    opts = rc.RichClubOptions(nulls=20, rewire_factor=10, trial_budget=1_000_000, min_nulls=3)
    assert rc.null_plan(1_000, opts) == (20, 10_000)
    assert rc.null_plan(50_000, opts) == (3, 333_333)  # 3 samples is the floor: trials per sample shrink


def _planted_core(n: int = 400, core: int = 16, seed: int = 7) -> tuple[ig.Graph, np.ndarray]:
    """A sparse random graph plus a clique among `core` hubs that also reach many random nodes."""
    rng = np.random.default_rng(seed)
    edges = set()
    while len(edges) < 2 * n:
        a, b = rng.integers(0, n, 2)
        if a != b:
            edges.add((min(a, b), max(a, b)))
    for i in range(core):
        for j in range(i + 1, core):
            edges.add((i, j))
        for t in rng.choice(np.arange(core, n), 20, replace=False):
            edges.add((i, int(t)))
    status = np.zeros(n)
    status[:core] = 100.0 + np.arange(core)
    return ig.Graph(n=n, edges=sorted(edges)), status


def test_planted_core_gives_rho_above_one_at_high_k() -> None:
    graph, status = _planted_core()
    curves, info = rc.rich_club(graph, status, rc.RichClubOptions(nulls=10, seed=1))
    deg = curves["degree"]
    high = deg["nodes"] <= 20  # clubs made of the hubs
    assert high.any()
    assert np.all(deg["rho"][high] > 1.5)
    assert np.all(deg["rho_low"][high] > 1.0)
    sta = curves["status"]
    top = sta["nodes"] <= 16  # top-status club = the planted core
    assert np.all(sta["phi"][top] == 1.0)
    # hubs are often linked in the degree-preserving null too, so the status club's excess is milder
    assert np.all(sta["rho"][top] > 1.3) and np.all(sta["rho_low"][top] > 1.0)
    assert info["null_samples"] == 10 and info["trials_per_sample"] == 10 * graph.ecount()


def _random_graph(n: int, seed: int, m: int | None = None) -> ig.Graph:
    """Erdős–Rényi G(n, m) when m is given, else an erased configuration model with Zipf(2.3) degrees ≤ 40."""
    rng = np.random.default_rng(seed)
    edges: set[tuple[int, int]] = set()
    if m is not None:
        while len(edges) < m:
            a, b = (int(v) for v in rng.integers(0, n, 2))
            if a != b:
                edges.add((min(a, b), max(a, b)))
    else:
        stubs = np.repeat(np.arange(n), rng.zipf(2.3, n).clip(1, 40))
        rng.shuffle(stubs)
        for a, b in stubs[: stubs.size // 2 * 2].reshape(-1, 2).tolist():
            if a != b:
                edges.add((min(a, b), max(a, b)))
    return ig.Graph(n=n, edges=sorted(edges))


@pytest.mark.parametrize(("n", "m"), [(600, 3000), (2000, None)], ids=["erdos-renyi", "configuration"])
def test_random_graphs_give_rho_near_one_within_band(n: int, m: int | None) -> None:
    graph = _random_graph(n, seed=1, m=m)
    curves, _ = rc.rich_club(graph, None, rc.RichClubOptions(nulls=20, seed=2))
    deg = curves["degree"]
    big = deg["nodes"] >= 30
    assert big.sum() >= 10
    assert np.all(np.abs(deg["rho"][big] - 1) < 0.25), deg["rho"][big]
    inside = (deg["rho_low"][big] <= 1) & (deg["rho_high"][big] >= 1)
    assert inside.mean() >= 0.8


def test_rewiring_is_seeded() -> None:
    graph, status = _planted_core(n=200, core=8)
    a, _ = rc.rich_club(graph, status, rc.RichClubOptions(nulls=3, seed=5))
    b, _ = rc.rich_club(graph, status, rc.RichClubOptions(nulls=3, seed=5))
    c, _ = rc.rich_club(graph, status, rc.RichClubOptions(nulls=3, seed=6))
    assert np.array_equal(a["degree"]["phi_null"], b["degree"]["phi_null"])
    assert not np.array_equal(a["degree"]["phi_null"], c["degree"]["phi_null"])


def test_graph_from_reply_edges_and_table_output() -> None:
    rows = [("p1", "a", None, ts(0)), ("r1", "b", "p1", ts(1)), ("r2", "a", "r1", ts(2)),
            ("r3", "c", "p1", ts(3)), ("r4", "a", "p1", ts(4)), ("r5", "d", "r3", ts(5)),
            ("r6", "c", "r5", ts(6)), ("r7", "b", "r3", ts(7)), (None, None, None, None)][:-1]
    duck = Duck()
    posts = duck.table(posts_table(rows))
    pairs = duck.execute(undirected_pairs(reply_edges(posts)))
    # a-b (both ways, one edge), a-c, c-d, b-c; the self-reply r4 adds nothing
    assert pairs.num_rows == 4
    ag = author_graph(pairs)
    assert ag.nodes.column("author_id").to_pylist() == ["a", "b", "c", "d"]
    assert sorted(ag.graph.get_edgelist()) == [(0, 1), (0, 2), (1, 2), (2, 3)]
    status = pa.table({"platform": ["forum"] * 3, "author_id": ["c", "a", "zz"], "status": [3.0, 2.0, 9.0]})
    table, infos = rc.compute(pairs, status, rc.RichClubOptions(nulls=2, min_club=2))
    assert infos["forum"]["nodes"] == 4 and infos["forum"]["edges"] == 4
    assert infos["forum"]["accounts_with_status"] == 2
    deg0 = table.filter(pa.compute.equal(table.column("by"), "degree")).to_pylist()[0]
    assert (deg0["threshold"], deg0["nodes"], deg0["edges"]) == (0.0, 4, 4)
    assert deg0["phi"] == pytest.approx(8 / 12)
    summary = rc.summarise(table, infos)
    assert summary["platforms"]["forum"]["null_samples"] == 2
