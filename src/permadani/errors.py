"""Typed errors. The library raises these; only the CLI turns them into messages and exit codes.

Every message says what went wrong, where (file and location when there is one) and what to do next.
"""

from __future__ import annotations


class PermadaniError(Exception):
    """Root of every error permadani raises on purpose."""

    exit_code = 1


class InputError(PermadaniError, ValueError):
    """A source or dataset cannot be read as asked (wrong format, truncated, unreadable)."""

    def __init__(self, message: str, *, path: object | None = None, location: str | None = None,
                 hint: str | None = None) -> None:
        self.path = str(path) if path is not None else None
        self.location = location
        self.hint = hint
        where = ""
        if self.path:
            where = f"{self.path}"
            if location:
                where += f" ({location})"
            where += ": "
        text = f"{where}{message}"
        if hint:
            text += f". {hint}"
        super().__init__(text)


class AdapterError(InputError):
    """An adapter met input it cannot make sense of as a whole (not a per-record problem)."""


class UsageError(PermadaniError, ValueError):
    """A call or option combination that cannot work (bad mapping, unknown format, bad threshold)."""

    exit_code = 2


class AnalysisError(PermadaniError):
    """An analysis cannot run on this dataset (missing columns, empty window, bad parameter)."""


class EngineError(PermadaniError):
    """The execution engine failed or is misconfigured."""


class MissingDependencyError(PermadaniError, ImportError):
    """An optional dependency is needed for this feature; the message names the install command."""
