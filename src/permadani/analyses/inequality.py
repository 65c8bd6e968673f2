"""Attention inequality: how unequally are replies received? Gini, top-1 % share and the Lorenz curve.

Population of a group (the whole dataset, one community, or one period): every account (platform, author_id)
that wrote a post in the group OR received a reply in the group; accounts with no reply count as zeros (an
inequality measure over repliers only would hide the silent majority). A reply belongs to the group of the reply
post r (its community, the period of its ``created_at``); self-replies are excluded.

With x₁ ≤ … ≤ xₙ the replies received by the n accounts of a group and T = Σ xᵢ:

- Gini  G = 2 Σᵢ i·xᵢ / (n·T) − (n + 1)/n  (0 = everyone equal, → 1 = one account gets everything); null when T = 0.
- top-1 % share = (Σ of the k = max(1, ⌈n/100⌉) largest xᵢ) / T.
- Lorenz curve: points (i/n, Σ_{j≤i} xⱼ / T), downsampled to the ranks where ⌊i·P/n⌋ changes (P = 200) plus (0, 0).

The engine returns integer aggregates (n, T, Σ i·xᵢ, top sum, cumulative sums); the float formulas are applied in
Arrow/numpy afterwards, so DuckDB and PySpark give identical numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .structure import clean, period_key, period_labels, sort_table

if TYPE_CHECKING:  # pragma: no cover
    from .context import AuditContext

LORENZ_POINTS = 200
SCOPES = ("overall", "community", "period")
GROUP = ["scope", "community", "period_s"]
_GROUP_COLS = ("scope", "community", "period")


def attention_counts(posts: ibis.Table, edges: ibis.Table, by: Sequence[str] = ()) -> ibis.Table:
    """Replies received per account and group, zeros included.

    ``posts`` and ``edges`` must carry the ``by`` columns (``community`` is native; add ``period_s`` with
    ``structure.period_key``). Output: ``*by, platform, author_id, replies`` (int64).
    """
    by = list(by)
    active = posts.filter(posts.author_id.notnull()).select(*by, "platform", "author_id")
    e = edges.filter(~edges.is_self)
    received = e.group_by([*by, "platform", e.target.name("author_id")]).agg(replies=e.count())
    population = active.union(received.select(*by, "platform", "author_id").cast(active.schema()), distinct=True)
    keys = [*by, "platform", "author_id"]
    joined = population.left_join(received, keys)
    return joined.select(*[population[k] for k in keys],
                         replies=joined.replies.coalesce(0).cast("int64"))


def scoped_counts(posts: ibis.Table, edges: ibis.Table, period: str = "month") -> ibis.Table:
    """``attention_counts`` of the three scopes in one table: ``scope, community, period_s, platform, author_id,
    replies`` (community null outside the community scope, period_s null outside the period scope)."""
    p = posts.mutate(period_s=period_key(posts.created_at, period))
    e = edges.mutate(period_s=period_key(edges.created_at, period))
    parts = []
    for scope, by in (("overall", []), ("community", ["community"]), ("period", ["period_s"])):
        c = attention_counts(p, e, by)
        parts.append(c.select(
            scope=ibis.literal(scope, "string"),
            community=c.community.cast("string") if "community" in by else ibis.null("string"),
            period_s=c.period_s.cast("int64") if "period_s" in by else ibis.null("int64"),
            platform=c.platform.cast("string"), author_id=c.author_id.cast("string"), replies=c.replies))
    return ibis.union(*parts, distinct=False)


def group_ranks(counts: ibis.Table, by: Sequence[str] = GROUP, points: int = LORENZ_POINTS) -> ibis.Table:
    """Rank accounts ascending by replies within each group of ``by`` (ties by platform, author_id; Gini and the
    Lorenz points are tie-invariant) and keep the Lorenz ranks, ⌊i·P/n⌋ > ⌊(i−1)·P/n⌋, with the group's integer
    aggregates on every row: ``*by, i, n, cum, total, sum_ix`` (Σ i·xᵢ), ``top_sum`` (top-1 % replies), ``max``."""
    by = list(by)
    order = [counts.replies, counts.platform, counts.author_id]
    w = ibis.window(group_by=by or None, order_by=order)
    c = ibis.cumulative_window(group_by=by or None, order_by=order)
    g = ibis.window(group_by=by or None)
    r = counts.mutate(
        i=(ibis.row_number().over(w) + 1).cast("int64"),
        n=counts.count().over(g).cast("int64"),
        total=counts.replies.sum().over(g).cast("int64"),
        cum=counts.replies.sum().over(c).cast("int64"),
        max=counts.replies.max().over(g).cast("int64"),
    )
    k = ((r.n + 99) // 100).cast("int64")  # ⌈n/100⌉ ≥ 1 for n ≥ 1
    r = r.mutate(ix=(r.i * r.replies).cast("int64"),
                 top=ibis.ifelse(r.i > r.n - k, r.replies, 0).cast("int64"))
    g2 = ibis.window(group_by=by or None)
    r = r.mutate(sum_ix=r.ix.sum().over(g2).cast("int64"), top_sum=r.top.sum().over(g2).cast("int64"))
    keep = (r.i * points / r.n).floor() > ((r.i - 1) * points / r.n).floor()
    return r.filter(keep).select(*by, "i", "n", "cum", "total", "sum_ix", "top_sum", "max")


def finish(ranks: pa.Table, by: Sequence[str] = ()) -> tuple[pa.Table, pa.Table]:
    """(aggregates, Lorenz points) from executed ``group_ranks`` rows.

    Aggregates: ``*by, n, total, sum_ix, top_sum, max, gini, top1_share`` (one row per group, formulas in the
    module docstring, null when the group has no reply); Lorenz: ``*by, x, y`` with the origin added.
    """
    by = list(by)
    names = ("n", "total", "sum_ix", "top_sum", "max")
    grouped = ranks.group_by(by).aggregate([(c, "max") for c in names])
    agg = pa.table({**{b: grouped.column(b) for b in by}, **{c: grouped.column(f"{c}_max") for c in names}})
    n = _np(agg, "n")
    total = _np(agg, "total")
    ok = total > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        gini = np.where(ok, 2 * _np(agg, "sum_ix") / (n * total) - (n + 1) / n, np.nan)
        share = np.where(ok, _np(agg, "top_sum") / total, np.nan)
    agg = agg.append_column("gini", pa.array(gini, pa.float64(), mask=~ok))
    agg = agg.append_column("top1_share", pa.array(share, pa.float64(), mask=~ok))
    i, n_r, cum, tot = _np(ranks, "i"), _np(ranks, "n"), _np(ranks, "cum"), _np(ranks, "total")
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(tot > 0, cum / tot, np.nan)
    body = ranks.select(by).append_column("x", pa.array(i / n_r)).append_column("y", pa.array(y, mask=tot <= 0))
    groups = agg.select(by)
    origin = {name: groups.column(name) for name in by}
    origin.update(x=pa.array(np.zeros(agg.num_rows)), y=pa.array(np.zeros(agg.num_rows)))
    lorenz = pa.concat_tables([pa.table(origin).select(body.column_names), body])
    return sort_table(agg, by), sort_table(lorenz, [*by, "x"])


def _np(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy(zero_copy_only=False).astype(float)


def scoped_histograms(posts: ibis.Table, edges: ibis.Table, period: str = "month", materialize: Any = None
                      ) -> ibis.Table:
    """One small expression describing every group of the three scopes without ranking accounts in the engine:
    ``scope, community, period_s, replies, accounts`` = how many accounts of the group's population received
    exactly ``replies`` (≥ 0) non-self replies in the group, so the population is n = Σ accounts (see
    ``histogram_ranks``).

    Posts (replies 0) and non-self replies (1 to their target) are stacked and summed once per (platform, account,
    community, period): an account that posted or was replied to in a group gets a row there, which is the
    population rule. The three scopes regroup that table (``materialize``, e.g. ``Engine.materialize``, keeps it);
    one aggregation instead of separate post and reply tables and a distinct union per scope (at 100M comments
    127 → 100 s, bench/README.md round 5)."""
    keep = materialize or (lambda t: t)
    p = posts.filter(posts.author_id.notnull())
    wrote = p.select("platform", "author_id", "community", period_s=period_key(p.created_at, period),
                     r=ibis.literal(0, "int64"))
    e = edges.filter(~edges.is_self)
    got = e.select(platform=e.platform, author_id=e.target, community=e.community,
                   period_s=period_key(e.created_at, period), r=ibis.literal(1, "int64"))
    both = ibis.union(wrote, got.cast(wrote.schema()), distinct=False)
    acc = keep(both.group_by(["platform", "author_id", "community", "period_s"]).agg(replies=both.r.sum()))
    parts = []
    for scope, by in (("overall", []), ("community", ["community"]), ("period", ["period_s"])):
        received = acc.group_by([*by, "platform", "author_id"]).agg(replies=acc.replies.sum())
        hist = received.group_by([*by, "replies"]).agg(accounts=received.count())
        parts.append(hist.select(
            scope=ibis.literal(scope, "string"),
            community=hist.community.cast("string") if "community" in by else ibis.null("string"),
            period_s=hist.period_s.cast("int64") if "period_s" in by else ibis.null("int64"),
            replies=hist.replies.cast("int64"), accounts=hist.accounts.cast("int64")))
    return ibis.union(*parts, distinct=False)


def histogram_ranks(received: pa.Table, population: pa.Table, by: Sequence[str] = GROUP,
                    points: int = LORENZ_POINTS) -> pa.Table:
    """The rows ``group_ranks`` would return (``*by, i, n, cum, total, sum_ix, top_sum, max``), computed exactly in
    integers from executed ``scoped_histograms``: within a group, accounts sorted by replies form runs of equal
    value v (zeros first); a run of m accounts after s others adds v·(m·s + m(m+1)/2) to Σ i·xᵢ; the kept Lorenz
    ranks are i = ⌈p·n/P⌉ for p = 1…P (exactly the ranks where ⌊i·P/n⌋ changes), cum(i) = the replies of the
    runs before i's run + (i − s)·v."""
    by = list(by)
    pop = population.filter(pc.greater(population.column("n"), 0))
    key = _group_key(pop, by)
    rec_key = _group_key(received, by)
    pos = pc.index_in(rec_key, value_set=key).to_numpy(zero_copy_only=False)
    n_g = pop.column("n").to_numpy(zero_copy_only=False).astype(np.int64)
    g_rec = np.asarray(pos, dtype=np.int64)
    v_rec = received.column("replies").to_numpy(zero_copy_only=False).astype(np.int64)
    m_rec = received.column("accounts").to_numpy(zero_copy_only=False).astype(np.int64)
    n_groups = n_g.size
    zeros = n_g - np.bincount(g_rec, weights=m_rec, minlength=n_groups).astype(np.int64)
    gid = np.concatenate([np.arange(n_groups, dtype=np.int64), g_rec])
    v = np.concatenate([np.zeros(n_groups, np.int64), v_rec])
    m = np.concatenate([zeros, m_rec])
    order = np.lexsort((v, gid))
    gid, v, m = gid[order], v[order], m[order]
    keep = m > 0
    gid, v, m = gid[keep], v[keep], m[keep]
    start = np.searchsorted(gid, np.arange(n_groups), side="left")
    cm = np.cumsum(m)
    cx = np.cumsum(m * v)
    base_m = np.where(start > 0, cm[np.maximum(start - 1, 0)], 0)
    base_x = np.where(start > 0, cx[np.maximum(start - 1, 0)], 0)
    s = cm - m - base_m[gid]  # accounts before the run, within its group
    c = cx - m * v - base_x[gid]  # replies before the run
    total = np.bincount(gid, weights=m * v, minlength=n_groups).astype(np.int64)
    sum_ix = np.bincount(gid, weights=v * (m * s + m * (m + 1) // 2), minlength=n_groups).astype(np.int64)
    k = (n_g + 99) // 100
    cut = n_g[gid] - k[gid]
    overlap = np.clip(s + m - np.maximum(s, cut), 0, None)
    top_sum = np.bincount(gid, weights=v * overlap, minlength=n_groups).astype(np.int64)
    mx = np.zeros(n_groups, np.int64)
    np.maximum.at(mx, gid, v)
    # kept ranks: min(n, P) per group
    count = np.minimum(n_g, points)
    owner = np.repeat(np.arange(n_groups, dtype=np.int64), count)
    p = np.arange(owner.size, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count) + 1
    n_o = n_g[owner]
    i = np.where(n_o <= points, p, (p * n_o + points - 1) // points)
    upper = gid * (int(n_g.max(initial=0)) + 1) + s + m  # runs' last rank, made global per group
    run = np.searchsorted(upper, owner * (int(n_g.max(initial=0)) + 1) + i, side="left")
    cum = c[run] + (i - s[run]) * v[run]
    out = {b: pop.column(b).take(pa.array(owner)) for b in by}
    out.update(i=pa.array(i, pa.int64()), n=pa.array(n_o, pa.int64()), cum=pa.array(cum, pa.int64()),
               total=pa.array(total[owner], pa.int64()), sum_ix=pa.array(sum_ix[owner], pa.int64()),
               top_sum=pa.array(top_sum[owner], pa.int64()), max=pa.array(mx[owner], pa.int64()))
    return pa.table(out)


def _group_key(table: pa.Table, by: Sequence[str]) -> pa.Array:
    """One string per row identifying its group (nulls distinct from every value)."""
    parts = [pc.fill_null(pc.cast(table.column(b), pa.string()), "\x00") for b in by]
    key = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "\x1f")
    return key.combine_chunks() if isinstance(key, pa.ChunkedArray) else key


def compute(posts: ibis.Table, edges: ibis.Table, execute: Any, period: str = "month",
            points: int = LORENZ_POINTS, materialize: Any = None) -> tuple[pa.Table, pa.Table]:
    """Inequality per scope (overall, community, period) and Lorenz points, from two small engine queries.

    Returns ``(inequality, lorenz)``: ``scope, community, period, n, total, sum_ix, top_sum, max, gini,
    top1_share`` and ``scope, community, period, x, y`` (period = ISO date of the period start). The numbers equal
    ``finish(group_ranks(scoped_counts(...)))`` (the engine-side ranking, kept as the reference definition).
    """
    hist = execute(scoped_histograms(posts, edges, period, materialize))
    received = hist.filter(pc.greater(hist.column("replies"), 0)).select([*GROUP, "replies", "accounts"])
    sums = hist.group_by(GROUP, use_threads=False).aggregate([("accounts", "sum")])
    population = pa.table({**{g: sums.column(g) for g in GROUP}, "n": sums.column("accounts_sum")})
    ranks = histogram_ranks(received, population, GROUP, points)
    stamp = pc.multiply(ranks.column("period_s"), 1_000_000).cast(pa.timestamp("us", tz="UTC"))
    ranks = ranks.set_column(ranks.column_names.index("period_s"), "period", period_labels(stamp))
    agg, lorenz = finish(ranks, list(_GROUP_COLS))
    return agg, lorenz


def reference(posts: ibis.Table, edges: ibis.Table, execute: Any, period: str = "month",
              points: int = LORENZ_POINTS) -> tuple[pa.Table, pa.Table]:
    """``compute`` with every account ranked in the engine (window functions): slower, the reference."""
    ranks = execute(group_ranks(scoped_counts(posts, edges, period), GROUP, points))
    stamp = pc.multiply(ranks.column("period_s"), 1_000_000).cast(pa.timestamp("us", tz="UTC"))
    ranks = ranks.set_column(ranks.column_names.index("period_s"), "period", period_labels(stamp))
    return finish(ranks, list(_GROUP_COLS))


def summarise(inequality: pa.Table) -> dict[str, Any]:
    """Headline numbers: overall Gini/top share, and the most and least unequal communities (≥ 20 accounts)."""
    def pick(scope: str) -> pa.Table:
        return inequality.filter(pc.equal(inequality.column("scope"), scope))

    overall = pick("overall").to_pylist()
    head = overall[0] if overall else {}
    comm = pick("community")
    comm = comm.filter(pc.and_(pc.greater_equal(comm.column("n"), 20), pc.is_valid(comm.column("gini"))))
    comm = comm.sort_by([("gini", "descending"), ("community", "ascending")])
    rows = [{"community": r["community"], "accounts": r["n"], "replies": r["total"], "gini": r["gini"],
             "top1_share": r["top1_share"]} for r in comm.to_pylist()]
    per = pick("period")
    return clean({
        "population": "accounts that posted or received a reply in the group; zeros included",
        "accounts": head.get("n", 0), "replies": head.get("total", 0),
        "gini": head.get("gini"), "top1_share": head.get("top1_share"),
        "max_replies_received": head.get("max"),
        "communities": len(pick("community")), "periods": len(per),
        "most_unequal_communities": rows[:5], "least_unequal_communities": rows[::-1][:5],
        "gini_by_period": [{"period": r["period"], "gini": r["gini"], "accounts": r["n"]}
                           for r in per.to_pylist()],
    })


def run(ctx: AuditContext) -> Any:
    """Section ``inequality``: tables ``inequality`` and ``lorenz``, headline numbers in the summary."""
    from .context import SectionResult

    inequality, lorenz = compute(ctx.posts, ctx.edges, ctx.execute, period=ctx.params.period,
                                 materialize=ctx.scratch)
    return SectionResult(tables={"inequality": inequality, "lorenz": lorenz}, summary=summarise(inequality))
