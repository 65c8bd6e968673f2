"""Headline findings: the audit's main numbers as plain sentences with their 95 % intervals.

One sentence per finding, most important first; a finding whose numbers are missing is left out. A CI of a
difference gets a verdict (above zero, below zero, or not distinguishable from zero); a rich-club ratio is read
against 1.
"""

from __future__ import annotations

from typing import Any

from .messages import Messages
from .results import Results
from .sections import _cell, _get, verdict
from .structure_views import main_platform


def headlines(results: Results, msg: Messages) -> list[str]:
    """The findings in plain words with numbers and CIs."""
    out: list[str] = []
    sec = results.sections
    out += _responsiveness(sec.get("responsiveness") or {}, msg)
    out += _tiers(sec.get("tiers") or {}, results.summary.get("params") or {}, msg)
    out += _inequality(sec.get("inequality") or {}, msg)
    out += _rich_club(sec.get("rich_club") or {}, msg)
    out += _trend(sec.get("trend") or {}, results, msg)
    out += _mobility(sec.get("mobility") or {}, results, msg)
    out += _conversation(sec.get("conversation") or {}, msg)
    return out


def _responsiveness(resp: dict[str, Any], msg: Messages) -> list[str]:
    out = []
    matrix = resp.get("matrix") or []
    peer = _cell(matrix, "upper", "upper")
    for gap in resp.get("gaps") or []:
        other = _cell(matrix, str(gap.get("b")), str(gap.get("to", "upper")))
        key = f"headline.gap.{gap.get('name')}"
        if peer is None or other is None or not msg.has(key) or gap.get("gap") is None:
            continue
        out.append(msg(key, peer=msg.pct(peer.get("rate")), other=msg.pct(other.get("rate")),
                       gap=msg.points(gap.get("gap")), ci=msg.span(gap.get("ci_low"), gap.get("ci_high")))
                   + " " + verdict(msg, gap.get("ci_low"), gap.get("ci_high")))
    latency = resp.get("latency_hours") or {}
    if latency.get("median") is not None:
        out.append(msg("headline.latency", median=msg.num(latency["median"], 1), p90=msg.num(latency.get("p90"), 1)))
    return out


def _tiers(tiers: dict[str, Any], params: dict[str, Any], msg: Messages) -> list[str]:
    if not tiers.get("counts"):
        return []
    n_upper = tiers["counts"].get("upper")
    share = params.get("upper", 0.01)
    key = "headline.tiers.one" if n_upper == 1 else "headline.tiers"
    text = msg(key, upper=msg.count(n_upper), share=msg.pct(share, 1 if share < 0.01 else 0),
               measure=msg.label(f"measure.{tiers.get('measure')}", tiers.get("measure")))
    if tiers.get("newcomer_posts_share") is not None:
        text += " " + msg("headline.newcomers", newcomers=msg.pct(tiers["newcomer_posts_share"]))
    return [text]


def _inequality(ineq: dict[str, Any], msg: Messages) -> list[str]:
    if ineq.get("top1_share") is None or ineq.get("gini") is None:
        return []
    return [msg("headline.inequality", top1=msg.pct(ineq["top1_share"]), gini=msg.num(ineq["gini"], 2))]


def _rich_club(summary: dict[str, Any], msg: Messages) -> list[str]:
    _, block = main_platform(summary)
    club = block.get("rho_upper_status") or {}
    rho, low, high = club.get("rho"), club.get("rho_low"), club.get("rho_high")
    if rho is None or low is None or high is None:
        return []
    reading = "verdict.rich.above" if low > 1 else "verdict.rich.below" if high < 1 else "verdict.rich.zero"
    return [msg("headline.rich_club", rho=msg.num(rho, 2), ci=f"{msg.num(low, 2)}–{msg.num(high, 2)}")
            + " " + msg(reading)]


def _period(results: Results, section: dict[str, Any], msg: Messages) -> str:
    period = section.get("period") or _get(results.summary, "params", "period") or "month"
    return msg.label(f"period.{period}", period)


def _trend(trend: dict[str, Any], results: Results, msg: Messages) -> list[str]:
    slope = trend.get("gap_slope_per_period") or {}
    if slope.get("slope") is None:
        return []
    return [msg("headline.trend", slope=msg.points(slope["slope"], 1), period=_period(results, trend, msg),
                ci=msg.span(slope.get("ci_low"), slope.get("ci_high"), 1))
            + " " + verdict(msg, slope.get("ci_low"), slope.get("ci_high"))]


def _mobility(mob: dict[str, Any], results: Results, msg: Messages) -> list[str]:
    if mob.get("upper_stays_upper") is None:
        return []
    text = msg("headline.mobility", stay=msg.pct(mob["upper_stays_upper"]), period=_period(results, mob, msg),
               rise=msg.pct(mob.get("lower_to_upper"), 1))
    if mob.get("upper_newcomer_share") is not None:
        period = mob.get("period") or _get(results.summary, "params", "period") or "month"
        text += " " + msg("headline.mobility.newcomers", newcomers=msg.pct(mob["upper_newcomer_share"]),
                          k=msg.count(mob.get("k_periods")), periods=msg.label(f"periods.{period}", period))
    return [text]


def _conversation(conv: dict[str, Any], msg: Messages) -> list[str]:
    if conv.get("bf_share") is None or conv.get("reply_share") is None:
        return []
    return [msg("headline.conversation", replies=msg.pct(conv["reply_share"]),
                replied=msg.pct(conv.get("replied_share")), back=msg.pct(conv["bf_share"]),
                reciprocity=msg.pct(conv.get("reciprocity")))]
