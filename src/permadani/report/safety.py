"""Last-line defences for the report: scrub addresses, shorten hostile strings, sanitise chart SVG.

Jinja2 autoescaping is the first defence for every data string; these functions make sure that
(1) no e-mail address ever reaches a report, (2) a 10k-character name cannot break the layout, and
(3) the SVG produced by vl-convert contains only drawing elements (no script, no event handlers, no links).
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree as ET

from defusedxml.ElementTree import fromstring as safe_fromstring
from markupsafe import Markup

from ..privacy import EMAIL_AT_PATTERN, EMAIL_PATTERN

_EMAIL = re.compile(rf"{EMAIL_PATTERN}|{EMAIL_AT_PATTERN}")

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)

#: Drawing elements vl-convert emits; anything else (script, foreignObject, a, image, animate…) is dropped.
_SVG_ELEMENTS = frozenset({
    "svg", "g", "path", "rect", "line", "text", "tspan", "title", "desc", "circle", "ellipse", "polygon",
    "polyline", "defs", "clipPath", "linearGradient", "radialGradient", "stop", "pattern", "mask",
})
_URL_REF = re.compile(r"url\(\s*(?!#)", re.IGNORECASE)


def scrub(text: str) -> str:
    """Replace e-mail addresses (plain and ``name at host.tld``) with ``[email]``."""
    return _EMAIL.sub("[email]", text)


#: No run of non-space characters longer than this reaches the page (long URLs, 10k-character "names").
WORD_LIMIT = 60
_LONG_WORD = re.compile(rf"\S{{{WORD_LIMIT + 1},}}")


def shorten(text: Any, limit: int = 60) -> str:
    """``text`` as a string of at most ``limit`` characters and no word over ``WORD_LIMIT`` characters (an
    ellipsis marks each cut), whitespace collapsed, addresses scrubbed."""
    value = scrub("" if text is None else str(text))
    value = " ".join(value.split())  # newlines and tabs in names become single spaces
    value = value if len(value) <= limit else value[: max(limit - 1, 1)] + "…"
    return _LONG_WORD.sub(lambda m: m.group()[: WORD_LIMIT - 1] + "…", value)


def finalize(value: Any) -> Any:
    """Jinja2 ``finalize`` hook: every printed value is scrubbed; trusted Markup stays Markup."""
    if value is None:
        return ""
    if isinstance(value, Markup):
        return Markup(scrub(str(value)))
    if isinstance(value, str):
        return scrub(value)
    return value


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def sanitize_svg(svg: str, min_scale: float | None = None) -> Markup:
    """Parse ``svg`` (no DTDs, no entities) and re-serialise only drawing elements with safe attributes.

    Dropped: elements outside the drawing allow-list (with their children), ``on*`` attributes, any ``href``
    that is not a same-document ``#id`` reference, ``url(...)`` values that are not ``url(#id)``, and
    ``style`` attributes mentioning ``expression``/``javascript``. Text content is re-escaped by the
    serialiser, so a label like ``<script>`` stays text. ``min_scale`` sets the root's CSS ``min-width`` to that
    share of its width, so small screens scroll the chart rather than shrink its text below legibility.
    """
    root = safe_fromstring(svg, forbid_dtd=True)
    if _local(root.tag) != "svg":
        raise ValueError("chart output is not an SVG document")
    _clean(root)
    if min_scale is not None:
        try:
            width = float(root.attrib.get("width", "0"))
        except ValueError:
            width = 0.0
        if width > 0:
            root.set("style", f"min-width:{round(width * min_scale)}px")
    return Markup(ET.tostring(root, encoding="unicode", short_empty_elements=True))


def _clean(element: ET.Element) -> None:
    for child in list(element):
        if not isinstance(child.tag, str) or _local(child.tag) not in _SVG_ELEMENTS:
            element.remove(child)
        else:
            _clean(child)
    for name in list(element.attrib):
        local = _local(name).lower()
        value = element.attrib[name]
        lowered = value.lower()
        if (
            local.startswith("on")
            or (local == "href" and not value.startswith("#"))
            or _URL_REF.search(value)
            or (local == "style" and ("expression" in lowered or "javascript" in lowered or "@import" in lowered))
        ):
            del element.attrib[name]
