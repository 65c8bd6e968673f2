"""Separation trend: do the tiers drift apart over time?

Tiers are the audit's tiers (status over the whole window, core's ``reply_outcomes``), so the per-period gaps are
the responsiveness section's gap split by period; ``trend_counts(..., tiers=...)`` can use tiers per period instead
(``structure.period_tiers``: both accounts take their tier of the reply's period; replies whose writer or target
has no post in that period drop out and are counted). A reply belongs to the period of its ``created_at``. Per
period P:

- crossing share c_P = #{replies with tier(writer) ≠ tier(target)} / #replies;
- R_P[X→upper] = answered / replies over replies written by tier-X accounts to upper-tier accounts ("answered"
  as in the responsiveness section: the target replies directly within the window W; core's ``reply_outcomes``);
- gap g_P = R_P[upper→upper] − R_P[lower→upper] (defined when both cells have a reply).

Slope: weighted least squares of y_P on x_P, x_P = the period's position in calendar periods since the first one
(so a skipped month counts), weights w_P = n_uu·n_lu / (n_uu + n_lu) for the gap (the inverse of the variance
factor of a difference of two proportions) and w_P = #replies for the crossing share; slope is per period.
95 % CI: cluster bootstrap over replier accounts (as the responsiveness matrix: one person's replies are not
independent; core's ``bootstrap.cluster_bootstrap``): each replicate redraws repliers with replacement, recomputes
every period's rates and refits the slope with the observed weights; the interval is the 2.5–97.5 % percentile of
the replicate slopes. Direction: "growing" when the CI is above 0, "shrinking" when below, else "no clear trend".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pyarrow as pa

from .structure import clean, label_periods, period_key, wls_slope

if TYPE_CHECKING:  # pragma: no cover
    from .context import AuditContext

_SEP = "\x1f"

#: approximate period length in days, to place periods on a calendar axis.
PERIOD_DAYS = {"day": 1.0, "week": 7.0, "month": 30.436875, "quarter": 91.310625, "year": 365.2425}

TREND_SCHEMA = pa.schema([
    ("period", pa.string()), ("x", pa.int64()), ("replies", pa.int64()), ("crossing", pa.int64()),
    ("crossing_share", pa.float64()), ("crossing_ci_low", pa.float64()), ("crossing_ci_high", pa.float64()),
    ("upper_upper_replies", pa.int64()), ("upper_upper_answered", pa.int64()), ("rate_upper_upper", pa.float64()),
    ("lower_upper_replies", pa.int64()), ("lower_upper_answered", pa.int64()), ("rate_lower_upper", pa.float64()),
    ("gap", pa.float64()), ("gap_ci_low", pa.float64()), ("gap_ci_high", pa.float64()),
])


def trend_counts(outcomes: ibis.Table, period: str, tiers: ibis.Table | None = None) -> ibis.Table:
    """Per (platform, period_s, replier, replier_tier, target_tier): ``replies``, ``answered`` (int64).

    ``outcomes``: one row per non-self reply with ``platform, replier, target, created_at, answered`` and the
    audit tiers ``replier_tier, target_tier`` (core's ``reply_outcomes``). With ``tiers`` (``platform, author_id,
    period_s, tier``: tiers per period) both accounts take their tier of the reply's period instead (replies whose
    writer or target has no post in that period drop out).
    """
    from .replies import join_on

    ps = period_key(outcomes.created_at, period)
    keys = ["platform", "period_s", "replier", "replier_tier", "target_tier"]
    if tiers is None:
        j = outcomes.select("platform", "replier", "answered", "replier_tier", "target_tier", period_s=ps)
    else:
        # single composite keys (platform ␟ author ␟ period): with separate equalities the shared (platform,
        # period) keys are transitive and DuckDB joins the two tier tables first (a cross product per period)
        def key(platform: ibis.Value, author: ibis.Value, period_s: ibis.Value) -> ibis.Value:
            return platform.concat(_SEP, author, _SEP, period_s.cast("string"))

        o = outcomes.select("platform", "replier", "answered", period_s=ps,
                            r_key=key(outcomes.platform, outcomes.replier, ps),
                            t_key=key(outcomes.platform, outcomes.target, ps))
        rt = tiers.select(rk=key(tiers.platform, tiers.author_id, tiers.period_s), replier_tier=tiers.tier)
        tt = tiers.select(tk=key(tiers.platform, tiers.author_id, tiers.period_s), target_tier=tiers.tier)
        j = join_on(join_on(o, rt, [("r_key", "rk")]), tt, [("t_key", "tk")])
    return j.group_by(keys).aggregate(replies=j.count().cast("int64"),
                                      answered=j.answered.cast("int64").sum().cast("int64"))


def _slope_ci(x: np.ndarray, y_obs: np.ndarray, y_reps: np.ndarray, w: np.ndarray) -> dict[str, Any]:
    slope = wls_slope(x, y_obs, w)
    reps = np.array([wls_slope(x, y, w) for y in y_reps]) if len(y_reps) else np.empty(0)
    reps = reps[np.isfinite(reps)]
    low, high = (np.percentile(reps, [2.5, 97.5]) if reps.size else (np.nan, np.nan))
    direction = "growing" if low > 0 else "shrinking" if high < 0 else "no clear trend"
    if not np.isfinite(slope):
        direction = "undefined"
    return {"slope": slope, "ci_low": float(low), "ci_high": float(high), "direction": direction,
            "periods": int(np.sum(np.isfinite(y_obs) & (w > 0))), "replicates": int(reps.size)}


def compute(counts: pa.Table, period: str = "month", n_boot: int = 200, seed: int = 0
            ) -> tuple[pa.Table, dict[str, Any]]:
    """Trend table (``TREND_SCHEMA``) and slope summaries from executed ``trend_counts``."""
    from .bootstrap import cluster_bootstrap, cluster_index

    c = counts.sort_by([(k, "ascending") for k in ("platform", "period_s", "replier", "replier_tier",
                                                   "target_tier")])
    ps = c.column("period_s").to_numpy(zero_copy_only=False).astype(np.int64)
    rt = np.asarray(c.column("replier_tier").to_pylist(), dtype=object)
    tt = np.asarray(c.column("target_tier").to_pylist(), dtype=object)
    n = c.column("replies").to_numpy(zero_copy_only=False).astype(np.int64)
    k = c.column("answered").to_numpy(zero_copy_only=False).astype(np.int64)
    periods = np.unique(ps)
    p_idx = np.searchsorted(periods, ps)
    n_p = periods.size
    cl = cluster_index(c.column("platform"), c.column("replier"))
    cross = (rt != tt).astype(np.int64)
    # gap cells: 2·period + (0 upper→upper, 1 lower→upper)
    to_upper = (tt == "upper") & ((rt == "upper") | (rt == "lower"))
    g_cell = 2 * p_idx[to_upper] + (rt[to_upper] == "lower").astype(np.int64)
    g_n = np.bincount(g_cell, weights=n[to_upper], minlength=2 * n_p).astype(np.int64)
    g_k = np.bincount(g_cell, weights=k[to_upper], minlength=2 * n_p).astype(np.int64)
    c_n = np.bincount(p_idx, weights=n, minlength=n_p).astype(np.int64)
    c_k = np.bincount(p_idx, weights=n * cross, minlength=n_p).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = np.where(g_n > 0, g_k / np.maximum(g_n, 1), np.nan)
        share = np.where(c_n > 0, c_k / np.maximum(c_n, 1), np.nan)
    gap = rates[0::2] - rates[1::2]
    reps_g = cluster_bootstrap(cl[to_upper], g_cell, n[to_upper], k[to_upper], 2 * n_p, n_boot, seed)
    reps_c = cluster_bootstrap(cl, p_idx, n, n * cross, n_p, n_boot, seed)
    gap_reps = reps_g.rates[:, 0::2] - reps_g.rates[:, 1::2]
    days = PERIOD_DAYS[period]
    x = np.round((periods - (periods[0] if n_p else 0)) / (86400.0 * days)).astype(np.int64)
    n_uu, n_lu = g_n[0::2].astype(float), g_n[1::2].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        w_gap = np.where((n_uu > 0) & (n_lu > 0), n_uu * n_lu / (n_uu + n_lu), 0.0)
    gap_ci = _percentiles(gap_reps)
    share_ci = _percentiles(reps_c.rates)
    labels = label_periods(pa.table({"period": pa.array(periods * 1_000_000, pa.int64()).cast(
        pa.timestamp("us", tz="UTC"))})).column("period").to_pylist()

    def f(a: np.ndarray) -> pa.Array:
        return pa.array(a.astype(float), pa.float64(), mask=~np.isfinite(a.astype(float)))

    table = pa.table({
        "period": pa.array(labels, pa.string()), "x": pa.array(x, pa.int64()),
        "replies": pa.array(c_n), "crossing": pa.array(c_k), "crossing_share": f(share),
        "crossing_ci_low": f(share_ci[0]), "crossing_ci_high": f(share_ci[1]),
        "upper_upper_replies": pa.array(g_n[0::2]), "upper_upper_answered": pa.array(g_k[0::2]),
        "rate_upper_upper": f(rates[0::2]),
        "lower_upper_replies": pa.array(g_n[1::2]), "lower_upper_answered": pa.array(g_k[1::2]),
        "rate_lower_upper": f(rates[1::2]),
        "gap": f(gap), "gap_ci_low": f(gap_ci[0]), "gap_ci_high": f(gap_ci[1]),
    }, schema=TREND_SCHEMA)
    gap_slope = _slope_ci(x, gap, gap_reps, w_gap)
    cross_slope = _slope_ci(x, share, reps_c.rates, c_n.astype(float))
    return table, {"gap": gap_slope, "crossing_share": cross_slope}


def _percentiles(reps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cols = reps.shape[1] if reps.ndim == 2 else 0
    low, high = np.full(cols, np.nan), np.full(cols, np.nan)
    for j in range(cols):
        v = reps[:, j]
        v = v[np.isfinite(v)]
        if v.size:
            low[j], high[j] = np.percentile(v, [2.5, 97.5])
    return low, high


def summarise(table: pa.Table, slopes: dict[str, Any], excluded: int, period: str, n_boot: int) -> dict[str, Any]:
    """Headline numbers of the trend section."""
    rows = table.to_pylist()
    gaps = [r for r in rows if r["gap"] is not None]
    return clean({
        "period": period, "periods": len(rows), "replies": int(sum(r["replies"] for r in rows)),
        "replies_without_tier": excluded,
        "gap_slope_per_period": slopes["gap"], "crossing_share_slope_per_period": slopes["crossing_share"],
        "first_gap": gaps[0]["gap"] if gaps else None, "last_gap": gaps[-1]["gap"] if gaps else None,
        "method": "WLS slope over calendar periods; 95% CI by cluster bootstrap over replier accounts",
        "n_boot": n_boot, "gap": "R[upper->upper] - R[lower->upper] per period, audit tiers",
    })


def run(ctx: AuditContext) -> Any:
    """Section ``trend``: table ``trend`` (one row per period), slopes with CIs in the summary."""
    from .context import SectionResult
    from .responsiveness import outcomes

    p = ctx.params
    out = outcomes(ctx)
    counts = ctx.execute(trend_counts(out, p.period))
    total = ctx.execute(out.aggregate(n=out.count().cast("int64"))).column("n")[0].as_py() or 0
    table, slopes = compute(counts, p.period, p.n_boot, p.seed)
    excluded = int(total) - int(sum(table.column("replies").to_pylist()))
    return SectionResult(tables={"trend": table}, summary=summarise(table, slopes, excluded, p.period, p.n_boot))
