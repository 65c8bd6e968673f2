"""Staging for ingest: validate each batch, protect privacy, buffer posts into parts written in the background.

Rows arrive as Arrow batches from an adapter. Each batch is validated (empty id → ``missing-id``, no time →
``bad-timestamp``), addresses are scrubbed and address-shaped ids hashed (``privacy``), authors pseudonymised when a
key is set, and the per-source tally updated. Posts are buffered into parts of at most ``PART_ROWS`` rows (or
``PART_BYTES``), each written in arrival order by a background thread with a small key file per part;
account observations and rejects go to staging Parquet files for ``ingest`` to merge.
"""

from __future__ import annotations

import contextlib
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

#: A part of the posts table is written when this many rows (or bytes of Arrow memory) are buffered.
PART_ROWS = 500_000
PART_BYTES = 128 * 2**20
ROW_GROUP_SIZE = 122_880
#: The last buffer is written as two parts in parallel when each half has at least this many rows.
FINAL_SPLIT_ROWS = 100_000
_DICTIONARY_COLUMNS = ["platform", "community", "kind", "lang", "source_file"]
#: Progress steps after reading: last parts written, duplicates dropped, accounts merged, rejects + manifest.
FINAL_STEPS = ("parts", "duplicates", "accounts", "manifest")
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
    """Buffers tagged posts and writes each full buffer as one part, in a background thread.

    A part ``posts/part-NNNNN.parquet`` holds canonical columns only, in arrival order (no analysis depends on the
    row order, and sorting each part by community and thread cost about a sixth of the ingest's CPU at 100M
    comments, mostly in gathering every column); its key file ``keys-NNNNN.parquet`` (in the staging folder) holds
    ``platform, post_id, _order, _src, _part, _row`` (``_row`` = position in the part) for de-duplication. At most
    one part is being written while the next one fills, so memory stays near two parts; only the last buffer may
    become two parts written at once.
    """

    def __init__(self, posts_dir: Path, keys_dir: Path, first_part: int,
                 part_rows: int | None = None, part_bytes: int | None = None) -> None:
        self.posts_dir = posts_dir
        self.keys_dir = keys_dir
        self.next_part = first_part
        self.part_rows = part_rows or PART_ROWS
        self.part_bytes = part_bytes or PART_BYTES
        self.buffer: list[pa.Table] = []
        self.rows = 0
        self.bytes = 0
        self.written: list[int] = []
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[Future[None]] = []

    def add(self, tagged: pa.Table) -> None:
        self.buffer.append(tagged)
        self.rows += tagged.num_rows
        self.bytes += tagged.nbytes
        if self.rows >= self.part_rows or self.bytes >= self.part_bytes:
            self._flush()

    def _flush(self, final: bool = False) -> None:
        """Hand the buffer to the writer thread (waiting for the part before). The ``final`` buffer, written
        while nothing else runs, is split in two parts written side by side when it is large."""
        if not self.buffer:
            return
        table = pa.concat_tables(self.buffer)
        self.buffer, self.rows, self.bytes = [], 0, 0
        half = table.num_rows // 2
        pieces = [table.slice(0, half), table.slice(half)] if final and half >= FINAL_SPLIT_ROWS else [table]
        self._wait()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="permadani-parts")
        for piece in pieces:
            part = self.next_part
            self.next_part += 1
            self._pending.append(self._pool.submit(self._write_part, piece, part))
            self.written.append(part)

    def _wait(self) -> None:
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()  # re-raises a failure of the writer thread here, in the caller

    def _write_part(self, table: pa.Table, part: int) -> None:
        n = table.num_rows
        keys = pa.table({"platform": table["platform"], "post_id": table["post_id"], "_order": table["_order"],
                         "_src": table["_src"], "_part": pa.array(np.full(n, part, dtype=np.int32)),
                         "_row": pa.array(np.arange(n, dtype=np.int64))})
        pq.write_table(keys, self.keys_dir / f"keys-{part:05d}.parquet", compression="lz4")
        posts = schema.conform(table.drop_columns(["_order", "_src"]), schema.POSTS)
        write_posts(posts, self.posts_dir / f"part-{part:05d}.parquet")

    def close(self) -> None:
        try:
            self._flush(final=True)
            self._wait()
        finally:
            self.abort()

    def abort(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def keys_glob(self) -> str | None:
        return str(self.keys_dir / "keys-*.parquet") if self.written else None


def write_posts(posts: pa.Table, path: Path) -> None:
    pq.write_table(posts, path, compression="zstd", compression_level=1, row_group_size=ROW_GROUP_SIZE,
                   use_dictionary=_DICTIONARY_COLUMNS)


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


