"""Status scores: how high an account stands, by one of five measures.

Only **active** accounts (at least one post with a known author in the data) get a score. Measures:

- ``followers``: max observed follower count (``accounts.followers``); unknown → 0.
- ``reputation``: platform karma/reputation (``accounts.reputation``) when known, else the sum of the account's
  post scores (unknown scores count 0).
- ``attention``: number of distinct accounts that replied to the account (self-replies excluded).
- ``pagerank``: PageRank (damping 0.85, igraph/PRPACK) on the directed replier → replied-to graph of one
  platform, edge weight = number of replies, every active account a vertex.
- ``seniority``: days from account creation (``accounts.account_created_at``; else the first post seen) to the
  window end (the last post in the data), as a float.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import ibis.expr.types as ir
import pyarrow as pa

from ..errors import AnalysisError, UsageError
from .replies import join_on
from .timekeys import seconds

if TYPE_CHECKING:
    from ..engine import Engine

MEASURES = ("followers", "reputation", "attention", "pagerank", "seniority")

#: Default measure per platform; platforms not listed use ``attention``.
PLATFORM_DEFAULTS = {
    "twitter": "followers", "mastodon": "followers", "bluesky": "followers",
    "stackexchange": "reputation", "reddit": "reputation", "synthetic": "reputation",
}


def default_measure(platforms: Iterable[str]) -> str:
    """The measure for a dataset with these platforms: their shared default, else ``attention``."""
    chosen = {PLATFORM_DEFAULTS.get(p, "attention") for p in platforms}
    return chosen.pop() if len(chosen) == 1 else "attention"


def active_authors(posts: ir.Table) -> ir.Table:
    """``platform, author_id, n_posts, first_at, score_sum`` for every author with a known id."""
    known = posts.filter(posts.author_id.notnull())
    return known.group_by(["platform", "author_id"]).aggregate(
        n_posts=known.count(), first_at=known.created_at.min(),
        score_sum=known.score.fill_null(0).sum())


def active_from_periods(activity: ir.Table) -> ir.Table:
    """``active_authors`` from ``structure.account_periods_expr`` output (one row per account and period): the same
    columns and numbers, regrouped from the small table instead of the posts."""
    return activity.group_by(["platform", "author_id"]).aggregate(
        n_posts=activity.posts.sum().cast("int64"), first_at=activity.first_at.min(),
        score_sum=activity.score.sum().cast("int64"))


def status_scores(posts: ir.Table, accounts: ir.Table, edges: ir.Table, measure: str,
                  engine: Engine | None = None, active: ir.Table | None = None) -> ir.Table:
    """``platform, author_id, status: float64`` for every active account (see module docstring for formulas).

    ``engine`` is needed for ``pagerank`` only (the author graph is fetched and ranked in igraph); ``active`` is
    ``active_authors(posts)`` when the caller already has it.
    """
    if measure not in MEASURES:
        raise UsageError(f"unknown status measure {measure!r}; choose one of: {', '.join(MEASURES)}")
    active = active_authors(posts) if active is None else active
    if measure == "attention":
        conv = edges.filter(~edges.is_self)
        attention = conv.group_by(["platform", "target"]).aggregate(att=conv.replier.nunique())
        attention = attention.select(t_platform=attention.platform, t_author=attention.target, att=attention.att)
        j = join_on(active, attention, [("platform", "t_platform"), ("author_id", "t_author")], how="left")
        return j.select("platform", "author_id", status=j.att.fill_null(0).cast("float64"))
    if measure == "pagerank":
        if engine is None:
            raise AnalysisError("the pagerank status measure needs an engine to fetch the author graph")
        return engine.register("pagerank", pagerank_scores(engine, active, edges))
    acc = accounts.select(a_platform=accounts.platform, a_author=accounts.author_id,
                          followers=accounts.followers, reputation=accounts.reputation,
                          created=accounts.account_created_at)
    j = join_on(active, acc, [("platform", "a_platform"), ("author_id", "a_author")], how="left")
    if measure == "followers":
        value = j.followers.fill_null(0).cast("float64")
    elif measure == "reputation":
        value = j.reputation.fill_null(j.score_sum).fill_null(0).cast("float64")
    else:  # seniority
        end = seconds(posts.created_at.max()).as_scalar()
        start = seconds(j.created.fill_null(j.first_at))
        value = (end - start).cast("float64") / 86400.0
    return j.select("platform", "author_id", status=value)


def pagerank_scores(engine: Engine, active: ir.Table, edges: ir.Table, damping: float = 0.85) -> pa.Table:
    """PageRank per platform on the weighted replier → target graph; returns ``platform, author_id, status``."""
    import igraph

    conv = edges.filter(~edges.is_self)
    weights = engine.execute(conv.group_by(["platform", "replier", "target"]).aggregate(weight=conv.count())
                             .order_by(["platform", "replier", "target"]))
    authors = engine.execute(active.select("platform", "author_id").order_by(["platform", "author_id"]))
    out_platform: list[str] = []
    out_author: list[str] = []
    out_score: list[float] = []
    author_platforms = authors.column("platform").to_pylist()
    author_ids = authors.column("author_id").to_pylist()
    w_platforms = weights.column("platform").to_pylist()
    for platform in sorted(set(author_platforms)):
        ids = [a for p, a in zip(author_platforms, author_ids, strict=True) if p == platform]
        index = {a: i for i, a in enumerate(ids)}
        rows = [i for i, p in enumerate(w_platforms) if p == platform]
        src = weights.column("replier").take(rows).to_pylist()
        dst = weights.column("target").take(rows).to_pylist()
        wts = weights.column("weight").take(rows).to_pylist()
        graph = igraph.Graph(n=len(ids), edges=list(zip([index[s] for s in src], [index[d] for d in dst],
                                                        strict=True)), directed=True)
        scores = graph.pagerank(weights=wts or None, damping=damping, directed=True) if ids else []
        out_platform += [platform] * len(ids)
        out_author += ids
        out_score += list(scores)
    return pa.table({"platform": pa.array(out_platform, pa.string()),
                     "author_id": pa.array(out_author, pa.string()),
                     "status": pa.array(out_score, pa.float64())})
