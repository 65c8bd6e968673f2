"""The human view of an audit in a terminal: headline sentences and Rich tables (the CLI prints it on stderr).

``print_summary(summary, console)`` takes the ``summary.json`` dict; every data string is shortened, scrubbed
and printed as plain text (never as Rich markup), so names like ``[bold]`` or ``<script>`` print literally.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import findings, planted, sections, structure_views
from .messages import Messages
from .results import Results
from .safety import shorten

_TIERS_TO = ("upper", "middle", "lower")
_TIERS_FROM = ("upper", "middle", "lower", "newcomer")


def print_summary(summary: dict[str, Any], console: Console, *, lang: str = "en", top: int = 5) -> None:
    """Print the headline findings, tiers, the responsiveness matrix with CIs, gaps, top accounts, key
    figures of the other sections and, for synthetic data, planted versus measured."""
    msg = Messages(lang)
    res = Results(summary=summary)
    ds = summary.get("dataset") or {}
    params = summary.get("params") or {}
    console.print(Text(f"{msg('report.title')} · {shorten(ds.get('dataset'), 60)} · "
                       f"{msg.count(ds.get('posts'))} {msg('overview.posts').lower()} · "
                       f"{shorten(params.get('engine'), 20)}", style="bold"))
    lines = findings.headlines(res, msg)
    for line in lines or [msg("headline.none")]:
        console.print(Text("• " + line))
    for table in (_tiers(summary, msg), _matrix(summary, msg), _gaps(summary, msg), _cards(summary, msg, top),
                  _figures(summary, msg), _planted(summary, msg)):
        if table is not None:
            console.print(table)


def _add(table: Table, *values: Any) -> None:
    """Add a row of plain text: nothing from the data is ever parsed as Rich markup."""
    table.add_row(*(v if isinstance(v, Text) else Text(str(v)) for v in values))


def _tiers(summary: dict[str, Any], msg: Messages) -> Table | None:
    tiers = (summary.get("sections") or {}).get("tiers") or {}
    if not tiers.get("counts"):
        return None
    table = Table(msg("status.tier"), msg("status.accounts"), msg("status.threshold"),
                  title=msg("section.status.title"), title_justify="left")
    for tier, n in tiers["counts"].items():
        threshold = (tiers.get("thresholds") or {}).get(tier)
        _add(table, msg.label(f"tier.{tier}", shorten(tier, 20)), msg.count(n),
                      msg.num(threshold, 1) if threshold is not None else "–")
    return table


def _matrix(summary: dict[str, Any], msg: Messages) -> Table | None:
    resp = (summary.get("sections") or {}).get("responsiveness") or {}
    matrix = resp.get("matrix") or []
    if not matrix:
        return None
    cells = {(c.get("from"), c.get("to")): c for c in matrix}
    table = Table(f"{msg('resp.from')} ↓ / {msg('resp.to')} →",
                  *(msg.label(f"tier.{t}", t) for t in _TIERS_TO),
                  title=f"{msg('section.responsiveness.title')} (95% CI)", title_justify="left")
    for src in _TIERS_FROM:
        row = [msg.label(f"tier.{src}", src)]
        for dst in _TIERS_TO:
            c = cells.get((src, dst))
            if c is None or c.get("rate") is None:
                row.append("–")
            else:
                ci = f" ({msg.span(c.get('ci_low'), c.get('ci_high'), as_points=False)})" \
                    if c.get("ci_low") is not None else ""
                row.append(f"{msg.pct(c['rate'])}{ci} n={msg.count(c.get('replies'))}")
        _add(table, *row)
    return table


def _gaps(summary: dict[str, Any], msg: Messages) -> Table | None:
    gaps = ((summary.get("sections") or {}).get("responsiveness") or {}).get("gaps") or []
    if not gaps:
        return None
    table = Table(msg("section.responsiveness.gaps"), msg("resp.gap"), msg("resp.ci"), "",
                  title_justify="left")
    for g in gaps:
        _add(table, msg.label(f"gap.{g.get('name')}", shorten(g.get("name"), 30)), msg.points(g.get("gap")),
                      msg.span(g.get("ci_low"), g.get("ci_high")), sections.verdict(msg, g.get("ci_low"),
                                                                                    g.get("ci_high")))
    return table


def _cards(summary: dict[str, Any], msg: Messages, top: int) -> Table | None:
    cards = (((summary.get("sections") or {}).get("accounts") or {}).get("top") or [])[:top]
    if not cards:
        return None
    table = Table(msg("section.accounts.title"), msg("status.tier"), msg("card.status"),
                  msg("card.replies_received"), msg("card.rate"), title_justify="left")
    for card in cards:
        _add(table, Text(shorten(card.get("display_name") or card.get("author_id"), 40)),
                      msg.label(f"tier.{card.get('tier')}", shorten(card.get("tier"), 20)),
                      msg.value(card.get("status")), msg.count(card.get("replies_received")),
                      msg.pct(card.get("reply_back_rate")))
    return table


def _figures(summary: dict[str, Any], msg: Messages) -> Table | None:
    rows = []
    for key in ("inequality", "rich_club", "mobility", "trend", "conversation"):
        value = (summary.get("sections") or {}).get(key)
        if isinstance(value, dict):
            for label, text in structure_views.figures(key, value, msg):
                rows.append((msg(f"section.{key}.title"), label, text))
    if not rows:
        return None
    table = Table("", "", "", title=msg("section.figures"), title_justify="left", show_header=False)
    for row in rows:
        _add(table, *(Text(v) for v in row))
    return table


def _planted(summary: dict[str, Any], msg: Messages) -> Table | None:
    rows = planted.compare(summary, msg)
    return planted_table(rows, msg) if rows else None


def planted_table(rows: list[dict[str, Any]], msg: Messages) -> Table:
    """Planted versus measured as a Rich table (rows from ``planted.compare``), the score as caption."""
    ok, n = planted.recovered(rows)
    table = Table(title=msg("section.planted.title"), caption=msg("planted.score", ok=ok, n=n),
                  title_justify="left", caption_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column(msg("planted.effect"), no_wrap=True, overflow="ellipsis", max_width=28)
    for key in ("planted.col.nominal", "planted.col.truth", "planted.col.measured", "planted.col.ci"):
        table.add_column(msg(key), justify="right", no_wrap=True)
    table.add_column(msg("planted.col.in"), no_wrap=True)
    for r in rows:
        mark = Text("–") if r["within"] is None else (Text("✓", style="green") if r["within"]
                                                       else Text("✗", style="red"))
        _add(table, r["label"], r["nominal_text"], r["truth_text"], r["measured_text"], r["ci_text"], mark)
    return table
