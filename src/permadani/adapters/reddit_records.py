"""Reddit records, one at a time and as Arrow columns: the raw fields read from a dump line or an API thing, the
per-record checks (``record_values``), and the vectorised canonical mapping shared by the Pushshift and API
adapters (``canonical_posts``, ``canonical_accounts``). See ``reddit_pushshift`` for the mapping itself.
"""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from .base import Batch

PLATFORM = "reddit"

#: The fields read from each record, with their types.
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
    return _choose(anonymous, pa.scalar(None, pa.string()), authors)


def _choose(mask: pa.ChunkedArray | pa.Array, yes: Any, no: Any) -> Any:
    """``if_else(mask, yes, no)`` that returns ``yes`` or ``no`` itself (no copy) when ``mask`` is uniform.

    A null in ``mask`` picks null, as ``if_else`` does; ``yes``/``no`` may be callables, evaluated only if needed.
    """
    n_true = pc.sum(mask).as_py() or 0
    if mask.null_count == 0 and n_true in (0, len(mask)) and len(mask):
        pick = yes if n_true else no
        pick = pick() if callable(pick) else pick
        return pa.repeat(pick, len(mask)) if isinstance(pick, pa.Scalar) else pick
    yes, no = (v() if callable(v) else v for v in (yes, no))
    return pc.if_else(mask, yes, no)


def _strip(values: pa.ChunkedArray | pa.Array, prefixes: tuple[str, ...] = ("t1_", "t3_")
           ) -> pa.ChunkedArray | pa.Array:
    """``values`` without a leading Reddit type prefix (``t1_``/``t3_``); other values unchanged."""
    if values.null_count == len(values):  # e.g. the parent ids of a chunk of submissions: nothing to look at
        return values
    prefixed = pc.starts_with(values, prefixes[0])
    for prefix in prefixes[1:]:
        prefixed = pc.or_(prefixed, pc.starts_with(values, prefix))
    prefixed = pc.fill_null(prefixed, False)  # null values stay null either way
    return _choose(prefixed, lambda: pc.utf8_slice_codeunits(values, 3), values)


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
    null_str = pa.scalar(None, pa.string())
    bare_parent = _strip(parent)

    def comment_thread() -> pa.ChunkedArray | pa.Array:
        thread = _strip(link, ("t3_",))
        if thread.null_count == 0:  # every row names its thread (as in Pushshift dumps): the parent cannot help
            return thread
        from_parent = pc.if_else(pc.starts_with(pc.fill_null(parent, ""), "t3_"), bare_parent, null_str)
        return pc.coalesce(thread, from_parent)

    def post_text() -> pa.ChunkedArray | pa.Array:
        selftext = raw["selftext"]
        has_self = pc.fill_null(pc.not_equal(selftext, ""), False)
        return _choose(has_self, lambda: pc.binary_join_element_wise(title, selftext, "\n\n"), title)

    columns = {
        "post_id": raw["id"],
        "platform": pa.repeat(platform, n),
        "community": raw["subreddit"],
        "thread_id": _choose(is_comment, comment_thread, raw["id"]),
        "parent_id": _choose(is_comment, bare_parent, null_str),
        "author_id": _named(raw["author"]),
        "created_at": _timestamps(raw["created_utc"]),
        "kind": _choose(is_comment, pa.scalar("comment"), pa.scalar("post")),
        "text": _choose(is_comment, body, post_text),
        "score": raw["score"],
        "amplifies_id": _choose(is_comment, null_str, lambda: _strip(raw["crosspost_parent"], ("t3_",))),
        "lang": pa.nulls(n, pa.string()),
        "source_file": pa.repeat(source, n),
        "source_line": source_line,
    }
    return pa.Table.from_arrays([columns[f.name] for f in schema.POSTS], schema=schema.POSTS)


def _authors(raw: pa.Table) -> pa.Table:
    """``(author, author_created_utc)``: each named author of ``raw`` once, with the earliest creation time."""
    authors = raw.select(["author", "author_created_utc"])
    authors = authors.filter(pc.is_valid(_named(authors["author"])))
    grouped = authors.group_by("author").aggregate([("author_created_utc", "min")])
    return grouped.rename_columns(["author", "author_created_utc"])


def canonical_accounts(raw: pa.Table, bots: frozenset[str], platform: str = PLATFORM) -> pa.Table:
    """One account observation per named author in ``raw`` (anonymous names dropped), sorted by name."""
    grouped = _authors(raw).sort_by("author")
    names = grouped["author"]
    n = grouped.num_rows
    bot = pc.is_in(pc.utf8_lower(names), value_set=pa.array(sorted(bots), pa.string()))
    columns = {
        "author_id": names,
        "platform": pa.repeat(platform, n),
        "display_name": names,
        "followers": pa.nulls(n, pa.int64()),
        "account_created_at": _timestamps(grouped["author_created_utc"]),
        "reputation": pa.nulls(n, pa.int64()),
        "is_bot": pc.if_else(bot, True, pa.scalar(None, pa.bool_())),
        "source_file": pa.nulls(n, pa.string()),
    }
    return pa.Table.from_arrays([columns[f.name] for f in schema.ACCOUNTS], schema=schema.ACCOUNTS)


def empty_batch(source: str) -> Batch:
    """A batch with nothing in it, so that ingest still lists an empty source (read 0)."""
    return Batch(source=source, posts=schema.empty(schema.POSTS), accounts=schema.empty(schema.ACCOUNTS),
                 rejects=schema.empty(schema.REJECTS), read=0)
