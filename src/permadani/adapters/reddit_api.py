"""Reddit API JSON, as saved from reddit.com's ``.json`` endpoints (or the OAuth API).

Shapes follow Reddit's own documentation: the JSON wiki (https://github.com/reddit-archive/reddit/wiki/JSON:
things are ``{"kind": ..., "data": {...}}``; a ``Listing`` holds things in ``data.children``) and the API
reference (https://www.reddit.com/dev/api: ``GET /r/{sub}/new`` returns a Listing of ``t3`` links;
``GET /comments/{article}`` returns a two-element array ``[listing of the t3, listing of t1 comments]`` whose
comments nest their answers in ``data.replies`` — another Listing, or ``""`` when there are none; ``more``
things stand for comments that were not sent).

A file is one JSON document (a Listing, a comments array, or a single thing), or JSON lines with one such
document per line (a scraper's log of responses). Every thing met, in document order, is one record:

- ``t3`` (submission) and ``t1`` (comment) become posts with the same mapping as ``reddit-pushshift``
  (ids without prefixes, ``parent_id``/``link_id`` stripped of ``t1_``/``t3_``, text = title + selftext);
- ``t2`` (account, from ``/user/{name}/about.json``) is an account record: ``reputation`` = ``total_karma``
  (else ``link_karma + comment_karma``), ``account_created_at`` = ``created_utc``;
- ``more`` stubs are rejected with ``more-stub`` (the comments they name were never fetched);
- other kinds (messages, subreddits, awards) are rejected with ``unsupported-kind``.

``source_line`` is the thing's 1-based index in document order; reject locations read ``thing N`` (``line L,
thing N`` for JSON lines). A whole document is parsed at once (API responses are small); JSON lines stream.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from .. import schema
from ..errors import AdapterError
from ._io import BOM, excerpt, iter_lines, open_binary
from .base import Adapter, Batch, Probe
from .reddit_records import (
    ANONYMOUS,
    KNOWN_BOTS,
    MAX_EPOCH,
    PLATFORM,
    RecordRejected,
    canonical_accounts,
    canonical_posts,
    empty_batch,
    epoch_seconds,
    raw_table,
    record_values,
)

BATCH_THINGS = 20_000
_START = re.compile(r'^\[?\s*\{\s*"(kind|data)"\s*:')
_THING = re.compile(r'"kind"\s*:\s*"(Listing|t[1-6]|more)"')


@dataclass(frozen=True)
class RedditApiOptions:
    """``bots``: extra bot account names, comma-separated (added to ``reddit_pushshift.KNOWN_BOTS``)."""

    bots: str = ""

    @property
    def bot_names(self) -> frozenset[str]:
        return KNOWN_BOTS | {n.strip().lower() for n in str(self.bots).split(",") if n.strip()}


def walk_things(document: object) -> Iterator[object]:
    """Every thing in ``document`` in document order (pre-order), descending into Listings, arrays and the
    ``replies`` of comments. Listings themselves are containers, not things."""
    stack: list[object] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
            continue
        if isinstance(node, dict) and node.get("kind") == "Listing":
            data = node.get("data")
            children = data.get("children") if isinstance(data, dict) else None
            if isinstance(children, list):
                stack.extend(reversed(children))
            continue
        yield node
        data = node.get("data") if isinstance(node, dict) else None
        if isinstance(data, dict) and isinstance(data.get("replies"), dict):
            stack.append(data["replies"])


class _Collector:
    """Rows of one batch: raw post values, account records and rejects, with the accounting."""

    def __init__(self, source: str, fmt: str, bots: frozenset[str]) -> None:
        self.source, self.format, self.bots = source, fmt, bots
        self._reset()

    def _reset(self) -> None:
        self.read = 0
        self.rows: list[list[Any]] = []
        self.lines: list[int] = []
        self.accounts: dict[str, list[Any]] = {k: [] for k in schema.ACCOUNTS.names}
        self.rejects: dict[str, list[Any]] = {k: [] for k in schema.REJECTS.names}

    def reject(self, location: str, reason: str, raw: object, detail: str | None = None) -> None:
        text = raw if isinstance(raw, bytes | str) else json.dumps(raw, ensure_ascii=False, default=str)
        for key, value in (("source", self.source), ("format", self.format), ("location", location),
                           ("reason", reason), ("detail", detail or schema.REASONS.get(reason)),
                           ("excerpt", excerpt(text))):
            self.rejects[key].append(value)

    def thing(self, thing: object, index: int, location: str) -> None:
        """Account for one thing: a post row, an account record or a reject."""
        self.read += 1
        kind = thing.get("kind") if isinstance(thing, dict) else None
        data = thing.get("data") if isinstance(thing, dict) else None
        if not isinstance(kind, str) or not isinstance(data, dict):
            self.reject(location, "not-a-record", thing, "not a Reddit thing ({\"kind\": ..., \"data\": {...}})")
        elif kind == "more":
            count, parent = data.get("count"), data.get("parent_id")
            self.reject(location, "more-stub", thing, f"{count} comment(s) under {parent} were not fetched")
        elif kind in ("t1", "t3"):
            try:
                self.rows.append(record_values(data))
                self.lines.append(index)
            except RecordRejected as exc:
                self.reject(location, exc.reason, thing, exc.detail)
        elif kind == "t2":
            self._account(data, location, thing)
        else:
            self.reject(location, "unsupported-kind", thing, f"kind {kind!r} is not a comment or submission")

    def _account(self, data: dict[str, Any], location: str, thing: object) -> None:
        name = data.get("name")
        if not isinstance(name, str) or name in ANONYMOUS:
            self.reject(location, "missing-id", thing, "account without a name")
            return
        karma = data.get("total_karma")
        if not isinstance(karma, int) or isinstance(karma, bool):
            parts = [data.get("link_karma"), data.get("comment_karma")]
            numbers = [p for p in parts if isinstance(p, int) and not isinstance(p, bool)]
            karma = sum(numbers) if numbers else None
        created = epoch_seconds(data.get("created_utc"))
        values = {
            "author_id": name, "platform": PLATFORM, "display_name": name, "followers": None,
            "account_created_at": (datetime.fromtimestamp(created, UTC)
                                   if created is not None and 0 <= created < MAX_EPOCH else None),
            "reputation": karma, "is_bot": True if name.lower() in self.bots else None,
            "source_file": self.source,
        }
        for key, value in values.items():
            self.accounts[key].append(value)

    def flush(self) -> Batch | None:
        if self.read == 0:
            return None
        raw = raw_table(self.rows)
        records = pa.Table.from_pydict(self.accounts, schema=schema.ACCOUNTS)
        batch = Batch(
            source=self.source,
            posts=canonical_posts(raw, self.source, pa.array(self.lines, pa.int64())),
            accounts=pa.concat_tables([canonical_accounts(raw, self.bots), records]),
            rejects=pa.Table.from_pydict(self.rejects, schema=schema.REJECTS),
            read=self.read,
            account_records=records.num_rows,
        )
        self._reset()
        return batch


class RedditApiAdapter(Adapter):
    """Listings, comment trees and things saved from Reddit's JSON API."""

    name = "reddit-api"
    platform = PLATFORM
    version = "1"
    description = "Reddit API JSON: Listings, comment trees ([post, comments]) and things from .json endpoints"
    priority = 15
    Options = RedditApiOptions

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        if probe.is_dir:
            return False
        text = probe.text
        return bool(_START.match(text)) and bool(_THING.search(text[:4096]))

    def read(self, path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[Batch]:
        options: RedditApiOptions = self.options
        collector = _Collector(str(path), self.name, options.bot_names)
        index = 0
        for line, document in self._documents(path, on_bytes, collector):
            for thing in walk_things(document):
                index += 1
                where = f"thing {index}" if line is None else f"line {line}, thing {index}"
                collector.thing(thing, index, where)
                if collector.read >= BATCH_THINGS and (batch := collector.flush()):
                    yield batch
        if batch := collector.flush():
            yield batch
        elif index == 0 and collector.read == 0:  # an empty file is still a source, with 0 records read
            yield empty_batch(str(path))

    def _documents(self, path: Path, on_bytes: Callable[[int], None] | None, collector: _Collector
                   ) -> Iterator[tuple[int | None, object]]:
        """``(line, document)`` pairs: one whole document (line None), or one per JSON line."""
        lines = iter_lines(path, on_bytes)
        for number, raw in lines:
            if not raw.strip():
                continue
            try:
                first = json.loads(raw.decode("utf-8", "surrogateescape"))
            except (ValueError, RecursionError):
                break  # not JSON lines: the file is one (pretty-printed) document
            yield number, first
            for number, raw in lines:
                if not raw.strip():
                    continue
                try:
                    yield number, json.loads(raw.decode("utf-8", "surrogateescape"))
                except (ValueError, RecursionError) as exc:
                    collector.read += 1
                    collector.reject(f"line {number}", "malformed-json", raw, str(exc))
            return
        else:
            return  # empty file
        getattr(lines, "close", lambda: None)()  # release the file before reading it whole
        yield None, self._whole(path)

    def _whole(self, path: Path) -> object:
        try:
            with open_binary(path) as fh:
                content = fh.read()
        except Exception as exc:
            raise AdapterError(f"cannot read the file ({exc})", path=path) from exc
        if content.startswith(BOM):
            content = content[len(BOM):]
        try:
            return json.loads(content.decode("utf-8", "surrogateescape"))
        except json.JSONDecodeError as exc:
            raise AdapterError(
                f"not valid JSON ({exc.msg})", path=path, location=f"line {exc.lineno}, column {exc.colno}",
                hint="Save the response body of a reddit.com .json URL unchanged, or one response per line",
            ) from exc
        except RecursionError as exc:
            raise AdapterError("the JSON nests too deeply to be a Reddit response", path=path) from exc
