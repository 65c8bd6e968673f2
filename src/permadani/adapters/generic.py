"""Generic tables: CSV/TSV, JSON lines and Parquet files with a column mapping to the canonical posts schema.

Columns are matched by canonical name unless mapped: ``--map parent_id=in_reply_to --map author_id=user``.
``post_id`` and ``created_at`` are required (after mapping); timestamps may be epoch seconds/ms or ISO 8601.
A CSV/JSONL that *is* a canonical posts export (same column names) needs no mapping.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from ..errors import AdapterError, UsageError
from ..schema import POSTS
from ._io import iter_lines, open_binary, parse_time
from .base import Adapter, Batch, BatchBuilder, Probe

_TEXT_FIELDS = ("post_id", "platform", "community", "thread_id", "parent_id", "author_id", "kind", "text",
                "amplifies_id", "lang")
_SETTABLE = set(POSTS.names) - {"source_file", "source_line"}
csv.field_size_limit(64 * 1024 * 1024)  # long posts are real; the default 128 KiB limit rejects them


@dataclass(frozen=True)
class GenericOptions:
    """``map``: canonical column → source column; ``platform`` and ``community`` fill absent columns;
    ``encoding`` for CSV (``latin-1`` for files that are not UTF-8); ``delimiter`` for CSV (sniffed: , or tab).
    """

    map: Mapping[str, str] = field(default_factory=dict)
    platform: str = "generic"
    community: str | None = None
    encoding: str = "utf-8"
    delimiter: str | None = None

    def __post_init__(self) -> None:
        unknown = set(self.map) - _SETTABLE
        if unknown:
            raise ValueError(f"--map names unknown canonical columns {sorted(unknown)}; "
                             f"choose from {sorted(_SETTABLE)}")


class _Mapper:
    """Turns one source record (a dict of strings/values) into canonical post fields."""

    def __init__(self, options: GenericOptions, columns: list[str], path: Path) -> None:
        self.options = options
        self.source_of = {name: options.map.get(name, name) for name in _SETTABLE}
        missing = [c for c in ("post_id", "created_at") if self.source_of[c] not in columns]
        if columns and missing:
            raise AdapterError(
                f"required columns {missing} not found (columns: {columns[:20]})", path=path,
                hint="Map them, e.g. --map post_id=id --map created_at=timestamp",
            )

    def add(self, builder: BatchBuilder, record: Mapping[str, Any], location: str, line: int, raw: Any) -> None:
        def get(name: str) -> Any:
            value = record.get(self.source_of[name])
            return None if value == "" else value

        post_id = get("post_id")
        if post_id is None:
            builder.reject(location, "missing-id", raw)
            return
        created = parse_time(get("created_at"))
        if created is None:
            builder.reject(location, "bad-timestamp", raw, f"cannot read {get('created_at')!r} as a time")
            return
        score = get("score")
        try:
            score = None if score is None else int(float(score))
        except (TypeError, ValueError):
            builder.reject(location, "bad-value", raw, f"score {score!r} is not a number")
            return
        fields = {name: (None if get(name) is None else str(get(name))) for name in _TEXT_FIELDS}
        fields["platform"] = fields["platform"] or self.options.platform
        fields["community"] = fields["community"] or self.options.community
        fields.pop("post_id")
        builder.post(post_id=post_id, created_at=created, source_line=line, score=score, **fields)


class GenericTableAdapter(Adapter):
    """CSV, TSV, JSON lines or Parquet with canonical (or mapped) column names."""

    name = "table"
    platform = "generic"
    description = "CSV/TSV/JSONL/Parquet with a column mapping (--map canonical=source)"
    priority = 90
    Options = GenericOptions

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        if probe.is_dir:
            return False
        if probe.head.startswith(b"PAR1"):
            return True
        suffixes = [s.lower() for s in probe.path.suffixes]
        return any(s in (".csv", ".tsv", ".jsonl", ".ndjson", ".parquet") for s in suffixes)

    def read(self, path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[Batch]:
        options: GenericOptions = self.options
        with open(path, "rb") as fh:
            magic = fh.read(4)
        suffixes = [s.lower() for s in path.suffixes]
        if magic == b"PAR1":
            yield from self._parquet(path, options, on_bytes)
        elif ".jsonl" in suffixes or ".ndjson" in suffixes or ".json" in suffixes:
            yield from self._jsonl(path, options, on_bytes)
        else:
            yield from self._csv(path, options, on_bytes)

    def _parquet(self, path: Path, options: GenericOptions, on_bytes: Callable[[int], None] | None
                 ) -> Iterator[Batch]:
        try:
            pf = pq.ParquetFile(path)
        except Exception as exc:
            raise AdapterError(f"not a readable Parquet file ({exc})", path=path) from exc
        mapper = _Mapper(options, pf.schema_arrow.names, path)
        builder = BatchBuilder(path, self.name, options.platform)
        row = 0
        for record_batch in pf.iter_batches(batch_size=20_000):
            for record in record_batch.to_pylist():
                row += 1
                builder.read += 1
                mapper.add(builder, record, f"row {row}", row, json.dumps(record, default=str)[:300])
            if on_bytes:
                on_bytes(record_batch.nbytes)
            if builder.full and (batch := builder.flush()):
                yield batch
        if batch := builder.flush():
            yield batch

    def _jsonl(self, path: Path, options: GenericOptions, on_bytes: Callable[[int], None] | None
               ) -> Iterator[Batch]:
        builder = BatchBuilder(path, self.name, options.platform)
        mapper: _Mapper | None = None
        for number, raw in iter_lines(path, on_bytes):
            if not raw.strip():
                continue
            builder.read += 1
            location = f"line {number}"
            try:
                record = json.loads(raw)
            except UnicodeDecodeError:
                builder.reject(location, "invalid-utf8", raw)
                continue
            except (ValueError, RecursionError) as exc:
                builder.reject(location, "malformed-json", raw, str(exc) or "nested too deeply")
                continue
            if not isinstance(record, dict):
                builder.reject(location, "not-a-record", raw)
                continue
            if mapper is None:
                mapper = _Mapper(options, [], path)
            mapper.add(builder, record, location, number, raw)
            if builder.full and (batch := builder.flush()):
                yield batch
        if batch := builder.flush():
            yield batch

    def _csv(self, path: Path, options: GenericOptions, on_bytes: Callable[[int], None] | None
             ) -> Iterator[Batch]:
        builder = BatchBuilder(path, self.name, options.platform)
        with open_binary(path, on_bytes) as binary:
            text = io.TextIOWrapper(binary, encoding=options.encoding, errors="surrogateescape", newline="")
            first = text.readline()
            if first.startswith("\ufeff"):
                first = first[1:]
            if not first.strip():
                return
            delimiter = options.delimiter or ("\t" if first.count("\t") > first.count(",") else ",")
            try:
                header = next(csv.reader([first], delimiter=delimiter))
            except csv.Error as exc:
                raise AdapterError(f"the header line is not CSV ({exc})", path=path, location="line 1",
                                   hint="Check the file is a CSV/TSV table, or force another --format") from exc
            mapper = _Mapper(options, header, path)
            reader = csv.reader(text, delimiter=delimiter)
            start = 2
            while True:
                try:
                    values = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    builder.read += 1
                    builder.reject(f"line {start}", "malformed-csv", None, str(exc))
                    start = reader.line_num + 2
                    continue
                line = start
                start = reader.line_num + 2
                if not values:
                    continue
                builder.read += 1
                raw = delimiter.join(values)
                location = f"line {line}"
                if any("\udc80" <= ch <= "\udcff" for v in values for ch in v):
                    builder.reject(location, "invalid-utf8", raw.encode("utf-8", "surrogateescape"),
                                   f"not valid {options.encoding}; try --option encoding=latin-1")
                    continue
                if len(values) != len(header):
                    builder.reject(location, "malformed-csv", raw,
                                   f"{len(values)} fields where the header has {len(header)}")
                    continue
                mapper.add(builder, dict(zip(header, values, strict=True)), location, line, raw)
                if builder.full and (batch := builder.flush()):
                    yield batch
        if batch := builder.flush():
            yield batch


def parse_mapping(items: list[str]) -> dict[str, str]:
    """``["parent_id=in_reply_to", ...]`` → ``{"parent_id": "in_reply_to"}``; UsageError on a bad item."""
    mapping: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise UsageError(f"--map expects canonical=source, got {item!r}")
        mapping[key.strip()] = value.strip()
    return mapping
