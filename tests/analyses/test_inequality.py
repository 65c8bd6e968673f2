"""Attention inequality: Gini, top-1 % share and Lorenz points checked against hand computations."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from permadani.analyses import inequality as ineq

from ._structure_helpers import Duck, posts_table, reply_edges, ts


@pytest.fixture(scope="module")
def tiny() -> tuple[pa.Table, pa.Table]:
    rows = [
        ("p1", "a", None, ts(0)),
        ("r1", "b", "p1", ts(1)),
        ("r2", "c", "p1", ts(1)),
        ("r3", "d", "p1", ts(2)),
        ("r4", "a", "r1", ts(2)),   # a answers b: b receives 1
        ("r5", "a", "p1", ts(3)),   # self-reply: never counted
        ("p2", "e", None, ts(4)),   # e receives nothing in January
        ("r6", "f", "p2", ts(40)),  # February: f replies to e
        ("p3", "g", None, ts(70), "c2"),  # March, another community, no replies
    ]
    duck = Duck()
    posts = duck.table(posts_table(rows))
    return ineq.compute(posts, reply_edges(posts), duck.execute)


def _row(table: pa.Table, scope: str, community: str | None = None, period: str | None = None) -> dict:
    for r in table.to_pylist():
        if r["scope"] == scope and r["community"] == community and r["period"] == period:
            return r
    raise AssertionError(f"no row {scope} {community} {period}")


def test_overall_gini_and_top_share_by_hand(tiny: tuple[pa.Table, pa.Table]) -> None:
    stats, _ = tiny
    r = _row(stats, "overall")
    # received: a 3, b 1, e 1, c d f g 0 -> sorted 0,0,0,0,1,1,3; n 7, T 5, sum i*x = 5 + 6 + 21 = 32
    assert (r["n"], r["total"], r["sum_ix"], r["max"]) == (7, 5, 32, 3)
    assert r["gini"] == pytest.approx(2 * 32 / (7 * 5) - 8 / 7)
    assert r["top1_share"] == pytest.approx(3 / 5)


def test_per_period_and_per_community(tiny: tuple[pa.Table, pa.Table]) -> None:
    stats, _ = tiny
    jan = _row(stats, "period", period="2021-01-01")
    # a3 b1 c0 d0 e0: sum i*x = 4*1 + 5*3 = 19; G = 38/20 - 6/5 = 0.7
    assert (jan["n"], jan["total"]) == (5, 4)
    assert jan["gini"] == pytest.approx(0.7)
    assert jan["top1_share"] == pytest.approx(0.75)
    feb = _row(stats, "period", period="2021-02-01")
    # f posted (0 received), e received f's reply although it posted in January: G = 2*2/2 - 3/2
    assert (feb["n"], feb["total"]) == (2, 1)
    assert feb["gini"] == pytest.approx(0.5)
    mar = _row(stats, "period", period="2021-03-01")
    assert (mar["n"], mar["total"], mar["gini"], mar["top1_share"]) == (1, 0, None, None)
    c1 = _row(stats, "community", community="c1")
    assert (c1["n"], c1["total"]) == (6, 5)
    assert c1["gini"] == pytest.approx(2 * 27 / 30 - 7 / 6)
    assert _row(stats, "community", community="c2")["gini"] is None


def test_lorenz_points_by_hand(tiny: tuple[pa.Table, pa.Table]) -> None:
    _, lorenz = tiny
    jan = [r for r in lorenz.to_pylist() if r["period"] == "2021-01-01"]
    assert [r["x"] for r in jan] == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1])
    assert [r["y"] for r in jan] == pytest.approx([0, 0, 0, 0, 0.25, 1])
    mar = [r["y"] for r in lorenz.to_pylist() if r["period"] == "2021-03-01"]
    assert mar == [0.0, None]  # no replies at all: the curve is undefined beyond the origin


def test_top_share_uses_ceil_of_one_percent_and_lorenz_is_downsampled() -> None:
    duck = Duck()
    n = 1001  # k = ceil(1001 / 100) = 11 top accounts
    replies = np.ones(n, dtype=np.int64)
    replies[:11] = 50
    counts = duck.table(pa.table({"platform": ["x"] * n, "author_id": [f"u{i:04d}" for i in range(n)],
                                  "replies": replies}))
    agg, lor = ineq.finish(duck.execute(ineq.group_ranks(counts, [])))
    row = agg.to_pylist()[0]
    assert row["top1_share"] == pytest.approx(550 / (550 + 990))
    x = np.sort(replies).astype(float)
    i = np.arange(1, n + 1)
    assert row["gini"] == pytest.approx(2 * np.sum(i * x) / (n * x.sum()) - (n + 1) / n)
    assert lor.num_rows == 201  # 200 downsampled ranks + the origin
    xs, ys = lor.column("x").to_numpy(), lor.column("y").to_numpy()
    assert xs[-1] == 1.0 and ys[-1] == pytest.approx(1.0)
    assert np.all(np.diff(xs) > 0) and np.all(np.diff(ys) >= 0)


def test_summary_is_json_safe(tiny: tuple[pa.Table, pa.Table]) -> None:
    import json

    summary = ineq.summarise(tiny[0])
    text = json.dumps(summary, allow_nan=False)
    assert summary["accounts"] == 7 and summary["periods"] == 3
    assert "zeros included" in text


def test_histogram_path_equals_the_engine_ranking_on_random_data() -> None:
    """``compute`` (one stacked aggregate, histograms, integer arithmetic in numpy) against ``reference`` (every
    account ranked by window functions): same groups, same integers, same Lorenz points, on data with several
    communities and periods, silent posters, accounts only replied to, and self-replies."""
    rng = np.random.default_rng(7)
    rows: list[tuple] = []
    authors = [f"u{i:03d}" for i in range(120)]
    for i in range(3000):
        parent = rows[int(rng.integers(len(rows)))][0] if rows and rng.random() < 0.7 else None
        author = authors[min(int(rng.pareto(1.2) * 8), len(authors) - 1)]
        rows.append((f"p{i:05d}", author, parent, ts(days=float(rng.uniform(0, 120))), f"c{int(rng.integers(4))}"))
    duck = Duck()
    posts = duck.table(posts_table(rows))
    edges = reply_edges(posts)
    fast_agg, fast_lorenz = ineq.compute(posts, edges, duck.execute)
    ref_agg, ref_lorenz = ineq.reference(posts, edges, duck.execute)
    assert fast_agg.num_rows == ref_agg.num_rows == 9  # overall + 4 communities + 4 months
    assert fast_agg.to_pylist() == ref_agg.to_pylist()
    assert fast_lorenz.to_pylist() == ref_lorenz.to_pylist()
