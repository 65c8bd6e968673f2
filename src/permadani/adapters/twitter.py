"""X/Twitter API v1.1 tweet JSON, as files and in the PHEME folder layout (``twitter-v1``).

Inputs:

- a file with one tweet object, a JSON array of tweets, or JSON lines (one tweet per line; a bad line is a
  ``malformed-json`` reject, while a broken array or document is a whole-file ``AdapterError``: JSON cannot be
  resumed inside one value);
- a folder holding the PHEME / RumourEval layout anywhere below it: ``.../<thread>/source-tweet/<id>.json``,
  ``.../<thread>/replies/<id>.json`` (one tweet per file), ``structure.json`` (the reply tree: not a record, not
  read), ``urls.dat`` and ``context/`` (not read). The whole folder is one source in the manifest; each post's
  ``source_file`` is its own JSON file.

Mapping (each top-level tweet is one record):

- ``post_id`` = ``id_str`` (else ``id``); ``created_at`` from ``Wed Aug 27 13:08:45 +0000 2008``;
  ``author_id`` = ``user.id_str`` (else ``user.id``); ``text`` = ``extended_tweet.full_text`` when present
  (truncated 280-character tweets), else ``full_text``, else ``text``; ``lang`` as given (``und`` → null);
  ``score`` = ``favorite_count`` (likes; the API's only per-tweet approval count).
- ``parent_id`` = ``in_reply_to_status_id_str`` (else ``in_reply_to_status_id``).
- ``retweeted_status`` present → kind ``repost``, ``amplifies_id`` = the original's id; else
  ``quoted_status_id_str`` present → kind ``quote``, ``amplifies_id`` = the quoted id; else kind ``post``
  (replies are posts with a ``parent_id``). The embedded original is NOT emitted as a post (it is not a record
  of this file; it would double-count), but its author is recorded as an account observation.
- ``thread_id``: PHEME → the thread's source tweet (the folder name, as ``structure.json`` roots it). Elsewhere
  v1.1 has no conversation id: a root is its own thread; a reply takes the thread of its parent when the parent
  was read earlier in the same source, else the parent's id (the nearest known ancestor). A compact
  ``{reply id: thread id}`` dict of ints makes this exact when parents precede replies.
- ``community`` = ``Options.community``, else for PHEME the folder holding the thread folders (the event, e.g.
  ``germanwings-crash``), else null.
- Accounts: one observation per embedded ``user`` (not records): ``display_name`` = ``screen_name`` (the handle),
  ``followers`` = ``followers_count``, ``account_created_at`` = ``user.created_at``.
- Stream control messages (``delete``, ``limit``, ``scrub_geo`` …) → ``unsupported-kind``; no id →
  ``missing-id``; bad ``created_at`` → ``bad-timestamp``; a JSON value that is not an object → ``not-a-record``.

Files that start with ``window.YTD`` (the account archive's ``tweet.js``) are not claimed here.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AdapterError
from ._io import CHUNK, iter_lines, open_binary, parse_time, read_head
from .base import Adapter, Batch, BatchBuilder, Probe

PLATFORM = "twitter"
_PHEME_DIR = "source-tweet"
_SNIFF_DEPTH = 4
_SNIFF_ENTRIES = 20_000
_WS = re.compile(r"[ \t\r\n]*")
_CONTROL = ("delete", "limit", "scrub_geo", "status_withheld", "user_withheld", "disconnect", "warning")


# --- streaming JSON -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class JsonItem:
    """One JSON value read from a file, or the reason it could not be (``reason`` set, ``value`` None)."""

    line: int
    value: Any
    raw: bytes | str
    reason: str | None = None
    detail: str | None = None


def _looks_like_lines(head: bytes) -> bool:
    """JSON lines when one of the first three non-empty lines is a whole JSON object, or a line exceeds the head."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    if "\n" not in text.strip():
        return len(head) >= 64 * 1024
    lines = [line for line in text.split("\n")[:-1] if line.strip()][:3]
    for line in lines:
        try:
            if isinstance(json.loads(line), dict):
                return True
        except (ValueError, RecursionError):
            continue
    return False


def iter_json_values(path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[JsonItem]:
    """Stream the values of a JSON-lines file, a JSON array, or one (or several concatenated) JSON documents.

    JSON lines: a line that fails is an item with ``reason`` (``malformed-json`` / ``invalid-utf8``), and reading
    goes on. Arrays and documents cannot be resumed after an error: ``AdapterError`` naming the line.
    """
    head = read_head(path)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("{") and _looks_like_lines(head):
        yield from _iter_lines(path, on_bytes)
    else:
        for line, value, raw in _iter_documents(path, on_bytes):
            yield JsonItem(line, value, raw)


def _iter_lines(path: Path, on_bytes: Callable[[int], None] | None) -> Iterator[JsonItem]:
    for number, raw in iter_lines(path, on_bytes):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except UnicodeDecodeError:
            yield JsonItem(number, None, raw, "invalid-utf8")
            continue
        except (ValueError, RecursionError) as exc:
            yield JsonItem(number, None, raw, "malformed-json", str(exc))
            continue
        yield JsonItem(number, value, raw)


def _json_error(path: Path, line: int, message: str) -> AdapterError:
    return AdapterError(
        f"not valid JSON ({message})", path=path, location=f"line {line}",
        hint="The file is damaged or truncated and a JSON document cannot be resumed after an error; "
             "re-export it, or write one JSON object per line (JSON lines) so bad lines become rejects",
    )


def _iter_documents(path: Path, on_bytes: Callable[[int], None] | None) -> Iterator[tuple[int, Any, str]]:
    """Values of a top-level array (each element) or of concatenated documents, with their start line."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    parse = json.JSONDecoder().raw_decode
    buf, pos, line = "", 0, 1
    eof, started, in_array, closed, need_comma = False, False, False, False, False
    with open_binary(path, on_bytes) as fh:

        def fill() -> None:
            nonlocal buf, pos, eof
            try:
                block = fh.read(max(CHUNK // 8, len(buf) - pos))
                buf = buf[pos:] + decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                raise _json_error(path, line, f"invalid UTF-8: {exc.reason}") from exc
            pos = 0
            eof = not block

        while True:
            end = _WS.match(buf, pos).end()  # type: ignore[union-attr]
            line += buf.count("\n", pos, end)
            pos = end
            if pos >= len(buf):
                if eof:
                    break
                fill()
                continue
            char = buf[pos]
            if not started:
                started = True
                if char == "[":
                    in_array = True
                    pos += 1
                    continue
            if closed:
                raise _json_error(path, line, "data after the closing ']'")
            if in_array and char == "]":
                in_array, closed = False, True
                pos += 1
                continue
            if need_comma:
                if char != ",":
                    raise _json_error(path, line, f"expected ',' or ']' between array items, found {char!r}")
                need_comma = False
                pos += 1
                continue
            try:
                value, end = parse(buf, pos)
            except RecursionError as exc:
                raise _json_error(path, line, "a value nested too deeply to read") from exc
            except json.JSONDecodeError as exc:
                if not eof:
                    fill()
                    continue
                raise _json_error(path, line + buf.count("\n", pos, exc.pos), exc.msg) from exc
            if end == len(buf) and not eof:  # a number or literal may continue in the next block
                fill()
                continue
            yield line, value, buf[pos:min(end, pos + 2000)]
            line += buf.count("\n", pos, end)
            pos = end
            need_comma = in_array
    if in_array:
        raise _json_error(path, line, "the array is not closed (truncated file?)")


# --- v1.1 tweets ------------------------------------------------------------------------------------------------

def str_id(obj: dict[str, Any], key: str) -> str | None:
    """``obj[key + '_str']``, else ``str(obj[key])``; None when absent or empty."""
    value = obj.get(f"{key}_str")
    if value in (None, ""):
        value = obj.get(key)
    if value in (None, "") or isinstance(value, bool | dict | list):
        return None
    return str(value)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _int_id(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


class _V1Mapper:
    """Turns v1.1 tweet objects into posts and account observations on one builder."""

    def __init__(self, builder: BatchBuilder, community: str | None) -> None:
        self.builder = builder
        self.community = community
        self.threads: dict[int, int] = {}

    def observe_user(self, user: Any) -> str | None:
        """Record an account observation from an embedded ``user``; return its id."""
        if not isinstance(user, dict):
            return None
        user_id = str_id(user, "id")
        if user_id is None:
            return None
        self.builder.account(author_id=user_id, display_name=user.get("screen_name") or user.get("name"),
                             followers=_count(user.get("followers_count")),
                             account_created_at=parse_time(user.get("created_at")))
        return user_id

    def thread_of(self, post_id: str, parent: str | None) -> str:
        if parent is None:
            return post_id
        parent_int, own = _int_id(parent), _int_id(post_id)
        thread = self.threads.get(parent_int, parent_int) if parent_int is not None else None
        if own is not None and thread is not None:
            self.threads[own] = thread
        return str(thread) if thread is not None else parent

    def add(self, item: JsonItem, location: str, source_line: int | None, thread: str | None = None,
            community: str | None = None) -> None:
        """Count ``item`` as read and turn it into exactly one post or reject."""
        b = self.builder
        b.read += 1
        if item.reason:
            b.reject(location, item.reason, item.raw, item.detail)
            return
        tweet = item.value
        if not isinstance(tweet, dict):
            b.reject(location, "not-a-record", item.raw, f"a JSON {type(tweet).__name__}, not a tweet object")
            return
        control = next((key for key in _CONTROL if key in tweet), None)
        if control and "text" not in tweet and "full_text" not in tweet:
            b.reject(location, "unsupported-kind", item.raw, f"a stream '{control}' message, not a tweet")
            return
        post_id = str_id(tweet, "id")
        if post_id is None:
            b.reject(location, "missing-id", item.raw)
            return
        created = parse_time(tweet.get("created_at"))
        if created is None:
            b.reject(location, "bad-timestamp", item.raw, f"cannot read created_at {tweet.get('created_at')!r}")
            return
        author = self.observe_user(tweet.get("user"))
        kind, amplifies = "post", None
        original = tweet.get("retweeted_status")
        if isinstance(original, dict):
            kind, amplifies = "repost", str_id(original, "id")
            self.observe_user(original.get("user"))
        elif (quoted := str_id(tweet, "quoted_status_id")) is not None:
            kind, amplifies = "quote", quoted
            if isinstance(tweet.get("quoted_status"), dict):
                self.observe_user(tweet["quoted_status"].get("user"))
        extended = tweet.get("extended_tweet")
        text = extended.get("full_text") if isinstance(extended, dict) else None
        text = text or tweet.get("full_text") or tweet.get("text")
        parent = str_id(tweet, "in_reply_to_status_id")
        lang = tweet.get("lang") if tweet.get("lang") not in ("und", "") else None
        b.post(post_id=post_id, created_at=created, source_line=source_line,
               thread_id=thread or self.thread_of(post_id, parent), parent_id=parent, author_id=author,
               community=community or self.community, kind=kind, text=text,
               score=_count(tweet.get("favorite_count")), amplifies_id=amplifies, lang=lang)


# --- PHEME folders ----------------------------------------------------------------------------------------------

def find_pheme(path: Path, depth: int = _SNIFF_DEPTH, budget: int = _SNIFF_ENTRIES) -> bool:
    """True when a ``<thread>/source-tweet/`` folder exists at most ``depth`` levels below ``path`` (bounded scan)."""
    level = [str(path)]
    for _ in range(depth + 1):
        below: list[str] = []
        for folder in level:
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            budget -= len(entries)
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name == _PHEME_DIR:
                        return True
                    below.append(entry.path)
            if budget <= 0:
                return False
        level = below
    return False


def pheme_threads(path: Path) -> list[Path]:
    """Thread folders (those holding ``source-tweet/``) below ``path``, sorted by path."""
    return sorted(p.parent for p in path.rglob(_PHEME_DIR) if p.is_dir())


def _thread_files(thread: Path) -> list[Path]:
    sources = sorted((thread / _PHEME_DIR).glob("*.json"))
    replies = sorted((thread / "replies").glob("*.json")) if (thread / "replies").is_dir() else []
    return sources + replies


class _FolderBuilder(BatchBuilder):
    """A builder whose source is a folder while each post names the file it came from."""

    current_file: str = ""

    def post(self, **fields: Any) -> None:  # type: ignore[override]
        super().post(source_file=self.current_file or None, **fields)


@dataclass(frozen=True)
class TwitterOptions:
    """``community``: the community of every tweet (default: the PHEME event folder, else none)."""

    community: str | None = None


class TwitterV1Adapter(Adapter):
    """X/Twitter API v1.1 tweets: one object, array or JSON lines per file, or a PHEME thread folder tree."""

    name = "twitter-v1"
    platform = PLATFORM
    version = "1"
    description = "X/Twitter API v1.1 tweet JSON (object, array, JSON lines) or a PHEME/RumourEval folder"
    priority = 40
    Options = TwitterOptions

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        if probe.is_dir:
            return _PHEME_DIR in probe.children or find_pheme(probe.path)
        text = probe.text
        if not text.startswith(("{", "[")):
            return False  # e.g. the account archive's 'window.YTD.tweet.part0 = [...]'
        return ('"id_str"' in text and '"screen_name"' in text and '"created_at"' in text
                and ('"text"' in text or '"full_text"' in text))

    def files(self, path: Path) -> list[Path]:
        if path.is_file():
            return [path]
        return [f for thread in pheme_threads(path) for f in _thread_files(thread)]

    def read(self, path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[Batch]:
        options: TwitterOptions = self.options
        if path.is_dir():
            yield from self._read_pheme(path, options, on_bytes)
            return
        mapper = _V1Mapper(BatchBuilder(path, self.name, PLATFORM), options.community)
        for item in iter_json_values(path, on_bytes):
            mapper.add(item, f"line {item.line}", item.line)
            if mapper.builder.full and (batch := mapper.builder.flush()):
                yield batch
        if batch := mapper.builder.flush():
            yield batch

    def _read_pheme(self, path: Path, options: TwitterOptions, on_bytes: Callable[[int], None] | None
                    ) -> Iterator[Batch]:
        threads = pheme_threads(path)
        if not threads:
            raise AdapterError("no PHEME thread folders (<thread>/source-tweet/*.json) below this folder",
                               path=path, hint="Pass tweet JSON files directly, or the PHEME dataset folder")
        builder = _FolderBuilder(path, self.name, PLATFORM)
        mapper = _V1Mapper(builder, options.community)
        for thread in threads:
            community = options.community or (thread.parent.name if thread.parent != path else path.name)
            for file in _thread_files(thread):
                data = file.read_bytes()
                if on_bytes:
                    on_bytes(len(data))
                builder.current_file = str(file)
                location = str(file.relative_to(path))
                try:
                    item = JsonItem(1, json.loads(data), data)
                except UnicodeDecodeError:
                    item = JsonItem(1, None, data, "invalid-utf8")
                except (ValueError, RecursionError) as exc:
                    item = JsonItem(1, None, data, "malformed-json", str(exc))
                mapper.add(item, location, 1, thread=thread.name, community=community)
                if builder.full and (batch := builder.flush()):
                    yield batch
        if batch := builder.flush():
            yield batch
