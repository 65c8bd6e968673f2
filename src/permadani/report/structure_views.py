"""View models of the structure sections: inequality, rich club, mobility, trend, conversation.

Each builder reads the section's summary (and its tables when present) and returns ``{"charts", "figures",
"tables"}`` or ``None`` when the audit did not run that section. Figures are ``(label, value)`` pairs; tables are
``{"caption", "headers", "numeric", "rows"}`` with every cell already formatted and shortened.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import charts
from .messages import Messages
from .results import Results
from .safety import shorten

TABLE_ROWS = 15
#: Summary keys that are settings or definitions, not findings (they appear in the method notes).
_NOT_FIGURES = frozenset({"period", "k_periods", "n_boot", "method", "gap", "population", "graph", "null"})


def _only(table: pa.Table, column: str, value: Any) -> pa.Table:
    return table.filter(pc.fill_null(pc.equal(table.column(column), value), False))


def main_platform(summary: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The platform with the largest author graph in a rich-club summary (ties by name), and its block."""
    platforms = summary.get("platforms") or {}
    if not platforms:
        return None, {}
    name = sorted(platforms, key=lambda p: (-(platforms[p] or {}).get("nodes", 0), p))[0]
    return name, platforms[name] or {}


def key_figures(section: str, summary: dict[str, Any], msg: Messages) -> list[tuple[str, str]]:
    """Scalar entries of a section summary as (label, value); one level of nested scalars is flattened
    (``thread_depth.median``). Long strings are definitions (shown in the method notes), lists are tables."""
    out = []
    for key, value in summary.items():
        if key in _NOT_FIGURES:
            continue
        if isinstance(value, dict):
            for sub, inner in value.items():
                if _is_figure(inner):
                    label = msg.label(f"key.{section}.{key}.{sub}",
                                      f"{msg.label(f'key.{section}.{key}', key.replace('_', ' '))} · {sub}")
                    out.append((label, _format(f"{key}.{sub}", inner, msg)))
        elif _is_figure(value):
            out.append((msg.label(f"key.{section}.{key}", key.replace("_", " ")), _format(key, value, msg)))
    return out


def _is_figure(value: Any) -> bool:
    return isinstance(value, int | float) or (isinstance(value, str) and len(value) <= 30)


#: Summary keys (besides ``*share*``, ``*rate*``) whose values are shares, shown as percentages.
_SHARES = frozenset({"reciprocity", "upper_stays_upper", "lower_to_upper", "upper_from_first_period", "gini"})


def _format(key: str, value: Any, msg: Messages) -> str:
    if key == "gini" and isinstance(value, float):
        return msg.num(value, 3)
    share = isinstance(value, float) and ("share" in key or "rate" in key or key in _SHARES)
    return msg.pct(value, 1) if share and 0 <= value <= 1 else shorten(msg.value(value), 80)


def notes(results: Results) -> list[tuple[str, str, str]]:
    """Definitions the analyses wrote into their summaries: (section, key, text) for strings over 30 characters."""
    out = []
    for section, summary in results.sections.items():
        if isinstance(summary, dict):
            for key, value in summary.items():
                if isinstance(value, str) and len(value) > 30:
                    out.append((section, key, shorten(value, 400)))
    return out


def _table(msg: Messages, caption: str, columns: list[tuple[str, str]], rows: list[dict[str, Any]],
           text_columns: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """A formatted table: ``columns`` = (source key, catalogue key of the header)."""
    if not rows:
        return None
    body = []
    for row in rows[:TABLE_ROWS]:
        cells = []
        for key, _ in columns:
            value = row.get(key)
            cells.append(shorten(value, 50) if key in text_columns else _format(key, value, msg))
        body.append(cells)
    return {"caption": caption, "headers": [msg(h) for _, h in columns],
            "numeric": [k not in text_columns for k, _ in columns], "rows": body}


def lorenz_points(results: Results, limit: int = 200) -> list[tuple[float, float]] | None:
    """Lorenz points of the whole dataset from the ``lorenz`` table (scope ``overall``), else computed from
    ``account_stats.replies_received``: L(i/n) = (sum of the i smallest counts) / (sum of all counts)."""
    table = results.table("lorenz")
    if table is not None and "scope" in table.column_names:
        table = _only(table, "scope", "overall")
    if table is not None and table.num_rows and {"x", "y"} <= set(table.column_names):
        pts = sorted((float(x), float(y)) for x, y in zip(table.column("x").to_pylist(), table.column("y").to_pylist(),
                                                          strict=True) if x is not None and y is not None)
        step = max(len(pts) // limit, 1)
        return pts[::step] + ([pts[-1]] if pts and (len(pts) - 1) % step else [])
    stats = results.table("account_stats")
    if stats is None or "replies_received" not in stats.column_names or not stats.num_rows:
        return None
    counts = np.sort(stats.column("replies_received").fill_null(0).to_numpy(zero_copy_only=False).astype(float))
    total = counts.sum()
    if total <= 0:
        return None
    cum = np.concatenate([[0.0], np.cumsum(counts) / total])
    idx = np.unique(np.linspace(0, len(counts), num=min(limit, len(counts) + 1)).round().astype(int))
    return [(float(i / len(counts)), float(cum[i])) for i in idx]


def inequality(results: Results, msg: Messages) -> dict[str, Any] | None:
    summary = results.sections.get("inequality")
    points = lorenz_points(results)
    if not summary and points is None:
        return None
    summary = summary or {}
    tables = []
    if (summary.get("communities") or 0) > 1:
        tables.append(_table(msg, msg("table.unequal_communities"), [
            ("community", "col.community"), ("accounts", "col.accounts"), ("replies", "col.replies"),
            ("gini", "col.gini"), ("top1_share", "col.top1_share")],
            summary.get("most_unequal_communities") or [], ("community",)))
    return {"charts": [charts.lorenz_curve(points, msg, summary.get("gini"))] if points else [],
            "figures": key_figures("inequality", summary, msg), "tables": [t for t in tables if t]}


def rich_club(results: Results, msg: Messages) -> dict[str, Any] | None:
    summary = results.sections.get("rich_club")
    table = results.table("rich_club")
    if not summary and table is None:
        return None
    platform, _ = main_platform(summary or {})
    out: list = []
    if table is not None and table.num_rows and {"by", "threshold", "rho"} <= set(table.column_names):
        if platform is not None and "platform" in table.column_names:
            table = _only(table, "platform", platform)
        for by in ("degree", "status"):
            rows = _only(table, "by", by).sort_by([("threshold", "ascending")]).to_pylist()
            rows = [r for r in rows if (r.get("edges") or 0) > 0 and (r.get("nodes") or 0) >= 5]
            if len(rows) >= 2:
                out.append(charts.rich_club_curve(rows, msg, by))
    return {"charts": out, "figures": rich_club_figures(summary or {}, msg), "tables": []}


def rich_club_figures(summary: dict[str, Any], msg: Messages) -> list[tuple[str, str]]:
    """Graph size and ρ with its band for the upper tier, the peak degree club and the top degree club."""
    _, block = main_platform(summary)
    figures = [(msg("key.rich_club.nodes"), msg.count(block.get("nodes"))),
               (msg("key.rich_club.edges"), msg.count(block.get("edges"))),
               (msg("key.rich_club.max_degree"), msg.count(block.get("max_degree"))),
               (msg("key.rich_club.null_samples"), msg.count(block.get("null_samples")))] if block else []
    for key in ("rho_upper_status", "rho_peak_degree", "rho_top_degree"):
        club = block.get(key) or {}
        if club.get("rho") is not None:
            threshold = club.get("threshold")
            shown = msg.pct(threshold, 1) if key == "rho_upper_status" else msg.count(threshold)
            figures.append((msg(f"key.rich_club.{key}", threshold=shown, nodes=msg.count(club.get("nodes"))),
                            f"{msg.num(club['rho'], 2)} ({msg.num(club.get('rho_low'), 2)}–"
                            f"{msg.num(club.get('rho_high'), 2)})"))
    return figures


def mobility(results: Results, msg: Messages) -> dict[str, Any] | None:
    summary = results.sections.get("mobility")
    table = results.table("mobility_transitions")
    if not summary and table is None:
        return None
    summary = summary or {}
    rows = [{"from": r.get("from"), "to": r.get("to"), "share": r.get("row_share", r.get("share"))}
            for r in summary.get("matrix") or []]
    if not rows and table is not None and table.num_rows:
        names = table.column_names
        share = "row_share" if "row_share" in names else "share"
        rows = [{"from": r.get("from_tier"), "to": r.get("to_tier"), "share": r.get(share)} for r in table.to_pylist()]
    return {"charts": [charts.transition_heatmap(rows, msg)] if rows else [],
            "figures": key_figures("mobility", summary, msg), "tables": []}


def trend(results: Results, msg: Messages) -> dict[str, Any] | None:
    summary = results.sections.get("trend")
    table = results.table("trend")
    if not summary and table is None:
        return None
    out = []
    if table is not None and table.num_rows and "period" in table.column_names:
        rows = table.sort_by([("period", "ascending")]).to_pylist()
        names = set(table.column_names)
        if "gap" in names and any(r["gap"] is not None for r in rows):
            out.append(charts.trend_chart([r for r in rows if r["gap"] is not None], msg, "gap", "gap_ci_low",
                                          "gap_ci_high", msg("chart.trend.gap")))
        cross = "crossing_share" if "crossing_share" in names else "cross_tier_share"
        if cross in names and any(r[cross] is not None for r in rows):
            out.append(charts.trend_chart([r for r in rows if r[cross] is not None], msg, cross, "crossing_ci_low",
                                          "crossing_ci_high", msg("chart.trend.cross")))
    return {"charts": out, "figures": trend_figures(summary or {}, msg), "tables": []}


def trend_figures(summary: dict[str, Any], msg: Messages) -> list[tuple[str, str]]:
    """Slopes per period with their CIs (points), the first and last gap, the number of periods."""
    figures = []
    for key in ("gap_slope_per_period", "crossing_share_slope_per_period"):
        slope = summary.get(key) or {}
        if slope.get("slope") is not None:
            figures.append((msg(f"key.trend.{key}"), f"{msg.points(slope['slope'], 1)} "
                                                     f"({msg.span(slope.get('ci_low'), slope.get('ci_high'), 1)})"))
    for key in ("first_gap", "last_gap"):
        if summary.get(key) is not None:
            figures.append((msg(f"key.trend.{key}"), msg.points(summary[key], 1)))
    if summary.get("periods") is not None:
        figures.append((msg("key.trend.periods"), msg.count(summary["periods"])))
    return figures


def figures(section: str, summary: dict[str, Any], msg: Messages) -> list[tuple[str, str]]:
    """The key figures of any structure section (used by the page and the terminal view)."""
    if section == "rich_club":
        return rich_club_figures(summary, msg)
    if section == "trend":
        return trend_figures(summary, msg)
    return key_figures(section, summary, msg)


def conversation(results: Results, msg: Messages) -> dict[str, Any] | None:
    summary = results.sections.get("conversation")
    if not summary:
        return None
    tables = []
    comm = results.table("conversation_communities")
    if comm is not None and comm.num_rows > 1 and "community" in comm.column_names:
        order = [("posts", "descending"), ("community", "ascending")] if "posts" in comm.column_names else \
            [("community", "ascending")]
        tables.append(_table(msg, msg("table.communities"), [
            ("community", "col.community"), ("posts", "col.posts"), ("accounts", "col.accounts"),
            ("reply_share", "col.reply_share"), ("replied_share", "col.replied_share"),
            ("bf_share", "col.bf_share"), ("reciprocity", "col.reciprocity")],
            comm.sort_by(order).slice(0, TABLE_ROWS).to_pylist(), ("community",)))
    people = [("name", "col.account"), ("posts", "col.posts"), ("reply_share", "col.reply_share"),
              ("replies_received", "col.replies_received"), ("bf_threads", "col.bf_threads")]
    for key in ("top_conversationalists", "top_broadcasters"):
        rows = [{**r, "name": r.get("display_name") or r.get("author_id")} for r in summary.get(key) or []]
        tables.append(_table(msg, msg(f"table.{key}"), people, rows[:8], ("name",)))
    return {"charts": [], "figures": key_figures("conversation", summary, msg), "tables": [t for t in tables if t]}
