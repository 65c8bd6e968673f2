"""Stack Exchange data dump (archive.org ``<site>.stackexchange.com.7z``, unpacked): Posts, Comments, Users XML.

Source: the dump folder, or one of ``Posts.xml``, ``Comments.xml``, ``Users.xml`` (optionally compressed).
``Badges``, ``Votes``, ``Tags``, ``PostLinks`` and ``PostHistory`` are not posts or accounts: a folder's copies are
ignored and passing one alone is an ``AdapterError``. In a folder, Posts.xml is read first, then Comments.xml,
then Users.xml; each file is its own source in the manifest. Parsing is streaming and entity-safe (``_xml``).

Mapping (every ``<row>`` is one record):

- ``PostTypeId`` 1 → kind ``question``, ``thread_id`` = own ``Id``, text = ``Title`` + blank line + ``Body``.
- ``PostTypeId`` 2 → kind ``answer``, ``parent_id`` = ``thread_id`` = ``ParentId``, text = ``Body``.
- Any other ``PostTypeId`` (4/5 tag wiki excerpt/body, 6 moderator nomination, 3/7/8 wikis and privilege pages)
  → reject ``unsupported-kind``: they are site furniture, not conversation. Comments on such posts are
  rejected the same way (``unsupported-kind``), so every kept comment hangs off a question or an answer.
- Comments → ``post_id`` = ``c<Id>`` (their own id space), kind ``comment``, ``parent_id`` = ``PostId``,
  ``thread_id`` = the question of that post. While Posts.xml is read we keep a compact ``{answer id: question
  id}`` dict (ints, only answers and unsupported posts; a post not in it is its own thread). When Comments.xml is
  read without Posts.xml, ``thread_id`` = ``PostId`` (right for comments on questions only).
- ``author_id`` = ``OwnerUserId`` / ``UserId``; when absent (deleted user) ``name:<OwnerDisplayName>`` /
  ``name:<UserDisplayName>`` if a display name was kept, else null (anonymous, never one person).
- ``score`` = ``Score``; ``community`` = the site: ``Options.site``, else from the folder name
  (``stackexchange-cardano``, ``cardano.stackexchange.com`` and ``cardano.meta.stackexchange.com`` give
  ``cardano`` / ``cardano.meta``).
- Users.xml rows → account records: ``display_name`` = ``DisplayName``, ``reputation`` = ``Reputation``,
  ``account_created_at`` = ``CreationDate``; ``is_bot`` true for the Community user (Id -1), else null (the
  platform has no bot flag).
- Timestamps are naive ISO 8601 in UTC. Missing ``Id`` → ``missing-id``; missing or unparsable ``CreationDate``
  → ``bad-timestamp``; non-integer ``Id``/``Score``/``Reputation`` → ``bad-value``; an answer without
  ``ParentId`` or a comment without ``PostId`` → ``missing-field``. Locations read ``line N, row Id=X``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..errors import AdapterError
from ._io import parse_time, read_head
from ._xml import attributes_excerpt, iter_elements, root_tag
from .base import Adapter, Batch, BatchBuilder, Probe

PLATFORM = "stackexchange"
#: Dump files that hold posts or accounts, in reading order, keyed by their document element.
READ_ROOTS = ("posts", "comments", "users")
#: Dump files that exist but are not posts or accounts.
IGNORED_ROOTS = ("badges", "votes", "tags", "postlinks", "posthistory")
_FILE_FOR = {"posts": "Posts.xml", "comments": "Comments.xml", "users": "Users.xml"}
_UNSUPPORTED = 0  # thread marker in the post map for PostTypeIds we do not keep
_SITE_SUFFIX = re.compile(r"(\.stackexchange)?\.(com|net)$")
_SITE_PREFIX = re.compile(r"^stack[-_]?exchange[-_.]")


@dataclass(frozen=True)
class StackExchangeOptions:
    """``site``: the community name to use instead of the one derived from the folder name."""

    site: str | None = None


def site_name(path: Path) -> str:
    """The site slug from a dump folder name: ``stackexchange-cardano`` / ``cardano.stackexchange.com`` → cardano."""
    is_file = path.is_file() or ".xml" in (suffix.lower() for suffix in path.suffixes)
    folder = path.parent if is_file else path
    name = folder.resolve().name.lower()
    name = _SITE_SUFFIX.sub("", name)
    name = _SITE_PREFIX.sub("", name)
    return name or "stackexchange"


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


class StackExchangeAdapter(Adapter):
    """Stack Exchange data dump XML: questions, answers, comments and users."""

    name = "stackexchange"
    platform = PLATFORM
    version = "1"
    description = "Stack Exchange data dump (folder or Posts/Comments/Users.xml)"
    Options = StackExchangeOptions

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        if probe.is_dir:
            return any(child.lower() == "posts.xml" for child in probe.children)
        tag = root_tag(probe.head)
        return tag in READ_ROOTS + IGNORED_ROOTS and b"<row " in probe.head

    def files(self, path: Path) -> list[Path]:
        if path.is_file():
            return [path]
        by_name = {p.name.lower(): p for p in path.iterdir() if p.is_file()}
        return [by_name[_FILE_FOR[root].lower()] for root in READ_ROOTS if _FILE_FOR[root].lower() in by_name]

    def read(self, path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[Batch]:
        options: StackExchangeOptions = self.options
        community = options.site or site_name(path)
        if path.is_dir():
            files = [(f, f.stem.lower()) for f in self.files(path)]
            if not files:
                raise AdapterError("no Posts.xml, Comments.xml or Users.xml in this folder", path=path,
                                   hint="Point at an unpacked Stack Exchange dump folder")
        else:
            root = root_tag(read_head(path))
            if root in IGNORED_ROOTS:
                raise AdapterError(
                    f"<{root}> rows are not posts or accounts; permadani reads Posts.xml, Comments.xml and "
                    f"Users.xml", path=path, hint="Pass the dump folder or one of those three files")
            if root not in READ_ROOTS:
                found = f"document element <{root}>" if root else "no XML document element"
                raise AdapterError(f"{found}: not a Stack Exchange dump table", path=path,
                                   hint="Pass the dump folder or Posts.xml, Comments.xml or Users.xml")
            files = [(path, str(root))]
        threads: dict[int, int] = {}
        for file, kind in files:
            reader = _Reader(file, self.name, community, threads)
            if kind == "posts":
                yield from reader.posts(on_bytes)
            elif kind == "comments":
                yield from reader.comments(on_bytes)
            else:
                yield from reader.users(on_bytes)


@dataclass(frozen=True)
class _Row:
    """One ``<row>``: where it is, its attributes, and an excerpt for rejects."""

    location: str
    line: int | None
    attrib: dict[str, str]
    raw: str


_Handler = Callable[[_Row], None]


class _Reader:
    """Reads one dump file into batches; ``threads`` is shared so comments find their question."""

    def __init__(self, path: Path, fmt: str, community: str, threads: dict[int, int]) -> None:
        self.path = path
        self.builder = BatchBuilder(path, fmt, PLATFORM)
        self.community = community
        self.threads = threads

    def _stream(self, on_bytes: Callable[[int], None] | None, handle: _Handler) -> Iterator[Batch]:
        """Count every ``<row>`` as read, hand it to ``handle``, and yield batches as they fill."""
        for line, elem in iter_elements(self.path, {"row"}, on_bytes):
            attrib = dict(elem.attrib)
            self.builder.read += 1
            where = f"line {line}, " if line else ""
            location = f"{where}row Id={attrib['Id']}" if "Id" in attrib else f"{where}row"
            handle(_Row(location, line, attrib, attributes_excerpt("row", attrib)))
            if self.builder.full and (batch := self.builder.flush()):
                yield batch
        if batch := self.builder.flush():
            yield batch

    def _common(self, row: _Row) -> tuple[int, datetime] | None:
        """Id and CreationDate checks shared by posts and comments; None (after a reject) when they fail."""
        b, attrib = self.builder, row.attrib
        if not attrib.get("Id"):
            b.reject(row.location, "missing-id", row.raw)
            return None
        row_id = _int(attrib["Id"])
        if row_id is None:
            b.reject(row.location, "bad-value", row.raw, f"Id {attrib['Id']!r} is not an integer")
            return None
        created = parse_time(attrib.get("CreationDate"))
        if created is None:
            b.reject(row.location, "bad-timestamp", row.raw,
                     f"cannot read CreationDate {attrib.get('CreationDate')!r}")
            return None
        return row_id, created

    def _number(self, row: _Row, key: str) -> tuple[bool, int | None]:
        """``(ok, value)`` for an optional integer attribute; a non-integer is a ``bad-value`` reject."""
        value = row.attrib.get(key)
        if value is None:
            return True, None
        number = _int(value)
        if number is None:
            self.builder.reject(row.location, "bad-value", row.raw, f"{key} {value!r} is not an integer")
            return False, None
        return True, number

    @staticmethod
    def _author(attrib: dict[str, str], id_key: str, name_key: str) -> str | None:
        if attrib.get(id_key):
            return attrib[id_key]
        name = attrib.get(name_key)
        return f"name:{name}" if name else None

    def posts(self, on_bytes: Callable[[int], None] | None) -> Iterator[Batch]:
        yield from self._stream(on_bytes, self._post)

    def _post(self, row: _Row) -> None:
        b, attrib = self.builder, row.attrib
        common = self._common(row)
        if common is None:
            return
        row_id, created = common
        type_id = attrib.get("PostTypeId")
        if type_id not in ("1", "2"):
            self.threads[row_id] = _UNSUPPORTED
            b.reject(row.location, "unsupported-kind", row.raw,
                     f"PostTypeId {type_id} is not a question (1) or an answer (2)")
            return
        parent: int | None = None
        if type_id == "2":
            parent = _int(attrib.get("ParentId"))
            if parent is None:
                b.reject(row.location, "missing-field", row.raw, "answer without an integer ParentId")
                return
        ok, score = self._number(row, "Score")
        if not ok:
            return
        author = self._author(attrib, "OwnerUserId", "OwnerDisplayName")
        body = attrib.get("Body", "")
        if parent is None:
            title = attrib.get("Title")
            b.post(post_id=row_id, created_at=created, source_line=row.line, community=self.community,
                   thread_id=row_id, kind="question", text=f"{title}\n\n{body}" if title else body, score=score,
                   author_id=author)
            return
        self.threads[row_id] = parent
        b.post(post_id=row_id, created_at=created, source_line=row.line, community=self.community,
               thread_id=parent, parent_id=parent, kind="answer", text=body, score=score, author_id=author)

    def comments(self, on_bytes: Callable[[int], None] | None) -> Iterator[Batch]:
        yield from self._stream(on_bytes, self._comment)

    def _comment(self, row: _Row) -> None:
        b, attrib = self.builder, row.attrib
        common = self._common(row)
        if common is None:
            return
        row_id, created = common
        post = _int(attrib.get("PostId"))
        if post is None:
            b.reject(row.location, "missing-field", row.raw, "comment without an integer PostId")
            return
        thread = self.threads.get(post, post)
        if thread == _UNSUPPORTED:
            b.reject(row.location, "unsupported-kind", row.raw,
                     f"comment on post {post}, which is not a question or an answer")
            return
        ok, score = self._number(row, "Score")
        if not ok:
            return
        b.post(post_id=f"c{row_id}", created_at=created, source_line=row.line, community=self.community,
               thread_id=thread, parent_id=post, kind="comment", text=attrib.get("Text", ""), score=score,
               author_id=self._author(attrib, "UserId", "UserDisplayName"))

    def users(self, on_bytes: Callable[[int], None] | None) -> Iterator[Batch]:
        yield from self._stream(on_bytes, self._user)

    def _user(self, row: _Row) -> None:
        b, attrib = self.builder, row.attrib
        user_id = attrib.get("Id")
        if not user_id:
            b.reject(row.location, "missing-id", row.raw)
            return
        if _int(user_id) is None:
            b.reject(row.location, "bad-value", row.raw, f"Id {user_id!r} is not an integer")
            return
        created = parse_time(attrib.get("CreationDate"))
        if created is None and attrib.get("CreationDate") is not None:
            b.reject(row.location, "bad-timestamp", row.raw, f"cannot read CreationDate {attrib['CreationDate']!r}")
            return
        ok, reputation = self._number(row, "Reputation")
        if not ok:
            return
        b.account(author_id=user_id, record=True, display_name=attrib.get("DisplayName"), reputation=reputation,
                  account_created_at=created, is_bot=True if user_id == "-1" else None, source_file=str(self.path))
