"""Shared CLI pieces: option bundles, the stderr console, progress bars, JSON output."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

#: Human output, progress and errors go to stderr; stdout carries data only.
err_console = Console(stderr=True, soft_wrap=True)
out_console = Console()

QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or notes on stderr.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout (for scripts).")]
EngineOption = Annotated[str, typer.Option("--engine", help="Execution engine: duckdb (default) or pyspark.")]


def print_json(value: Any) -> None:
    """Write ``value`` as JSON on stdout (the data channel)."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


class RichProgress:
    """A byte/row progress bar on stderr; silent when stderr is not a terminal or ``quiet``."""

    def __init__(self, quiet: bool = False) -> None:
        self.enabled = not quiet and err_console.is_terminal
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._rows = 0

    def start(self, label: str, total: int | None, unit: str = "bytes") -> None:
        if not self.enabled:
            return
        if self._progress is None:
            columns = [TextColumn("{task.description}"), BarColumn()]
            if unit == "bytes":
                columns += [DownloadColumn(), TransferSpeedColumn(), TextColumn("{task.fields[rows]:>13,} records")]
            else:
                columns += [TextColumn("{task.completed:,.0f}/{task.total:,.0f} " + unit)]
            columns += [TimeElapsedColumn(), TimeRemainingColumn()]
            self._progress = Progress(*columns, console=err_console, transient=True)
            self._progress.start()
        self._rows = 0
        self._task = self._progress.add_task(label, total=total, rows=0)

    def advance(self, amount: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, amount)

    def note(self, text: str) -> None:
        """Name the step that runs now (shown after the label)."""
        if self._progress is not None and self._task is not None:
            label = self._progress.tasks[-1].description.split(" · ")[0]
            self._progress.update(self._task, description=f"{label} · {text}")

    def rows(self, amount: int) -> None:
        """Records read so far (shown next to the bytes; optional hook called by ingest)."""
        if self._progress is not None and self._task is not None:
            self._rows += amount
            self._progress.update(self._task, rows=self._rows)

    def finish(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._task = None
