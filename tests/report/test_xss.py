"""Hostile data never becomes markup: names and texts with <script>, onerror=, javascript: and 10k-char strings."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from permadani.analyses.audit import audit
from permadani.report import render_html as render
from permadani.report.safety import sanitize_svg, scrub, shorten

from .conftest import LONG_NAME

#: Every element the report may contain: HTML of the template plus the SVG drawing elements of the charts.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "nav", "a", "main", "section", "h1", "h2", "h3", "p",
    "ul", "li", "dl", "dt", "dd", "div", "figure", "span", "strong", "small", "code", "details", "summary", "table",
    "caption", "thead", "tbody", "tr", "th", "td", "article", "footer",
    "svg", "g", "path", "rect", "line", "text", "tspan", "desc", "circle", "ellipse", "polygon",
    "polyline", "defs", "clippath", "lineargradient", "radialgradient", "stop", "pattern", "mask",
}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_inert(html: str) -> _Collector:
    """The page has no script, no event handler, no external or javascript: link, no unknown element."""
    assert "<script" not in html.lower()
    parsed = _Collector()
    parsed.feed(html)
    tags = [t for t, _ in parsed.tags]
    assert set(tags) <= ALLOWED_TAGS, set(tags) - ALLOWED_TAGS
    assert tags.count("style") == 1 and tags.count("meta") == 5
    for tag, attrs in parsed.tags:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, value)
            if name in ("href", "xlink:href", "src", "action", "formaction"):
                assert (value or "").startswith("#"), (tag, name, value)
            assert "javascript:" not in name
            if name != "content":  # the text of the page may *show* "javascript:", attributes never carry it
                assert not (value or "").strip().lower().startswith("javascript:"), (tag, name, value)
    assert not re.search(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]{2,}", html), "an e-mail address leaked"
    assert "A" * 100 not in html, "a 10k-character name was printed in full"
    return parsed


def test_hostile_results_render_inert(hostile_results: Path) -> None:
    rep = render(hostile_results, accounts=["Sari Pemula", LONG_NAME])
    parsed = assert_inert(rep.html)
    text = "".join(parsed.text)
    # the hostile strings are shown as text (escaped), not dropped silently
    assert "<script>alert('x')</script>" in text
    assert '"><img src=x onerror=alert(1)>' in text
    assert "[email]" in text
    assert "A" * 59 + "…" in text  # shortened to 60 characters
    # names inside the charts (SVG labels produced by vl-convert) are escaped text too
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in rep.html or "&lt;script&gt;alert('x')" in rep.html
    assert len(rep.html) < 400_000


def test_hostile_dataset_end_to_end(hostile_dataset: Path, tmp_path: Path) -> None:
    results = audit(hostile_dataset, output=tmp_path / "results")
    rep = render(results, top=10)
    parsed = assert_inert(rep.html)
    text = "".join(parsed.text)
    assert "<script>alert('author')</script>" in text  # an author id, as text in a card
    assert "javascript:alert(4)" in text
    assert "[bold red]rich markup[/]" in text
    assert "example.com" not in text  # ingest hashed the address-valued author id; the report shows no address


def test_sanitize_svg_drops_active_content() -> None:
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="alert(1)">'
           '<script>alert(2)</script><foreignObject><div>x</div></foreignObject>'
           '<a href="javascript:alert(3)"><text>link</text></a><image href="https://evil.example/x.png"/>'
           '<g clip-path="url(#c1)" filter="url(https://evil.example/f)"><rect onclick="alert(4)" width="1"/>'
           '<use xlink:href="https://evil.example/s.svg#x"/><text>&lt;script&gt;</text></g></svg>')
    out = str(sanitize_svg(svg))
    assert "script>" not in out and "alert" not in out and "evil" not in out and "foreignObject" not in out
    assert 'clip-path="url(#c1)"' in out and "&lt;script&gt;" in out and "<rect" in out


def test_sanitize_svg_refuses_entities() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>'
    with pytest.raises(Exception, match=r"(?i)dtd|entit"):
        sanitize_svg(bomb)


def test_scrub_and_shorten() -> None:
    assert scrub("mail victim@example.com or someone at example.org") == "mail [email] or [email]"
    assert shorten("a\nb\tc") == "a b c"
    assert shorten("x" * 100, 10) == "x" * 9 + "…"
    assert shorten(None) == ""
