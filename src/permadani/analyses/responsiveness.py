"""Responsiveness: do authors answer the people who reply to them, and does it depend on who replies?

For a reply r (author X) to a post q (author A ≠ X), let t₁ be the time of A's **first** direct reply to r
(a post by A whose parent is r). Then

- latency(r) = t₁ − t(r), in whole seconds (timestamps truncated to the second);
- r is **answered** when t₁ exists and latency(r) ≤ W (``window_days``, default 7 days);
- **reply-back rate** of A = #answered replies to A's posts / #replies to A's posts;
- **matrix** R[X→Y] = Σ answered / Σ replies over replies written by tier-X accounts to tier-Y authors, for
  X ∈ {upper, middle, lower} and X = newcomer (replies that are newcomer posts, whatever the writer's tier);
- **gaps**: R[upper→upper] − R[lower→upper] and R[upper→upper] − R[newcomer→upper];
- **latency** quantiles over answered replies, nearest rank: q_p = the ⌈p·n⌉-th smallest latency.

95 % intervals: cluster bootstrap (``bootstrap.py``) whose clusters are the **replier accounts** (platform,
author of r): one person's replies share their style, topic and standing, so they are not independent
observations; resampling whole repliers keeps that dependence. The audited (target) accounts are held fixed:
the interval answers "how sure are we about how *these* accounts treat repliers", not about other communities.
Gap intervals come from the same replicates (the two rates of a gap move together within a replicate).
Reported interval = union of that bootstrap percentile interval and the score interval for independent
replies (Wilson for a rate, Newcombe's hybrid score for a gap): the bootstrap alone is too narrow when a cell
has few effective clusters (see ``bootstrap``). A gap is ``significant`` when its interval excludes 0.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .bootstrap import Profiles, newcombe, profile_bootstrap, union, wilson
from .context import AuditContext, SectionResult
from .replies import join_on
from .tiers import TIERS
from .timekeys import seconds

FROM = ("upper", "middle", "lower", "newcomer")
TO = TIERS
CELLS = tuple((a, b) for a in FROM for b in TO)
GAPS = (("upper_vs_lower", "upper", "lower", "upper"), ("upper_vs_newcomer", "upper", "newcomer", "upper"))


def reply_outcomes(edges: ir.Table, tiers: ir.Table, established: ir.Table, window_days: float = 7,
                   one_platform: bool = False) -> ir.Table:
    """One row per non-self reply: ``platform, community, thread_id, post_id, parent_id, replier, target,
    created_at, replier_tier, target_tier, is_newcomer, latency_s`` (null when never answered) and ``answered``.

    ``established``: ``platform, post_id`` of the posts that are not newcomer posts (``tiers.established_posts``);
    a reply is a newcomer post when it is not among them. ``one_platform``: see ``replies.join_on``.
    """
    conv = edges.filter(~edges.is_self)
    # An answer to r is written by r's target, who is not r's author: never a self-reply, so the answers are
    # read from all edges. Read from ``conv``, which the query also reads, DuckDB would materialise it first (a
    # copy of ~50M replies at 100M comments: 6 GB more spill and ~45 % more CPU, bench/README.md round 10).
    answers = edges.group_by(["platform", "parent_id", "replier"]).aggregate(first_at=edges.created_at.min())
    answers = answers.select(a_platform=answers.platform, a_parent=answers.parent_id, a_author=answers.replier,
                             first_at=answers.first_at)
    j = join_on(conv, answers, [("platform", "a_platform"), ("post_id", "a_parent"), ("target", "a_author")],
                how="left", one_platform=one_platform)
    latency = seconds(j.first_at) - seconds(j.created_at)
    base = j.select("platform", "community", "thread_id", "post_id", "parent_id", "replier", "target",
                    "created_at", latency_s=latency)
    rt = tiers.select(r_platform=tiers.platform, r_author=tiers.author_id, replier_tier=tiers.tier)
    tt = tiers.select(t_platform=tiers.platform, t_author=tiers.author_id, target_tier=tiers.tier)
    nc = established.select(n_platform=established.platform, n_post=established.post_id,
                            is_established=ibis.literal(True))
    out = join_on(base, rt, [("platform", "r_platform"), ("replier", "r_author")], one_platform=one_platform)
    out = join_on(out, tt, [("platform", "t_platform"), ("target", "t_author")], one_platform=one_platform)
    out = join_on(out, nc, [("platform", "n_platform"), ("post_id", "n_post")], how="left",
                  one_platform=one_platform)
    window_s = round(float(window_days) * 86400)
    return out.select(
        "platform", "community", "thread_id", "post_id", "parent_id", "replier", "target", "created_at",
        "replier_tier", "target_tier", is_newcomer=out.is_established.isnull(), latency_s=out.latency_s,
        answered=out.latency_s.notnull() & (out.latency_s <= window_s))


#: The ``reply_outcomes`` columns the sections use (the per-post keys and thread columns are left out of the
#: shared table: at 100M posts each string column costs gigabytes).
SHARED_OUTCOMES = ("platform", "replier", "target", "created_at", "replier_tier", "target_tier", "is_newcomer",
                   "latency_s", "answered")


def outcomes(ctx: AuditContext) -> ir.Table:
    """``reply_outcomes`` (``SHARED_OUTCOMES`` columns) for the context, materialised once in the engine and
    shared between sections."""
    if "reply_outcomes" not in ctx.shared:
        full = reply_outcomes(ctx.edges, ctx.tiers, ctx.established, ctx.params.window_days, ctx.one_platform)
        ctx.shared["reply_outcomes"] = ctx.keep(full.select(*SHARED_OUTCOMES))
    return ctx.shared["reply_outcomes"]


def replier_profiles(out: ir.Table) -> ir.Table:
    """The repliers (bootstrap clusters) grouped by profile, inside the engine: one row per distinct
    (``replier_tier``; per target tier t: ``replies_t``, ``answered_t`` and the same over the replier's newcomer
    posts, ``new_replies_t``, ``new_answered_t``) with ``repliers`` = how many (platform, replier) accounts have
    exactly that profile, sorted by the profile (the same order on every engine).

    A replier's tier is fixed, so these 13 numbers are all of its (n, k) per matrix cell: its replies to tier t
    fall in cell (replier_tier → t), and its newcomer replies also in (newcomer → t). Only the ~10⁵ profiles
    leave the engine, not a row per replier (5.5M repliers at 100M comments)."""
    sums = {}
    for tier in TO:
        to = out.target_tier == tier
        sums[f"replies_{tier}"] = to.cast("int64").sum()
        sums[f"answered_{tier}"] = (to & out.answered).cast("int64").sum()
        sums[f"new_replies_{tier}"] = (to & out.is_newcomer).cast("int64").sum()
        sums[f"new_answered_{tier}"] = (to & out.is_newcomer & out.answered).cast("int64").sum()
    per_replier = out.group_by(["platform", "replier", "replier_tier"]).aggregate(**sums)
    keys = ["replier_tier", *sums]
    return per_replier.group_by(keys).aggregate(repliers=per_replier.count()).order_by(keys)


def profiles_and_totals(table: pa.Table) -> tuple[Profiles, np.ndarray, np.ndarray]:
    """``replier_profiles`` output as bootstrap ``Profiles`` over ``CELLS``, plus replies and answered per cell."""
    rt = pc.index_in(table.column("replier_tier"), value_set=pa.array(list(TO), pa.string()))
    own = rt.to_numpy(zero_copy_only=False).astype(np.int64) * len(TO)
    newcomer = np.full(table.num_rows, FROM.index("newcomer") * len(TO), np.int64)
    rows: dict[str, list[np.ndarray]] = {"profile": [], "cell": [], "n": [], "k": []}
    index = np.arange(table.num_rows, dtype=np.int64)
    for t, tier in enumerate(TO):
        for base, prefix in ((own, ""), (newcomer, "new_")):
            n = table.column(f"{prefix}replies_{tier}").to_numpy(zero_copy_only=False).astype(np.int64)
            k = table.column(f"{prefix}answered_{tier}").to_numpy(zero_copy_only=False).astype(np.int64)
            used = n > 0
            rows["profile"].append(index[used])
            rows["cell"].append(base[used] + t)
            rows["n"].append(n[used])
            rows["k"].append(k[used])
    profile, cell, n, k = (np.concatenate(rows[name]) for name in ("profile", "cell", "n", "k"))
    order = np.lexsort((cell, profile))
    multiplicity = table.column("repliers").to_numpy(zero_copy_only=False).astype(np.int64)
    weight = multiplicity[profile]
    replies = np.bincount(cell, weights=weight * n, minlength=len(CELLS)).astype(np.int64)
    answered = np.bincount(cell, weights=weight * k, minlength=len(CELLS)).astype(np.int64)
    return (Profiles(multiplicity=multiplicity, profile=profile[order], cell=cell[order],
                     n=n[order].astype(np.float64), k=k[order].astype(np.float64)), replies, answered)


def latency_distribution(out: ir.Table) -> ir.Table:
    """``latency_s, n``: how many answered replies had each latency (sorted), for exact quantiles."""
    answered = out.filter(out.answered)
    lat = answered.latency_s
    return answered.group_by(lat.name("latency_s")).aggregate(n=answered.count()).order_by("latency_s")


def nearest_rank(values: np.ndarray, counts: np.ndarray, p: float) -> float | None:
    """The ⌈p·N⌉-th smallest value of a sorted value/count distribution (N = Σ counts); None when empty."""
    total = int(counts.sum())
    if total == 0:
        return None
    per_mille = round(p * 1000)
    rank = max(1, -((-per_mille * total) // 1000))  # ⌈p·N⌉ in exact integer arithmetic (p to 0.001)
    return float(values[int(np.searchsorted(np.cumsum(counts), rank))])


def matrix_with_ci(table: pa.Table, n_boot: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                                                     pa.Table]:
    """Matrix rows, gap rows and the replicate table from ``replier_profiles`` output (see module docstring)."""
    cell_index = {c: i for i, c in enumerate(CELLS)}
    profiles, replies, answered = profiles_and_totals(table)
    reps = profile_bootstrap(profiles, len(CELLS), n_boot, seed)
    boot = reps.interval()
    cis = [union(boot[i], wilson(float(answered[i]), float(replies[i]))) for i in range(len(CELLS))]
    matrix = []
    rates: list[float | None] = [float(answered[i] / replies[i]) if replies[i] else None for i in range(len(CELLS))]
    for i, (f, t) in enumerate(CELLS):
        rate = rates[i]
        matrix.append({"from": f, "to": t, "replies": int(replies[i]), "answered": int(answered[i]), "rate": rate,
                       "ci_low": cis[i][0], "ci_high": cis[i][1]})
    gap_values = np.column_stack([reps.rates[:, cell_index[(a, to)]] - reps.rates[:, cell_index[(b, to)]]
                                  for _, a, b, to in GAPS]) if n_boot > 0 else np.empty((0, len(GAPS)))
    boot_gaps = reps.interval(gap_values)
    gap_cis = []
    for g, (_, a, b, to) in enumerate(GAPS):
        ia, ib = cell_index[(a, to)], cell_index[(b, to)]
        score = newcombe(float(answered[ia]), float(replies[ia]), float(answered[ib]), float(replies[ib]))
        gap_cis.append(union(boot_gaps[g], score) if score[0] is not None else (None, None))
    gaps = []
    for g, (name, a, b, to) in enumerate(GAPS):
        ra, rb = rates[cell_index[(a, to)]], rates[cell_index[(b, to)]]
        gap = None if ra is None or rb is None else ra - rb
        low, high = gap_cis[g]
        gaps.append({"name": name, "a": a, "b": b, "to": to, "gap": gap, "ci_low": low, "ci_high": high,
                     "significant": None if low is None or high is None else bool(low > 0 or high < 0)})
    names = [f"{f}->{t}" for f, t in CELLS] + [f"gap:{g[0]}" for g in GAPS]
    values = np.column_stack([reps.rates, gap_values]) if n_boot > 0 else np.empty((0, len(names)))
    b_idx = np.repeat(np.arange(values.shape[0]), len(names))
    flat = values.reshape(-1)
    replicates = pa.table({
        "replicate": pa.array(b_idx, pa.int64()),
        "statistic": pa.array(names * values.shape[0], pa.string()),
        "value": pa.array(flat, pa.float64(), mask=np.isnan(flat)),
    })
    return matrix, gaps, replicates


def run(ctx: AuditContext) -> SectionResult:
    """The ``responsiveness`` section: matrix with CIs, gaps, latency and counts."""
    out = outcomes(ctx)
    profiles = ctx.execute(replier_profiles(out))
    matrix, gaps, replicates = matrix_with_ci(profiles, ctx.params.n_boot, ctx.params.seed)
    dist = ctx.execute(latency_distribution(out))
    values = np.array(dist.column("latency_s").to_pylist(), dtype=np.float64)
    weights = np.array(dist.column("n").to_pylist(), dtype=np.int64)
    median, p90 = nearest_rank(values, weights, 0.5), nearest_rank(values, weights, 0.9)
    e = ctx.edges
    totals = ctx.execute(e.aggregate(self_replies=e.is_self.cast("int64").sum(),
                                     replies=(~e.is_self).cast("int64").sum()))
    n_answered = sum(row["answered"] for row in matrix if row["from"] != "newcomer")
    summary = {
        "matrix": matrix, "gaps": gaps,
        "latency_hours": {"median": None if median is None else median / 3600.0,
                          "p90": None if p90 is None else p90 / 3600.0},
        "self_replies": int(totals.column("self_replies")[0].as_py() or 0),
        "replies": int(totals.column("replies")[0].as_py() or 0),
        "answered": n_answered,
        "window_days": ctx.params.window_days,
        "clusters": "replier accounts",
        "ci_method": "union of cluster-bootstrap percentile and Wilson / Newcombe score intervals",
        "n_boot": ctx.params.n_boot,
    }
    table = pa.Table.from_pylist(matrix, schema=pa.schema([
        ("from", pa.string()), ("to", pa.string()), ("replies", pa.int64()), ("answered", pa.int64()),
        ("rate", pa.float64()), ("ci_low", pa.float64()), ("ci_high", pa.float64())]))
    return SectionResult(tables={"responsiveness": table, "bootstrap": replicates}, summary=summary)
