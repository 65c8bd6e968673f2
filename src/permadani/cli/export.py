"""``permadani export DATASET -o DIR --to convokit``: write a dataset in another tool's format."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import UsageError
from ..export import write_corpus
from .common import JsonOption, QuietOption, err_console, print_json

#: Target formats ``--to`` accepts.
TARGETS = ("convokit",)


def export(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder (from 'permadani ingest').")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write (must not exist or be empty).")],
    to: Annotated[str, typer.Option("--to", help="Target format: convokit.")] = "convokit",
    platform: Annotated[str | None, typer.Option(
        "--platform", help="Platform to export when the dataset holds several.")] = None,
    json_out: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Export a dataset as a ConvoKit corpus (utterances, speakers, conversations)."""
    if to not in TARGETS:
        raise UsageError(f"unknown export format {to!r}; choose one of: {', '.join(TARGETS)}")
    summary = write_corpus(dataset, output, platform=platform)
    if json_out:
        print_json(summary.as_dict())
    elif not quiet:
        err_console.print(f"wrote ConvoKit corpus [bold]{summary.path}[/] ({summary.platform}): "
                          f"{summary.utterances:,} utterances, {summary.speakers:,} speakers, "
                          f"{summary.conversations:,} conversations")
