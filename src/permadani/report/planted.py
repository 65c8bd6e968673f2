"""Planted versus measured: for a synthetic dataset, put each planted effect next to what the audit measured.

``summary["planted"]`` holds the generator's parameters (``permadani.synthetic``): the nominal answer
probabilities ``reply_back["from:to"]`` and the **truth**, ``truth["matrix"]["from->to"]`` = mean planted
probability over the replies the audit puts in that cell, and ``truth["gaps"][name]``. The truth is what an
unbiased audit estimates, so an effect counts as *recovered* when its truth lies inside the measured 95 % CI.
With many cells, about one in twenty 95 % intervals misses by chance. The trend's truth is the least-squares
slope of the monthly true gaps (``truth["by_month"]``); the audit fits its slope over calendar months.
"""

from __future__ import annotations

from typing import Any

from .messages import Messages

FROM = ("upper", "middle", "lower", "newcomer")
TO = ("upper", "middle", "lower")
GAPS = ("upper_vs_lower", "upper_vs_newcomer")


def compare(summary: dict[str, Any], msg: Messages | None = None) -> list[dict[str, Any]]:
    """Rows ``{key, kind, label, nominal, truth, measured, ci_low, ci_high, within, headline, *_text}``.

    ``kind`` is ``gap`` (a difference of rates, shown in points) or ``rate``; ``headline`` marks the rows a
    chart shows (the gaps and the cells answered by the upper tier). Empty when the data is not synthetic.
    """
    msg = msg or Messages("en")
    planted = summary.get("planted") or {}
    truth = planted.get("truth") or {}
    if not truth:
        return []
    resp = (summary.get("sections") or {}).get("responsiveness") or {}
    nominal = planted.get("reply_back") or {}
    rows: list[dict[str, Any]] = []
    gaps = {g.get("name"): g for g in resp.get("gaps") or []}
    for name in GAPS:
        if (truth.get("gaps") or {}).get(name) is None:
            continue
        found = gaps.get(name) or {}
        rows.append(_row(f"gap.{name}", "gap", msg.label(f"planted.gap_{name}", name), None,
                         truth["gaps"][name], found.get("gap"), found.get("ci_low"), found.get("ci_high"), True))
    trend = _trend_row(summary, truth, msg)
    if trend is not None:
        rows.append(trend)
    cells = {(c.get("from"), c.get("to")): c for c in resp.get("matrix") or []}
    for dst in TO:
        for src in FROM:
            value = (truth.get("matrix") or {}).get(f"{src}->{dst}")
            if value is None:
                continue
            found = cells.get((src, dst)) or {}
            label = msg("planted.cell", src=msg.label(f"tier.{src}", src), dst=msg.label(f"tier.{dst}", dst))
            rows.append(_row(f"cell.{src}.{dst}", "rate", label, nominal.get(f"{src}:{dst}"), value,
                             found.get("rate"), found.get("ci_low"), found.get("ci_high"), dst == "upper"))
    return [_with_text(r, msg) for r in rows]


def truth_slope(by_month: list[dict[str, Any]]) -> float | None:
    """Least-squares slope (per month) of the true upper-vs-lower gap over the months where it is defined."""
    points = [(float(r["month"]), float(r["gap_upper_vs_lower"])) for r in by_month
              if r.get("gap_upper_vs_lower") is not None and r.get("month") is not None]
    if len(points) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else None


def _trend_row(summary: dict[str, Any], truth: dict[str, Any], msg: Messages) -> dict[str, Any] | None:
    """The planted change of the gap per month (``gap_trend`` plus composition effects, from the monthly truth)
    against the trend section's slope per period, when periods are months."""
    slope = truth_slope(truth.get("by_month") or [])
    trend = (summary.get("sections") or {}).get("trend") or {}
    measured = trend.get("gap_slope_per_period") or {}
    if slope is None or not measured or (trend.get("period") or "month") != "month":
        return None
    nominal = -(summary.get("planted") or {}).get("gap_trend", 0.0)  # the generator moves P[lower→upper]
    return _row("trend.gap_slope", "gap", msg("planted.trend"), nominal, slope, measured.get("slope"),
                measured.get("ci_low"), measured.get("ci_high"), True)


def _row(key: str, kind: str, label: str, nominal: Any, truth: float, measured: Any, low: Any, high: Any,
         headline: bool) -> dict[str, Any]:
    within = None if low is None or high is None else bool(low - 1e-12 <= truth <= high + 1e-12)
    return {"key": key, "kind": kind, "label": label, "nominal": nominal, "truth": float(truth),
            "measured": measured, "ci_low": low, "ci_high": high, "within": within, "headline": headline}


def recovered(rows: list[dict[str, Any]]) -> tuple[int, int]:
    """(rows whose truth lies in the measured CI, rows with a CI)."""
    judged = [r for r in rows if r["within"] is not None]
    return sum(r["within"] for r in judged), len(judged)


def _with_text(row: dict[str, Any], msg: Messages) -> dict[str, Any]:
    def fmt(value: Any) -> str:
        return msg.points(value, 1) if row["kind"] == "gap" else msg.pct(value, 1)

    row["nominal_text"] = fmt(row["nominal"]) if row["nominal"] is not None else "–"
    row["truth_text"] = fmt(row["truth"])
    row["measured_text"] = fmt(row["measured"]) if row["measured"] is not None else "–"
    if row["ci_low"] is None:
        row["ci_text"] = "–"
    elif row["ci_low"] < 0:
        row["ci_text"] = msg("common.range", low=fmt(row["ci_low"]), high=fmt(row["ci_high"]))
    else:
        row["ci_text"] = f"{fmt(row['ci_low'])}–{fmt(row['ci_high'])}"
    return row
