"""Staging for ingest: validate each batch, protect privacy, buffer posts into parts written in the background.

Rows arrive as Arrow batches from an adapter. Each batch is validated (empty id → ``missing-id``, no time →
``bad-timestamp``), addresses are scrubbed and address-shaped ids hashed (``privacy``), authors pseudonymised when a
key is set, and the per-source tally updated. Posts stream into parts of about ``PART_ROWS`` rows (or
``PART_BYTES``), a row group at a time, written in arrival order by a background thread with a small key file per
part; account observations and rejects go to staging Parquet files for ``ingest`` to merge.
"""

from __future__ import annotations

import contextlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import privacy, schema
from .adapters.base import Batch

#: Author values that mean "nobody in particular": kept as posts, never treated as one person.
ANONYMOUS_AUTHORS = ("[deleted]", "[removed]", "", "null", "None", "deleted", "anonymous")

#: A part of the posts table is closed when it holds this many rows (or bytes of Arrow memory).
PART_ROWS = 500_000
PART_BYTES = 128 * 2**20
#: Rows are handed to the part writer a row group at a time: this many rows (DuckDB's row group size) or bytes.
ROW_GROUP_SIZE = 122_880
GROUP_BYTES = 48 * 2**20
#: Row groups handed to the writer thread and not yet written, at most (reading waits beyond that).
GROUPS_IN_FLIGHT = 2
_DICTIONARY_COLUMNS = ["platform", "community", "kind", "lang", "source_file"]
_STATISTICS_COLUMNS = [name for name in schema.POSTS.names if name != "text"]
#: Progress steps after reading: last row group written, duplicates dropped, accounts merged, rejects + manifest.
FINAL_STEPS = ("parts", "duplicates", "accounts", "manifest")
#: The key file of a part: what de-duplication reads instead of the posts.
_KEYS = pa.schema([("platform", pa.string()), ("post_id", pa.string()), ("_order", pa.int64()),
                   ("_src", pa.int32()), ("_part", pa.int32()), ("_row", pa.int64())])
#: Any of the address patterns: text that does not match is left untouched (saves four regex passes).
_ANY_ADDRESS = "|".join(f"(?:{p})" for p in (privacy.EMAIL_PATTERN, privacy.EMAIL_AT_PATTERN,
                                             privacy.IPV4_PATTERN, privacy.IPV6_PATTERN))


@dataclass
class SourceTally:
    """Accounting for one source file."""

    path: str
    format: str
    adapter_version: str
    platform: str
    read: int = 0
    candidates: int = 0  # posts + account records that passed validation, before de-duplication
    rejected: int = 0
    duplicates: int = 0
    bytes: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def kept(self) -> int:
        return self.candidates - self.duplicates

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "format": self.format, "adapter_version": self.adapter_version,
            "platform": self.platform, "read": self.read, "kept": self.kept, "duplicates": self.duplicates,
            "rejected": self.rejected, "bytes": self.bytes, "reasons": dict(sorted(self.reasons.items())),
        }


class Stage:
    """Posts go to final parts (via ``_PartWriter``); accounts and rejects to staging Parquet files.

    Staged rows carry ``_order`` (global arrival order) and ``_src`` (source index).
    """

    def __init__(self, folder: Path, key: bytes | None, posts_dir: Path, first_part: int) -> None:
        folder.mkdir(parents=True)
        self.folder = folder
        self.key = key
        self.address_key: bytes | None = None
        self.order = 0
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.parts = _PartWriter(posts_dir, folder, first_part)

    def _tagged(self, table: pa.Table, src: int) -> pa.Table:
        n = table.num_rows
        table = table.append_column("_order", pa.array(np.arange(self.order, self.order + n, dtype=np.int64)))
        table = table.append_column("_src", pa.array(np.full(n, src, dtype=np.int32)))
        self.order += n
        return table

    def _write(self, name: str, table: pa.Table, src: int) -> None:
        if table.num_rows == 0:
            return
        table = self._tagged(table, src)
        writer = self.writers.get(name)
        if writer is None:
            writer = pq.ParquetWriter(self.folder / f"{name}.parquet", table.schema, compression="zstd")
            self.writers[name] = writer
        writer.write_table(table)

    def add(self, batch: Batch, tally: SourceTally, src: int) -> None:
        posts, invalid = _validate_posts(batch.posts, batch.source)
        rejects = pa.concat_tables([batch.rejects, invalid]) if invalid.num_rows else batch.rejects
        posts, accounts, rejects = self._protect(posts, batch.accounts, rejects)
        accounts = accounts.filter(pc.is_valid(accounts["author_id"]))
        tally.read += batch.read
        tally.rejected += rejects.num_rows
        tally.candidates += posts.num_rows + batch.account_records
        for reason, count in _value_counts(rejects["reason"]).items():
            tally.reasons[reason] = tally.reasons.get(reason, 0) + count
        if posts.num_rows:
            self.parts.add(self._tagged(posts, src))
        self._write("accounts", accounts, src)
        self._write("rejects", rejects, src)

    def _protect(self, posts: pa.Table, accounts: pa.Table, rejects: pa.Table) -> tuple[pa.Table, ...]:
        """Scrub addresses from text, hash address-shaped ids, pseudonymise authors when a key is set."""
        if self.address_key is None:
            self.address_key = self.key or privacy.address_key()
        akey = self.address_key
        posts = _set(posts, "text", _scrub(posts["text"]))
        posts = _set(posts, "author_id", privacy.hash_addresses(_anonymous_to_null(posts["author_id"]), akey))
        accounts = _set(accounts, "author_id",
                        privacy.hash_addresses(_anonymous_to_null(accounts["author_id"]), akey))
        accounts = _set(accounts, "display_name",
                        _scrub(privacy.hash_addresses(accounts["display_name"], akey)))
        rejects = _set(rejects, "excerpt", _scrub(rejects["excerpt"]))
        if self.key is not None:
            posts = _set(posts, "author_id", privacy.pseudonymise(posts["author_id"], self.key))
            accounts = _set(accounts, "author_id", privacy.pseudonymise(accounts["author_id"], self.key))
            accounts = _set(accounts, "display_name", privacy.pseudonymise(accounts["author_id"], self.key))
        return posts, accounts, rejects

    def close(self) -> None:
        self.parts.close()
        for writer in self.writers.values():
            writer.close()

    def abort(self) -> None:
        """Stop the background writer after a failure (its files are removed with the temporary folder)."""
        self.parts.abort()
        for writer in self.writers.values():
            with contextlib.suppress(Exception):  # the folder is being deleted anyway
                writer.close()

    def path(self, name: str) -> Path | None:
        p = self.folder / f"{name}.parquet"
        return p if p.exists() else None


class _PartWriter:
    """Streams tagged posts into parts, one row group at a time, written in order by a background thread.

    A part ``posts/part-NNNNN.parquet`` holds canonical columns only, in arrival order (no analysis depends on the
    row order, and sorting each part by community and thread cost about a sixth of the ingest's CPU at 100M
    comments, mostly in gathering every column); its key file ``keys-NNNNN.parquet`` (in the staging folder) holds
    ``platform, post_id, _order, _src, _part, _row`` (``_row`` = position in the part) for de-duplication.

    Rows are buffered until a row group is full (``ROW_GROUP_SIZE`` rows or ``GROUP_BYTES``, or the rows the part
    still takes), then handed to the writer thread, which appends the group to the open part and closes the part
    once it holds ``PART_ROWS`` rows or ``PART_BYTES``. At most ``GROUPS_IN_FLIGHT`` groups wait for the writer,
    so memory stays near a few row groups, and only the last group is written after reading ends.
    """

    def __init__(self, posts_dir: Path, keys_dir: Path, first_part: int,
                 part_rows: int | None = None, part_bytes: int | None = None) -> None:
        self.posts_dir = posts_dir
        self.keys_dir = keys_dir
        self.part_rows = part_rows or PART_ROWS
        self.part_bytes = part_bytes or PART_BYTES
        self.buffer: list[pa.Table] = []
        self.rows = 0  # buffered, not yet handed to the writer
        self.bytes = 0
        self.part = first_part  # the part being filled
        self.part_filled = 0  # rows of that part handed to the writer
        self.part_filled_bytes = 0
        self.written: list[int] = []
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[Future[None]] = deque()
        self._open: tuple[pq.ParquetWriter, pq.ParquetWriter] | None = None  # used by the writer thread only

    def add(self, tagged: pa.Table) -> None:
        self.buffer.append(tagged)
        self.rows += tagged.num_rows
        self.bytes += tagged.nbytes
        while self.rows >= min(ROW_GROUP_SIZE, self.part_rows - self.part_filled) or self.bytes >= GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        """Hand up to ``ROW_GROUP_SIZE`` buffered rows to the writer thread as one row group of the current part
        (the rows beyond stay buffered, so row groups have DuckDB's size)."""
        if not self.buffer:
            return
        buffered = pa.concat_tables(self.buffer)
        group = buffered.slice(0, ROW_GROUP_SIZE)
        rest = buffered.slice(ROW_GROUP_SIZE)
        self.buffer, self.rows, self.bytes = ([rest], rest.num_rows, rest.nbytes) if rest.num_rows else ([], 0, 0)
        part, first_row = self.part, self.part_filled
        if first_row == 0:
            self.written.append(part)
        self.part_filled += group.num_rows
        self.part_filled_bytes += group.nbytes
        last = self.part_filled >= self.part_rows or self.part_filled_bytes >= self.part_bytes
        if last:
            self.part, self.part_filled, self.part_filled_bytes = part + 1, 0, 0
        while len(self._pending) >= GROUPS_IN_FLIGHT:
            self._pending.popleft().result()  # re-raises a failure of the writer thread here, in the caller
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="permadani-parts")
        self._pending.append(self._pool.submit(self._write_group, group, part, first_row, last))

    def _write_group(self, group: pa.Table, part: int, first_row: int, last: bool) -> None:
        n = group.num_rows
        keys = schema.conform(pa.table({
            "platform": group["platform"], "post_id": group["post_id"], "_order": group["_order"],
            "_src": group["_src"], "_part": pa.array(np.full(n, part, dtype=np.int32)),
            "_row": pa.array(np.arange(first_row, first_row + n, dtype=np.int64))}), _KEYS)
        if self._open is None:
            self._open = (keys_writer(self.keys_dir / f"keys-{part:05d}.parquet"),
                          posts_writer(self.posts_dir / f"part-{part:05d}.parquet"))
        key_writer, post_writer = self._open
        key_writer.write_table(keys)
        post_writer.write_table(schema.conform(group.drop_columns(["_order", "_src"]), schema.POSTS),
                                row_group_size=ROW_GROUP_SIZE)
        if last:
            self._close_part()

    def _close_part(self) -> None:
        opened, self._open = self._open, None
        if opened is not None:
            for writer in opened:
                writer.close()

    def close(self) -> None:
        try:
            while self.buffer:
                self._flush()
            while self._pending:
                self._pending.popleft().result()
            self._close_part()  # the writer thread is idle now
        finally:
            self.abort()

    def abort(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        with contextlib.suppress(Exception):  # after a failure: the folder is being deleted anyway
            self._close_part()

    def keys_glob(self) -> str | None:
        return str(self.keys_dir / "keys-*.parquet") if self.written else None


def posts_writer(path: Path) -> pq.ParquetWriter:
    """A Parquet writer for a posts file (zstd level 1, dictionaries for the repetitive columns, no min/max of
    the text: nothing reads it, and it cost ~4 % of writing the parts)."""
    return pq.ParquetWriter(path, schema.POSTS, compression="zstd", compression_level=1,
                            use_dictionary=_DICTIONARY_COLUMNS, write_statistics=_STATISTICS_COLUMNS)


def keys_writer(path: Path) -> pq.ParquetWriter:
    """A Parquet writer for a part's key file (LZ4, read once by de-duplication): a dictionary for ``platform``
    only and no statistics. Dictionaries for the unique ids and row numbers too (the default) made writing the
    key files 2.2 times as costly (0.17 against 0.08 CPU-µs per row) and the files half as large again."""
    return pq.ParquetWriter(path, _KEYS, compression="lz4", use_dictionary=["platform"], write_statistics=False)


def write_posts(posts: pa.Table, path: Path) -> None:
    with posts_writer(path) as writer:
        writer.write_table(posts, row_group_size=ROW_GROUP_SIZE)


def _scrub(values: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """``privacy.scrub_text`` applied only to the values that contain an address (one cheap regex pass first)."""
    if len(values) == 0 or values.null_count == len(values):
        return values
    hit = pc.fill_null(pc.match_substring_regex(values, _ANY_ADDRESS), False)
    n_hit = pc.sum(hit).as_py() or 0
    if n_hit == 0:
        return values
    if n_hit == len(values):
        return privacy.scrub_text(values)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
        hit = hit.combine_chunks() if isinstance(hit, pa.ChunkedArray) else hit
    return pc.replace_with_mask(values, hit, privacy.scrub_text(values.filter(hit)))


def _set(table: pa.Table, name: str, values: pa.Array | pa.ChunkedArray) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), table.schema.field(name), values)


def _anonymous_to_null(values: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    anonymous = pc.is_in(values, value_set=pa.array(ANONYMOUS_AUTHORS))
    if not pc.any(anonymous).as_py():
        return values  # nothing to replace: no copy
    return pc.if_else(anonymous, pa.scalar(None, pa.string()), values)


def _value_counts(values: pa.ChunkedArray) -> dict[str, int]:
    if len(values) == 0:
        return {}
    counts = pc.value_counts(values)
    return {str(v["values"]): int(v["counts"]) for v in counts.to_pylist()}


def _validate_posts(posts: pa.Table, source: str) -> tuple[pa.Table, pa.Table]:
    """Split posts into valid ones and rejects (empty id → missing-id, no timestamp → bad-timestamp)."""
    if posts.num_rows == 0:
        return posts, schema.empty(schema.REJECTS)
    missing_id = pc.or_kleene(pc.is_null(posts["post_id"]), pc.equal(posts["post_id"], ""))
    missing_id = pc.fill_null(missing_id, True)
    missing_time = pc.is_null(posts["created_at"])
    bad = pc.or_(missing_id, missing_time)
    if not pc.any(bad).as_py():
        return posts, schema.empty(schema.REJECTS)
    bad_rows = posts.filter(bad)
    reasons = pc.if_else(pc.filter(missing_id, bad), "missing-id", "bad-timestamp")
    locations = pc.binary_join_element_wise("record ", pc.cast(bad_rows["source_line"], pa.string()), "")
    rejects = pa.table({
        "source": bad_rows["source_file"],
        "format": pa.nulls(bad_rows.num_rows, pa.string()),
        "location": pc.fill_null(locations, "record ?"),
        "reason": reasons,
        "detail": pa.nulls(bad_rows.num_rows, pa.string()),
        "excerpt": pc.utf8_slice_codeunits(pc.fill_null(bad_rows["text"], ""), 0, schema.EXCERPT_CHARS),
    }, schema=schema.REJECTS)
    return posts.filter(pc.invert(bad)), rejects


