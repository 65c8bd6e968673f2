"""permadani: audit the class system of social media.

The public API: ``ingest`` sources into a canonical dataset, open it with ``Dataset``, and run analyses on it.
"""

from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

from .dataset import Dataset
from .errors import (
    AdapterError,
    AnalysisError,
    EngineError,
    InputError,
    MissingDependencyError,
    PermadaniError,
    UsageError,
)
from .ingest import ingest

if TYPE_CHECKING:  # pragma: no cover
    from .analyses.audit import AuditResult, audit
    from .analyses.cards import account
    from .analyses.context import AuditParams
    from .engine import connect
    from .synthetic import SynthParams, synth

#: Names loaded on first use, so that ``import permadani`` (and every CLI start) does not import Ibis.
_LAZY = {
    "AuditResult": "analyses.audit", "audit": "analyses.audit", "account": "analyses.cards",
    "AuditParams": "analyses.context", "connect": "engine", "SynthParams": "synthetic", "synth": "synthetic",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'permadani' has no attribute {name!r}")


def info(dataset: str | Dataset) -> dict:
    """Counts, platforms and per-source accounting of a dataset (what ``permadani info`` prints)."""
    handle = dataset if isinstance(dataset, Dataset) else Dataset.open(dataset)
    return handle.info()


__all__ = [
    "AdapterError",
    "AnalysisError",
    "AuditParams",
    "AuditResult",
    "Dataset",
    "EngineError",
    "InputError",
    "MissingDependencyError",
    "PermadaniError",
    "SynthParams",
    "UsageError",
    "__version__",
    "account",
    "audit",
    "connect",
    "info",
    "ingest",
    "synth",
]
