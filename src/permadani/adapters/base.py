"""The adapter contract.

An adapter turns one kind of export into canonical rows. It is a small class with:

- ``name`` (the ``--format`` value), ``platform``, ``version`` and a one-line ``description``;
- ``Options``: a frozen dataclass of its options (``--option key=value`` / ``--map`` on the CLI);
- ``sniff(probe)``: True when the file or folder looks like its input (cheap: looks at ``probe.head``);
- ``read(path, on_bytes)``: a generator of ``Batch`` objects, streaming, never the whole file in memory.

Accounting contract, checked by ingest for every source file::

    batch.read == batch.posts.num_rows + batch.account_records + batch.rejects.num_rows

i.e. every record read becomes a post, an account record (e.g. a row of Stack Exchange's Users.xml) or a
reject with a reason code. Duplicates are found later, by ingest, across all sources.
A problem with one record is data (a reject). A problem with the whole file (wrong format, truncated
compressed stream, XML that cannot be read at all) raises ``AdapterError`` naming the file.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa

from .. import schema
from ..errors import UsageError
from ._io import excerpt, read_head


@dataclass(frozen=True)
class Probe:
    """What ``sniff`` may look at: the path, whether it is a folder, the first 64 KiB (decompressed)."""

    path: Path
    is_dir: bool
    head: bytes
    children: tuple[str, ...] = ()

    @classmethod
    def of(cls, path: Path) -> Probe:
        if path.is_dir():
            names = tuple(sorted(p.name for p in path.iterdir()))
            return cls(path=path, is_dir=True, head=b"", children=names)
        return cls(path=path, is_dir=False, head=read_head(path))

    @property
    def name(self) -> str:
        return self.path.name.lower()

    @property
    def text(self) -> str:
        """The head decoded leniently (for sniffing only), BOM and leading whitespace removed."""
        return self.head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")


@dataclass
class Batch:
    """Rows read from one source file. Tables follow ``schema.POSTS`` / ``ACCOUNTS`` / ``REJECTS``."""

    source: str
    posts: pa.Table
    accounts: pa.Table
    rejects: pa.Table
    read: int
    account_records: int = 0

    def check(self) -> None:
        """Raise AssertionError when the accounting contract does not hold (an adapter bug)."""
        accounted = self.posts.num_rows + self.account_records + self.rejects.num_rows
        if accounted != self.read:
            raise AssertionError(
                f"adapter accounting broken for {self.source}: read {self.read} but "
                f"{self.posts.num_rows} posts + {self.account_records} account records + "
                f"{self.rejects.num_rows} rejects = {accounted}"
            )


_POST_FIELDS = schema.POSTS.names
_ACCOUNT_FIELDS = schema.ACCOUNTS.names


class BatchBuilder:
    """Collects rows column-wise for adapters that parse record by record, and flushes them as Arrow.

    Use ``read += 1`` for every record met, then exactly one of ``post(...)``, ``account(..., record=True)``
    or ``reject(...)`` for it. ``account(...)`` without ``record`` adds an observation that is not a record
    (the user object embedded in a tweet). Flush when ``full``; memory stays bounded by ``batch_size``.
    """

    def __init__(self, source: Path | str, fmt: str, platform: str, batch_size: int = 20_000) -> None:
        self.source = str(source)
        self.format = fmt
        self.platform = platform
        self.batch_size = batch_size
        self.read = 0
        self._account_records = 0
        self._posts: dict[str, list[Any]] = {k: [] for k in _POST_FIELDS}
        self._accounts: dict[str, list[Any]] = {k: [] for k in _ACCOUNT_FIELDS}
        self._rejects: dict[str, list[Any]] = {k: [] for k in schema.REJECTS.names}

    @property
    def full(self) -> bool:
        return self.read >= self.batch_size

    def post(self, *, post_id: object, created_at: datetime | None, source_line: int | None,
             platform: str | None = None, source_file: str | None = None, **fields: Any) -> None:
        """Add one post. ``post_id`` is turned into a string; unknown field names are an error.

        ``source_file`` overrides the batch's source for this post (a folder source whose posts each come from
        their own file, e.g. PHEME); accounting stays with the batch's source.
        """
        unknown = set(fields) - set(_POST_FIELDS)
        if unknown:
            raise TypeError(f"unknown post fields: {sorted(unknown)}")
        row: dict[str, Any] = {k: None for k in _POST_FIELDS}
        row.update(fields)
        row["post_id"] = str(post_id)
        row["platform"] = platform or self.platform
        row["created_at"] = created_at
        row["source_file"] = source_file or self.source
        row["source_line"] = source_line
        for key in ("thread_id", "parent_id", "author_id", "amplifies_id", "community"):
            if row[key] is not None:
                row[key] = str(row[key])
        if row["thread_id"] is None and row["parent_id"] is None:
            row["thread_id"] = row["post_id"]
        for k in _POST_FIELDS:
            self._posts[k].append(row[k])

    def account(self, *, author_id: object, record: bool = False, platform: str | None = None,
                **fields: Any) -> None:
        """Add an account observation; ``record=True`` when it is the record being read (counted as kept)."""
        unknown = set(fields) - set(_ACCOUNT_FIELDS)
        if unknown:
            raise TypeError(f"unknown account fields: {sorted(unknown)}")
        row: dict[str, Any] = {k: None for k in _ACCOUNT_FIELDS}
        row.update(fields)
        row["author_id"] = str(author_id)
        row["platform"] = platform or self.platform
        for k in _ACCOUNT_FIELDS:
            self._accounts[k].append(row[k])
        if record:
            self._account_records += 1

    def reject(self, location: str, reason: str, raw: bytes | str | None = None, detail: str | None = None) -> None:
        """Record that the current record could not be kept, with a stable reason code."""
        self._rejects["source"].append(self.source)
        self._rejects["format"].append(self.format)
        self._rejects["location"].append(location)
        self._rejects["reason"].append(reason)
        self._rejects["detail"].append(detail or schema.REASONS.get(reason))
        self._rejects["excerpt"].append(excerpt(raw))

    def flush(self) -> Batch | None:
        """Return the rows collected so far as a Batch (None when nothing was read) and start afresh."""
        if self.read == 0 and not self._accounts["author_id"]:
            return None
        batch = Batch(
            source=self.source,
            posts=pa.Table.from_pydict(self._posts, schema=schema.POSTS),
            accounts=pa.Table.from_pydict(self._accounts, schema=schema.ACCOUNTS),
            rejects=pa.Table.from_pydict(self._rejects, schema=schema.REJECTS),
            read=self.read,
            account_records=self._account_records,
        )
        self.read = 0
        self._account_records = 0
        for store in (self._posts, self._accounts, self._rejects):
            for values in store.values():
                values.clear()
        return batch


@dataclass(frozen=True)
class NoOptions:
    """An adapter without options."""


class Adapter(ABC):
    """Base class of every adapter; see the module docstring for the contract."""

    name: ClassVar[str]
    platform: ClassVar[str]
    version: ClassVar[str] = "1"
    description: ClassVar[str] = ""
    #: Lower runs first when sniffing; generic adapters use high numbers so specific ones win.
    priority: ClassVar[int] = 50
    Options: ClassVar[type] = NoOptions

    def __init__(self, options: Any | None = None) -> None:
        self.options = options if options is not None else self.Options()

    @classmethod
    def options_from(cls, values: Mapping[str, Any]) -> Any:
        """Build ``Options`` from a mapping, ignoring keys that belong to other adapters' options."""
        names = {f.name for f in dataclasses.fields(cls.Options)}
        try:
            return cls.Options(**{k: v for k, v in values.items() if k in names})
        except (TypeError, ValueError) as exc:
            raise UsageError(f"bad options for format {cls.name!r}: {exc}") from exc

    @classmethod
    @abstractmethod
    def sniff(cls, probe: Probe) -> bool:
        """True when ``probe`` looks like this adapter's input."""

    def files(self, path: Path) -> list[Path]:
        """The files ``read(path)`` will consume (for progress totals); a file source is itself."""
        return [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())

    @abstractmethod
    def read(self, path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[Batch]:
        """Stream ``Batch`` objects from ``path``; call ``on_bytes(n)`` as bytes are consumed."""


@dataclass
class BatchCounter:
    """Per-source running totals kept by ingest."""

    read: int = 0
    kept: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
