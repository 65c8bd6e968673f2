"""Reddit Pushshift / Arctic Shift dumps: newline-delimited JSON, plain or compressed (zstd with 2 GiB windows).

One JSON object per line; comment files (``RC_*``, ``*_comments``) and submission files (``RS_*``,
``*_submissions``) may even be mixed. A record with a ``title`` is a submission, otherwise a comment.

Canonical mapping (platform ``reddit``)::

    post_id    = id                                  (no t1_/t3_ prefix)
    community  = subreddit
    comment:     kind "comment", text = body,
                 parent_id = parent_id without its t1_/t3_ prefix,
                 thread_id = link_id without t3_ (else parent_id when it is a t3_)
    submission:  kind "post", thread_id = id, parent_id = null,
                 text = title + "\\n\\n" + selftext   (just title when selftext is empty),
                 amplifies_id = crosspost_parent without t3_ (a crosspost amplifies its original)
    created_at = created_utc (epoch seconds: int, float or numeric string)
    author_id  = author ([deleted]/[removed] become null at ingest)

Accounts: one observation per author and chunk: display_name = author, account_created_at = the smallest
``author_created_utc`` seen, is_bot = true for ``AutoModerator`` and the names in ``KNOWN_BOTS`` (else null:
Reddit has no bot flag).

Two paths, same rows. The fast path parses a whole decompressed chunk (cut at line boundaries) with
``pyarrow.json`` against an explicit schema of the fields above and maps columns with ``pyarrow.compute``. It
is used only when every line of the chunk is a clean record: same number of rows as lines, no blank line, valid
UTF-8 in the fields read, a non-empty id and an in-range timestamp on every row, stable types. Otherwise the
chunk is read line by line and bad lines become rejects (``malformed-json``, ``invalid-utf8``, ``not-a-record``,
``missing-id``, ``bad-timestamp``, ``bad-value``). Invalid UTF-8 in fields that are not read is ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from .. import schema
from ..prefetch import prefetched
from ._io import CHUNK, excerpt, read_chunks
from .base import Adapter, Batch, Probe

PLATFORM = "reddit"

#: The fields read from each record, with the types the fast path demands.
RAW = pa.schema([
    ("id", pa.string()),
    ("subreddit", pa.string()),
    ("author", pa.string()),
    ("created_utc", pa.float64()),
    ("score", pa.int64()),
    ("body", pa.string()),
    ("parent_id", pa.string()),
    ("link_id", pa.string()),
    ("title", pa.string()),
    ("selftext", pa.string()),
    ("crosspost_parent", pa.string()),
    ("author_created_utc", pa.float64()),
])
_STRINGS = ("subreddit", "author", "body", "parent_id", "link_id", "title", "selftext", "crosspost_parent")

#: Well-known Reddit bot accounts (compared case-insensitively). Extend with ``--option bots=name1,name2``.
KNOWN_BOTS = frozenset(name.lower() for name in (
    "AutoModerator", "BotDefense", "RemindMeBot", "WikiTextBot", "WikiSummarizerBot", "RepostSleuthBot",
    "sneakpeekbot", "TotesMessenger", "imguralbumbot", "SaveVideo", "stabbot", "AmputatorBot",
    "CommonMisspellingBot", "converter-bot", "timezone_bot", "haikusbot", "B0tRank", "GoodBot_BadBot",
    "TweetPoster", "autotldr", "Mentioned_Videos", "LinkFixerBot", "MAGIC_EYE_BOT", "VredditDownloader",
))

#: Author names that mean "nobody in particular".
ANONYMOUS = ("[deleted]", "[removed]", "")

#: Timestamps outside [1970, 10000) are not a real post time.
MAX_EPOCH = 253_402_300_800.0
_NUMBER = re.compile(r"^\s*-?\d+(\.\d*)?([eE][-+]?\d+)?\s*$")
_INT = re.compile(r"^\s*-?\d+\s*$")
_PARSE = pj.ParseOptions(explicit_schema=RAW, unexpected_field_behavior="ignore")
_READ = pj.ReadOptions(block_size=512 << 10, use_threads=True)


def _as_int(value: object, default: int) -> int:
    return int(value) if isinstance(value, int | str) and str(value).strip() else default


@dataclass(frozen=True)
class PushshiftOptions:
    """``chunk_size``: decompressed bytes parsed at a time (default 8 MiB); ``bots``: extra bot names,
    comma-separated; ``fast``: set false to read every line with the per-line path (for checking)."""

    chunk_size: int = CHUNK
    bots: str = ""
    fast: bool = True

    def __post_init__(self) -> None:  # CLI options arrive as strings
        object.__setattr__(self, "chunk_size", _as_int(self.chunk_size, CHUNK))
        if isinstance(self.fast, str):
            object.__setattr__(self, "fast", self.fast.strip().lower() not in ("0", "false", "no", "off"))
        if self.chunk_size < 1024:
            raise ValueError(f"chunk_size must be at least 1024 bytes, got {self.chunk_size}")

    @property
    def bot_names(self) -> frozenset[str]:
        extra = {n.strip().lower() for n in str(self.bots).split(",") if n.strip()}
        return KNOWN_BOTS | extra


class RecordRejected(Exception):
    """Raised by ``record_values`` for a record that cannot be kept: ``reason`` code and ``detail``."""

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail or schema.REASONS.get(reason)


def epoch_seconds(value: object) -> float | None:
    """Epoch seconds from an int, float or numeric string; None otherwise (booleans included)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and _NUMBER.match(value):
        return float(value)
    return None


def _utf8(name: str, value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RecordRejected("invalid-utf8", f"field {name!r} holds bytes that are not valid UTF-8") from exc
    return value


def record_values(record: object) -> list[Any]:
    """The ``RAW`` field values of one decoded record (a dict), in ``RAW`` order; ``RecordRejected`` when unusable.

    This is the per-record twin of the fast path: same fields, same types, same validity rules.
    """
    if not isinstance(record, dict):
        raise RecordRejected("not-a-record", f"a JSON {type(record).__name__}, not an object")
    post_id = record.get("id")
    if isinstance(post_id, int) and not isinstance(post_id, bool):
        post_id = str(post_id)
    if post_id is None or post_id == "":
        raise RecordRejected("missing-id")
    if not isinstance(post_id, str):
        raise RecordRejected("bad-value", f"id {post_id!r} is not a string")
    created = epoch_seconds(record.get("created_utc"))
    if created is None or not 0 <= created < MAX_EPOCH:
        raise RecordRejected("bad-timestamp", f"created_utc {record.get('created_utc')!r} is not epoch seconds")
    score = record.get("score")
    if isinstance(score, bool) or not (score is None or isinstance(score, int | float | str)):
        raise RecordRejected("bad-value", f"score {score!r} is not a number")
    if isinstance(score, float):
        if not score.is_integer():
            raise RecordRejected("bad-value", f"score {score!r} is not a whole number")
        score = int(score)
    elif isinstance(score, str):
        if not _INT.match(score):
            raise RecordRejected("bad-value", f"score {score!r} is not a number")
        score = int(score)
    if score is not None and not -(2**63) <= score < 2**63:
        raise RecordRejected("bad-value", f"score {score!r} is out of range")
    strings: dict[str, str | None] = {}
    for name in _STRINGS:
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            raise RecordRejected("bad-value", f"{name} is a {type(value).__name__}, not a string")
        strings[name] = None if value is None else _utf8(name, value)
    author_created = epoch_seconds(record.get("author_created_utc"))
    return [_utf8("id", post_id), strings["subreddit"], strings["author"], created, score, strings["body"],
            strings["parent_id"], strings["link_id"], strings["title"], strings["selftext"],
            strings["crosspost_parent"], author_created]


def raw_table(rows: list[list[Any]]) -> pa.Table:
    """A ``RAW`` table from ``record_values`` rows."""
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [[] for _ in RAW]
    return pa.Table.from_arrays([pa.array(col, type=f.type) for col, f in zip(columns, RAW, strict=True)],
                                schema=RAW)


def _named(authors: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Authors with the anonymous markers (``[deleted]``, ``[removed]``, empty) replaced by null."""
    anonymous = pc.is_in(authors, value_set=pa.array(ANONYMOUS, pa.string()))
    return pc.if_else(anonymous, pa.scalar(None, pa.string()), authors)


def _strip(values: pa.ChunkedArray | pa.Array, prefixes: tuple[str, ...] = ("t1_", "t3_")
           ) -> pa.ChunkedArray | pa.Array:
    """``values`` without a leading Reddit type prefix (``t1_``/``t3_``); other values unchanged."""
    prefixed = pc.starts_with(values, prefixes[0])
    for prefix in prefixes[1:]:
        prefixed = pc.or_(prefixed, pc.starts_with(values, prefix))
    return pc.if_else(prefixed, pc.utf8_slice_codeunits(values, 3), values)


def _timestamps(seconds: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    micros = pc.cast(pc.round(pc.multiply(seconds, 1_000_000.0)), pa.int64())
    return pc.cast(micros, schema.TIMESTAMP)


def canonical_posts(raw: pa.Table, source: str, source_line: pa.Array, platform: str = PLATFORM) -> pa.Table:
    """Canonical posts (``schema.POSTS``) from a ``RAW`` table; see the module docstring for the mapping."""
    n = raw.num_rows
    title, body = raw["title"], raw["body"]
    parent, link = raw["parent_id"], raw["link_id"]
    has_link = pc.or_(pc.is_valid(parent), pc.is_valid(link))
    is_comment = pc.and_(pc.is_null(title), pc.or_(pc.is_valid(body), has_link))
    parent_plain = _strip(parent)
    parent_from_thread = pc.if_else(pc.starts_with(pc.fill_null(parent, ""), "t3_"), parent_plain, None)
    comment_thread = pc.coalesce(_strip(link, ("t3_",)), parent_from_thread)
    selftext = raw["selftext"]
    has_self = pc.fill_null(pc.not_equal(selftext, ""), False)
    post_text = pc.if_else(has_self, pc.binary_join_element_wise(title, selftext, "\n\n"), title)
    null_str = pa.scalar(None, pa.string())
    columns = {
        "post_id": raw["id"],
        "platform": pa.repeat(platform, n),
        "community": raw["subreddit"],
        "thread_id": pc.if_else(is_comment, comment_thread, raw["id"]),
        "parent_id": pc.if_else(is_comment, parent_plain, null_str),
        "author_id": _named(raw["author"]),
        "created_at": _timestamps(raw["created_utc"]),
        "kind": pc.if_else(is_comment, "comment", "post"),
        "text": pc.if_else(is_comment, body, post_text),
        "score": raw["score"],
        "amplifies_id": pc.if_else(is_comment, null_str, _strip(raw["crosspost_parent"], ("t3_",))),
        "lang": pa.nulls(n, pa.string()),
        "source_file": pa.repeat(source, n),
        "source_line": source_line,
    }
    return pa.Table.from_arrays([columns[f.name] for f in schema.POSTS], schema=schema.POSTS)


def canonical_accounts(raw: pa.Table, bots: frozenset[str], platform: str = PLATFORM) -> pa.Table:
    """One account observation per named author in ``raw`` (anonymous names dropped), sorted by name."""
    authors = raw.select(["author", "author_created_utc"])
    authors = authors.filter(pc.is_valid(_named(authors["author"])))
    grouped = authors.group_by("author").aggregate([("author_created_utc", "min")]).sort_by("author")
    names = grouped["author"]
    n = grouped.num_rows
    bot = pc.is_in(pc.utf8_lower(names), value_set=pa.array(sorted(bots), pa.string()))
    columns = {
        "author_id": names,
        "platform": pa.repeat(platform, n),
        "display_name": names,
        "followers": pa.nulls(n, pa.int64()),
        "account_created_at": _timestamps(grouped["author_created_utc_min"]),
        "reputation": pa.nulls(n, pa.int64()),
        "is_bot": pc.if_else(bot, True, pa.scalar(None, pa.bool_())),
        "source_file": pa.nulls(n, pa.string()),
    }
    return pa.Table.from_arrays([columns[f.name] for f in schema.ACCOUNTS], schema=schema.ACCOUNTS)


def _line_count(chunk: bytes) -> int:
    return chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)


def fast_parse(chunk: bytes) -> pa.Table | None:
    """The ``RAW`` table of a chunk when every line is a clean record, else None (use the per-line path)."""
    if b"\n\n" in chunk or b"\n\r\n" in chunk or chunk[:1] in (b"\n", b"\r"):
        return None  # blank lines would shift line numbers
    try:
        raw = pj.read_json(pa.BufferReader(chunk), read_options=_READ, parse_options=_PARSE)
        if raw.num_rows != _line_count(chunk):
            return None
        raw.validate(full=True)  # UTF-8 of the string columns read
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    ids, created = raw["id"], raw["created_utc"]
    if ids.null_count or created.null_count or pc.any(pc.equal(ids, "")).as_py():
        return None
    low_high = pc.min_max(created).as_py()
    if not (low_high["min"] >= 0 and low_high["max"] < MAX_EPOCH):
        return None
    return raw.combine_chunks()


_ZSTD_IN = 256 << 10


def _chunks_with_bytes(path: Path, chunk_size: int) -> Iterator[tuple[bytes, int]]:
    """``read_chunks`` paired with the compressed bytes consumed for each chunk."""
    consumed = [0]

    def count(n: int) -> None:
        consumed[0] += n

    for chunk in read_chunks(path, count, chunk_size):
        used, consumed[0] = consumed[0], 0
        yield chunk, used


def prefetch(path: Path, on_bytes: Callable[[int], None] | None, chunk_size: int, depth: int = 2
             ) -> Iterator[bytes]:
    """Decompressed chunks read ``depth`` ahead in a helper thread, so reading and decompression overlap with
    parsing; a truncated stream raises here; ``on_bytes`` is called on the consumer's thread."""
    for chunk, used in prefetched(_chunks_with_bytes(path, chunk_size), depth):
        if on_bytes is not None and used:
            on_bytes(used)
        yield chunk


def empty_batch(source: str) -> Batch:
    """A batch with nothing in it, so that ingest still lists an empty source (read 0)."""
    return Batch(source=source, posts=schema.empty(schema.POSTS), accounts=schema.empty(schema.ACCOUNTS),
                 rejects=schema.empty(schema.REJECTS), read=0)


def _lines_from(first: int, n: int) -> pa.Array:
    return pa.array(np.arange(first, first + n, dtype=np.int64))


class PushshiftAdapter(Adapter):
    """Reddit comments/submissions as Pushshift or Arctic Shift ndjson (plain, .zst, .gz, .bz2, .xz)."""

    name = "reddit-pushshift"
    platform = PLATFORM
    version = "1"
    description = "Reddit Pushshift/Arctic Shift dumps: RC_/RS_ ndjson, plain or zstd (2 GiB window) compressed"
    priority = 20
    Options = PushshiftOptions

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        if probe.is_dir or not probe.head:
            return False
        text = probe.text
        if not text.startswith("{"):
            return False
        first, newline, _ = text.partition("\n")
        if newline:
            try:
                record = json.loads(first)
            except ValueError:
                return False
            return isinstance(record, dict) and looks_like_reddit(record)
        # one very long first line: look for the keys in the raw text (an API listing starts with "kind")
        if re.match(r'\{\s*"kind"\s*:', text):
            return False
        return all(f'"{k}"' in text for k in ("subreddit", "created_utc")) and (
            '"body"' in text or '"selftext"' in text)

    def read(self, path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[Batch]:
        options: PushshiftOptions = self.options
        source = str(path)
        bots = options.bot_names
        line, yielded = 1, False
        for chunk in prefetch(path, on_bytes, options.chunk_size):
            n_lines = _line_count(chunk)
            raw = fast_parse(chunk) if options.fast else None
            if raw is not None:
                lines = _lines_from(line, raw.num_rows)
                rejects = schema.empty(schema.REJECTS)
            else:
                raw, lines, rejects = self._per_line(chunk, line, source)
            line += n_lines
            read = raw.num_rows + rejects.num_rows
            if read == 0:
                continue
            yielded = True
            yield Batch(source=source, posts=canonical_posts(raw, source, lines),
                        accounts=canonical_accounts(raw, bots), rejects=rejects, read=read)
        if not yielded:  # an empty file is still a source, with 0 records read
            yield empty_batch(source)

    def _per_line(self, chunk: bytes, first: int, source: str) -> tuple[pa.Table, pa.Array, pa.Table]:
        """Slow path: decode line by line, keep good records, reject the rest with a reason."""
        rows: list[list[Any]] = []
        lines: list[int] = []
        rejects: dict[str, list[Any]] = {k: [] for k in schema.REJECTS.names}

        def reject(number: int, reason: str, raw: bytes, detail: str | None) -> None:
            for key, value in (("source", source), ("format", self.name), ("location", f"line {number}"),
                               ("reason", reason), ("detail", detail or schema.REASONS.get(reason)),
                               ("excerpt", excerpt(raw))):
                rejects[key].append(value)

        for offset, raw_line in enumerate(chunk.split(b"\n")):
            number = first + offset
            if raw_line.endswith(b"\r"):
                raw_line = raw_line[:-1]
            if not raw_line.strip():
                continue
            try:
                record = json.loads(raw_line.decode("utf-8", "surrogateescape"))
            except (ValueError, RecursionError) as exc:
                reason = "invalid-utf8" if _has_bad_utf8(raw_line) else "malformed-json"
                reject(number, reason, raw_line, str(exc) if reason == "malformed-json" else None)
                continue
            try:
                rows.append(record_values(record))
            except RecordRejected as exc:
                reject(number, exc.reason, raw_line, exc.detail)
                continue
            lines.append(number)
        return (raw_table(rows), pa.array(lines, pa.int64()),
                pa.Table.from_pydict(rejects, schema=schema.REJECTS))


def _has_bad_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def looks_like_reddit(record: dict[str, Any]) -> bool:
    """A Pushshift-style record: ``subreddit``, ``created_utc`` and a ``body`` or ``selftext``."""
    return "subreddit" in record and "created_utc" in record and ("body" in record or "selftext" in record)
