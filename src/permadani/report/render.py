"""Render an audit's results into ONE self-contained HTML file (no script, no network, charts as inline SVG).

``render(results)`` builds the page from a results folder (or an ``AuditResult``); ``report(source, output)``
accepts a dataset folder too and runs the audit first. Safety: Jinja2 autoescaping for every value, a
``finalize`` hook and a final pass that scrub e-mail addresses, sanitised chart SVG, and a strict
Content-Security-Policy that forbids scripts and every network request.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from .. import __version__
from ..dataset import MANIFEST
from ..progress import ProgressSink
from . import findings, sections, structure_views
from .messages import Messages
from .results import SUMMARY, Results
from .safety import finalize as _finalize
from .safety import scrub, shorten

#: No scripts, no fetches, no frames, no forms: only inline styles and data: images may load.
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; base-uri 'none'; "
       "form-action 'none'")

#: Structure sections rendered by the generic block of the template, in page order.
STRUCTURE_SECTIONS = ("inequality", "rich_club", "mobility", "trend", "conversation")


@dataclass
class Report:
    """A rendered report: the HTML text, where it was written (if it was), and notes for the caller."""

    html: str
    path: Path | None = None
    results_path: Path | None = None
    warnings: list[str] = field(default_factory=list)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("permadani.report", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2", "html.j2"), default=True),
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    return env


def render(results: Any, *, lang: str = "en", accounts: Sequence[str] = (), top: int = 6) -> Report:
    """Render ``results`` (a results folder, ``Results`` or an object with ``.summary``/``.tables``) to HTML.

    ``accounts`` names extra accounts (author id or display name, case-insensitive) to show as cards next to
    the ``top`` accounts by status; names not found are listed in ``Report.warnings`` and on the page.
    """
    res = Results.of(results)
    msg = Messages(lang)
    summary = res.summary
    ds = summary.get("dataset") or {}
    dataset_name = shorten(Path(str(ds.get("dataset") or "dataset")).name, 60)
    cards, missing = sections.cards(res, msg, accounts, top)
    structure = []
    for key in STRUCTURE_SECTIONS:
        view = getattr(structure_views, key)(res, msg)
        if view is not None:
            structure.append((key, view))
    context: dict[str, Any] = {
        "t": msg, "csp": CSP, "version": __version__, "dataset_name": dataset_name,
        "subtitle": msg("report.subtitle", dataset=dataset_name, posts=msg.count(ds.get("posts")),
                        accounts=msg.count(ds.get("accounts")), written=sections.when(summary.get("written_at"))),
        "headlines": findings.headlines(res, msg),
        "overview": sections.overview(res, msg),
        "responsiveness": sections.responsiveness(res, msg),
        "status": sections.status(res, msg),
        "cards": cards, "missing_accounts": [shorten(m, 60) for m in missing],
        "structure_before": [(k, v) for k, v in structure if k == "inequality"],
        "structure": [(k, v) for k, v in structure if k != "inequality"],
        "planted": sections.planted_view(res, msg),
        "quality": sections.quality(res, msg),
        "method": sections.method(res, msg),
    }
    nav = ["findings"] + [k for k in ("responsiveness", "status") if context[k]]
    nav += [k for k, _ in context["structure_before"]] + ["accounts"] + [k for k, _ in context["structure"]]
    nav += (["planted"] if context["planted"] else []) + ["quality", "method"]
    context["nav"] = nav
    html = _environment().get_template("report.html.j2").render(**context)
    html = scrub(html)  # last defence: no address survives, whatever path it took
    return Report(html=html, warnings=[f"no account named {m!r} in the results" for m in missing])


def is_results(path: Path) -> bool:
    return (path / SUMMARY).is_file()


def is_dataset(path: Path) -> bool:
    return (path / MANIFEST).is_file()


def report(
    source: str | Path,
    output: str | Path | None = None,
    *,
    lang: str = "en",
    accounts: Sequence[str] = (),
    top: int = 6,
    results_dir: str | Path | None = None,
    engine: str = "duckdb",
    params: Any = None,
    progress: ProgressSink | None = None,
) -> Report:
    """Render the report of ``source`` (a results folder, or a dataset folder: audited first) to ``output``.

    For a dataset, the audit's results folder goes to ``results_dir`` (default: ``<output stem>-results``
    next to the report, or a temporary folder when there is no output).
    """
    from ..errors import InputError

    path = Path(source)
    Messages(lang)  # unknown language: fail before a long audit
    results_path: Path | None = None
    if is_results(path):
        results: Any = Results.open(path)
        results_path = path
    elif is_dataset(path):
        from ..analyses.audit import audit  # imported late: the audit pulls in the engines

        if results_dir is None and output is not None:
            out = Path(output)
            results_dir = out.with_name(out.stem + "-results")
        kwargs: dict[str, Any] = {"engine": engine, "progress": progress}
        if params is not None:
            kwargs["params"] = params
        if results_dir is None:
            with tempfile.TemporaryDirectory(prefix="permadani-results-") as tmp:
                audited = audit(path, output=Path(tmp) / "results", **kwargs)
                return _finish(render(audited, lang=lang, accounts=accounts, top=top), output, None)
        results_path = Path(results_dir)
        results = audit(path, output=results_path, **kwargs)
    else:
        raise InputError("neither a results folder (summary.json) nor a dataset (manifest.json)", path=path,
                         hint="Pass the folder written by 'permadani audit' or by 'permadani ingest'")
    return _finish(render(results, lang=lang, accounts=accounts, top=top), output, results_path)


def _finish(rep: Report, output: str | Path | None, results_path: Path | None) -> Report:
    rep.results_path = results_path
    if output is not None:
        rep.path = write_atomic(Path(output), rep.html)
    return rep


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary sibling, so a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
