"""``permadani report`` (one self-contained HTML file) and ``permadani demo`` (synthetic community → report)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.text import Text

from ..report.messages import LANGUAGES
from .audit import MiddleOption, StatusOption, UpperOption, WindowOption
from .common import EngineOption, JsonOption, QuietOption, RichProgress, err_console, print_json

LangOption = Annotated[str, typer.Option("--lang", help=f"Report language: {', '.join(LANGUAGES)}.")]


def report(
    source: Annotated[Path, typer.Argument(
        help="Results folder (from 'permadani audit'), or a dataset folder (audited first).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")],
    lang: LangOption = "en",
    account: Annotated[list[str] | None, typer.Option(
        "--account", help="Also show this account's card (id or display name; repeatable).")] = None,
    top: Annotated[int, typer.Option("--top", help="Cards for this many top accounts by status.")] = 6,
    results: Annotated[Path | None, typer.Option(
        "--results", help="Where to keep the audit of a dataset (default: <report>-results).")] = None,
    engine: EngineOption = "duckdb",
    status: StatusOption = None,
    window_days: WindowOption = 7,
    upper: UpperOption = 0.01,
    middle: MiddleOption = 0.09,
    json_out: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Write the audit report: one HTML file that opens offline (no scripts, no network), in English or Indonesian."""
    from ..analyses.context import AuditParams
    from ..report.render import report as report_api

    params = AuditParams(status=status, window_days=window_days, upper=upper, middle=middle)
    rep = report_api(source, output, lang=lang, accounts=account or [], top=top, results_dir=results,
                     engine=engine, params=params, progress=RichProgress(quiet))
    if json_out:
        print_json({"report": str(rep.path), "results": str(rep.results_path) if rep.results_path else None,
                    "bytes": len(rep.html.encode("utf-8")), "warnings": rep.warnings})
    elif not quiet:
        for warning in rep.warnings:
            err_console.print(Text("note: " + warning, style="yellow"))
        if rep.results_path is not None and rep.results_path != source:
            err_console.print(f"audit results in [bold]{escape(str(rep.results_path))}[/]")
        err_console.print(f"wrote [bold]{escape(str(rep.path))}[/] ({len(rep.html.encode('utf-8')) / 1024:,.0f} KiB, "
                          "self-contained: open it in any browser, offline)")


def demo(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the dataset, results and report.")] = Path(
        "demo-out"),
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the generated community.")] = 0,
    lang: LangOption = "en",
    engine: EngineOption = "duckdb",
    json_out: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Generate a community with planted effects, audit it, write the report, and compare planted to measured."""
    from ..demo import DEMO_SETTINGS, run_demo
    from ..report.messages import Messages
    from ..report.terminal import planted_table

    if not quiet:
        err_console.print(f"demo: generating {DEMO_SETTINGS['accounts']:,} accounts over {DEMO_SETTINGS['months']} "
                          f"months (seed {seed}), auditing, writing the report…")
    result = run_demo(output, seed=seed, lang=lang, engine=engine, progress=RichProgress(quiet))
    if json_out:
        print_json(result.as_dict())
    if quiet:
        return
    msg = Messages(lang)
    err_console.print(planted_table(result.comparison, msg))
    err_console.print(f"dataset  {escape(str(result.dataset))}\nresults  {escape(str(result.results))}\n"
                      f"report   [bold]{escape(str(result.report))}[/]  (open it in a browser)\n"
                      f"took {result.seconds:.0f} s")
