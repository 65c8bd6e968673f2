"""Read a results folder (``summary.json`` + one Parquet file per table) written by ``permadani audit``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError

SUMMARY = "summary.json"


@dataclass
class Results:
    """The numbers a report prints: the summary dict and the result tables (read lazily from Parquet)."""

    summary: dict[str, Any]
    path: Path | None = None
    _tables: dict[str, pa.Table | Path] = field(default_factory=dict)

    @classmethod
    def open(cls, path: str | Path) -> Results:
        """Open a results folder; InputError naming the file when it is not one or is damaged."""
        root = Path(path)
        summary_path = root / SUMMARY
        if not summary_path.is_file():
            raise InputError("not a results folder (no summary.json)", path=root,
                             hint="Run 'permadani audit DATASET -o RESULTS' or pass the dataset folder itself")
        try:
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"summary.json is damaged ({exc})", path=summary_path,
                             hint="Re-run 'permadani audit' to write it again") from exc
        if not isinstance(summary, dict) or not isinstance(summary.get("sections", {}), dict):
            raise InputError("summary.json does not have the results shape (an object with 'sections')",
                             path=summary_path, hint="Re-run 'permadani audit' with this version of permadani")
        return cls(summary=summary, path=root)

    @classmethod
    def of(cls, value: Any) -> Results:
        """Accept a Results, a results folder path, or any object with ``.summary`` (and ``.tables``)."""
        if isinstance(value, Results):
            return value
        if isinstance(value, str | Path):
            return cls.open(value)
        if hasattr(value, "summary"):
            return cls(summary=value.summary, _tables=dict(getattr(value, "tables", {}) or {}))
        raise TypeError(f"cannot read results from {type(value).__name__}")

    @property
    def sections(self) -> dict[str, Any]:
        return self.summary.get("sections") or {}

    def table(self, name: str) -> pa.Table | None:
        """The result table ``name``, or None when the audit did not write it."""
        held = self._tables.get(name)
        if isinstance(held, pa.Table):
            return held
        if isinstance(held, Path):  # an audit result whose large tables the engine wrote to Parquet
            file = held
        elif self.path is None:
            return None
        else:
            file = self.path / f"{name}.parquet"
        if not file.is_file():
            return None
        try:
            table = pq.read_table(file)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"cannot read result table ({exc})", path=file,
                             hint="Re-run 'permadani audit' to write it again") from exc
        self._tables[name] = table
        return table
