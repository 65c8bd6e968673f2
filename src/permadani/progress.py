"""Progress reporting. The library reports to a sink; only the CLI draws bars (on stderr)."""

from __future__ import annotations

from typing import Protocol


class ProgressSink(Protocol):
    """Receives progress from long work: ``start`` a task with a total (bytes or rows), ``advance`` it."""

    def start(self, label: str, total: int | None, unit: str = "bytes") -> None: ...

    def advance(self, amount: int) -> None: ...

    def finish(self) -> None: ...


class NullProgress:
    """A sink that ignores everything (the library default)."""

    def start(self, label: str, total: int | None, unit: str = "bytes") -> None:
        return None

    def advance(self, amount: int) -> None:
        return None

    def finish(self) -> None:
        return None
