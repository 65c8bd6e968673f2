"""Tiers (upper / middle / lower by status) and newcomer flags.

**Tiers**, per platform, among the n active accounts: order accounts by status descending, ties broken by
``author_id`` ascending; position p = 0, 1, …; ``upper`` when p < u·n, ``middle`` when p < (u+m)·n, else
``lower`` (so the upper tier is the ⌈u·n⌉ highest accounts, at least one). Defaults u = 0.01, m = 0.09.
``percentile`` = (number of accounts of the platform with a strictly lower status) / n, in [0, 1).

**Newcomer** (a property of a post, orthogonal to tiers): the post is among its author's first ``first_posts``
posts in that (platform, community), or written less than ``days`` days after the author's first post there.
Posts are ordered by (created_at, post_id). The first post seen is the start: a dump that begins mid-life
makes long-standing members look new in its first days (left censoring).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir

from ..errors import UsageError
from .timekeys import instant, seconds

if TYPE_CHECKING:
    from .context import AuditContext

TIERS = ("upper", "middle", "lower")
_EPS = 1e-9


def assign_tiers(scores: ir.Table, upper: float = 0.01, middle: float = 0.09) -> ir.Table:
    """``platform, author_id, status, percentile, tier`` from ``status_scores`` output (formulas above)."""
    if not (upper > 0 and middle >= 0 and upper + middle <= 1):
        raise UsageError(f"tier shares must satisfy 0 < upper, 0 <= middle, upper + middle <= 1 "
                         f"(got upper={upper}, middle={middle})")
    by_rank = ibis.window(group_by=scores.platform, order_by=[scores.status.desc(), scores.author_id.asc()])
    by_value = ibis.window(group_by=scores.platform, order_by=scores.status.asc())
    n = scores.count().over(ibis.window(group_by=scores.platform)).cast("float64")
    position = ibis.row_number().over(by_rank).cast("float64")
    lower_count = ibis.rank().over(by_value).cast("float64")
    tier = ibis.cases((position < n * upper - _EPS, "upper"),
                      (position < n * (upper + middle) - _EPS, "middle"), else_="lower")
    return scores.select("platform", "author_id", "status", percentile=lower_count / n, tier=tier)


def newcomer_flags(posts: ir.Table, days: int = 30, first_posts: int = 5) -> ir.Table:
    """``platform, post_id, is_newcomer`` for every post with a known author (definition above)."""
    known = posts.filter(posts.author_id.notnull())
    group = [known.platform, known.community, known.author_id]
    # one window spec for both: the engine sorts each author's posts once (the minimum over the ordered window is
    # the first post's time)
    order = ibis.window(group_by=group, order_by=[known.created_at.asc(), known.post_id.asc()])
    rank = ibis.row_number().over(order)
    first = known.created_at.min().over(order)
    age = seconds(known.created_at) - seconds(first)
    return known.select("platform", "post_id",
                        is_newcomer=(rank < first_posts) | (age < int(days) * 86400))


def established_posts(posts: ir.Table, days: int = 30, first_posts: int = 5, since_s: int | None = None
                      ) -> ir.Table:
    """``platform, post_id`` of the posts with a known author that are *not* newcomer posts.

    The audit keeps this complement instead of a flag per post: on a dump shorter than ``days`` almost every post
    is a newcomer post (99.6 % of a one-month Reddit dump), so the table the reply outcomes join against shrinks
    from every post to a few (at 100M comments: 94M → 0.4M rows, that join 29.6 → 8.2 s); on long dumps it
    is at most as large as the flags.

    ``since_s``: whole seconds since the epoch of the earliest post with a known author. A post written less
    than ``days`` after it is younger than ``days`` in its group, hence a newcomer post, so only the groups
    (platform, community, author) with a post at or after ``since_s + days`` can hold an established post; the
    window then ranks those groups' posts only (all of them, so ranks and first posts are unchanged).
    """
    known = posts.filter(posts.author_id.notnull())
    if since_s is not None:
        late = known.filter(known.created_at >= instant(int(since_s) + int(days) * 86400))
        late = late.select(l_platform=late.platform, l_community=late.community, l_author=late.author_id).distinct()
        known = known.semi_join(late, [known.platform == late.l_platform,
                                       known.community.identical_to(late.l_community),
                                       known.author_id == late.l_author])
    flags = newcomer_flags(known, days, first_posts)
    return flags.filter(~flags.is_newcomer).select("platform", "post_id")


def run(ctx: AuditContext) -> Any:
    """The ``tiers`` section: the tier table and counts, thresholds and the share of newcomer posts."""
    from .context import SectionResult

    tiers = ctx.tiers.order_by(["platform", "author_id"])  # one row per account: written by the engine
    t = ctx.tiers
    stats = ctx.execute(t.group_by(["platform", "tier"]).aggregate(
        n=t.count(), min_status=t.status.min(), max_status=t.status.max()).order_by(["platform", "tier"]))
    n_posts = ctx.execute(ctx.active.aggregate(n=ctx.active.n_posts.sum())).column("n")[0].as_py() or 0
    n_established = ctx.execute(ctx.established.aggregate(n=ctx.established.count())).column("n")[0].as_py()
    counts = {tier: 0 for tier in TIERS}
    thresholds: dict[str, float | None] = {"upper": None, "middle": None}
    by_platform: dict[str, Any] = {}
    for row in stats.to_pylist():
        counts[row["tier"]] += row["n"]
        entry = by_platform.setdefault(row["platform"], {"counts": {t: 0 for t in TIERS}, "thresholds": {}})
        entry["counts"][row["tier"]] = row["n"]
        if row["tier"] in thresholds:
            entry["thresholds"][row["tier"]] = row["min_status"]
            current = thresholds[row["tier"]]
            thresholds[row["tier"]] = row["min_status"] if current is None else min(current, row["min_status"])
    summary = {"measure": ctx.measure, "counts": counts, "thresholds": thresholds,
               "newcomer_posts_share": (n_posts - n_established) / n_posts if n_posts else None,
               "by_platform": by_platform}
    return SectionResult(tables={"tiers": tiers}, summary=summary)
