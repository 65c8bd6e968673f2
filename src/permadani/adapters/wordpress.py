"""WordPress WXR exports (WordPress eXtended RSS, versions 1.0–1.2, as written by Tools → Export).

Follows the WXR layout written by WordPress core's ``export_wp()`` (``wp-admin/includes/export.php``):
``rss/channel`` holds the blog's ``title``/``link``/``wp:base_blog_url``, one ``wp:author`` per author, taxonomy
(``wp:category``, ``wp:tag``, ``wp:term``) and one ``item`` per post, page, attachment or menu item, each item
holding its ``wp:comment`` elements.

Records (every one is a post, an account record or a reject):

- ``wp:author`` → account record ``user:<wp:author_id>`` (display name = ``wp:author_display_name``).
- ``item`` → post ``p<wp:post_id>`` (kind ``post``; a thread root; author = ``dc:creator`` mapped through the
  authors' logins to ``user:<id>``, else ``login:<creator>``). Posts and pages are kept; attachments, menu items,
  revisions and custom types are rejected ``unsupported-kind``, and drafts/pending/trashed items
  ``unpublished`` — *unless* people commented on them, in which case they are kept (kind = their post type,
  e.g. ``attachment``) so that no comment loses its thread root.
- ``wp:comment`` → post ``c<wp:comment_id>``, thread = its item, parent = ``c<wp:comment_parent>`` or the item
  when 0. Kind ``comment``; ``pingback``/``trackback``/``webmention`` keep their own kind (links from other sites,
  authored by ``site:<host>``), ``review`` stays ``review``; other comment types (order notes, logs) are rejected
  ``unsupported-kind``. Spam (``wp:comment_approved`` = ``spam``) is rejected ``spam``; trashed comments are kept
  in the tree without text or author (like Reddit's ``[deleted]``). Registered commenters
  (``wp:comment_user_id`` ≠ 0) are ``user:<id>``; anonymous ones are identified by their e-mail address (which
  ingest replaces by a keyed hash), else ``guest:<name>``. Commenter IP addresses are never read.

Taxonomy elements are metadata, not records, and are not counted. Times are the ``*_gmt`` fields (UTC); a
missing or zero GMT time is a ``bad-timestamp`` reject (the local times carry no zone), except that items fall
back to the RFC 822 ``pubDate``. Real exports are not always well-formed: undeclared namespace prefixes (a known
WXR defect) are declared on the root element before parsing, and control characters that XML 1.0 forbids are
dropped. Anything else that breaks the XML raises ``AdapterError`` with the line and column.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_et

from ..errors import AdapterError
from ._io import open_binary, parse_time
from .base import Adapter, Batch, BatchBuilder, Probe

#: Namespace URIs WordPress declares in every WXR file; used when a file forgets to declare one.
STANDARD_NAMESPACES = {
    "wp": "http://wordpress.org/export/1.2/",
    "excerpt": "http://wordpress.org/export/1.2/excerpt/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "wfw": "http://wellformedweb.org/CommentAPI/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "atom": "http://www.w3.org/2005/Atom",
    "dsq": "http://disqus.com/disqus-internals",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}

_USED_PREFIX = re.compile(rb"<\/?([A-Za-z_][\w.\-]*):[A-Za-z_]|\s([A-Za-z_][\w.\-]*):[A-Za-z_][\w.\-]*\s*=\s*[\"']")
_DECLARED_PREFIX = re.compile(rb"xmlns:([A-Za-z_][\w.\-]*)\s*=")
#: Bytes XML 1.0 forbids (C0 controls except tab, LF, CR); they never occur inside multi-byte UTF-8 sequences.
_FORBIDDEN = bytes(b for b in range(32) if b not in (9, 10, 13))
_KEPT_TYPES = ("post", "page")
_PUBLISHED = ("publish", "private", "inherit", "")
_COMMENT_KINDS = {"": "comment", "comment": "comment", "pingback": "pingback", "trackback": "trackback",
                  "webmention": "webmention", "review": "review"}
_LINK_KINDS = ("pingback", "trackback", "webmention")
_DELETED = ("trash", "post-trashed")
_ANONYMOUS_NAMES = {"", "anonymous", "anonym", "guest", "匿名"}


def undeclared_prefixes(path: Path) -> set[str]:
    """Namespace prefixes used in ``path`` (tags or attributes) but never declared, by a cheap byte scan.

    The scan also sees prefixes inside CDATA text (``<o:p>`` from pasted Word HTML): declaring those too is
    harmless, so over-reporting is safe.
    """
    used: set[bytes] = set()
    declared: set[bytes] = set()
    tail = b""
    with open_binary(path) as fh:
        while block := fh.read(4 * 1024 * 1024):
            chunk = tail + block
            used.update(a or b for a, b in _USED_PREFIX.findall(chunk))
            declared.update(_DECLARED_PREFIX.findall(chunk))
            tail = chunk[-256:]
    missing = used - declared - {b"xml", b"xmlns"}
    return {p.decode("ascii", "replace") for p in missing}


class CleanXmlStream:
    """A read-only stream over an XML file that drops XML-forbidden control bytes and, when asked, declares
    missing namespace prefixes on the root element. It never holds more than one read block."""

    def __init__(self, raw: BinaryIO, declare: dict[str, str] | None = None) -> None:
        self._raw = raw
        self._pending = b""
        self._declare = declare or {}
        self._patched = not self._declare

    def read(self, size: int = -1) -> bytes:
        if not self._patched:
            self._patch_root()
        if size is None or size < 0:
            data = self._pending + self._raw.read()
            self._pending = b""
            return data.translate(None, _FORBIDDEN)
        if self._pending:
            data, self._pending = self._pending[:size], self._pending[size:]
            return data.translate(None, _FORBIDDEN)
        return self._raw.read(size).translate(None, _FORBIDDEN)

    def _patch_root(self) -> None:
        """Insert ``xmlns:p="uri"`` declarations just before the end of the root start tag."""
        self._patched = True
        head = b""
        while True:
            block = self._raw.read(64 * 1024)
            head += block
            end = _root_tag_end(head)
            if end is not None or not block:
                break
        if end is None:
            self._pending = head
            return
        decls = b"".join(f' xmlns:{p}="{uri}"'.encode() for p, uri in sorted(self._declare.items()))
        cut = end - 1 if head[end - 1:end] == b"/" else end
        self._pending = head[:cut] + decls + head[cut:]


def _root_tag_end(head: bytes) -> int | None:
    """Index of the ``>`` that closes the root element's start tag in ``head`` (None when not yet seen)."""
    i = 0
    while True:
        i = head.find(b"<", i)
        if i < 0 or i + 1 >= len(head):
            return None
        nxt = head[i + 1:i + 2]
        if nxt == b"?":
            i = head.find(b"?>", i)
        elif head.startswith(b"<!--", i):
            i = head.find(b"-->", i)
        elif nxt == b"!":
            i = head.find(b">", i)
        else:
            quote = None
            for j in range(i + 1, len(head)):
                ch = head[j:j + 1]
                if quote:
                    if ch == quote:
                        quote = None
                elif ch in (b'"', b"'"):
                    quote = ch
                elif ch == b">":
                    return j
            return None
        if i < 0:
            return None
        i += 1


def open_clean_xml(path: Path, on_bytes: Callable[[int], None] | None = None) -> CleanXmlStream:
    """Open ``path`` (possibly compressed) as a cleaned XML stream, declaring undeclared prefixes first."""
    missing = undeclared_prefixes(path)
    declare = {p: STANDARD_NAMESPACES.get(p, f"urn:permadani:undeclared:{p}") for p in missing}
    return CleanXmlStream(open_binary(path, on_bytes), declare)


def xml_error(path: Path, exc: ParseError) -> AdapterError:
    """An AdapterError for XML that cannot be read, with line and column."""
    line, column = getattr(exc, "position", (None, None))
    return AdapterError(f"the XML is not well-formed and cannot be recovered ({exc})", path=path,
                        location=f"line {line}, column {column}" if line else None,
                        hint="Fix the file at that position (or re-export it) and run ingest again")


@lru_cache(maxsize=256)
def _family(uri: str) -> str | None:
    if "wordpress.org/export" in uri:
        return "excerpt" if uri.rstrip("/").endswith("excerpt") else "wp"
    if "purl.org/rss/1.0/modules/content" in uri:
        return "content"
    if "purl.org/dc/elements" in uri:
        return "dc"
    if "wellformedweb.org/commentapi" in uri.lower():
        return "wfw"
    return None


@lru_cache(maxsize=1024)
def key(tag: str) -> str:
    """``{uri}local`` → ``wp:local`` / ``dc:local`` / … for the WXR namespaces (any WXR version)."""
    if not tag.startswith("{"):
        return tag
    uri, _, local = tag[1:].partition("}")
    family = _family(uri)
    return f"{family}:{local}" if family else tag


def _texts(elem: Element) -> dict[str, str]:
    """First text of each direct child, by ``key``."""
    out: dict[str, str] = {}
    for child in elem:
        k = key(child.tag)
        if k not in out:
            out[k] = (child.text or "").strip() if k not in ("content:encoded", "wp:comment_content") \
                else (child.text or "")
    return out


def _gmt(value: str | None):
    if not value or value.startswith("0000"):
        return None
    return parse_time(value)


def _host(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url if "//" in url else f"//{url}")
    return (parts.hostname or "").lower() or None


def _raw(elem: Element) -> str:
    """A compact excerpt of a record: ``key=value`` for its direct children (nested records left out)."""
    parts = [f"{key(c.tag)}={(c.text or '').strip()[:120]}" for c in elem if len(c) == 0]
    return "; ".join(parts)


@dataclass(frozen=True)
class WordPressOptions:
    """``community``: overrides the blog name taken from the channel (``wp:base_blog_url`` host, else link)."""

    community: str | None = None


class WordPressAdapter(Adapter):
    """WordPress WXR export: posts and pages as thread roots, their comments and pingbacks as replies."""

    name = "wordpress"
    platform = "wordpress"
    version = "1"
    description = "WordPress WXR export (Tools → Export): posts, pages, comments, pingbacks"
    priority = 30
    Options = WordPressOptions

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        if probe.is_dir:
            return False
        head = probe.head
        return b"<rss" in head and (b"wordpress.org/export/" in head or b"<wp:wxr_version" in head)

    def read(self, path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[Batch]:
        reader = _WxrReader(path, self.name, self.platform, self.options)
        stream = open_clean_xml(path, on_bytes)
        try:
            yield from reader.run(stream)
        except ParseError as exc:
            raise xml_error(path, exc) from exc


class _WxrReader:
    def __init__(self, path: Path, fmt: str, platform: str, options: WordPressOptions) -> None:
        self.path = path
        self.builder = BatchBuilder(path, fmt, platform)
        self.options = options
        self.channel: dict[str, str] = {}
        self.logins: dict[str, str] = {}
        self.record = 0
        self.items = 0
        self.authors = 0

    @property
    def community(self) -> str | None:
        if self.options.community:
            return self.options.community
        return (_host(self.channel.get("wp:base_blog_url")) or _host(self.channel.get("link"))
                or self.channel.get("title") or None)

    def run(self, stream: CleanXmlStream) -> Iterator[Batch]:
        depth = 0
        channel: Element | None = None
        for event, elem in safe_et.iterparse(stream, events=("start", "end")):
            if event == "start":
                depth += 1
                if depth == 2 and key(elem.tag) == "channel":
                    channel = elem
                continue
            depth -= 1
            if depth != 2 or channel is None:
                continue
            k = key(elem.tag)
            if k == "item":
                self._item(elem)
            elif k == "wp:author":
                self._author(elem)
            elif k in ("title", "link", "wp:base_blog_url") and k not in self.channel:
                self.channel[k] = (elem.text or "").strip()
            channel.remove(elem)
            if self.builder.full and (batch := self.builder.flush()):
                yield batch
        if batch := self.builder.flush():
            yield batch

    def _author(self, elem: Element) -> None:
        b = self.builder
        b.read += 1
        self.record += 1
        self.authors += 1
        t = _texts(elem)
        author_id, login = t.get("wp:author_id"), t.get("wp:author_login")
        if not author_id:
            b.reject(f"wp:author {self.authors}", "missing-id", _raw(elem), "wp:author without wp:author_id")
            return
        if login:
            self.logins[login] = f"user:{author_id}"
        name = html.unescape(t.get("wp:author_display_name") or login or "")
        b.account(author_id=f"user:{author_id}", record=True, display_name=name or None, source_file=b.source)

    def _item(self, item: Element) -> None:
        b = self.builder
        self.items += 1
        t = _texts(item)
        comments = [c for c in item if key(c.tag) == "wp:comment"]
        raw_id = t.get("wp:post_id")
        post_type = t.get("wp:post_type") or "post"
        status = t.get("wp:status", "")
        location = f"item {self.items} (wp:post_id {raw_id or '?'})"
        b.read += 1
        self.record += 1
        live = [c for c in comments if _texts(c).get("wp:comment_approved") != "spam"]
        if not raw_id:
            b.reject(location, "missing-id", _raw(item), "item without wp:post_id")
            for n, c in enumerate(comments, 1):
                b.read += 1
                self.record += 1
                b.reject(f"comment {n} of {location}", "missing-id", _raw(c), "the comment's item has no id")
            return
        item_id = f"p{raw_id}"
        if not live and post_type not in _KEPT_TYPES:
            b.reject(location, "unsupported-kind", _raw(item), f"wp:post_type {post_type!r} without comments")
        elif not live and status not in _PUBLISHED:
            b.reject(location, "unpublished", _raw(item), f"wp:status {status!r} without comments")
        else:
            created = _gmt(t.get("wp:post_date_gmt"))
            if created is None and t.get("pubDate") and "-0001" not in t["pubDate"]:
                created = parse_time(t["pubDate"])
            creator = t.get("dc:creator") or None
            author = self.logins.get(creator, f"login:{creator}") if creator else None
            b.post(post_id=item_id, created_at=created, source_line=self.record, community=self.community,
                   thread_id=item_id, author_id=author,
                   kind="post" if post_type in _KEPT_TYPES else post_type, text=t.get("content:encoded") or None)
        for n, c in enumerate(comments, 1):
            self._comment(c, item_id, f"comment {n} of {location}")

    def _comment(self, elem: Element, item_id: str, location: str) -> None:
        b = self.builder
        b.read += 1
        self.record += 1
        t = _texts(elem)
        raw_id = t.get("wp:comment_id")
        approved = t.get("wp:comment_approved", "1")
        ctype = t.get("wp:comment_type", "")
        if not raw_id:
            b.reject(location, "missing-id", _raw(elem), "wp:comment without wp:comment_id")
            return
        if approved == "spam":
            b.reject(location, "spam", _raw(elem), "wp:comment_approved is 'spam'")
            return
        if ctype not in _COMMENT_KINDS:
            b.reject(location, "unsupported-kind", _raw(elem), f"wp:comment_type {ctype!r} is not a comment")
            return
        kind = _COMMENT_KINDS[ctype]
        created = _gmt(t.get("wp:comment_date_gmt"))
        if created is None:
            b.reject(location, "bad-timestamp", _raw(elem), "wp:comment_date_gmt is missing or zero")
            return
        parent = t.get("wp:comment_parent", "0")
        parent_id = item_id if parent in ("", "0") else f"c{parent}"
        deleted = approved in _DELETED
        name = html.unescape(t.get("wp:comment_author", "")).strip()
        author: str | None
        observe = True
        if deleted:
            author = None
        elif kind in _LINK_KINDS:
            host = _host(t.get("wp:comment_author_url"))
            author = f"site:{host}" if host else None
        elif t.get("wp:comment_user_id", "0") not in ("", "0"):
            author = f"user:{t['wp:comment_user_id']}"
            observe = author not in self.logins.values()
        elif t.get("wp:comment_author_email"):
            author = t["wp:comment_author_email"].strip().lower()
        elif name.lower() not in _ANONYMOUS_NAMES:
            author = f"guest:{name}"
        else:
            author = None
        b.post(post_id=f"c{raw_id}", created_at=created, source_line=self.record, community=self.community,
               thread_id=item_id, parent_id=parent_id, author_id=author, kind=kind,
               text=None if deleted else (t.get("wp:comment_content") or None))
        if author and observe and name and "@" not in name:
            b.account(author_id=author, display_name=name)
