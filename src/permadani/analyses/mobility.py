"""Mobility: can accounts rise? Tiers per period, transitions between consecutive periods, where the upper tier
comes from, and how long the climb takes.

Tiers per period (``structure.period_tiers``): core's status measure and tier cut-offs applied to each period's
active accounts (those with a post in the period), using only that period's posts and replies.

Periods of a platform are the periods in which it has posts, in time order (index t = 0, 1, …); a calendar
period with no post at all is skipped, so "consecutive" means consecutive among observed periods.

- **Transitions** t → t+1 over accounts active in t or t+1, states {upper, middle, lower, inactive}; inactive =
  no post in that period (inactive → X: arrival or return; X → inactive: absence). count(X→Y) and row share
  count(X→Y) / Σ_Y count(X→Y). inactive → inactive is not counted (it has no finite population).
- **Upper origin**: for period t, the share of its upper tier whose first period (first post in the data) f
  satisfies t − f < k ("newcomers within the last k periods", k = ``k_periods``, default 3). Periods t < k are
  left-censored (every account there is new by construction) and excluded from the headline share.
- **Rise**: for every account ever upper, periods_to_upper = t_upper − f (first upper period minus first period)
  and days_to_upper = (first post in period t_upper − first post in the data) in days.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .structure import clean, period_tiers, quantile, sort_table

if TYPE_CHECKING:  # pragma: no cover
    from .context import AuditContext

STATES = ("upper", "middle", "lower", "inactive")


def index_periods(pt: pa.Table) -> pa.Table:
    """Add ``t``: the index of ``period_s`` among the platform's observed periods (0-based, time order).

    Computed on integer codes (platform number × periods + period number) with numpy, rows kept in place: a join
    against the few (platform, period) pairs would copy the whole table (6.25M account-periods at 100M)."""
    platforms = pc.unique(pt.column("platform")).sort()
    periods = pc.unique(pt.column("period_s")).sort()
    p_idx = pc.index_in(pt.column("platform"), value_set=platforms).to_numpy(zero_copy_only=False).astype(np.int64)
    s_idx = pc.index_in(pt.column("period_s"), value_set=periods).to_numpy(zero_copy_only=False).astype(np.int64)
    width = max(1, len(periods))
    code = p_idx * width + s_idx
    seen = np.unique(code)  # sorted by platform, then period
    platform_start = np.searchsorted(seen, (seen // width) * width, side="left")  # first code of the platform
    t_of_seen = np.arange(seen.size, dtype=np.int64) - platform_start
    return pt.append_column("t", pa.array(t_of_seen[np.searchsorted(seen, code)], pa.int64()))


def _labels(pt: pa.Table) -> dict[tuple[str, int], str]:
    rows = pt.group_by(["platform", "t", "period"]).aggregate([]).to_pylist()
    return {(r["platform"], r["t"]): r["period"] for r in rows}


def transitions(pt: pa.Table) -> pa.Table:
    """``platform, period_from, period_to, from_tier, to_tier, accounts, row_share`` for each consecutive pair."""
    pt = index_periods(pt) if "t" not in pt.column_names else pt
    labels = _labels(pt)
    last: dict[str, int] = {}
    for (platform, t) in labels:
        last[platform] = max(last.get(platform, -1), t)
    platforms = sorted(last)  # a handful: each row's platform by its index, not as millions of Python strings
    where = pc.index_in(pt.column("platform"), value_set=pa.array(platforms, pa.string()))
    last_of = np.array([last[p] for p in platforms], dtype=np.int64)[where.to_numpy(zero_copy_only=False)]
    period_index = pt.column("t").to_numpy(zero_copy_only=False)
    # only rows that can take part in a pair t → t+1 enter the join (a period's accounts are millions of rows;
    # with one period there is nothing to join at all)
    before_last = pt.filter(pa.array(period_index < last_of))
    after_first = pt.filter(pa.array(period_index >= 1))
    left = pa.table({"platform": before_last.column("platform"), "author_id": before_last.column("author_id"),
                     "t_to": pc.add(before_last.column("t"), 1), "from_tier": before_last.column("tier")})
    right = pa.table({"platform": after_first.column("platform"), "author_id": after_first.column("author_id"),
                      "t_to": after_first.column("t"), "to_tier": after_first.column("tier")})
    j = left.join(right, ["platform", "author_id", "t_to"], join_type="full outer")
    j = j.set_column(j.column_names.index("from_tier"), "from_tier", pc.fill_null(j.column("from_tier"), "inactive"))
    j = j.set_column(j.column_names.index("to_tier"), "to_tier", pc.fill_null(j.column("to_tier"), "inactive"))
    counts = j.group_by(["platform", "t_to", "from_tier", "to_tier"]).aggregate([("author_id", "count")])
    counts = counts.rename_columns(["platform", "t_to", "from_tier", "to_tier", "accounts"])
    counts = sort_table(counts, ["platform", "t_to", "from_tier", "to_tier"])
    rows = counts.to_pylist()
    totals: dict[tuple[str, int, str], int] = {}
    for r in rows:
        key = (r["platform"], r["t_to"], r["from_tier"])
        totals[key] = totals.get(key, 0) + r["accounts"]
    names = ("platform", "period_from", "period_to", "from_tier", "to_tier", "accounts", "row_share")
    out: dict[str, list[Any]] = {name: [] for name in names}
    for r in rows:
        out["platform"].append(r["platform"])
        out["period_from"].append(labels[(r["platform"], r["t_to"] - 1)])
        out["period_to"].append(labels[(r["platform"], r["t_to"])])
        out["from_tier"].append(r["from_tier"])
        out["to_tier"].append(r["to_tier"])
        out["accounts"].append(r["accounts"])
        out["row_share"].append(r["accounts"] / totals[(r["platform"], r["t_to"], r["from_tier"])])
    return pa.table(out, schema=pa.schema([("platform", pa.string()), ("period_from", pa.string()),
                                           ("period_to", pa.string()), ("from_tier", pa.string()),
                                           ("to_tier", pa.string()), ("accounts", pa.int64()),
                                           ("row_share", pa.float64())]))


def _first_index(pt: pa.Table, of: pa.Table) -> pa.Table:
    """First period index and first post time of the accounts in ``of`` (all their rows in ``pt``: the few
    upper-tier accounts, not the millions of others)."""
    pt = pt.filter(pc.is_in(pt.column("author_id"), value_set=pc.unique(of.column("author_id"))))
    first = pt.group_by(["platform", "author_id"]).aggregate([("t", "min"), ("first_at", "min")])
    return first.rename_columns(["platform", "author_id", "first_t", "first_post_at"])


def upper_origin(pt: pa.Table, k: int = 3) -> pa.Table:
    """``platform, period, t, upper, newcomers, share, left_censored`` per period (definition in module doc)."""
    pt = index_periods(pt) if "t" not in pt.column_names else pt
    labels = _labels(pt)
    up = pt.filter(pc.equal(pt.column("tier"), "upper"))
    up = up.join(_first_index(pt, up), ["platform", "author_id"])
    new = pc.less(pc.subtract(up.column("t"), up.column("first_t")), k)
    up = up.append_column("new", pc.cast(new, pa.int64()))
    agg = up.group_by(["platform", "t"]).aggregate([("author_id", "count"), ("new", "sum")])
    agg = sort_table(agg.rename_columns(["platform", "t", "upper", "newcomers"]), ["platform", "t"])
    rows = agg.to_pylist()
    return pa.table({
        "platform": pa.array([r["platform"] for r in rows], pa.string()),
        "period": pa.array([labels[(r["platform"], r["t"])] for r in rows], pa.string()),
        "t": pa.array([r["t"] for r in rows], pa.int64()),
        "upper": pa.array([r["upper"] for r in rows], pa.int64()),
        "newcomers": pa.array([r["newcomers"] for r in rows], pa.int64()),
        "share": pa.array([r["newcomers"] / r["upper"] for r in rows], pa.float64()),
        "left_censored": pa.array([r["t"] < k for r in rows], pa.bool_()),
    })


def rise(pt: pa.Table) -> pa.Table:
    """``platform, author_id, first_period, first_upper_period, periods_to_upper, days_to_upper`` per account
    ever in the upper tier (sorted by platform, author_id)."""
    pt = index_periods(pt) if "t" not in pt.column_names else pt
    labels = _labels(pt)
    up = pt.filter(pc.equal(pt.column("tier"), "upper"))
    first_up = up.group_by(["platform", "author_id"]).aggregate([("t", "min")]).rename_columns(
        ["platform", "author_id", "t"])
    at = first_up.join(up.select(["platform", "author_id", "t", "first_at"]), ["platform", "author_id", "t"])
    at = at.join(_first_index(pt, up), ["platform", "author_id"])
    at = sort_table(at, ["platform", "author_id"])
    rows = at.to_pylist()
    days = [None if r["first_at"] is None or r["first_post_at"] is None
            else (r["first_at"] - r["first_post_at"]).total_seconds() / 86400.0 for r in rows]
    return pa.table({
        "platform": pa.array([r["platform"] for r in rows], pa.string()),
        "author_id": pa.array([r["author_id"] for r in rows], pa.string()),
        "first_period": pa.array([labels[(r["platform"], r["first_t"])] for r in rows], pa.string()),
        "first_upper_period": pa.array([labels[(r["platform"], r["t"])] for r in rows], pa.string()),
        "periods_to_upper": pa.array([r["t"] - r["first_t"] for r in rows], pa.int64()),
        "days_to_upper": pa.array(days, pa.float64()),
    })


def matrix(trans: pa.Table) -> list[dict[str, Any]]:
    """The transition matrix summed over all consecutive pairs (and platforms): counts and row shares."""
    counts = {(a, b): 0 for a in STATES for b in STATES if not (a == b == "inactive")}
    for r in trans.to_pylist():
        counts[(r["from_tier"], r["to_tier"])] += r["accounts"]
    rows = []
    for (a, b), n in counts.items():
        total = sum(v for (x, _), v in counts.items() if x == a)
        rows.append({"from": a, "to": b, "accounts": n, "row_share": n / total if total else None})
    return rows


def summarise(pt: pa.Table, trans: pa.Table, origin: pa.Table, climb: pa.Table, k: int, period: str
              ) -> dict[str, Any]:
    """Headline numbers of the mobility section."""
    mat = matrix(trans)
    share = {(r["from"], r["to"]): r["row_share"] for r in mat}
    uncensored = [r for r in origin.to_pylist() if not r["left_censored"]]
    n_up = sum(r["upper"] for r in uncensored)
    n_new = sum(r["newcomers"] for r in uncensored)
    periods = climb.column("periods_to_upper").to_numpy(zero_copy_only=False) if climb.num_rows else np.empty(0)
    days = climb.column("days_to_upper").to_numpy(zero_copy_only=False) if climb.num_rows else np.empty(0)
    return clean({
        "period": period, "k_periods": k,
        "periods": pt.group_by(["platform", "period_s"]).aggregate([]).num_rows,
        "account_periods": pt.num_rows,
        "matrix": mat,
        "upper_stays_upper": share.get(("upper", "upper")),
        "lower_to_upper": share.get(("lower", "upper")),
        "upper_newcomer_share": n_new / n_up if n_up else None,
        "upper_newcomer_share_note": f"share of upper-tier account-periods first seen within the last {k} "
                                     f"periods, left-censored first {k} periods excluded",
        "accounts_reaching_upper": climb.num_rows,
        "upper_from_first_period": float(np.mean(periods == 0)) if periods.size else None,
        "periods_to_upper": {"median": quantile(periods, 0.5), "p90": quantile(periods, 0.9)},
        "periods_to_upper_histogram": [{"periods": int(v), "accounts": int(c)}
                                       for v, c in zip(*np.unique(periods.astype(np.int64), return_counts=True),
                                                       strict=True)],
        "days_to_upper": {"median": quantile(days, 0.5), "p90": quantile(days, 0.9)},
    })


def compute(pt: pa.Table, k: int = 3) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(transitions, upper origin, rise) from executed tiers per period (``structure.PERIOD_TIER_COLUMNS``)."""
    pt = index_periods(pt)
    return transitions(pt), upper_origin(pt, k), rise(pt)


def run(ctx: AuditContext) -> Any:
    """Section ``mobility``: tables ``period_tiers``, ``mobility_transitions``, ``mobility_upper_origin``,
    ``mobility_rise``."""
    from .context import SectionResult

    k = int(getattr(ctx.params, "k_periods", 3))
    pt = period_tiers(ctx)
    trans, origin, climb = compute(pt, k)
    tables = {"period_tiers": pt.drop_columns(["first_at"]), "mobility_transitions": trans,
              "mobility_upper_origin": origin, "mobility_rise": climb}
    return SectionResult(tables=tables, summary=summarise(pt, trans, origin, climb, k, ctx.params.period))
