"""Turn a results summary into view models for the template: headline sentences, cards, tables, charts.

Each builder returns ``None`` when its section is absent, so the report renders whatever the audit produced.
All text comes from the message catalogue; all data strings are shortened and scrubbed (``safety.shorten``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import charts, planted, structure_views
from .messages import Messages
from .results import Results
from .safety import shorten

NAME_LIMIT = 60
#: Summary keys shown by the generic "key figures" list, in this order when present.
_SKIP_KEYS = {"matrix", "gaps", "top"}


def _get(d: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def _cell(matrix: Sequence[dict[str, Any]], src: str, dst: str) -> dict[str, Any] | None:
    return next((c for c in matrix if c.get("from") == src and c.get("to") == dst), None)


def when(stamp: Any) -> str:
    """``2024-07-01T12:00:00+00:00`` -> ``2024-07-01 12:00 UTC`` (the audit writes UTC stamps)."""
    text = shorten(stamp, 40)
    return f"{text[:10]} {text[11:16]} UTC" if len(text) >= 16 and text[10] == "T" else text


def verdict(msg: Messages, low: Any, high: Any) -> str:
    """Plain-words reading of a CI for a difference: above zero, below zero, or not distinguishable."""
    if low is None or high is None:
        return ""
    if low > 0:
        return msg("verdict.positive")
    if high < 0:
        return msg("verdict.negative")
    return msg("verdict.zero")


def overview(results: Results, msg: Messages) -> list[tuple[str, str]]:
    """Dataset size and span as (label, value) pairs."""
    ds = results.summary.get("dataset") or {}
    pairs = [(msg(f"overview.{k}"), msg.count(ds.get(k))) for k in ("posts", "accounts", "threads", "communities")
             if ds.get(k) is not None]
    if ds.get("first_post_at") or ds.get("last_post_at"):
        pairs.append((msg("overview.span"), f"{str(ds.get('first_post_at') or '?')[:10]} – "
                                            f"{str(ds.get('last_post_at') or '?')[:10]}"))
    if ds.get("platforms"):
        pairs.append((msg("overview.platforms"), ", ".join(shorten(p, 30) for p in ds["platforms"])))
    return pairs


def responsiveness(results: Results, msg: Messages) -> dict[str, Any] | None:
    resp = results.sections.get("responsiveness")
    if not resp or not resp.get("matrix"):
        return None
    measured_gaps = [g for g in resp.get("gaps") or [] if g.get("gap") is not None]
    gaps = [{
        "label": msg.label(f"gap.{g.get('name')}", str(g.get("name"))),
        "gap": msg.points(g.get("gap")), "ci": msg.span(g.get("ci_low"), g.get("ci_high")),
        "verdict": verdict(msg, g.get("ci_low"), g.get("ci_high")),
    } for g in measured_gaps]
    rows = [{
        "from": msg.label(f"tier.{c.get('from')}", str(c.get("from"))),
        "to": msg.label(f"tier.{c.get('to')}", str(c.get("to"))),
        "replies": msg.count(c.get("replies")), "answered": msg.count(c.get("answered")),
        "rate": msg.pct(c.get("rate")), "ci": msg.span(c.get("ci_low"), c.get("ci_high"), as_points=False),
    } for c in resp["matrix"]]
    return {
        "heatmap": charts.responsiveness_heatmap(resp["matrix"], msg),
        "gap_chart": charts.gap_chart(measured_gaps, msg) if measured_gaps else None,
        "gaps": gaps, "rows": rows,
        "totals": msg("resp.totals", replies=msg.count(resp.get("replies")), answered=msg.count(resp.get("answered")),
                      self_replies=msg.count(resp.get("self_replies"))),
    }


def status(results: Results, msg: Messages) -> dict[str, Any] | None:
    tiers = results.sections.get("tiers")
    table = results.table("tiers")
    if not tiers and table is None:
        return None
    tiers = tiers or {}
    counts = [(msg.label(f"tier.{t}", t), msg.count(n)) for t, n in (tiers.get("counts") or {}).items()]
    thresholds = [(msg.label(f"tier.{t}", t), msg.num(v, 1)) for t, v in (tiers.get("thresholds") or {}).items()]
    chart = None
    if table is not None and table.num_rows and {"status", "tier"} <= set(table.column_names):
        status_values = table.column("status").fill_null(0).to_numpy(zero_copy_only=False)
        tiers_enc = table.column("tier").combine_chunks().dictionary_encode()  # no Python string per account
        tier_values = np.asarray(tiers_enc.dictionary.to_pylist(), dtype=object)[
            tiers_enc.indices.fill_null(0).to_numpy(zero_copy_only=False)]
        chart = charts.status_histogram(status_values, tier_values, msg)
    measure = tiers.get("measure") or _get(results.summary, "params", "status")
    return {"counts": counts, "thresholds": thresholds, "chart": chart,
            "measure": msg.label(f"measure.{measure}", str(measure))}


def cards(results: Results, msg: Messages, named: Sequence[str], top: int) -> tuple[list[dict[str, Any]], list[str]]:
    """Account cards: the ``top`` accounts by status plus every account named (id or display name).

    Returns (cards, names not found).
    """
    chosen = list((_get(results.sections, "accounts", "top") or [])[:top])
    missing: list[str] = []
    # top cards, then every account (read only when an account is asked for: a row per account can be millions)
    tables = [results.table("cards"), results.table("account_stats")] if named else []
    seen = {(c.get("platform"), c.get("author_id")) for c in chosen}
    for name in named:
        match = next((m for m in (_find_card(t, chosen, name) for t in tables) if m is not None), None)
        if match is None:
            missing.append(name)
        elif (match.get("platform"), match.get("author_id")) not in seen:
            chosen.append(match)
            seen.add((match.get("platform"), match.get("author_id")))
    return [_card_view(c, msg) for c in chosen], missing


def _find_card(table: pa.Table | None, chosen: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    wanted = name.casefold()
    for card in chosen:
        if wanted in (str(card.get("author_id")).casefold(), str(card.get("display_name")).casefold()):
            return card
    if table is None or not table.num_rows:
        return None
    mask = pc.equal(pc.utf8_lower(table.column("author_id").cast(pa.string())), wanted)
    if "display_name" in table.column_names:
        mask = pc.or_kleene(mask, pc.equal(pc.utf8_lower(table.column("display_name").cast(pa.string())), wanted))
    hits = table.filter(pc.fill_null(mask, False))
    if not hits.num_rows:
        return None
    # several platforms may share a name: take the highest status, then author_id, as a stable choice
    order = [("status", "descending"), ("author_id", "ascending")] if "status" in hits.column_names else \
        [("author_id", "ascending")]
    return hits.sort_by(order).slice(0, 1).to_pylist()[0]


def normalise_card(card: dict[str, Any]) -> dict[str, Any]:
    """A card in the summary's nested shape, also from a flat ``cards`` table row (``rate_from_upper``,
    ``replies_from_upper``, ``latency_median_h``, ...)."""
    card = dict(card)
    if "reply_back_by_tier" not in card:
        card["reply_back_by_tier"] = {t: card[f"rate_from_{t}"] for t in charts.TIERS if f"rate_from_{t}" in card}
        card["replies_by_tier"] = {t: card[f"replies_from_{t}"] for t in charts.TIERS
                                   if f"replies_from_{t}" in card}
    if "latency_hours" not in card and "latency_median_h" in card:
        card["latency_hours"] = {"median": card.get("latency_median_h"), "p90": card.get("latency_p90_h")}
    return card


def _card_view(card: dict[str, Any], msg: Messages) -> dict[str, Any]:
    card = normalise_card(card)
    by_tier = card.get("reply_back_by_tier") or {}
    counts = card.get("replies_by_tier") or {}
    rate = card.get("reply_back_rate")
    name = card.get("display_name") or card.get("author_id")
    latency = card.get("latency_hours") or {}
    percentile = card.get("percentile")
    return {
        "name": shorten(name, NAME_LIMIT),
        "author_id": shorten(card.get("author_id"), 40) if card.get("display_name") else None,
        "platform": shorten(card.get("platform"), 30),
        "tier": msg.label(f"tier.{card.get('tier')}", str(card.get("tier"))),
        "tier_class": card.get("tier") if card.get("tier") in charts.TIERS else "lower",
        "top": msg.top_share(1 - percentile) if percentile is not None else "–",
        "facts": [
            (msg("card.status"), msg.value(card.get("status"))),
            (msg("card.posts"), msg.count(card.get("posts"))),
            (msg("card.replies_received"), msg.count(card.get("replies_received"))),
            (msg("card.distinct_repliers"), msg.count(card.get("distinct_repliers"))),
            (msg("card.reply_share"), msg.pct(card.get("reply_share"))),
            (msg("card.latency"), msg("card.latency_value", median=msg.num(latency.get("median"), 1),
                                      p90=msg.num(latency.get("p90"), 1)) if latency.get("median") is not None
             else "–"),
        ],
        "rate": msg.pct(rate), "rate_width": _width(rate),
        "by_tier": [{"tier": msg.label(f"tier.{t}", t), "tier_class": t, "rate": msg.pct(by_tier.get(t)),
                     "n": msg.count(counts[t]) if counts.get(t) is not None else None,
                     "width": _width(by_tier.get(t))} for t in charts.TIERS if t in by_tier],
    }


def _width(rate: Any) -> str:
    """CSS width of a bar for a share (clamped to 0–100 %, numbers only: never a data string)."""
    try:
        return f"{min(max(float(rate), 0.0), 1.0) * 100:.1f}%"
    except (TypeError, ValueError):
        return "0%"


def quality(results: Results, msg: Messages) -> dict[str, Any]:
    ds = results.summary.get("dataset") or {}
    sources = [{
        "path": shorten(s.get("path"), 80), "format": shorten(s.get("format"), 20),
        **{k: msg.count(s.get(k)) for k in ("read", "kept", "duplicates", "rejected")},
        "balanced": s.get("read") == sum(int(s.get(k) or 0) for k in ("kept", "duplicates", "rejected")),
    } for s in ds.get("sources") or []]
    reasons = [{"code": shorten(code, 40), "count": msg.count(n),
                "what": msg.label(f"reason.{code}", "")}
               for code, n in sorted((ds.get("rejects_by_reason") or {}).items(), key=lambda kv: (-kv[1], kv[0]))]
    return {"sources": sources, "reasons": reasons, "rejects": msg.count(ds.get("rejects")),
            "pseudonymised": bool(ds.get("pseudonymised"))}


def method(results: Results, msg: Messages) -> list[tuple[str, str]]:
    """The exact definitions with the parameters this audit used."""
    p = {"status": "?", "window_days": 7, "upper": 0.01, "middle": 0.09, "newcomer_days": 30, "newcomer_posts": 5,
         "n_boot": 200, "seed": 0, "engine": "duckdb", "period": "month"} | (results.summary.get("params") or {})
    measure = msg.label(f"measure.{p['status']}", str(p["status"]))
    values = {
        "measure": measure, "upper": msg.pct(p["upper"], 1), "middle": msg.pct(p["middle"], 1),
        "lower": msg.pct(1 - float(p["upper"]) - float(p["middle"]), 1), "days": msg.count(p["newcomer_days"]),
        "posts": msg.count(p["newcomer_posts"]), "window": msg.value(p["window_days"]),
        "n_boot": msg.count(p["n_boot"]),
        "seed": str(p["seed"]), "engine": shorten(p["engine"], 30),
        "period": msg.label(f"period.{p['period']}", str(p["period"])),
        "version": shorten(results.summary.get("permadani_version"), 20),
        "written": when(results.summary.get("written_at")),
    }
    keys = ("reply", "status", "tiers", "newcomer", "answered", "rate", "latency", "matrix", "gap", "ci",
            "gini", "rich_club", "mobility", "trend", "conversation", "run")
    out = [(msg(f"method.{k}.term"), msg(f"method.{k}.text", **values)) for k in keys]
    for section, key, text in structure_views.notes(results):
        out.append((f"{msg.label(f'section.{section}.title', section)} · {key.replace('_', ' ')}", text))
    return out


def planted_view(results: Results, msg: Messages) -> dict[str, Any] | None:
    """Planted truth next to the measurement, for synthetic datasets (see ``planted.compare``)."""
    rows = planted.compare(results.summary, msg)
    if not rows:
        return None
    ok, n = planted.recovered(rows)
    return {"rows": rows, "score": msg("planted.score", ok=msg.count(ok), n=msg.count(n)),
            "chart": charts.planted_chart([r for r in rows if r["headline"]], msg)}
