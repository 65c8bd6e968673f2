"""Message catalogues (``messages/<lang>.json``) and locale-aware number formatting for the report.

Every sentence, heading and label of the report lives in one catalogue per language; templates and chart
builders only look keys up. Placeholders use ``str.format`` names (``{rate}``); values are formatted here.
"""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources
from typing import Any

from ..errors import UsageError
from .safety import shorten

LANGUAGES = ("en", "id")

#: d3-format locales for the charts (vl-convert has no id-ID locale built in).
D3_LOCALES: dict[str, dict[str, Any]] = {
    "en": {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["$", ""], "percent": "%"},
    "id": {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["Rp", ""], "percent": "%"},
}


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The flat ``key -> text`` catalogue of ``lang``; UsageError for an unknown language."""
    if lang not in LANGUAGES:
        raise UsageError(f"unknown report language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    text = resources.files(__package__).joinpath("messages", f"{lang}.json").read_text(encoding="utf-8")
    return json.loads(text)


class Messages:
    """Look up texts and format numbers for one language.

    ``msg("key", n=3)`` formats the catalogue entry; ``msg.pct(0.31)`` -> ``31%``; ``msg.num(1234.5, 1)`` ->
    ``1,234.5`` (en) / ``1.234,5`` (id); ``msg.points(0.25)`` -> ``25`` (percentage points).
    """

    def __init__(self, lang: str = "en") -> None:
        self.lang = lang
        self.texts = catalogue(lang)
        self._sep = D3_LOCALES[lang]

    def __call__(self, key: str, **values: Any) -> str:
        text = self.texts.get(key)
        if text is None:
            raise KeyError(f"message {key!r} missing from the {self.lang} catalogue")
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self.texts

    def label(self, key: str, fallback: Any, limit: int = 40) -> str:
        """The catalogue text for ``key``, or ``fallback`` shortened to ``limit`` characters and scrubbed
        (fallbacks are names from the data: tiers, gaps, measures the catalogue does not know)."""
        text = self.texts.get(key)
        return text if text is not None else shorten(fallback, limit)

    def _localise(self, text: str) -> str:
        if self.lang == "en":
            return text
        return text.replace(",", "\0").replace(".", self._sep["decimal"]).replace("\0", self._sep["thousands"])

    def num(self, value: Any, digits: int = 0) -> str:
        """A number with thousands separators and ``digits`` decimals; an en dash when missing."""
        if not _finite(value):
            return "–"
        text = self._localise(f"{float(value):,.{digits}f}")
        if text.startswith("-"):
            text = "−" + text[1:]  # a true minus sign
            if not text.strip("−0.,"):
                text = text[1:]  # -0.0 is 0.0
        return text

    def count(self, value: Any) -> str:
        """A whole number with thousands separators: 4830 -> ``4,830`` (en) / ``4.830`` (id)."""
        return self.num(value, 0)

    def pct(self, value: Any, digits: int = 0) -> str:
        """A share in [0, 1] as a percentage: 0.314 -> ``31%``."""
        if not _finite(value):
            return "–"
        return self.num(float(value) * 100, digits) + "%"

    def points(self, value: Any, digits: int = 0) -> str:
        """A difference of shares in percentage points: 0.25 -> ``25``."""
        if not _finite(value):
            return "–"
        return self.num(float(value) * 100, digits)

    def span(self, low: Any, high: Any, digits: int = 0, as_points: bool = True) -> str:
        """A confidence interval ``21–29`` (points) or ``21%–29%``; ``−14 to 3`` when a bound is negative."""
        fmt = self.points if as_points else self.pct
        if _finite(low) and float(low) < 0:
            return self("common.range", low=fmt(low, digits), high=fmt(high, digits))
        return f"{fmt(low, digits)}–{fmt(high, digits)}"

    def top_share(self, share: Any) -> str:
        """A small share with enough digits to be non-zero: 0.0003 -> ``0.03%``, 0.012 -> ``1.2%``."""
        if not _finite(share):
            return "–"
        value = float(share)
        digits = 0 if value >= 0.1 else 1 if value >= 0.001 else 2
        return self.pct(value, digits)

    def value(self, value: Any) -> str:
        """Best-effort display of a summary value of unknown meaning."""
        if isinstance(value, bool):
            return self("common.yes") if value else self("common.no")
        if isinstance(value, int):
            return self.count(value)
        if isinstance(value, float):
            if value.is_integer():
                return self.num(value, 0)
            digits = 0 if abs(value) >= 100 else 2 if abs(value) >= 1 else 3
            return self.num(value, digits)
        if value is None:
            return "–"
        return str(value)


def _finite(value: Any) -> bool:
    try:
        return value is not None and not isinstance(value, bool) and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
