"""Account statistics and cards: one account's standing and how it treats the people who reply to it.

Per active account A (definitions as in ``responsiveness``):

- ``posts``: posts by A; ``replies_written``: A's posts that are replies to someone else (parent in the data,
  other author); ``self_replies``; ``reply_share`` = replies_written / posts;
- ``replies_received``: replies by others to A's posts; ``answered``: those A answered within W;
  ``distinct_repliers``; ``reply_back_rate`` = answered / replies_received (null when nobody replied);
- ``rate_from_<X>`` = answered / received over replies written by tier-X accounts (X = newcomer: newcomer posts);
- ``latency_median_h``, ``latency_p90_h``: nearest-rank quantiles (⌈p·n⌉-th smallest) of A's answer latencies
  within W, in hours;
- ``percentile_in_tier`` = (accounts of A's platform and tier with strictly lower status) / (accounts in it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir

from ..dataset import Dataset
from ..engine import Engine, connect
from ..errors import InputError
from .context import AuditContext, AuditParams, SectionResult
from .replies import join_on
from .responsiveness import FROM, outcomes

TOP_CARDS = 20


def account_stats(ctx: AuditContext) -> ir.Table:
    """The per-account table described in the module docstring (one row per active account)."""
    out = outcomes(ctx)
    t = ctx.tiers
    tier_n = t.count().over(ibis.window(group_by=[t.platform, t.tier])).cast("float64")
    tier_rank = ibis.rank().over(ibis.window(group_by=[t.platform, t.tier], order_by=t.status.asc()))
    tiers = t.select("platform", "author_id", "status", "percentile", "tier",
                     percentile_in_tier=tier_rank.cast("float64") / tier_n)

    active = ctx.active.select("platform", "author_id", "n_posts")
    e = ctx.edges
    written = e.group_by([e.platform.name("w_platform"), e.replier.name("w_author")]).aggregate(
        replies_written=(~e.is_self).cast("int64").sum(), self_replies=e.is_self.cast("int64").sum())

    metrics: dict[str, ir.Value] = {
        "replies_received": out.count(),
        "answered": out.answered.cast("int64").sum(),
        "distinct_repliers": out.replier.nunique(),
    }
    for tier in FROM:
        chosen = out.is_newcomer if tier == "newcomer" else out.replier_tier == tier
        metrics[f"replies_from_{tier}"] = chosen.cast("int64").sum()
        metrics[f"answered_from_{tier}"] = (chosen & out.answered).cast("int64").sum()
    received = out.group_by([out.platform.name("r_platform"), out.target.name("r_author")]).aggregate(**metrics)

    ans = out.filter(out.answered)
    # ties in latency need no tie-breaker: tied rows carry the same value, which is all the quantile reads
    order = ibis.window(group_by=[ans.platform, ans.target], order_by=ans.latency_s.asc())
    ranked = ans.select(l_platform=ans.platform, l_author=ans.target, latency_s=ans.latency_s,
                        rn=ibis.row_number().over(order) + 1,
                        n=ans.count().over(order))  # same spec: one sort; its frame is the whole partition
    latency = ranked.group_by(["l_platform", "l_author"]).aggregate(
        lat_med=ranked.latency_s.max(where=ranked.rn == (ranked.n + 1) // 2),
        lat_p90=ranked.latency_s.max(where=ranked.rn == (ranked.n * 9 + 9) // 10))

    names = ctx.accounts.select(n_platform=ctx.accounts.platform, n_author=ctx.accounts.author_id,
                                display_name=ctx.accounts.display_name)
    j = join_on(active, tiers.select(t_platform=tiers.platform, t_author=tiers.author_id, status=tiers.status,
                                     percentile=tiers.percentile, tier=tiers.tier,
                                     percentile_in_tier=tiers.percentile_in_tier),
                [("platform", "t_platform"), ("author_id", "t_author")])
    j = join_on(j, names, [("platform", "n_platform"), ("author_id", "n_author")], how="left")
    j = join_on(j, written, [("platform", "w_platform"), ("author_id", "w_author")], how="left")
    j = join_on(j, received, [("platform", "r_platform"), ("author_id", "r_author")], how="left")
    j = join_on(j, latency, [("platform", "l_platform"), ("author_id", "l_author")], how="left")

    def count(name: str) -> ir.Value:
        return j[name].fill_null(0)

    def ratio(num: ir.Value, den: ir.Value) -> ir.Value:
        return ibis.ifelse(den > 0, num.cast("float64") / den.cast("float64"), ibis.null("float64"))

    cols: dict[str, ir.Value] = {
        "display_name": j.display_name, "tier": j.tier, "status": j.status, "percentile": j.percentile,
        "percentile_in_tier": j.percentile_in_tier, "posts": j.n_posts,
        "replies_written": count("replies_written"), "self_replies": count("self_replies"),
        "reply_share": ratio(count("replies_written"), j.n_posts),
        "replies_received": count("replies_received"), "answered": count("answered"),
        "distinct_repliers": count("distinct_repliers"),
        "reply_back_rate": ratio(count("answered"), count("replies_received")),
        "latency_median_h": j.lat_med.cast("float64") / 3600.0,
        "latency_p90_h": j.lat_p90.cast("float64") / 3600.0,
    }
    for tier in FROM:
        cols[f"replies_from_{tier}"] = count(f"replies_from_{tier}")
        cols[f"rate_from_{tier}"] = ratio(count(f"answered_from_{tier}"), count(f"replies_from_{tier}"))
    return j.select("platform", "author_id", **cols)


def card(row: dict[str, Any]) -> dict[str, Any]:
    """The card dict (contract shape) for one ``account_stats`` row."""
    return {
        "author_id": row["author_id"], "display_name": row["display_name"], "platform": row["platform"],
        "tier": row["tier"], "status": row["status"], "percentile": row["percentile"],
        "percentile_in_tier": row["percentile_in_tier"], "posts": row["posts"],
        "replies_received": row["replies_received"], "distinct_repliers": row["distinct_repliers"],
        "reply_back_rate": row["reply_back_rate"],
        "reply_back_by_tier": {tier: row[f"rate_from_{tier}"] for tier in FROM},
        "replies_by_tier": {tier: row[f"replies_from_{tier}"] for tier in FROM},
        "latency_hours": {"median": row["latency_median_h"], "p90": row["latency_p90_h"]},
        "reply_share": row["reply_share"], "replies_written": row["replies_written"],
        "self_replies": row["self_replies"],
    }


def run(ctx: AuditContext) -> SectionResult:
    """The ``accounts`` section: ``account_stats`` for everyone and cards of the top accounts by status."""
    stats = ctx.scratch(account_stats(ctx))
    table = stats.order_by(["platform", "author_id"])  # one row per account: written by the engine
    top = ctx.execute(stats.order_by([stats.status.desc(), stats.platform.asc(), stats.author_id.asc()])
                      .limit(TOP_CARDS))
    cards = [card(r) for r in top.to_pylist()]
    return SectionResult(tables={"account_stats": table, "cards": top}, summary={"top": cards})


def account(dataset: Dataset | str | Path, name: str, engine: str | Engine = "duckdb",
            params: AuditParams | None = None, **overrides: Any) -> dict[str, Any]:
    """The card of the account whose ``author_id`` or ``display_name`` is ``name`` (id wins over name).

    InputError when no active account matches; when several display names match, the one with the highest
    status is returned and ``matches`` lists all of them.
    """
    ds = dataset if isinstance(dataset, Dataset) else Dataset.open(dataset)
    params = (params or AuditParams()).replace(**overrides) if overrides else (params or AuditParams())
    owned = not isinstance(engine, Engine)
    eng: Engine = engine if isinstance(engine, Engine) else connect(engine)
    try:
        ctx = AuditContext.build(ds, eng, params)
        stats = account_stats(ctx)
        found = ctx.execute(stats.filter((stats.author_id == name) | (stats.display_name == name)).order_by(
            [(stats.author_id == name).desc(), stats.status.desc(), stats.platform.asc(), stats.author_id.asc()]))
    finally:
        if owned:
            eng.close()
    if found.num_rows == 0:
        raise InputError(f"no active account with id or display name {name!r}", path=ds.path,
                         hint="Account ids are case-sensitive; 'permadani audit' lists the top accounts")
    rows = found.to_pylist()
    result = card(rows[0])
    result["measure"] = ctx.measure
    result["matches"] = [{"platform": r["platform"], "author_id": r["author_id"]} for r in rows]
    return result

