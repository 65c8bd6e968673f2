"""E-mail archives: mbox files (RFC 4155, incl. Mailman pipermail monthly text and LISTSERV/Pony Mail mboxes) and
Maildir folders (``cur/`` and ``new/``; ``tmp/`` holds unfinished deliveries and is skipped).

Messages are parsed with the standard library (``email``, RFC 5322 / MIME); mbox files are split on "From "
separator lines by our own streaming splitter (a "From " line that follows a blank line or starts the file and
carries a time and a year), so one message at a time is held in memory, compressed files included.

One message is one record, kept as a post of kind ``message``:

- ``post_id`` = ``msg:`` + the first 24 hex digits of SHA-256 of the normalised Message-ID (angle brackets and
  white space removed). Message-IDs have the shape of e-mail addresses and often contain the sender's host or
  address, so they are never stored in clear; the hash is unkeyed, so the same message gets the same id in any
  archive and duplicates (pipermail prints every message twice) are found by ingest. A message without
  Message-ID gets ``msg:`` + the hash of ``date|from|subject`` (stable across runs).
- ``parent_id`` = In-Reply-To, else the last References entry (hashed the same way).
- ``thread_id`` = the first References entry when present; else the root found by following parents within the
  same source (a first pass reads headers only and keeps id → parent, about 100 bytes per message); when the
  walk reaches a message that is not in the source, that missing message is the root; else the message itself.
- ``author_id`` = the From address, lower-case (pipermail's ``name at host`` is turned back into ``name@host``);
  ingest replaces address-shaped ids by a keyed hash, and the address is stored nowhere else. ``display_name`` =
  the From display name when it is not itself an address.
- ``community`` = List-Id; else the ``community`` option; else, for pipermail monthly files (``2001-November``),
  the list tag of the first ``[list-name]`` subject in the file; else the file stem (Maildir: folder name).
- ``text`` = the first ``text/plain`` part, decoded, quoted lines kept (None when there is none).
- ``created_at`` = the Date header (RFC 2822; pipermail's zone-less dates are taken as UTC), else the date on
  the "From " line; neither → reject ``bad-timestamp``. A message with no From, Date, Message-ID or body is
  rejected ``empty-message`` (LISTSERV writes such stubs).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

from ..errors import AdapterError
from ..privacy import EMAIL_PATTERN
from ._io import iter_lines, parse_time
from .base import Adapter, Batch, BatchBuilder, Probe

_SEPARATOR = re.compile(rb"^From \S+(?: at \S+)?\s+.*\d{1,2}:\d{2}.*\d{4}\s*$")
_HEADER_LINE = re.compile(rb"(?im)^(from|date|subject|message-id|received|return-path):")
_ANGLE = re.compile(r"<([^<>\s]+)>")
_EMAIL = re.compile(EMAIL_PATTERN)
_AT_FORM = re.compile(r"([A-Za-z0-9._%+\-]+) at ([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,})")
_MONTHLY = re.compile(r"^\d{4}-[A-Za-z]+$")
_LIST_TAG = re.compile(r"\[([^\[\]\s]+)\]")
_PARSER = BytesParser(policy=compat32)


def hash_id(value: str) -> str:
    """``msg:`` + 24 hex digits of SHA-256 of a normalised Message-ID (see module docstring)."""
    return "msg:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def normalise_id(value: str | None) -> str | None:
    """A Message-ID without angle brackets and white space; None when empty."""
    if not value:
        return None
    match = _ANGLE.search(value)
    text = match.group(1) if match else value
    text = "".join(text.split()).strip("<>")
    return text or None


def id_list(value: str | None) -> list[str]:
    """The ids in a References / In-Reply-To header, in order (bracketed ids, else bare tokens with '@')."""
    if not value:
        return []
    found = _ANGLE.findall(value)
    if not found:
        found = [t.strip("<>,;") for t in value.split() if "@" in t]
    return [f for f in found if f]


def header(msg: Message, name: str) -> str | None:
    """A header decoded to text (RFC 2047 encoded words, raw 8-bit bytes read as UTF-8); None when absent."""
    value = msg.get(name)
    if value is None:
        return None
    text = str(value)
    with contextlib.suppress(LookupError, ValueError, UnicodeError, TypeError):
        text = str(make_header(decode_header(text)))
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return " ".join(text.split()) or None


def parse_from(value: str | None) -> tuple[str | None, str | None]:
    """``(address lower-case, display name)`` of a From header; the name is None when absent or an address."""
    if not value:
        return None, None
    text = value if "@" in value else _AT_FORM.sub(r"\1@\2", value)
    match = _EMAIL.search(text)
    if not match:
        return None, value.strip("\"' ") or None
    address = match.group(0).lower()
    rest = re.sub(r"[<>()\"]", " ", text[: match.start()] + " " + text[match.end():])
    name = " ".join(rest.split()).strip(" ,;'")
    if not name or "@" in name or _AT_FORM.search(name):
        return address, None
    return address, name


def body_text(msg: Message) -> str | None:
    """The first text/plain part (not an attachment), decoded with its charset; None when there is none."""
    for part in msg.walk():
        if part.is_multipart() or part.get_content_type() != "text/plain":
            continue
        if (part.get("Content-Disposition") or "").lower().startswith("attachment"):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        charset = part.get_content_charset() or "utf-8"
        try:
            return payload.decode(charset, errors="replace")
        except LookupError:
            return payload.decode("utf-8", errors="replace")
    return None


@dataclass(frozen=True)
class EmailOptions:
    """``community``: used when a message has no List-Id (instead of the pipermail tag or the file stem)."""

    community: str | None = None


@dataclass
class _Raw:
    """One message as read: its bytes, where it starts, and the date on its "From " line."""

    data: bytes
    line: int
    location: str
    envelope_date: str | None = None


def _split_mbox(path: Path, on_bytes: Callable[[int], None] | None) -> Iterator[_Raw]:
    """Yield the messages of an mbox file one at a time (streaming)."""
    lines: list[bytes] = []
    start = 0
    envelope: str | None = None
    previous_blank = True
    content = False
    for number, line in iter_lines(path, on_bytes):
        content = content or bool(line.strip())
        if previous_blank and line.startswith(b"From ") and _SEPARATOR.match(line):
            if lines:
                yield _Raw(b"\n".join(lines) + b"\n", start, f"line {start}", envelope)
            lines = []
            start = number
            rest = line[5:].decode("utf-8", "replace").split(None, 1)
            rest_text = rest[1] if len(rest) > 1 else ""
            if rest_text.startswith("at "):
                rest_text = rest_text.split(None, 2)[2] if len(rest_text.split(None, 2)) > 2 else ""
            envelope = rest_text or None
        elif start:
            lines.append(line)
        previous_blank = not line.strip()
    if start:
        yield _Raw(b"\n".join(lines) + b"\n", start, f"line {start}", envelope)
    elif content:
        raise AdapterError("not an mbox file: no \"From \" separator line was found", path=path,
                           hint="Check the format (--format mbox expects RFC 4155 mbox text)")


def _maildir_files(path: Path) -> list[Path]:
    return sorted(p for sub in ("cur", "new") if (path / sub).is_dir() for p in (path / sub).iterdir()
                  if p.is_file() and not p.name.startswith("."))


def _split_maildir(path: Path, on_bytes: Callable[[int], None] | None) -> Iterator[_Raw]:
    if not (path.is_dir() and ((path / "cur").is_dir() or (path / "new").is_dir())):
        raise AdapterError("not a Maildir folder (it has no cur/ or new/ folder)", path=path,
                           hint="Point ingest at the folder that holds cur/, new/ and tmp/")
    for number, file in enumerate(_maildir_files(path), 1):
        data = file.read_bytes()
        if on_bytes:
            on_bytes(len(data))
        yield _Raw(data, number, f"{file.parent.name}/{file.name}")


class _MailReader:
    """Two passes over one source: headers (id → parent) then messages → posts."""

    def __init__(self, path: Path, fmt: str, platform: str, options: EmailOptions, stem: str,
                 split: Callable[[Path, Callable[[int], None] | None], Iterator[_Raw]]) -> None:
        self.path = path
        self.fmt = fmt
        self.platform = platform
        self.options = options
        self.stem = stem
        self.split = split
        self.links: dict[str, tuple[str | None, str | None]] = {}
        self.list_tag: str | None = None

    def _ids(self, msg: Message) -> tuple[str | None, str | None, str | None]:
        """(post id, parent id, thread id from References) of a message, all hashed."""
        mid = normalise_id(header(msg, "Message-ID"))
        if mid is None:
            stamp = "|".join(header(msg, h) or "" for h in ("Date", "From", "Subject"))
            post_id = hash_id("derived\0" + stamp) if stamp.strip("|") else None
        else:
            post_id = hash_id(mid)
        references = id_list(header(msg, "References"))
        reply_to = id_list(header(msg, "In-Reply-To"))
        parent = reply_to[0] if reply_to else (references[-1] if references else None)
        return (post_id, hash_id(parent) if parent else None,
                hash_id(references[0]) if references else None)

    def scan(self) -> None:
        """Pass 1: headers only, to know every message's parent within this source."""
        for raw in self.split(self.path, None):
            end = raw.data.find(b"\n\n")
            msg = _PARSER.parsebytes(raw.data if end < 0 else raw.data[: end + 1], headersonly=True)
            post_id, parent, first_ref = self._ids(msg)
            if post_id is not None and post_id not in self.links:
                self.links[post_id] = (parent, first_ref)
            if self.list_tag is None:
                match = _LIST_TAG.search(header(msg, "Subject") or "")
                if match:
                    self.list_tag = match.group(1).lower()

    def thread_of(self, post_id: str) -> str:
        """First References entry of the nearest known ancestor that has one, else the top of the parent chain."""
        current = post_id
        seen = {current}
        while True:
            parent, first_ref = self.links.get(current, (None, None))
            if first_ref:
                return first_ref
            if parent is None:
                return current
            if parent not in self.links:
                return parent
            if parent in seen:
                return current
            seen.add(parent)
            current = parent

    def community(self, msg: Message) -> str | None:
        list_id = header(msg, "List-Id")
        if list_id:
            return normalise_id(list_id)
        if self.options.community:
            return self.options.community
        if _MONTHLY.match(self.stem) and self.list_tag:
            return self.list_tag
        return self.stem

    def read(self, on_bytes: Callable[[int], None] | None) -> Iterator[Batch]:
        self.scan()
        b = BatchBuilder(self.path, self.fmt, self.platform)
        for raw in self.split(self.path, on_bytes):
            b.read += 1
            self._message(b, raw)
            if b.full and (batch := b.flush()):
                yield batch
        if batch := b.flush():
            yield batch

    def _message(self, b: BatchBuilder, raw: _Raw) -> None:
        msg = _PARSER.parsebytes(raw.data)
        post_id, parent, _ = self._ids(msg)
        text = body_text(msg)
        head = raw.data[:600]
        sender = header(msg, "From")
        if post_id is None:
            if (text or "").strip():
                b.reject(raw.location, "missing-id", head, "no Message-ID, Date, From or Subject to identify it")
            else:
                b.reject(raw.location, "empty-message", head, "no Message-ID, From, Date, Subject or body")
            return
        created: datetime | None = parse_time(header(msg, "Date"))
        if created is None and raw.envelope_date:
            created = parse_time(raw.envelope_date)
        if created is None:
            b.reject(raw.location, "bad-timestamp", head, "neither the Date header nor the From line has a date")
            return
        address, name = parse_from(sender)
        b.post(post_id=post_id, created_at=created, source_line=raw.line, community=self.community(msg),
               thread_id=self.thread_of(post_id), parent_id=parent, author_id=address, kind="message", text=text)
        if address and name:
            b.account(author_id=address, display_name=name)


class MboxAdapter(Adapter):
    """An mbox file: Mailman pipermail monthly archives, LISTSERV and Pony Mail exports, mail clients."""

    name = "mbox"
    platform = "email"
    version = "1"
    description = "E-mail mbox file (pipermail, LISTSERV, Pony Mail, mail clients)"
    priority = 30
    Options = EmailOptions

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        if probe.is_dir or not probe.head.startswith(b"From "):
            return False
        first = probe.head.split(b"\n", 1)[0].rstrip(b"\r")
        return bool(_SEPARATOR.match(first)) and bool(_HEADER_LINE.search(probe.head))

    def read(self, path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[Batch]:
        stem = path.name.split(".")[0]
        yield from _MailReader(path, self.name, self.platform, self.options, stem, _split_mbox).read(on_bytes)


class MaildirAdapter(Adapter):
    """A Maildir folder (``cur/``, ``new/``, ``tmp/``): one message per file."""

    name = "maildir"
    platform = "email"
    version = "1"
    description = "E-mail Maildir folder (cur/ and new/)"
    priority = 30
    Options = EmailOptions

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        return probe.is_dir and {"cur", "new"} <= set(probe.children)

    def files(self, path: Path) -> list[Path]:
        return _maildir_files(path)

    def read(self, path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[Batch]:
        yield from _MailReader(path, self.name, self.platform, self.options, path.name,
                               _split_maildir).read(on_bytes)
