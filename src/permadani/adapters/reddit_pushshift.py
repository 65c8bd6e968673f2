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

Accounts: one observation per author and ``ACCOUNT_ROWS`` posts: display_name = author, account_created_at = the
smallest ``author_created_utc`` seen, is_bot = true for ``AutoModerator`` and the names in ``KNOWN_BOTS`` (else
null: Reddit has no bot flag).

Two paths, same rows. The fast path cuts a decompressed chunk into lines with numpy (an Arrow string array over
the chunk's own bytes, no copy) and lets DuckDB read every line once, in one streaming query per file
(``parsed``): ``from_json`` extracts the fields above as text, and SQL marks each line *clean* (a JSON object, a
non-empty string id, a numeric or strictly numeric-string ``created_utc`` in range, an integer or null score,
strings or nulls in the string fields, a finite or absent ``author_created_utc``). Every other line (blank,
malformed, invalid UTF-8, a trailing comma that DuckDB would accept, odd types) goes through the per-line path,
which decodes it with Python's ``json`` and turns it into a row or a reject (``malformed-json``, ``invalid-utf8``,
``not-a-record``, ``missing-id``, ``bad-timestamp``, ``bad-value``); rows keep their line order. Invalid UTF-8 in
fields that are not read is ignored. A key repeated in one record: the first value counts on both paths.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from ..prefetch import prefetched
from ._io import ZSTD_WINDOW_MODES, excerpt, read_chunks
from .base import Adapter, Batch, Probe
from .reddit_records import (
    _STRINGS,
    KNOWN_BOTS,
    MAX_EPOCH,
    PLATFORM,
    RAW,
    RecordRejected,
    _authors,
    canonical_accounts,
    canonical_posts,
    empty_batch,
    raw_table,
    record_values,
)

#: Decompressed bytes per chunk (~20k comments): the unit of line splitting, of the per-line fallback and of the
#: batches handed on; a few chunks are in flight at a time, so memory does not depend on the file's size.
CHUNK_SIZE = 16 * 2**20

#: Account observations are merged over this many posts before they are emitted (fewer rows to stage and merge).
ACCOUNT_ROWS = 1_000_000
def _as_int(value: object, default: int) -> int:
    return int(value) if isinstance(value, int | str) and str(value).strip() else default


@dataclass(frozen=True)
class PushshiftOptions:
    """``chunk_size``: decompressed bytes parsed at a time (default 16 MiB); ``bots``: extra bot names,
    comma-separated; ``fast``: set false to read every line with the per-line path (for checking);
    ``zstd_window``: where the zstd window lives, ``auto`` (on disk for windows of 256 MiB and more, so a
    2 GiB-window dump does not take 2 GiB of RAM), ``disk`` or ``memory`` (faster, 2 GiB of RAM)."""

    chunk_size: int = CHUNK_SIZE
    bots: str = ""
    fast: bool = True
    zstd_window: str = "auto"

    def __post_init__(self) -> None:  # CLI options arrive as strings
        object.__setattr__(self, "chunk_size", _as_int(self.chunk_size, CHUNK_SIZE))
        if isinstance(self.fast, str):
            object.__setattr__(self, "fast", self.fast.strip().lower() not in ("0", "false", "no", "off"))
        if self.chunk_size < 1024:
            raise ValueError(f"chunk_size must be at least 1024 bytes, got {self.chunk_size}")
        if self.zstd_window not in ZSTD_WINDOW_MODES:
            raise ValueError(f"zstd_window must be one of {', '.join(ZSTD_WINDOW_MODES)}, got {self.zstd_window!r}")

    @property
    def bot_names(self) -> frozenset[str]:
        extra = {n.strip().lower() for n in str(self.bots).split(",") if n.strip()}
        return KNOWN_BOTS | extra


#: DuckDB reads every field as text: strings unescaped, other JSON values as their JSON text, null/absent as NULL.
_SPEC = json.dumps({f.name: "VARCHAR" for f in RAW})
_NUMBER_TEXT = r"-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?"  # an ASCII subset of what ``epoch_seconds`` accepts
#: First characters of DuckDB's text for a JSON value that is not a string: ``-`` and digits (numbers, ``-inf``),
#: ``{`` and ``[``, ``i I n N`` (``inf``, ``nan``: DuckDB reads them in any case). ``true``/``false`` are matched
#: whole, so that the ``t3_…`` ids need no JSON check.
_NOT_STRING_STARTS = ", ".join(str(ord(c)) for c in "-0123456789{[iInN")
#: True when a field's text may be a non-string JSON value (then the line goes to the per-line path): the text is
#: ``true``/``false``, or starts as a non-string does and is valid JSON. A string whose text is valid JSON only
#: with its leading blanks (``" 12"``) or quotes passes: DuckDB never writes a non-string that way. A ``CASE``, so
#: that ``json_valid`` (a parse and a copy of the value) runs only for texts that start like a non-string.
_MAYBE_NOT_STRING = ("CASE WHEN {field} IN ('true', 'false') THEN true "
                     f"WHEN ord({{field}}) IN ({_NOT_STRING_STARTS}) THEN json_valid({{field}}) ELSE false END")


def _clean_sql(guarded: bool = False, relaxed: bool = False) -> str:
    """One JSON parse per line of the ``lines`` table: the ``RAW`` columns plus ``_ok`` (a clean record).

    Unguarded, a malformed line makes the whole query fail (the caller then runs the ``guarded`` query, which
    validates every line first and parses only the valid ones). ``TRY`` would do the same in one query but
    re-runs every 2,048-line vector holding a bad line row by row: twice the parse cost with one bad line in
    5,000, and more on clean chunks too.

    Text alone cannot tell ``"5"`` from ``5``; it does not need to for the numbers (a number and its digits as
    a string give the same value on the per-line path too, so only plain digit text passes). A string field
    passes when its text cannot be DuckDB's text of a non-string value (``_MAYBE_NOT_STRING``). The rest is left
    to the per-line path, unless ``relaxed``: then those fields are looked up again by their JSON type (a second
    parse of that line, still several times cheaper than the per-line path), and a string that reads as JSON (an
    author called ``"1234"``), an integer ``id`` (kept as its digits) and a whole-number ``score`` written as a
    float (``3.0``, below 2⁵³) pass too.
    """
    def json_type(name: str) -> str:  # only for lines DuckDB could parse (a guarded query nulls the others)
        return f"CASE WHEN x IS NOT NULL THEN json_type(line, '$.{name}') END"

    def string(name: str, also: str = "'VARCHAR'") -> str:
        field = f"x.{name}"
        plain = f"NOT coalesce({_MAYBE_NOT_STRING.format(field=field)}, false)"
        return f"CASE WHEN {plain} THEN true ELSE {json_type(name)} IN ({also}) END" if relaxed else plain

    int_score = "regexp_full_match(x.score, '-?[0-9]+')"
    as_double = "TRY_CAST(x.score AS DOUBLE)"
    score_ok = f"x.score IS NULL OR ({int_score} AND score IS NOT NULL)"
    score = "TRY_CAST(x.score AS BIGINT)"
    if relaxed:  # CASE, not OR: DuckDB evaluates a branch only for the rows that reach it
        score_ok = (f"CASE WHEN {score_ok} THEN true ELSE ({json_type('score')} = 'DOUBLE' AND isfinite({as_double}) "
                    f"AND {as_double} = floor({as_double}) AND abs({as_double}) < {2.0**53!r}) END")
        score = f"CASE WHEN {int_score} THEN {score} ELSE TRY_CAST({as_double} AS BIGINT) END"
    ok = " AND ".join([
        "x.id <> ''", string("id", "'VARCHAR', 'BIGINT', 'UBIGINT'"),
        f"regexp_full_match(x.created_utc, '{_NUMBER_TEXT}')", "created_utc >= 0", f"created_utc < {MAX_EPOCH!r}",
        f"({score_ok})",
        f"(x.author_created_utc IS NULL OR (regexp_full_match(x.author_created_utc, '{_NUMBER_TEXT}') "
        "AND isfinite(author_created_utc)))",
        *[string(name) for name in _STRINGS],
    ])
    numbers = {"created_utc": "DOUBLE", "author_created_utc": "DOUBLE"}
    columns = [f.name if f.name in (*numbers, "score") else f"x.{f.name}" for f in RAW]
    casts = ", ".join(f"TRY_CAST(x.{name} AS {kind}) AS {name}" for name, kind in numbers.items())
    parse = f"from_json(line, '{_SPEC}')"
    if guarded:
        parse = f"CASE WHEN json_valid(line) THEN {parse} END"
    line = ", line" if relaxed else ""
    return f"""
        SELECT {', '.join(columns)}, coalesce({ok}, false) AS _ok
        FROM (SELECT x{line}, {casts}, {score} AS score FROM (SELECT {parse} AS x{line} FROM lines))
    """


#: (strict, relaxed) × (unguarded, guarded) queries; see ``_clean_sql``.
_SQL = {(relaxed, guarded): _clean_sql(guarded, relaxed) for relaxed in (False, True) for guarded in (False, True)}
#: A chunk is read again with the relaxed checks when more than this share of its lines failed the strict ones
#: (below it, the per-line path for those lines costs less than a second query over the chunk).
RELAX_SHARE = 0.25
_QUOTED_TIME = re.compile(rb'"(author_)?created_utc"\s*:\s*"')
_TRAILING_COMMA = r",[ \t\r\n]*[\]}]"  # DuckDB accepts these, Python's json does not
_local = threading.local()


#: DuckDB threads for parsing: half the cores, as decompression, staging and writing run on other threads
#: (on two cores one parse thread costs less CPU and is no slower).
PARSE_THREADS = max(1, min(4, (os.cpu_count() or 1) // 2))


def _duckdb() -> duckdb.DuckDBPyConnection:
    """This thread's DuckDB connection for the fast path."""
    con = getattr(_local, "con", None)
    if con is None:
        con = duckdb.connect(config={"threads": PARSE_THREADS, "preserve_insertion_order": True})
        _local.con = con
    return con


def _batches(lines: pa.Array, parts: int) -> pa.Table:
    """``lines`` as a one-column table of ``parts`` record batches (DuckDB scans batches in parallel)."""
    step = max(1, -(-len(lines) // parts))
    return pa.Table.from_batches([pa.record_batch([lines.slice(i, step)], names=["line"])
                                  for i in range(0, len(lines), step)] or [pa.record_batch([lines], names=["line"])])


def split_lines(chunk: bytes) -> np.ndarray:
    """Start offsets of the lines of ``chunk`` plus its length (``n + 1`` values; a line keeps its ``\\n``)."""
    data = np.frombuffer(chunk, dtype=np.uint8)
    step = 1 << 20  # small temporaries: fresh 16 MiB arrays would cost a page fault per 4 KiB
    ends = np.concatenate([np.flatnonzero(data[i:i + step] == 10) + (i + 1) for i in range(0, len(data), step)]
                          or [np.empty(0, np.int64)]).astype(np.int64, copy=False)
    offsets = np.empty(len(ends) + 2, dtype=np.int64)
    offsets[0] = 0
    offsets[1:len(ends) + 1] = ends
    if len(ends) and ends[-1] == len(chunk):
        return offsets[:-1]
    offsets[-1] = len(chunk)
    return offsets


def _unshaped(chunk: bytes, offsets: np.ndarray) -> np.ndarray:
    """Lines that do not start with ``{`` and end with ``}`` (before the newline): blank, cut short, or padded
    with spaces. The per-line path reads them (padding is legal JSON); DuckDB would fail on the others."""
    data = np.frombuffer(chunk, dtype=np.uint8)
    starts, ends = offsets[:-1], offsets[1:]
    last = ends - 1
    for byte in (10, 13):  # step back over "\n", then "\r"
        last = last - ((last >= starts) & (data[np.maximum(last, 0)] == byte))
    empty = last < starts
    safe_start = np.minimum(starts, max(len(data) - 1, 0))
    return empty | (data[safe_start] != ord("{")) | (data[np.maximum(last, 0)] != ord("}"))


def _suspects(chunk: bytes, offsets: np.ndarray, lines: pa.Array) -> np.ndarray | None:
    """Lines DuckDB must not judge (not shaped like an object; invalid UTF-8; a ``,]`` or ``,}`` that DuckDB
    tolerates), or None."""
    n = len(offsets) - 1
    bad: np.ndarray | None = None
    if n and len(chunk):
        unshaped = _unshaped(chunk, offsets)
        if unshaped.any():
            bad = unshaped
    try:
        lines.validate(full=True)  # UTF-8 of every line, at memory speed
    except pa.ArrowInvalid:
        utf8 = np.zeros(n, dtype=bool)
        for i in range(n):
            utf8[i] = _has_bad_utf8(chunk[offsets[i]:offsets[i + 1]])
        bad = utf8 if bad is None else bad | utf8
    commas = pc.match_substring_regex(lines.view(pa.large_binary()), _TRAILING_COMMA)  # RE2: memchr for ","
    if pc.any(commas).as_py():
        trailing = commas.to_numpy(zero_copy_only=False)
        bad = trailing if bad is None else bad | trailing
    return bad


@dataclass(frozen=True)
class ChunkLines:
    """A chunk split into lines for DuckDB (``chunk_lines``): ``offsets`` from ``split_lines``, ``lines`` as
    Arrow strings with every suspect line replaced by ``{}``, ``suspects`` the lines DuckDB must not judge (or
    None)."""

    chunk: bytes
    offsets: np.ndarray
    lines: pa.Array
    suspects: np.ndarray | None


def chunk_lines(chunk: bytes) -> ChunkLines:
    """Split ``chunk`` into lines and set aside the suspect ones (``_suspects``): about a seventh of
    ``vector_parse``'s CPU, done by the reading thread (``prefetch``) so that the parse thread, which sets the
    ingest's pace, does not."""
    offsets = split_lines(chunk)
    n = len(offsets) - 1
    lines = pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(chunk)])
    suspects = _suspects(chunk, offsets, lines)
    if suspects is not None:  # DuckDB sees an empty object instead (valid JSON, not clean: no id)
        lines = pc.if_else(pa.array(suspects), pa.scalar(b"{}", pa.large_binary()),
                           lines.view(pa.large_binary())).cast(pa.large_string())
    return ChunkLines(chunk, offsets, lines, suspects)


def vector_parse(chunk: bytes | ChunkLines, numeric_strings: bool = True) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """Parse a whole chunk at once: ``(raw, clean, offsets)``.

    ``raw`` has one ``RAW`` row per line (meaningful where ``clean``); lines that are not clean must be read by
    the per-line path. ``numeric_strings=False`` also leaves lines with a quoted timestamp to that path.
    ``offsets`` are the line boundaries from ``split_lines``.
    """
    prepared = chunk if isinstance(chunk, ChunkLines) else chunk_lines(chunk)
    out, guarded = _query(_duckdb(), prepared.lines, relaxed=False)
    raw, clean = _judged(prepared, out, guarded)
    if not numeric_strings:
        quoted = [m.start() for m in _QUOTED_TIME.finditer(prepared.chunk)]
        if quoted:
            clean = clean.copy()
            clean[np.searchsorted(prepared.offsets, np.asarray(quoted, dtype=np.int64), side="right") - 1] = False
    return raw, clean, prepared.offsets


def _query(con: duckdb.DuckDBPyConnection, lines: pa.Array, relaxed: bool = False, guarded: bool = False
           ) -> tuple[pa.Table, bool]:
    """The ``_clean_sql`` query over ``lines`` (rows in line order: ``preserve_insertion_order`` holds for Arrow
    scans) and whether it was the guarded one (first the unguarded one, unless ``guarded``)."""
    con.register("lines", _batches(lines, PARSE_THREADS))
    try:
        if not guarded:
            try:
                return con.sql(_SQL[relaxed, False]).to_arrow_table(), False
            except duckdb.InvalidInputException:  # a malformed line somewhere in the chunk
                pass
        return con.sql(_SQL[relaxed, True]).to_arrow_table(), True
    finally:
        con.unregister("lines")


def _judged(prepared: ChunkLines, out: pa.Table, guarded: bool) -> tuple[pa.Table, np.ndarray]:
    """``(raw, clean)`` of a chunk from the strict query's rows ``out``. When more than ``RELAX_SHARE`` of its
    lines failed the strict checks (e.g. integer ids on every line), the chunk is read again with the relaxed
    ones: one more query rather than thousands of lines on the per-line path."""
    n = len(prepared.offsets) - 1
    if out.num_rows != n:
        raise RuntimeError(f"DuckDB returned {out.num_rows} rows for {n} lines")
    suspects = prepared.suspects
    clean = np.asarray(out["_ok"].to_numpy(), dtype=bool)
    odd = n - int(clean.sum()) - (int(suspects.sum()) if suspects is not None else 0)
    if odd > RELAX_SHARE * n:
        out, _ = _query(_duckdb(), prepared.lines, relaxed=True, guarded=guarded)
        clean = np.asarray(out["_ok"].to_numpy(), dtype=bool)
    if suspects is not None:
        clean = clean & ~suspects
    raw = pa.Table.from_arrays([out[f.name].cast(f.type) for f in RAW], schema=RAW)
    return raw, clean


#: Output rows per Arrow batch of the streaming query (DuckDB reads a few chunks ahead of its output).
STREAM_BATCH = 16_384
_LINES = pa.schema([("line", pa.large_string())])


def parsed(chunks: Iterable[ChunkLines]) -> Iterator[tuple[ChunkLines, pa.Table, np.ndarray]]:
    """``(chunk, raw, clean)`` for each chunk, as ``vector_parse`` gives them, from one streaming DuckDB query
    over all the chunks rather than one query per chunk: binding and starting the query cost ~10 ms, half a
    microsecond per line of a 16 MiB chunk (a fifth of the parse, measured alone).

    A malformed line stops the query. The chunks it had taken in without returning all their rows are then
    parsed one by one (``vector_parse``, which falls back to the guarded query) and a new query goes on after
    them. An error raised by ``chunks`` itself (a damaged file) comes out unchanged, after the rows of the
    chunks before it.
    """
    upstream = iter(chunks)
    failure: list[Exception] = []

    def feed(fed: list[ChunkLines]) -> Iterator[pa.RecordBatch]:
        try:
            for item in upstream:
                fed.append(item)
                yield from _batches(item.lines, PARSE_THREADS).to_batches()
        except Exception as exc:  # kept for the caller: DuckDB would turn it into an error of its own
            failure.append(exc)

    while True:
        fed: list[ChunkLines] = []  # taken in by the query, rows not all returned yet (oldest first)
        con = _duckdb().cursor()  # its own connection: _judged may query while this result is open
        try:
            con.register("lines", pa.RecordBatchReader.from_batches(_LINES, feed(fed)))
            reader = con.sql(_SQL[False, False]).to_arrow_reader(STREAM_BATCH)
            rows = reader.schema.empty_table()
            for batch in itertools.chain(reader, [None]):  # None: the end (chunks of no lines)
                if batch is not None:
                    rows = pa.concat_tables([rows, pa.Table.from_batches([batch])])
                while fed and rows.num_rows >= (n := len(fed[0].offsets) - 1):
                    prepared = fed.pop(0)
                    raw, clean = _judged(prepared, rows.slice(0, n), guarded=False)
                    rows = rows.slice(n)
                    yield prepared, raw, clean
            if fed or rows.num_rows:
                raise RuntimeError(f"DuckDB returned {rows.num_rows} rows for the {len(fed)} last chunks")
            stopped = False
        except (duckdb.InvalidInputException, OSError) as exc:  # pyarrow's reader passes it on as an OSError
            if failure or not fed or not str(exc).startswith("Invalid Input Error"):
                raise
            stopped = True
        finally:
            con.close()
        if not stopped:
            break
        for prepared in fed:
            raw, clean, _ = vector_parse(prepared)
            yield prepared, raw, clean
    if failure:
        raise failure[0]


def fast_parse(chunk: bytes, numeric_strings: bool = False) -> pa.Table | None:
    """The ``RAW`` table of a chunk when every line is a clean record, else None (use the per-line path).

    By default a timestamp written as a numeric string makes a line unclean here (the reader itself, with
    ``vector_parse``, converts such strings in SQL).
    """
    raw, clean, _ = vector_parse(chunk, numeric_strings)
    return raw.combine_chunks() if clean.all() else None


def _chunks_with_bytes(path: Path, chunk_size: int, zstd_window: str = "auto") -> Iterator[tuple[bytes, int]]:
    """``read_chunks`` paired with the compressed bytes consumed for each chunk."""
    consumed = [0]

    def count(n: int) -> None:
        consumed[0] += n

    for chunk in read_chunks(path, count, chunk_size, zstd_window):
        used, consumed[0] = consumed[0], 0
        yield chunk, used


def prefetch(path: Path, on_bytes: Callable[[int], None] | None, chunk_size: int, depth: int = 2,
             zstd_window: str = "auto") -> Iterator[ChunkLines]:
    """Decompressed chunks split into lines (``chunk_lines``), ``depth`` ahead in a helper thread, so reading,
    decompression and line splitting overlap with parsing; a truncated stream raises here; ``on_bytes`` is
    called on the consumer's thread."""
    split = ((chunk_lines(chunk), used) for chunk, used in _chunks_with_bytes(path, chunk_size, zstd_window))
    for prepared, used in prefetched(split, depth):
        if on_bytes is not None and used:
            on_bytes(used)
        yield prepared


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
        line, held = 1, None
        authors: list[pa.Table] = []  # (author, earliest author_created_utc) per chunk, merged every ACCOUNT_ROWS
        pending = 0
        chunks = prefetch(path, on_bytes, options.chunk_size, zstd_window=options.zstd_window)
        for prepared, fast_raw, clean in parsed(chunks) if options.fast else ((c, None, None) for c in chunks):
            if fast_raw is not None and clean is not None:
                raw, lines, rejects, n_lines = self._mixed(prepared, fast_raw, clean, line, source)
            else:
                n_lines = len(prepared.offsets) - 1
                raw, lines, rejects = self._per_line(
                    _lines_of(prepared.chunk, prepared.offsets, range(n_lines), line), source)
            line += n_lines
            read = raw.num_rows + rejects.num_rows
            if read == 0:
                continue
            if held is not None:
                yield held
            authors.append(_authors(raw))
            pending += raw.num_rows
            accounts = schema.empty(schema.ACCOUNTS)
            if pending >= ACCOUNT_ROWS:
                accounts, authors, pending = canonical_accounts(pa.concat_tables(authors), bots), [], 0
            held = Batch(source=source, posts=canonical_posts(raw, source, lines), accounts=accounts,
                         rejects=rejects, read=read)
        if held is None:  # an empty file is still a source, with 0 records read
            yield empty_batch(source)
            return
        if authors:
            held = dataclasses.replace(held, accounts=pa.concat_tables(
                [held.accounts, canonical_accounts(pa.concat_tables(authors), bots)]))
        yield held

    def _mixed(self, prepared: ChunkLines, raw: pa.Table, clean: np.ndarray, first: int, source: str
               ) -> tuple[pa.Table, pa.Array, pa.Table, int]:
        """The fast path's rows (``raw``) for the ``clean`` lines of a chunk, the per-line path's for the others,
        in line order."""
        chunk, offsets = prepared.chunk, prepared.offsets
        n = len(offsets) - 1
        if clean.all():
            return raw, _lines_from(first, n), schema.empty(schema.REJECTS), n
        slow = np.flatnonzero(~clean)
        slow_raw, slow_lines, rejects = self._per_line(_lines_of(chunk, offsets, slow, first), source)
        if len(slow) <= 64:  # a few odd lines: splice their rows between slices of the fast rows (no copy)
            at = {number: row for row, number in enumerate(slow_lines.to_pylist())}
            pieces, numbers, start = [], [], 0
            for i in (*slow.tolist(), n):
                if i > start:
                    pieces.append(raw.slice(start, i - start))
                    numbers.append(np.arange(start + first, i + first))
                row = at.get(i + first)
                if row is not None:
                    pieces.append(slow_raw.slice(row, 1))
                    numbers.append(np.array([i + first]))
                start = i + 1
            return (pa.concat_tables(pieces) if pieces else raw.slice(0, 0), pa.array(np.concatenate(numbers)
                    if numbers else np.empty(0, np.int64)), rejects, n)
        keep = np.flatnonzero(clean)
        line_numbers = np.concatenate([keep + first, slow_lines.to_numpy()])
        order = pa.array(np.argsort(line_numbers, kind="stable"))
        raw = pa.concat_tables([raw.take(pa.array(keep)), slow_raw]).take(order)
        return raw.combine_chunks(), pa.array(line_numbers).take(order), rejects, n

    def _per_line(self, numbered: Iterable[tuple[int, bytes]], source: str
                  ) -> tuple[pa.Table, pa.Array, pa.Table]:
        """Slow path: decode ``(line number, raw line)`` pairs one by one, keep good records, reject the rest."""
        rows: list[list[Any]] = []
        lines: list[int] = []
        rejects: dict[str, list[Any]] = {k: [] for k in schema.REJECTS.names}

        def reject(number: int, reason: str, raw: bytes, detail: str | None) -> None:
            for key, value in (("source", source), ("format", self.name), ("location", f"line {number}"),
                               ("reason", reason), ("detail", detail or schema.REASONS.get(reason)),
                               ("excerpt", excerpt(raw))):
                rejects[key].append(value)

        for number, raw_line in numbered:
            if raw_line.endswith(b"\r"):
                raw_line = raw_line[:-1]
            if not raw_line.strip():
                continue
            try:
                record = json.loads(raw_line.decode("utf-8", "surrogateescape"), object_pairs_hook=_first_wins)
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


def _lines_of(chunk: bytes, offsets: np.ndarray, indices: Iterable[int], first: int) -> Iterator[tuple[int, bytes]]:
    """``(line number, line without its newline)`` for the given line indices of a chunk."""
    for i in indices:
        line = chunk[offsets[i]:offsets[i + 1]]
        yield first + int(i), line[:-1] if line.endswith(b"\n") else line


def _first_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict where a repeated key keeps its first value (as DuckDB's JSON reader does)."""
    return dict(reversed(pairs))


def _has_bad_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def looks_like_reddit(record: dict[str, Any]) -> bool:
    """A Pushshift-style record: ``subreddit``, ``created_utc`` and a ``body`` or ``selftext``."""
    return "subreddit" in record and "created_utc" in record and ("body" in record or "selftext" in record)
