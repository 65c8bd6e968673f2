"""Charts for the report: Altair (Vega-Lite) specs rendered to static SVG at build time by vl-convert.

No JavaScript reaches the report. Every SVG passes ``safety.sanitize_svg``; every data label is shortened and
scrubbed before it enters a spec. Builders take small, already-aggregated tables (lists of dicts) so a chart
never embeds a dataset's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import vl_convert as vlc
from markupsafe import Markup

from .messages import D3_LOCALES, Messages
from .safety import sanitize_svg, shorten

TIERS = ("upper", "middle", "lower", "newcomer")
TIER_COLOURS = {"upper": "#6a3d9a", "middle": "#b298dc", "lower": "#8fbc8f", "newcomer": "#e07b39"}
WIDTH = 520
#: On narrow screens a chart scrolls sideways rather than shrink below this share of its size (text stays legible).
MIN_SCALE = 0.72
_CONFIG = {
    "font": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    "view": {"stroke": None},
    "axis": {"labelFontSize": 12, "titleFontSize": 12, "labelLimit": 180},
    "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "bottom"},
    "title": {"fontSize": 14, "anchor": "start"},
    # browsers may draw labels wider than vl-convert measured them: leave room so nothing is clipped
    "padding": {"left": 24, "right": 36, "top": 8, "bottom": 8},
}


def to_svg(chart: alt.TopLevelMixin, msg: Messages) -> Markup:
    """Render ``chart`` to sanitised SVG markup; no data URL is allowed to load."""
    spec = chart.to_dict()
    svg = vlc.vegalite_to_svg(spec, config=_CONFIG, allowed_base_urls=[], format_locale=D3_LOCALES[msg.lang])
    return sanitize_svg(svg, min_scale=MIN_SCALE)


def _tier_label(msg: Messages, tier: str) -> str:
    return msg.label(f"tier.{tier}", tier)


def _tier_scale(msg: Messages, tiers: Sequence[str]) -> alt.Scale:
    return alt.Scale(domain=[_tier_label(msg, t) for t in tiers], range=[TIER_COLOURS.get(t, "#999") for t in tiers])


def responsiveness_heatmap(matrix: Sequence[dict[str, Any]], msg: Messages) -> Markup:
    """Heatmap of R[X→Y]: rows = tier of the replier X, columns = tier Y of the author who may answer.

    Each cell prints the rate and its 95 % CI; colour = rate on a fixed 0–1 scale.
    """
    rows = []
    for cell in matrix:
        rate = cell.get("rate")
        rows.append({
            "from": _tier_label(msg, str(cell.get("from"))),
            "to": _tier_label(msg, str(cell.get("to"))),
            "rate": rate,
            "text": msg.pct(rate) if rate is not None else "–",
            "ci": f"{msg.pct(cell.get('ci_low'))}–{msg.pct(cell.get('ci_high'))}"
            if cell.get("ci_low") is not None and cell.get("ci_high") is not None else "",
            "dark": rate is not None and rate > 0.45,
        })
    df = pd.DataFrame(rows)
    order_from = [_tier_label(msg, t) for t in TIERS if any(c.get("from") == t for c in matrix)]
    order_to = [_tier_label(msg, t) for t in TIERS[:3] if any(c.get("to") == t for c in matrix)]
    x = alt.X("to:N", sort=order_to, title=msg("chart.heatmap.x"), axis=alt.Axis(orient="top", labelAngle=0))
    y = alt.Y("from:N", sort=order_from, title=msg("chart.heatmap.y"))
    base = alt.Chart(df).encode(x=x, y=y)
    rect = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.Color("rate:Q", scale=alt.Scale(scheme="purples", domain=[0, 1]),
                        legend=alt.Legend(title=msg("chart.heatmap.legend"), format="%", orient="right")))
    colour = alt.condition("datum.dark", alt.value("white"), alt.value("#222"))
    text = base.mark_text(fontSize=15, fontWeight="bold", dy=-7).encode(text="text:N", color=colour)
    ci = base.mark_text(fontSize=11, dy=10).encode(text="ci:N", color=colour)
    chart = (rect + text + ci).properties(width=WIDTH - 120, height=62 * max(len(order_from), 1))
    return to_svg(chart, msg)


def gap_chart(gaps: Sequence[dict[str, Any]], msg: Messages) -> Markup:
    """Responsiveness gaps in percentage points with their 95 % CI (a point and an interval per gap)."""
    rows = [{
        "name": msg.label(f"gap.{g.get('name')}", str(g.get("name"))),
        "gap": _times100(g.get("gap")), "lo": _times100(g.get("ci_low")), "hi": _times100(g.get("ci_high")),
    } for g in gaps]
    df = pd.DataFrame(rows)
    y = alt.Y("name:N", title=None, sort=None, axis=alt.Axis(labelLimit=260))
    rule = alt.Chart(df).mark_rule(strokeWidth=3, color="#6a3d9a").encode(
        y=y, x=alt.X("lo:Q", title=msg("chart.gap.x")), x2="hi:Q")
    point = alt.Chart(df).mark_point(filled=True, size=120, color="#6a3d9a").encode(y=y, x="gap:Q")
    zero = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="#888", strokeDash=[4, 3]).encode(x="x:Q")
    chart = (zero + rule + point).properties(width=WIDTH - 200, height=42 * max(len(rows), 1))
    return to_svg(chart, msg)


def status_histogram(status: np.ndarray, tiers: np.ndarray, msg: Messages, bins: int = 30) -> Markup:
    """Accounts per status bin, stacked by tier; x = log10(1 + status) so heavy tails stay readable."""
    logs = np.log10(1.0 + np.clip(status.astype(float), 0, None))
    edges = np.histogram_bin_edges(logs, bins=bins) if logs.size else np.array([0.0, 1.0])
    rows = []
    for tier in TIERS[:3]:
        counts, _ = np.histogram(logs[tiers == tier], bins=edges)
        for i, n in enumerate(counts):
            if n:
                rows.append({"lo": float(edges[i]), "hi": float(edges[i + 1]), "n": int(n),
                             "tier": _tier_label(msg, tier)})
    df = pd.DataFrame(rows or [{"lo": 0.0, "hi": 1.0, "n": 0, "tier": _tier_label(msg, "lower")}])
    chart = alt.Chart(df).mark_bar().encode(
        x=alt.X("lo:Q", bin="binned", title=msg("chart.status.x"), axis=alt.Axis(format=".1f")),
        x2="hi:Q",
        y=alt.Y("sum(n):Q", title=msg("chart.status.y"), scale=alt.Scale(type="symlog")),
        color=alt.Color("tier:N", scale=_tier_scale(msg, TIERS[:3]), title=msg("chart.tier")),
        order=alt.Order("tier:N"),
    ).properties(width=WIDTH, height=220)
    return to_svg(chart, msg)


def lorenz_curve(points: Sequence[tuple[float, float]], msg: Messages, gini: float | None = None) -> Markup:
    """Lorenz curve: x = cumulative share of accounts (fewest replies first), y = cumulative share of replies."""
    df = pd.DataFrame(points, columns=["x", "y"]).sort_values(["x", "y"], kind="stable")
    line = alt.Chart(df).mark_line(color="#6a3d9a", strokeWidth=2.5, interpolate="linear").encode(
        x=alt.X("x:Q", title=msg("chart.lorenz.x"), axis=alt.Axis(format="%")),
        y=alt.Y("y:Q", title=msg("chart.lorenz.y"), axis=alt.Axis(format="%")))
    area = alt.Chart(df).mark_area(color="#6a3d9a", opacity=0.12).encode(x="x:Q", y="y:Q")
    diag = alt.Chart(pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]})).mark_line(
        color="#888", strokeDash=[4, 3]).encode(x="x:Q", y="y:Q")
    title = msg("chart.lorenz.title", gini=msg.num(gini, 2)) if gini is not None else ""
    chart = (area + diag + line).properties(width=300, height=300, title=title)
    return to_svg(chart, msg)


def rich_club_curve(rows: Sequence[dict[str, Any]], msg: Messages, by: str = "degree") -> Markup:
    """ρ = φ / φ_null against the club threshold, with the band of the null samples; 1 = no rich club.

    ``by="degree"``: x = k (clubs of accounts with degree > k); ``by="status"``: x = the top share of accounts by
    status (log axis).
    """
    df = pd.DataFrame([{"x": r["threshold"], "rho": r["rho"], "lo": r.get("rho_low"), "hi": r.get("rho_high")}
                       for r in rows])
    if by == "status":
        x = alt.X("x:Q", title=msg("chart.rich.status_x"), scale=alt.Scale(type="log"), axis=alt.Axis(format="%"))
    else:
        x = alt.X("x:Q", title=msg("chart.rich.x"))
    layers = []
    if df["lo"].notna().any():
        layers.append(alt.Chart(df).mark_area(color="#b298dc", opacity=0.35).encode(x=x, y="lo:Q", y2="hi:Q"))
    layers.append(alt.Chart(pd.DataFrame({"y": [1.0]})).mark_rule(color="#888", strokeDash=[4, 3]).encode(y="y:Q"))
    layers.append(alt.Chart(df).mark_line(point=True, color="#6a3d9a").encode(
        x=x, y=alt.Y("rho:Q", title=msg("chart.rich.y"))))
    title = msg(f"chart.rich.title_{by}")
    return to_svg(alt.layer(*layers).properties(width=WIDTH, height=220, title=title), msg)


def transition_heatmap(rows: Sequence[dict[str, Any]], msg: Messages) -> Markup:
    """Tier transition matrix between consecutive periods: P(tier next period | tier this period)."""
    df = pd.DataFrame([{
        "from": _tier_label(msg, str(r["from"])), "to": _tier_label(msg, str(r["to"])),
        "share": r["share"], "text": msg.pct(r["share"], 1 if (r["share"] or 0) < 0.1 else 0)
        if r["share"] is not None else "–",
        "dark": (r["share"] or 0) > 0.45,
    } for r in rows])
    present = {r["from"] for r in rows} | {r["to"] for r in rows}
    order = [_tier_label(msg, t) for t in (*TIERS[:3], "inactive") if t in present]
    order += sorted({_tier_label(msg, str(t)) for t in present} - set(order))
    base = alt.Chart(df).encode(
        x=alt.X("to:N", sort=order, title=msg("chart.mobility.x"), axis=alt.Axis(orient="top", labelAngle=0)),
        y=alt.Y("from:N", sort=order, title=msg("chart.mobility.y")))
    rect = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.Color("share:Q", scale=alt.Scale(scheme="greens", domain=[0, 1]), legend=None))
    text = base.mark_text(fontSize=14).encode(
        text="text:N", color=alt.condition("datum.dark", alt.value("white"), alt.value("#222")))
    return to_svg((rect + text).properties(width=WIDTH - 160, height=46 * len(order)), msg)


def trend_chart(rows: Sequence[dict[str, Any]], msg: Messages, value: str, low: str | None, high: str | None,
                title: str, percent: bool = True) -> Markup:
    """A per-period line of ``value`` with an optional CI band (``low``–``high``)."""
    df = pd.DataFrame(rows)
    df["period"] = [shorten(p, 20) for p in df["period"]]
    fmt = "%" if percent else ",.2f"
    x = alt.X("period:O", title=msg("chart.trend.x"), sort=None, axis=alt.Axis(labelAngle=-40))
    layers = []
    if low and high and {low, high} <= set(df.columns):
        layers.append(alt.Chart(df).mark_area(color="#b298dc", opacity=0.35).encode(x=x, y=f"{low}:Q", y2=f"{high}:Q"))
    layers.append(alt.Chart(df).mark_line(point=True, color="#6a3d9a").encode(
        x=x, y=alt.Y(f"{value}:Q", title=title, axis=alt.Axis(format=fmt))))
    return to_svg(alt.layer(*layers).properties(width=WIDTH, height=220), msg)


def planted_chart(rows: Sequence[dict[str, Any]], msg: Messages) -> Markup:
    """Truth (orange diamond) next to the measured value (dot) with its 95 % CI, one row per effect.

    Rates and gaps share one axis in percentage points (a rate of 0.31 is drawn at 31).
    """
    df = pd.DataFrame([{
        "effect": shorten(r["label"], 50), "truth": _times100(r["truth"]), "measured": _times100(r["measured"]),
        "lo": _times100(r.get("ci_low")), "hi": _times100(r.get("ci_high")),
    } for r in rows if r.get("measured") is not None])
    if df.empty:
        return Markup("")
    y = alt.Y("effect:N", title=None, sort=None, axis=alt.Axis(labelLimit=260))
    layers = [
        alt.Chart(df).mark_rule(strokeWidth=3, color="#b298dc").encode(y=y, x="lo:Q", x2="hi:Q"),
        alt.Chart(df).mark_point(filled=True, size=110, color="#6a3d9a").encode(
            y=y, x=alt.X("measured:Q", title=msg("chart.planted.x"))),
        alt.Chart(df).mark_point(shape="diamond", size=170, strokeWidth=2, color="#e07b39").encode(y=y, x="truth:Q"),
    ]
    return to_svg(alt.layer(*layers).properties(width=WIDTH - 200, height=40 * len(df)), msg)


def _times100(value: Any) -> float | None:
    return None if value is None else float(value) * 100.0
