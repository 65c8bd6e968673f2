"""The report: one self-contained HTML file (charts as inline SVG, no script, no network) and terminal views.

``render_html(results)`` renders a results folder (or an ``AuditResult``) to a ``Report`` (``.html``);
``report(source, output)`` also accepts a dataset folder (audited first) and writes the file. Names load lazily,
so importing the message catalogue (as the CLI does) does not pull in the chart libraries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .render import Report, report
    from .render import render as render_html
    from .results import Results

__all__ = ["Report", "Results", "render_html", "report"]


def __getattr__(name: str) -> Any:
    if name in ("Report", "report"):
        from . import render as module

        return getattr(module, name)
    if name == "render_html":
        from .render import render

        return render
    if name == "Results":
        from .results import Results

        return Results
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
