"""ConvoKit corpus folders: the on-disk format ConvoKit's ``Corpus(filename=...)`` loads (checked against
convokit 5.0's ``corpus_helpers``, legacy keys of older corpora included): ``utterances.jsonl``,
``speakers.json`` (legacy ``users.json``), ``conversations.json``, ``corpus.json``, ``index.json``.

- Each line of ``utterances.jsonl`` is one record → a post: ``id`` → post_id, ``conversation_id`` (legacy
  ``root``) → thread_id, ``reply_to`` (legacy ``reply-to``) → parent_id, ``speaker`` (legacy ``user``) →
  author_id, ``timestamp`` (epoch seconds) → created_at, ``text``, ``meta.score`` → score. ``meta.kind``,
  ``meta.platform``, ``meta.community``, ``meta.lang`` and ``meta.amplifies_id`` (written by our exporter) are
  used when present; else kind is ``post`` for roots and ``comment`` for replies, and community is
  ``meta.subreddit``, else the corpus' ``subreddit`` meta, else the ``community`` option, else the folder name.
- Each entry of ``speakers.json`` is an account record (display name, followers, reputation, bot flag and
  creation time from its meta when present). Placeholder speakers (``[deleted]`` …) are rejected
  ``anonymous-account``: they are nobody in particular.
- Platform: ``platform`` in ``corpus.json`` meta; else ``reddit`` when the corpus meta names a ``subreddit``
  (ConvoKit's Reddit corpora use Reddit's own base-36 ids); else ``convokit``.

``conversations.json`` and ``index.json`` hold metadata only and are not records. Both JSON object files are
read entry by entry, never whole.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ..errors import AdapterError
from ._io import iter_lines, parse_time
from .base import Adapter, Batch, BatchBuilder, Probe

SPEAKER_FILES = ("speakers.json", "users.json")
#: Speaker ids that stand for "nobody in particular" (same idea as ingest.ANONYMOUS_AUTHORS).
PLACEHOLDER_SPEAKERS = {"[deleted]", "[removed]", "", "null", "None", "deleted", "anonymous"}


class JsonScanner:
    """Decodes one JSON value at a time from a text file, holding only the current value (plus a read block).

    Used for files that are one big JSON object or array (ConvoKit's speakers.json, WikiConv's JS arrays).
    Errors raise ``AdapterError`` naming the file and the character offset.
    """

    def __init__(self, fh: TextIO, path: Path, chunk: int = 1 << 20) -> None:
        self.fh = fh
        self.path = path
        self.chunk = chunk
        self.buf = ""
        self.pos = 0
        self.base = 0
        self.eof = False
        self._decoder = json.JSONDecoder()

    @property
    def offset(self) -> int:
        """Character offset of the read position in the file."""
        return self.base + self.pos

    def _more(self) -> bool:
        data = self.fh.read(self.chunk)
        if not data:
            self.eof = True
            return False
        self.base += self.pos
        self.buf = self.buf[self.pos:] + data
        self.pos = 0
        return True

    def error(self, message: str) -> AdapterError:
        return AdapterError(message, path=self.path, location=f"character {self.offset}",
                            hint="Check that the file is complete and not damaged")

    def peek(self) -> str:
        """The next character that is not white space ('' at the end of the file)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf) or not self._more():
                return self.buf[self.pos] if self.pos < len(self.buf) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.error(f"expected {char!r}")
        self.pos += 1

    def skip_to(self, char: str) -> None:
        """Advance just past the next ``char`` (e.g. skip ``var x = [``)."""
        while True:
            found = self.buf.find(char, self.pos)
            if found >= 0:
                self.pos = found + 1
                return
            self.pos = len(self.buf)
            if not self._more():
                raise self.error(f"no {char!r} found")

    def value(self) -> Any:
        """Decode the JSON value at the read position."""
        self.peek()
        while True:
            try:
                value, end = self._decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self.eof or not self._more():
                    raise self.error(f"invalid JSON ({exc.msg})") from exc
                continue
            except RecursionError as exc:
                raise self.error("JSON nested too deeply to read") from exc
            if end >= len(self.buf) and not self.eof and self._more():
                continue
            self.pos = end
            return value


def iter_object_items(path: Path, chunk: int = 1 << 20) -> Iterator[tuple[str, Any, int]]:
    """Yield ``(key, value, char_offset)`` for each member of the JSON object in ``path``, streaming."""
    with open(path, encoding="utf-8-sig", errors="surrogateescape") as fh:
        scan = JsonScanner(fh, path, chunk)
        scan.expect("{")
        if scan.peek() == "}":
            return
        while True:
            scan.peek()
            offset = scan.offset
            name = scan.value()
            scan.expect(":")
            value = scan.value()
            yield str(name), value, offset
            if scan.peek() == "}":
                return
            scan.expect(",")


def _folder(path: Path) -> Path:
    return path if path.is_dir() else path.parent


def _score(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    if value is None:
        return None
    return str(value)


@dataclass(frozen=True)
class ConvoKitOptions:
    """``community``: used when neither the utterance nor the corpus meta names one; ``platform`` overrides."""

    community: str | None = None
    platform: str | None = None


class ConvoKitAdapter(Adapter):
    """A ConvoKit corpus folder (or its utterances.jsonl): utterances become posts, speakers accounts."""

    name = "convokit"
    platform = "convokit"
    version = "1"
    description = "ConvoKit corpus folder (utterances.jsonl, speakers.json, ...)"
    priority = 20
    Options = ConvoKitOptions

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        if probe.is_dir:
            return "utterances.jsonl" in probe.children
        return probe.name == "utterances.jsonl"

    def files(self, path: Path) -> list[Path]:
        folder = _folder(path)
        names = ["utterances.jsonl", *SPEAKER_FILES[:1]] if (folder / SPEAKER_FILES[0]).exists() \
            else ["utterances.jsonl", *SPEAKER_FILES[1:]]
        return [folder / n for n in names if (folder / n).is_file()]

    def _corpus_meta(self, folder: Path) -> dict[str, Any]:
        meta_path = folder / "corpus.json"
        if not meta_path.is_file():
            return {}
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8-sig"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise AdapterError(f"corpus.json is not valid JSON ({exc})", path=meta_path,
                               hint="Fix or remove corpus.json") from exc
        return meta if isinstance(meta, dict) else {}

    def read(self, path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[Batch]:
        folder = _folder(path)
        utterances = folder / "utterances.jsonl"
        if not utterances.is_file():
            raise AdapterError("no utterances.jsonl in this folder", path=folder,
                               hint="Point ingest at a ConvoKit corpus folder")
        options: ConvoKitOptions = self.options
        meta = self._corpus_meta(folder)
        platform = options.platform or meta.get("platform") or ("reddit" if meta.get("subreddit") else None) \
            or self.platform
        default_community = meta.get("subreddit") or meta.get("community") or options.community or folder.name
        yield from self._utterances(utterances, str(platform), str(default_community), on_bytes)
        for name in SPEAKER_FILES:
            if (folder / name).is_file():
                yield from self._speakers(folder / name, str(platform), on_bytes)
                break

    def _utterances(self, path: Path, platform: str, community: str,
                    on_bytes: Callable[[int], None] | None) -> Iterator[Batch]:
        b = BatchBuilder(path, self.name, platform)
        for number, raw in iter_lines(path, on_bytes):
            if not raw.strip():
                continue
            b.read += 1
            location = f"line {number}"
            try:
                u = json.loads(raw)
            except UnicodeDecodeError:
                b.reject(location, "invalid-utf8", raw)
                continue
            except (ValueError, RecursionError) as exc:
                b.reject(location, "malformed-json", raw, str(exc))
                continue
            if not isinstance(u, dict):
                b.reject(location, "not-a-record", raw)
                continue
            post_id = _id(u.get("id"))
            if not post_id:
                b.reject(location, "missing-id", raw)
                continue
            meta: dict[str, Any] = u["meta"] if isinstance(u.get("meta"), dict) else {}
            parent = _id(u.get("reply_to", u.get("reply-to")))
            thread = _id(u.get("conversation_id", u.get("root")))
            text = u.get("text")
            b.post(post_id=post_id, created_at=parse_time(u.get("timestamp")), source_line=number,
                   platform=_id(meta.get("platform")) or platform,
                   community=_id(meta.get("community")) or _id(meta.get("subreddit")) or community,
                   thread_id=thread, parent_id=parent, author_id=_id(u.get("speaker", u.get("user"))),
                   kind=_id(meta.get("kind")) or ("post" if parent is None else "comment"),
                   text=text if isinstance(text, str) else None, score=_score(meta.get("score")),
                   amplifies_id=_id(meta.get("amplifies_id")), lang=_id(meta.get("lang")))
            if b.full and (batch := b.flush()):
                yield batch
        if batch := b.flush():
            yield batch

    def _speakers(self, path: Path, platform: str, on_bytes: Callable[[int], None] | None) -> Iterator[Batch]:
        b = BatchBuilder(path, self.name, platform)
        for number, (speaker_id, value, offset) in enumerate(iter_object_items(path), 1):
            b.read += 1
            location = f"speaker {number} (character {offset})"  # ids may be addresses: not in locations
            raw = json.dumps({speaker_id: value}, ensure_ascii=False)
            if speaker_id.strip() in PLACEHOLDER_SPEAKERS:
                b.reject(location, "anonymous-account", raw, "a placeholder for deleted or anonymous authors")
                continue
            if not isinstance(value, dict):
                b.reject(location, "not-a-record", raw, "a speaker entry must be a JSON object")
                continue
            meta = value.get("meta", value)
            meta = meta if isinstance(meta, dict) else {}
            bot = meta.get("is_bot")
            b.account(author_id=speaker_id, record=True, platform=_id(meta.get("platform")) or platform,
                      display_name=_id(meta.get("display_name") or meta.get("name")),
                      followers=_score(meta.get("followers")), reputation=_score(meta.get("reputation")),
                      account_created_at=parse_time(meta.get("account_created_at")),
                      is_bot=bot if isinstance(bot, bool) else None, source_file=str(path))
            if b.full and (batch := b.flush()):
                yield batch
        if on_bytes:
            on_bytes(path.stat().st_size)
        if batch := b.flush():
            yield batch
