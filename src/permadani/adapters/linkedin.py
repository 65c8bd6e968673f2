"""LinkedIn data export ("Get a copy of your data", CSV files, 2023-2025 layout). Platform ``linkedin``.

Follows the files LinkedIn's member data export contains (LinkedIn Help, "Download your account data"):
``Comments.csv`` (Date, Link, Message), ``Shares.csv`` (Date, ShareLink, ShareCommentary, SharedUrl, MediaUrl,
Visibility), ``messages.csv`` (CONVERSATION ID, CONVERSATION TITLE, FROM, SENDER PROFILE URL, TO, ..., DATE,
SUBJECT, CONTENT, ...) and ``Connections.csv`` (a "Notes:" preamble, then First Name, Last Name, URL, Email
Address, Company, Position, Connected On). The source is the export folder or one of these files; other files
of the export are not read. Dates are UTC ("2025-07-13 08:15:21", messages add " UTC").

LinkedIn writes broken CSV, and the rows are recovered, not guessed:

- ``Comments.csv`` escapes quotes as ``\\"`` instead of ``""``: a strict CSV reader splits those rows in pieces
  (a naive count gives 337 "rows" for a file of 323 comments). Every record of Comments.csv and Shares.csv
  starts a line with its Date, so the file is cut into records at lines that begin with
  ``YYYY-MM-DD HH:MM:SS,`` and each record is parsed on its own with ``\\`` as the escape character: one
  broken record can never swallow the next; a record that still does not have the header's field count is a
  reject ``malformed-csv``.
- ``Shares.csv`` wraps every line of a multi-line commentary in its own quotes (``first"\\n"second"\\n"last``):
  when every newline of a value is wrapped that way, the wrapping is removed.

Mapping (the export has no post ids and no author ids; the owner is ``--option owner=ID``, default "self")::

    Shares.csv     post_id = the urn:li:share/ugcPost/activity URN of ShareLink; kind "post" (kind "repost"
                   with amplifies_id when SharedUrl is itself a LinkedIn post URN); text = ShareCommentary
    Comments.csv   post_id = "linkedin-comment:" + SHA-1(Date|Link|Message)[:16]; kind "comment";
                   parent_id = thread_id = the URN of Link (the post commented on; usually absent)
    messages.csv   post_id = "linkedin-message:" + SHA-1(conversation|date|sender|content)[:16];
                   kind "message"; thread_id = CONVERSATION ID; author_id = SENDER PROFILE URL (else FROM);
                   text = CONTENT (SUBJECT prepended when present)
    Connections.csv  account records: author_id = URL, display_name = First Name + Last Name (Email Address
                   is never read; "Connected On" has no canonical column)
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from ..errors import AdapterError
from ._io import iter_lines, open_binary, parse_time, read_head
from .base import Adapter, Batch, BatchBuilder, Probe

PLATFORM = "linkedin"
_DATE_LED = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,")
_URN = re.compile(r"urn:li:[A-Za-z]+:[0-9A-Za-z_\-]+")
_HEADERS = {
    "comments.csv": "Date,Link,Message",
    "shares.csv": "Date,ShareLink,ShareCommentary",
    "messages.csv": "CONVERSATION ID,",
    "connections.csv": "First Name,Last Name,",
}


def _kind_of(name: str, head: bytes) -> str | None:
    """Which export file this is ('comments.csv', ...), from its name and its header; None when neither fits."""
    name = name.lower()
    expected = _HEADERS.get(name)
    if expected is None:
        return None
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = text.splitlines()[:12]
    return name if any(line.startswith(expected) for line in lines) else None


@dataclass(frozen=True)
class LinkedInOptions:
    """``owner``: author id for the export's owner in Comments.csv and Shares.csv (default "self")."""

    owner: str = "self"


def unwrap_lines(value: str) -> str:
    """Remove LinkedIn's per-line quotes (``a"\\n"b`` → ``a\\nb``) when every newline is wrapped that way."""
    if "\n" in value and value.count("\n") == value.count('"\n"'):
        return value.replace('"\n"', "\n")
    return value


def urn_of(link: str) -> str | None:
    """The ``urn:li:...`` inside a LinkedIn feed URL (percent-decoded)."""
    found = _URN.search(unquote(link or ""))
    return found.group(0) if found else None


def _digest(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode("utf-8")).hexdigest()[:16]


class LinkedInAdapter(Adapter):
    """LinkedIn export CSVs: Shares, Comments, messages (posts) and Connections (account records)."""

    name = "linkedin"
    platform = PLATFORM
    version = "1"
    description = "LinkedIn data export CSVs (Shares, Comments, messages, Connections)"
    Options = LinkedInOptions

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        if probe.is_dir:
            return any(_kind_of(n, read_head(probe.path / n)) for n in probe.children if n.lower() in _HEADERS)
        return _kind_of(probe.path.name, probe.head) is not None

    def files(self, path: Path) -> list[Path]:
        if path.is_file():
            return [path]
        return sorted(p for p in path.iterdir() if p.is_file() and p.name.lower() in _HEADERS)

    def read(self, path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[Batch]:
        for file in self.files(path):
            kind = _kind_of(file.name, read_head(file))
            if kind is None:
                raise AdapterError("not a LinkedIn export CSV (expected Comments.csv, Shares.csv, messages.csv "
                                   "or Connections.csv with LinkedIn's header)", path=file,
                                   hint="Choose another --format for this file")
            b = BatchBuilder(file, self.name, PLATFORM)
            rows = _date_led_rows(file, on_bytes) if kind in ("comments.csv", "shares.csv") \
                else _plain_rows(file, on_bytes)
            header: list[str] | None = None
            for line, row, raw in rows:
                if header is None:
                    if row is not None and row and row[0].lstrip("\ufeff").startswith(_HEADERS[kind].split(",")[0]):
                        header = [h.strip().lstrip("\ufeff") for h in row]
                    continue  # preamble ("Notes:") and the header itself are not records
                b.read += 1
                loc = f"line {line}"
                if row is None:
                    b.reject(loc, "invalid-utf8", raw)
                elif len(row) != len(header):
                    b.reject(loc, "malformed-csv", raw, f"{len(row)} fields where the header has {len(header)}")
                else:
                    self._row(b, kind, dict(zip(header, row, strict=True)), loc, line, raw)
                if b.full and (batch := b.flush()):
                    yield batch
            if batch := b.flush():
                yield batch

    def _row(self, b: BatchBuilder, kind: str, row: dict[str, str], loc: str, line: int, raw: str) -> None:
        owner = self.options.owner
        if kind == "connections.csv":
            url = row.get("URL", "").strip()
            if not url:
                b.reject(loc, "missing-id", raw, "a connection without a profile URL")
                return
            name = " ".join(x for x in (row.get("First Name", "").strip(), row.get("Last Name", "").strip()) if x)
            b.account(author_id=url, record=True, source_file=b.source, display_name=name or None)
            return
        date_field = "DATE" if kind == "messages.csv" else "Date"
        stamp = row.get(date_field, "").strip()
        created = parse_time(stamp.removesuffix(" UTC"))
        if created is None:
            b.reject(loc, "bad-timestamp", raw, f"cannot read {stamp!r} as a time")
            return
        if kind == "shares.csv":
            link = row.get("ShareLink", "")
            post_id = urn_of(link) or link.strip() or "linkedin-share:" + _digest(stamp, row["ShareCommentary"])
            shared = urn_of(row.get("SharedUrl", ""))
            b.post(post_id=post_id, created_at=created, source_line=line, author_id=owner,
                   kind="repost" if shared else "post", amplifies_id=shared,
                   text=unwrap_lines(row["ShareCommentary"]) or None)
        elif kind == "comments.csv":
            target = urn_of(row.get("Link", "")) or (row.get("Link", "").strip() or None)
            b.post(post_id="linkedin-comment:" + _digest(stamp, row.get("Link", ""), row.get("Message", "")),
                   created_at=created, source_line=line, author_id=owner, kind="comment", parent_id=target,
                   thread_id=target, text=unwrap_lines(row.get("Message", "")) or None)
        else:
            conversation = row.get("CONVERSATION ID", "").strip()
            sender = row.get("SENDER PROFILE URL", "").strip() or row.get("FROM", "").strip() or None
            content = row.get("CONTENT", "")
            subject = row.get("SUBJECT", "").strip()
            if not conversation:
                b.reject(loc, "missing-id", raw, "a message without a CONVERSATION ID")
                return
            b.post(post_id="linkedin-message:" + _digest(conversation, stamp, sender or "", content),
                   created_at=created, source_line=line, author_id=sender, kind="message",
                   thread_id=conversation, text=(f"{subject}\n\n{content}" if subject else content) or None)
            if sender and row.get("FROM", "").strip():
                b.account(author_id=sender, display_name=row["FROM"].strip())


def _parse_one(text: str, escape: str | None) -> list[str] | None:
    rows = list(csv.reader(io.StringIO(text, newline=""), escapechar=escape))
    return rows[0] if len(rows) == 1 else None


def _date_led_rows(path: Path, on_bytes: Callable[[int], None] | None
                   ) -> Iterator[tuple[int, list[str] | None, str]]:
    """``(first line, fields, raw)`` per record; records start at lines beginning with a date (see docstring)."""
    pending: list[bytes] = []
    start = 1

    def emit() -> tuple[int, list[str] | None, str]:
        raw = b"\n".join(pending)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return start, None, raw.decode("utf-8", errors="backslashreplace")
        fields = _parse_one(text, "\\")
        return start, fields if fields is not None else [text], text

    for number, line in iter_lines(path, on_bytes):
        if number == 1 or (_DATE_LED.match(line) and pending):
            if pending:
                yield emit()
            pending, start = [line], number
            if number == 1:  # the header is a record of its own
                yield emit()
                pending = []
            continue
        if not pending and not line.strip():
            continue
        if not pending:
            start = number
        pending.append(line)
    if pending and any(p.strip() for p in pending):
        yield emit()


def _plain_rows(path: Path, on_bytes: Callable[[int], None] | None
                ) -> Iterator[tuple[int, list[str] | None, str]]:
    """``(line, fields, raw)`` per CSV row of an ordinary CSV file (messages.csv, Connections.csv)."""
    with open_binary(path, on_bytes) as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
        reader = csv.reader(text)
        start = 1
        for row in reader:
            line, start = start, reader.line_num + 1
            if not row or not any(cell.strip() for cell in row):
                continue
            raw = ",".join(row)
            if any("\udc80" <= ch <= "\udcff" for cell in row for ch in cell):
                yield line, None, raw.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
                continue
            yield line, row, raw
