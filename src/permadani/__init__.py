"""permadani: audit the class system of social media.

The public API: ``ingest`` sources into a canonical dataset, open it with ``Dataset``, and run analyses on it.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .analyses.audit import AuditResult, audit
from .analyses.cards import account
from .analyses.context import AuditParams
from .dataset import Dataset
from .engine import connect
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
from .synthetic import SynthParams, synth


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
