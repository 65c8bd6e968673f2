"""Disqus XML exports (Admin → Community → Export; the ``disqus.com/api/schemas/1.0/disqus.xsd`` layout).

The file holds ``<category>`` elements (forum sections: metadata, not counted), then one ``<thread>`` per page
that had a comment box, then one ``<post>`` per comment, each naming its ``<thread dsq:id>`` and, for replies,
its ``<parent dsq:id>``.

Records:

- ``<thread>`` → a root post ``t<dsq:id>`` (kind ``post``): the commented page itself, with its title as text and
  the thread's author (the page owner when threads are created by the site, else the first visitor to open the
  comment box — Disqus does not say which). Making the page a root lets the audit ask whether the blogger answers
  top-level commenters. Community = ``<forum>`` (the site's Disqus shortname).
- ``<post>`` → post ``p<dsq:id>`` (kind ``comment``), thread ``t<thread dsq:id>``, parent ``p<parent dsq:id>``
  or the thread root when the comment is top-level.
- ``<isSpam>true`` → reject ``spam``. ``<isDeleted>true`` → kept in the tree without text or author (as on
  Reddit's ``[deleted]``), so replies to it keep their parent.

Authors: a Disqus account (``<isAnonymous>false`` with ``<username>``) is its username; a guest by their e-mail
address (replaced by a keyed hash at ingest), else ``guest:<name>``. The guest's name is kept as display name;
``<ipAddress>`` is never read. Communities of posts come from their thread (a map thread id → forum, one short
string per thread, is the only state kept).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_et

from ._io import parse_time
from .base import Adapter, Batch, BatchBuilder, Probe
from .wordpress import CleanXmlStream, open_clean_xml, xml_error

DSQ_ID = "{http://disqus.com/disqus-internals}id"
_ANONYMOUS_NAMES = {"", "anonymous", "guest", "匿名"}


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _texts(elem: Element) -> dict[str, str]:
    out: dict[str, str] = {}
    for child in elem:
        name = _local(child.tag)
        if name not in out:
            out[name] = child.text or "" if name == "message" else (child.text or "").strip()
    return out


def _child(elem: Element, name: str) -> Element | None:
    for child in elem:
        if _local(child.tag) == name:
            return child
    return None


def _raw(elem: Element) -> str:
    parts = []
    for c in elem:
        if len(c):
            parts.append(f"{_local(c.tag)}=({_raw(c)})")
        elif c.get(DSQ_ID):
            parts.append(f"{_local(c.tag)}@id={c.get(DSQ_ID)}")
        else:
            parts.append(f"{_local(c.tag)}={(c.text or '').strip()[:120]}")
    return f"id={elem.get(DSQ_ID)}; " + "; ".join(parts)


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


@dataclass(frozen=True)
class DisqusOptions:
    """``community``: overrides the Disqus forum shortname as community."""

    community: str | None = None


class DisqusAdapter(Adapter):
    """Disqus XML export: each thread (commented page) a root post, its comments as replies."""

    name = "disqus"
    platform = "disqus"
    version = "1"
    description = "Disqus XML export: threads (pages) and their comments"
    priority = 30
    Options = DisqusOptions

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        return not probe.is_dir and b"<disqus" in probe.head and b"disqus.com" in probe.head

    def read(self, path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[Batch]:
        stream = open_clean_xml(path, on_bytes)
        try:
            yield from _DisqusReader(path, self.name, self.platform, self.options).run(stream)
        except ParseError as exc:
            raise xml_error(path, exc) from exc


class _DisqusReader:
    def __init__(self, path: Path, fmt: str, platform: str, options: DisqusOptions) -> None:
        self.builder = BatchBuilder(path, fmt, platform)
        self.options = options
        self.forums: dict[str, str | None] = {}
        self.record = 0

    def run(self, stream: CleanXmlStream) -> Iterator[Batch]:
        depth = 0
        root: Element | None = None
        for event, elem in safe_et.iterparse(stream, events=("start", "end")):
            if event == "start":
                depth += 1
                if depth == 1:
                    root = elem
                continue
            depth -= 1
            if depth != 1 or root is None:
                continue
            name = _local(elem.tag)
            if name == "thread":
                self._thread(elem)
            elif name == "post":
                self._post(elem)
            root.remove(elem)
            if self.builder.full and (batch := self.builder.flush()):
                yield batch
        if batch := self.builder.flush():
            yield batch

    def _author(self, elem: Element, deleted: bool) -> str | None:
        """The author id of a thread or post (see the module docstring); adds a display-name observation."""
        author = _child(elem, "author")
        if author is None or deleted:
            return None
        a = _texts(author)
        name = a.get("name", "")
        if not _true(a.get("isAnonymous")) and a.get("username"):
            author_id = a["username"]
        elif a.get("email"):
            author_id = a["email"].lower()
        elif name.lower() not in _ANONYMOUS_NAMES:
            author_id = f"guest:{name}"
        else:
            return None
        if name and "@" not in name:
            self.builder.account(author_id=author_id, display_name=name)
        return author_id

    def _thread(self, elem: Element) -> None:
        b = self.builder
        b.read += 1
        self.record += 1
        raw_id = elem.get(DSQ_ID)
        t = _texts(elem)
        if not raw_id:
            b.reject(f"thread {self.record}", "missing-id", _raw(elem), "<thread> without dsq:id")
            return
        community = self.options.community or t.get("forum") or None
        self.forums[raw_id] = community
        deleted = _true(t.get("isDeleted"))
        text = None if deleted else ((t.get("message") or "").strip() or t.get("title") or None)
        b.post(post_id=f"t{raw_id}", created_at=parse_time(t.get("createdAt")), source_line=self.record,
               community=community, thread_id=f"t{raw_id}", author_id=self._author(elem, deleted), kind="post",
               text=text)

    def _post(self, elem: Element) -> None:
        b = self.builder
        b.read += 1
        self.record += 1
        raw_id = elem.get(DSQ_ID)
        t = _texts(elem)
        location = f"post {self.record} (dsq:id {raw_id or '?'})"
        thread = _child(elem, "thread")
        thread_id = thread.get(DSQ_ID) if thread is not None else None
        if not raw_id:
            b.reject(location, "missing-id", _raw(elem), "<post> without dsq:id")
            return
        if not thread_id:
            b.reject(location, "missing-field", _raw(elem), "<post> without <thread dsq:id>")
            return
        if _true(t.get("isSpam")):
            b.reject(location, "spam", _raw(elem), "<isSpam>true")
            return
        parent = _child(elem, "parent")
        parent_id = parent.get(DSQ_ID) if parent is not None else None
        deleted = _true(t.get("isDeleted"))
        community = self.options.community or self.forums.get(thread_id) or t.get("forum") or None
        b.post(post_id=f"p{raw_id}", created_at=parse_time(t.get("createdAt")), source_line=self.record,
               community=community, thread_id=f"t{thread_id}",
               parent_id=f"p{parent_id}" if parent_id else f"t{thread_id}",
               author_id=self._author(elem, deleted), kind="comment",
               text=None if deleted else (t.get("message") or None))
