"""The report in a real browser (headless Chromium, network cut off): it renders, loads nothing, runs nothing.

Needs Debian's chromium (``/usr/bin/chromium`` or ``$PERMADANI_CHROMIUM``) and the ``playwright`` package;
skipped with the reason when either is missing, except on CI where that is a failure. Screenshots go to
``test-artifacts/`` (gitignored) for a human to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from permadani.report import render_html as render
from tests.conftest import ROOT

from .conftest import build_results

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _chromium() -> str:
    path = os.environ.get("PERMADANI_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    reason = None
    if not Path(path).is_file():
        reason = f"headless Chromium not found at {path} (apt-get install chromium, or set PERMADANI_CHROMIUM)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "the playwright package is not installed (pip install -e '.[dev]')"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@dataclass
class Visit:
    """What happened while a page was open: console errors, blocked and failed requests, dialogs."""

    page: Any
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def open_offline(browser: Any, html_path: Path, width: int = 1200, height: int = 900) -> Visit:
    """Open ``html_path`` from a file:// URL; every other request is aborted and counted."""
    context = browser.new_context(viewport={"width": width, "height": height}, offline=True)
    page = context.new_page()
    url = html_path.resolve().as_uri()
    visit = Visit(page)

    def route(r: Any) -> None:
        if r.request.url == url:
            r.continue_()
        else:
            visit.blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page.on("console", lambda m: visit.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: visit.errors.append(str(e)))
    page.on("requestfailed", lambda r: visit.failed.append(r.url))
    page.on("dialog", lambda d: (visit.dialogs.append(d.message), d.dismiss()))
    page.goto(url, wait_until="load")
    return visit


def assert_clean(visit: Visit) -> None:
    assert visit.errors == []
    assert visit.blocked == [] and visit.failed == []
    assert visit.dialogs == []


@pytest.fixture(scope="module")
def fixture_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    results = build_results(folder / "results")
    path = folder / "report.html"
    path.write_text(render(results, accounts=["Sari Pemula"]).html, encoding="utf-8")
    return path


def test_report_renders_offline_with_charts(browser: Any, fixture_report: Path) -> None:
    visit = open_offline(browser, fixture_report)
    assert_clean(visit)
    charts = visit.page.evaluate("""() => [...document.querySelectorAll('figure.chart svg')].map(svg => ({
        kind: svg.parentElement.dataset.chart,
        marks: svg.querySelectorAll('path, rect, line, circle, symbol, text').length,
        width: svg.getBoundingClientRect().width, height: svg.getBoundingClientRect().height}))""")
    assert [c["kind"] for c in charts] == ["heatmap", "gaps", "status", "inequality", "rich_club", "rich_club",
                                           "mobility", "trend", "trend"]
    for chart in charts:
        assert chart["marks"] > 10 and chart["width"] > 150 and chart["height"] > 80, chart
    # the heatmap's 12 cells are drawn as marks (the legend's gradient is not a mark)
    cells = visit.page.evaluate("""() => document.querySelector('figure[data-chart=heatmap] svg')
        .querySelectorAll('g.mark-rect.role-mark > path').length""")
    assert cells == 12
    assert visit.page.evaluate("document.scripts.length") == 0
    ARTIFACTS.mkdir(exist_ok=True)
    visit.page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    visit.page.context.close()


def test_readable_on_a_phone(browser: Any, fixture_report: Path) -> None:
    visit = open_offline(browser, fixture_report, width=375, height=740)
    assert_clean(visit)
    page = visit.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # every chart's frame fits the screen; a wide chart scrolls inside it rather than shrink its text below 72 %
    frames = page.evaluate("[...document.querySelectorAll('figure.chart')].map(f => f.getBoundingClientRect().right)")
    assert frames and max(frames) <= 375
    scales = page.evaluate("[...document.querySelectorAll('figure.chart svg')].map(s => "
                           "s.getBoundingClientRect().width / s.viewBox.baseVal.width)")
    assert min(scales) >= 0.7
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 15
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-phone.png"), full_page=False)
    page.context.close()


def test_hostile_report_stays_inert_and_in_layout(browser: Any, hostile_results: Path, tmp_path: Path) -> None:
    path = tmp_path / "hostile.html"
    path.write_text(render(hostile_results).html, encoding="utf-8")
    for width in (1200, 375):
        visit = open_offline(browser, path, width=width)
        assert_clean(visit)
        page = visit.page
        assert page.evaluate("document.querySelectorAll('img, iframe, script, object, embed, a[href^=javascript]')"
                             ".length") == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert "<script>alert('x')</script>" in page.inner_text("#accounts")
        page.context.close()
