"""``permadani ingest`` and ``permadani info``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .. import ingest as ingest_api
from ..adapters import registry
from ..adapters.generic import parse_mapping
from ..dataset import Dataset
from ..errors import UsageError
from .common import JsonOption, QuietOption, RichProgress, err_console, out_console, print_json


def _parse_options(items: list[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--option expects key=value, got {item!r}")
        options[key.strip()] = value
    return options


def ingest(
    sources: Annotated[list[Path], typer.Argument(help="Files or folders to read (format sniffed).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Dataset folder to write.")],
    format: Annotated[str | None, typer.Option("--format", "-f", help="Force an adapter (see 'formats').")] = None,
    append: Annotated[bool, typer.Option("--append", help="Add to an existing dataset.")] = False,
    mapping: Annotated[list[str] | None, typer.Option(
        "--map", help="Column mapping for tables: canonical=source (repeatable).")] = None,
    option: Annotated[list[str] | None, typer.Option(
        "--option", help="Adapter option key=value (repeatable), e.g. encoding=latin-1.")] = None,
    pseudonymise: Annotated[str | None, typer.Option(
        "--pseudonymise", help="Key: replace author ids and names by keyed hashes (HMAC-SHA256).")] = None,
    memory_limit: Annotated[str | None, typer.Option(
        "--memory-limit",
        help="Cap DuckDB's memory for de-duplication and the account merge (default 1GB; spills beyond).")] = None,
    temp_dir: Annotated[Path | None, typer.Option(
        "--temp-dir", help="Folder for DuckDB spill files (default: inside the output's temporary folder).")] = None,
    json_out: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Read exports into one canonical dataset; every record is kept, counted as duplicate, or rejected."""
    options: dict[str, object] = dict(_parse_options(option or []))
    if mapping:
        options["map"] = parse_mapping(mapping)
    dataset = ingest_api(sources, output, format=format, append=append, pseudonymise=pseudonymise,
                         options=options, progress=RichProgress(quiet), memory_limit=memory_limit,
                         temp_dir=temp_dir)
    summary = dataset.info()
    if json_out:
        print_json(summary)
    elif not quiet:
        _print_sources(summary)
        err_console.print(f"wrote [bold]{output}[/]: {summary['posts']:,} posts, {summary['accounts']:,} "
                          f"accounts, {summary['threads']:,} threads, {summary['rejects']:,} rejects")


def info(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder.")],
    json_out: JsonOption = False,
) -> None:
    """Counts, platforms and per-source accounting (read = kept + duplicates + rejected)."""
    summary = Dataset.open(dataset).info()
    if json_out:
        print_json(summary)
        return
    grid = Table(title=str(dataset), show_header=False)
    for key in ("posts", "accounts", "threads", "authors", "communities", "rejects", "first_post_at",
                "last_post_at", "pseudonymised"):
        grid.add_row(key, f"{summary[key]:,}" if isinstance(summary[key], int) and not isinstance(
            summary[key], bool) else str(summary[key]))
    grid.add_row("platforms", ", ".join(f"{k} ({v:,})" for k, v in summary["platforms"].items()))
    out_console.print(grid)
    _print_sources(summary, console=out_console)


def formats(json_out: JsonOption = False) -> None:
    """List the input formats permadani can read."""
    rows = [{"format": cls.name, "platform": cls.platform, "description": cls.description}
            for cls in registry().values()]
    if json_out:
        print_json(rows)
        return
    table = Table("format", "platform", "description")
    for row in rows:
        table.add_row(row["format"], row["platform"], row["description"])
    out_console.print(table)


def _print_sources(summary: dict, console=err_console) -> None:
    table = Table("source", "format", "read", "kept", "duplicates", "rejected", title="sources")
    for s in summary["sources"]:
        table.add_row(s["path"], s["format"], *(f"{s[k]:,}" for k in ("read", "kept", "duplicates", "rejected")))
    console.print(table)
