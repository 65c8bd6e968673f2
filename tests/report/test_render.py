"""The report's structure and numbers, from the hand-written results fixture; catalogues; CLI; terminal view."""

from __future__ import annotations

import json
import re
import string
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest
from rich.console import Console

from permadani.report import Results
from permadani.report import render_html as render
from permadani.report.messages import LANGUAGES, Messages, catalogue
from permadani.report.render import CSP
from permadani.report.terminal import print_summary

from .conftest import build_results


def _text(html: str) -> str:
    """Visible text of the page (tags dropped, entities decoded, whitespace collapsed)."""
    body = re.sub(r"<style.*?</style>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def _sections(html: str) -> list[str]:
    return re.findall(r'<section id="([a-z_]+)"', html)


@pytest.fixture(scope="module")
def fixture_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    results = build_results(tmp_path_factory.mktemp("r") / "results")
    return render(results, accounts=["sari pemula"]).html


def test_all_sections_in_order(fixture_html: str) -> None:
    assert _sections(fixture_html) == ["findings", "responsiveness", "status", "inequality", "accounts", "rich_club",
                                       "mobility", "trend", "conversation", "quality", "method"]


def test_headline_numbers_from_the_fixture(fixture_html: str) -> None:
    text = _text(fixture_html)
    assert ("Upper-tier authors answered 31% of the replies they got from other upper-tier accounts and 6% of "
            "those from newcomers: a gap of 25 percentage points (95% CI 21–29).") in text
    assert "and 12% of those from lower-tier accounts: a gap of 19 percentage points (95% CI 14–24)" in text
    assert "12 accounts form the upper tier: the top 1% by reputation. Newcomers wrote 18% of the posts." in text
    assert "The top 1% of accounts receive 34% of all replies (Gini 0.71)." in text
    assert "median of 3.2 hours; 90% of answers come within 40.1 hours" in text
    assert "changes by 1.2 percentage points per month (95% CI 0.4–2.0)" in text
    assert "4,520 replies between different accounts, 1,500 of them answered; 123 self-replies" in text
    # the data-quality table and the exact parameters of the method notes
    assert "exports/warung.csv table 4,830 4,820 3 7 ✓" in text
    assert "bad-timestamp 4 missing or unreadable time" in text
    assert "upper = the top 1.0%, middle = the next 9.0%, lower = the remaining 90.0%" in text
    assert "within 7 days" in text and "200 resamples, seed 0" in text


def test_charts_are_inline_svg_with_marks(fixture_html: str) -> None:
    figures = re.findall(r'<figure class="chart" data-chart="([a-z_]+)"><svg (.*?)</svg></figure>', fixture_html, re.S)
    kinds = [k for k, _ in figures]
    assert kinds == ["heatmap", "gaps", "status", "inequality", "rich_club", "rich_club", "mobility", "trend",
                     "trend"]
    for kind, svg in figures:
        assert re.search(r"<(path|rect|line|circle)\b", svg), kind
    heatmap = figures[0][1]
    assert "31%" in heatmap and "25%–37%" in heatmap  # the cell of upper→upper with its CI


def test_cards_top_and_named(fixture_html: str) -> None:
    cards = re.findall(r'<article class="card (\w+)">\s*<h3>(.*?)</h3>', fixture_html)
    assert cards == [("upper", "Pak Guru Engagement"), ("upper", "Ibu Moderator"), ("upper", "u003"),
                     ("lower", "Sari Pemula")]
    text = _text(fixture_html)
    assert "newcomer (–) 2%" not in text  # the summary cards carry no per-tier counts: none are invented
    assert "Answers replies 9%" in text and "Answers replies 78%" in text


def test_named_account_found_among_all_accounts(results_dir: Path) -> None:
    rep = render(results_dir, accounts=["BUDI BARU", "u001"], top=1)  # u001 is already the top card
    cards = re.findall(r'<article class="card (\w+)">\s*<h3>(.*?)</h3>', rep.html)
    assert cards == [("upper", "Pak Guru Engagement"), ("lower", "Budi Baru")] and rep.warnings == []
    text = _text(rep.html)
    # the flat account_stats row becomes a card: reply-back by tier with the reply counts, latency
    assert "upper (1) 0% lower – newcomer (3) 33%" in text and "median 30.0 h, 90% within 30.0 h" in text


def test_missing_sections_are_skipped(tmp_path: Path, fixture_summary: dict) -> None:
    summary = dict(fixture_summary)
    summary["sections"] = {"tiers": fixture_summary["sections"]["tiers"]}
    results = build_results(tmp_path / "r", summary, tables={})
    rep = render(results, accounts=["nobody"])
    assert _sections(rep.html) == ["findings", "status", "accounts", "quality", "method"]
    assert rep.warnings == ["no account named 'nobody' in the results"]
    assert "No account named “nobody” in these results." in _text(rep.html)


def test_self_contained_and_scriptless(fixture_html: str) -> None:
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in fixture_html.replace("&#39;", "'")
    assert "default-src 'none'" in CSP and "script-src" not in CSP
    assert "<script" not in fixture_html and "<link" not in fixture_html and "@import" not in fixture_html
    assert not re.search(r'(src|href)="(?!#)', fixture_html)
    assert not re.search(r"url\((?!#)", fixture_html)


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    en, idn = catalogue("en"), catalogue("id")
    assert set(en) == set(idn)

    def fields(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    assert {k: fields(en[k]) for k in en} == {k: fields(idn[k]) for k in idn}
    assert LANGUAGES == ("en", "id")


def test_indonesian_report(results_dir: Path) -> None:
    text = _text(render(results_dir, lang="id").html)
    for heading in ("Temuan utama", "Apakah kelas atas membalas yang lain?", "Daya tanggap", "Kartu akun",
                    "Mutu data", "Catatan metode", "Bisakah pendatang baru naik kelas?"):
        assert heading in text
    assert ("Penulis kelas atas menjawab 31% balasan dari sesama kelas atas dan 6% balasan dari pendatang baru: "
            "selisih 25 poin persentase (SK 95%: 21–29).") in text
    assert "(Gini 0,71)" in text and "4.830" in text  # Indonesian decimal comma and thousands dot
    assert "Upper-tier" not in text


def test_number_formatting() -> None:
    en, idn = Messages("en"), Messages("id")
    assert (en.pct(0.314), en.num(1234.5, 1), en.points(0.25), en.span(0.21, 0.29)) == ("31%", "1,234.5", "25",
                                                                                         "21–29")
    assert (idn.pct(0.314, 1), idn.num(1234.5, 1), idn.count(4830)) == ("31,4%", "1.234,5", "4.830")
    assert en.pct(None) == "–" and en.num(float("nan")) == "–"


def test_unknown_language_is_a_usage_error(results_dir: Path) -> None:
    from permadani.errors import UsageError

    with pytest.raises(UsageError, match="unknown report language 'fr'"):
        render(results_dir, lang="fr")


def test_results_open_errors(tmp_path: Path) -> None:
    from permadani.errors import InputError

    with pytest.raises(InputError, match=r"no summary\.json"):
        Results.open(tmp_path)
    (tmp_path / "summary.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(InputError, match=r"summary\.json is damaged"):
        Results.open(tmp_path)


def test_terminal_summary(fixture_summary: dict) -> None:
    summary = json.loads(json.dumps(fixture_summary))
    summary["sections"]["accounts"]["top"][0]["display_name"] = "[bold]not markup[/bold] <script>"
    console = Console(record=True, width=140)
    print_summary(summary, console)
    out = console.export_text()
    assert "a gap of 25 percentage points (95% CI 21–29)" in " ".join(out.split())
    assert "31% (25%–37%) n=210" in out
    assert "[bold]not markup[/bold] <script>" in out
    assert "Gini of replies received" in out and "0.710" in out


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "permadani", *args], capture_output=True, text=True, timeout=600)


def test_cli_report_from_results(results_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    r = run_cli("report", str(results_dir), "-o", str(out), "--lang", "id", "--account", "u008", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["report"] == str(out) and data["warnings"] == [] and data["bytes"] == out.stat().st_size
    assert "Sari Pemula" in out.read_text(encoding="utf-8")


def test_cli_report_errors(tmp_path: Path, results_dir: Path) -> None:
    r = run_cli("report", str(tmp_path), "-o", str(tmp_path / "x.html"))
    assert r.returncode == 1 and "neither a results folder" in r.stderr and r.stdout == ""
    r = run_cli("report", str(results_dir), "-o", str(tmp_path / "x.html"), "--lang", "fr")
    assert r.returncode == 2 and "unknown report language" in r.stderr
    assert not (tmp_path / "x.html").exists()


@pytest.mark.slow
def test_report_from_a_dataset_runs_the_audit(tmp_path: Path) -> None:
    from permadani.synthetic import synth

    synth(tmp_path / "ds", seed=1, accounts=300, threads=250, months=3)
    out = tmp_path / "report.html"
    r = run_cli("report", str(tmp_path / "ds"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "report-results" / "summary.json").is_file()
    html = out.read_text(encoding="utf-8")
    assert "planted" in _sections(html) and "responsiveness" in _sections(html)


@pytest.mark.slow
def test_demo_recovers_the_planted_gap(tmp_path: Path) -> None:
    r = run_cli("demo", "-o", str(tmp_path / "demo"), "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert Path(data["report"]).is_file() and Path(data["results"], "summary.json").is_file()
    rows = {row["key"]: row for row in data["comparison"]}
    gap = rows["gap.upper_vs_lower"]
    # planted: upper answers upper 60 %, lower 20 % (minus newcomer penalties)
    assert gap["truth"] > 0.3 and gap["ci_low"] > 0.2
    assert gap["ci_low"] <= gap["truth"] <= gap["ci_high"]
    # planted: P[lower→upper] falls 4 points a month, so the gap grows; the audit's slope CI lies above zero
    trend = rows["trend.gap_slope"]
    assert trend["nominal"] == pytest.approx(0.04) and trend["truth"] > 0.02
    assert 0 < trend["ci_low"] <= trend["truth"] <= trend["ci_high"]
    assert data["judged"] == 15 and data["recovered"] >= 13
    assert "Planted versus measured" in r.stderr
