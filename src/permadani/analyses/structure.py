"""Shared helpers of the structure analyses (inequality, rich club, mobility, trend, conversation).

Periods: a post belongs to the calendar period (UTC) that contains its ``created_at``; ``period`` is one of
``day``, ``week`` (ISO weeks starting Monday), ``month`` (default), ``quarter``, ``year``. Periods are labelled by
the ISO date of their first day (``"2021-04-01"``) once results are back in Arrow, so labels never depend on how an
engine renders timestamps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import UsageError
from . import timekeys

#: period name -> Ibis truncation unit.
PERIOD_UNITS = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}


def period_unit(period: str) -> str:
    """The Ibis truncation unit of ``period``; UsageError naming the allowed values otherwise."""
    try:
        return PERIOD_UNITS[period]
    except KeyError:
        raise UsageError(f"unknown period {period!r}; use one of {', '.join(PERIOD_UNITS)}") from None


def period_labels(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """ISO date labels (``YYYY-MM-DD``) of period-start timestamps, computed in Arrow (engine independent)."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_timestamp(arr.type) and arr.type.tz is not None:
        arr = arr.cast(pa.timestamp(arr.type.unit))
    if pa.types.is_timestamp(arr.type):
        arr = pc.strftime(arr, format="%Y-%m-%d")
    return arr.cast(pa.string())


def label_periods(table: pa.Table, columns: Sequence[str] = ("period",)) -> pa.Table:
    """Replace period-start timestamp columns of an executed table by their ISO date labels."""
    for name in columns:
        if name in table.column_names:
            idx = table.column_names.index(name)
            table = table.set_column(idx, name, period_labels(table.column(name)))
    return table


def sort_table(table: pa.Table, keys: Sequence[str]) -> pa.Table:
    """Sort an executed table ascending by ``keys`` (nulls last): results never depend on engine order."""
    if table.num_rows == 0 or not keys:
        return table
    return table.sort_by([(k, "ascending", "at_end") for k in keys])


def wls_slope(x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> float:
    """Weighted least-squares slope of y on x: b = Σw(x−x̄)(y−ȳ) / Σw(x−x̄)², x̄, ȳ weighted means.

    NaN when fewer than two distinct x carry positive weight.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(w) & (w > 0)
    x, y, w = x[ok], y[ok], w[ok]
    if x.size < 2 or np.unique(x).size < 2:
        return math.nan
    xm = np.sum(w * x) / np.sum(w)
    ym = np.sum(w * y) / np.sum(w)
    den = np.sum(w * (x - xm) ** 2)
    return float(np.sum(w * (x - xm) * (y - ym)) / den)


def quantile(values: np.ndarray, q: float) -> float | None:
    """Linear-interpolated quantile, None for an empty input."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(np.quantile(values, q)) if values.size else None


def clean(value: Any) -> Any:
    """A JSON-safe copy of a summary value: NaN/inf become None, numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# --- tiers per period (shared by mobility and trend) -------------------------------------------------------------

_SEP = "\x1f"
PERIOD_TIER_COLUMNS = ("platform", "author_id", "period_s", "period", "status", "percentile", "tier", "posts",
                       "first_at")


def period_key(ts: ibis.Value, period: str) -> ibis.Value:
    """Integer key of the period containing ``ts``: epoch seconds (UTC) of the period start (``timekeys``)."""
    return timekeys.unit_start(ts, period_unit(period))


def period_tiers_expr(posts: ibis.Table, accounts: ibis.Table, edges: ibis.Table, measure: str, period: str,
                      upper: float = 0.01, middle: float = 0.09, engine: Any = None,
                      activity: ibis.Table | None = None) -> ibis.Table:
    """Tiers of each period's active accounts, in one expression, with core's ``status_scores``/``assign_tiers``.

    Trick: the platform column is replaced by ``platform ␟ period_s`` so that core's per-platform status and
    tier computations run per (platform, period) at once. The status of an account in period P uses only P's
    posts and P's replies (a reply belongs to the period of its own ``created_at``); static measures (followers,
    reputation) come from the accounts table. Output: ``platform`` (composite), ``author_id, status, percentile,
    tier``; split it with ``split_period_tiers``. ``activity``: ``account_periods_expr(posts, period)`` when the
    caller has it already (saves grouping the posts a second time).
    """
    from .status import status_scores
    from .tiers import assign_tiers

    p = posts.filter(posts.author_id.notnull())
    p = p.mutate(period_s=period_key(p.created_at, period))
    if measure != "seniority" and activity is not None:
        p = activity.select("platform", "author_id", "period_s", created_at=activity.first_at, score=activity.score)
    elif measure != "seniority":
        # one row per account and period first (the status formulas only need the first post and the score
        # sum; seniority also needs the last post of all, so it keeps the posts), then the composite key
        p = p.group_by(["platform", "author_id", "period_s"]).aggregate(
            created_at=p.created_at.min(), score=p.score.fill_null(0).sum())
    p = p.mutate(k_platform=p.platform, composite=p.platform.concat(_SEP, p.period_s.cast("string")))
    keys = p.select("k_platform", k_author=p.author_id, composite=p.composite).distinct()
    p = p.mutate(platform=p.composite)
    e = edges.mutate(platform=edges.platform.concat(_SEP, period_key(edges.created_at, period).cast("string")))
    a = accounts.join(keys, [accounts.platform == keys.k_platform, accounts.author_id == keys.k_author])
    a = a.select(*[a[c] if c != "platform" else a.composite.name("platform") for c in accounts.columns])
    scores = status_scores(p, a, e, measure, engine)
    return assign_tiers(scores, upper, middle)


def account_periods_expr(posts: ibis.Table, period: str) -> ibis.Table:
    """``platform, author_id, period_s, posts, first_at, score`` per account and period with posts (score = sum of
    the posts' scores, unknown = 0)."""
    p = posts.filter(posts.author_id.notnull())
    p = p.mutate(period_s=period_key(p.created_at, period))
    return p.group_by(["platform", "author_id", "period_s"]).aggregate(
        posts=p.count(), first_at=p.created_at.min(), score=p.score.fill_null(0).sum())


def split_period_tiers(tiers: pa.Table, activity: pa.Table) -> pa.Table:
    """Executed composite tiers + executed ``account_periods_expr`` -> ``PERIOD_TIER_COLUMNS`` (sorted)."""
    parts = pc.split_pattern(tiers.column("platform").combine_chunks(), _SEP, max_splits=1)
    period_s = pc.list_element(parts, 1).cast(pa.int64())
    t = pa.table({"platform": pc.list_element(parts, 0), "author_id": tiers.column("author_id"),
                  "period_s": period_s, "status": tiers.column("status"),
                  "percentile": tiers.column("percentile"), "tier": tiers.column("tier")})
    act = activity.select(["platform", "author_id", "period_s", "posts", "first_at"])
    return _labelled(t.join(act, ["platform", "author_id", "period_s"], join_type="left outer"))


def period_tiers(ctx: Any) -> pa.Table:
    """Executed tiers per period for an audit context (computed once, cached in ``ctx.shared``)."""
    if "structure_period_tiers" not in ctx.shared:
        p = ctx.params
        activity = ctx.activity  # the posts grouped per account and period once, in the context
        expr = period_tiers_expr(ctx.posts, ctx.accounts, ctx.edges, ctx.measure, p.period, p.upper, p.middle,
                                 ctx.engine, activity=activity)
        ctx.shared["structure_period_tiers"] = _labelled(ctx.execute(_with_activity(expr, activity)))
    return ctx.shared["structure_period_tiers"]


def _with_activity(tiers: ibis.Table, activity: ibis.Table) -> ibis.Table:
    """``period_tiers_expr`` output joined in the engine to ``account_periods_expr`` output: the columns of
    ``split_period_tiers`` but ``period`` (one executed table instead of two joined in Python)."""
    from .replies import join_on

    a = activity.select(a_key=activity.platform.concat(_SEP, activity.period_s.cast("string")),
                        a_author=activity.author_id, a_platform=activity.platform, period_s=activity.period_s,
                        posts=activity.posts, first_at=activity.first_at)
    j = join_on(tiers, a, [("platform", "a_key"), ("author_id", "a_author")])
    return j.select(platform=j.a_platform, author_id=j.author_id, period_s=j.period_s, status=j.status,
                    percentile=j.percentile, tier=j.tier, posts=j.posts, first_at=j.first_at)


def _labelled(table: pa.Table) -> pa.Table:
    """Tiers per period with their ``period`` label, in ``PERIOD_TIER_COLUMNS`` order, sorted."""
    label = pc.cast(pc.multiply(table.column("period_s"), 1_000_000), pa.timestamp("us", tz="UTC"))
    table = table.append_column("period", period_labels(label))
    return sort_table(table.select(list(PERIOD_TIER_COLUMNS)), ["platform", "period_s", "author_id"])
