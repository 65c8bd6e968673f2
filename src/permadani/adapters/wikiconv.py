"""Wikipedia talk-page conversations in the WikiConv shape (Hua et al., EMNLP 2018), as served by the
Wikidetox conversation viewer: a JavaScript file ``var conversations = [ {...}, {...} ];`` (a bare JSON array
is accepted too) where each element is one conversation, an object mapping comment id → comment with ``id``,
``comment_type``, ``content``, ``timestamp`` (``YYYY-MM-DD HH:MM:SS UTC``), ``status``, ``page_title``,
``user_text`` and ``parent_id`` (``""`` for a root).

Each comment is one record → a post: kind ``post`` for section creations (the thread roots), ``comment`` for
added, modified and restored comments (a modification carries the latest text and its own time); removed or
deleted comments stay in the tree without text. Unknown comment types are rejected ``unsupported-kind``.
``thread_id`` is the root reached by following ``parent_id`` inside the conversation (a conversation can hold
two roots); a comment naming itself as parent (one in the Wikidetox job1 file) is taken as a root.
``author_id`` is ``user_text``: for anonymous editors that is an IP address, which ingest replaces by a keyed
hash; it is copied nowhere else (no display name is recorded, ``page_title`` — which can be
``User talk:<IP>`` — is not stored, and IPs inside comment text are scrubbed by ingest). Community is the
``community`` option (default ``en.wikipedia``). One conversation at a time is held in memory.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._io import open_binary, parse_time
from .base import Adapter, Batch, BatchBuilder, Probe
from .convokit import JsonScanner

_ROOT_TYPES = ("SECTION_CREATION", "CREATION")
_COMMENT_TYPES = ("COMMENT_ADDING", "ADDITION", "COMMENT_MODIFICATION", "MODIFICATION", "COMMENT_RESTORATION",
                  "RESTORATION")
_REMOVED_TYPES = ("COMMENT_REMOVAL", "DELETION", "REMOVAL")


def _time(value: Any):
    if isinstance(value, str) and value.endswith(" UTC"):
        value = value[:-4].replace(" ", "T", 1) + "+00:00"
    return parse_time(value)


def _root(comment_id: str, conversation: dict[str, Any]) -> str:
    """Follow ``parent_id`` inside the conversation to the top; stops at a missing parent or a cycle."""
    current = comment_id
    seen = {current}
    while True:
        node = conversation.get(current)
        parent = node.get("parent_id") if isinstance(node, dict) else None
        if not parent or str(parent) == current:
            return current
        parent = str(parent)
        if parent not in conversation:
            return parent
        if parent in seen:
            return current
        seen.add(parent)
        current = parent


@dataclass(frozen=True)
class WikiConvOptions:
    """``community``: the wiki the talk pages belong to."""

    community: str = "en.wikipedia"


class WikiConvAdapter(Adapter):
    """WikiConv-style Wikipedia talk-page conversations (Wikidetox ``conversations_*.js``)."""

    name = "wikiconv"
    platform = "wikipedia"
    version = "1"
    description = "Wikipedia talk pages, WikiConv conversations (JS or JSON array)"
    priority = 30
    Options = WikiConvOptions

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        if probe.is_dir:
            return False
        text = probe.text
        return (text.startswith("var ") or text.startswith("[")) and '"comment_type"' in text \
            and '"parent_id"' in text and '"user_text"' in text

    def read(self, path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[Batch]:
        options: WikiConvOptions = self.options
        b = BatchBuilder(path, self.name, self.platform)
        record = 0
        with io.TextIOWrapper(open_binary(path, on_bytes), encoding="utf-8-sig", errors="surrogateescape") as fh:
            scan = JsonScanner(fh, path)
            scan.skip_to("[")
            number = 0
            while scan.peek() not in ("]", ""):
                number += 1
                offset = scan.offset
                conversation = scan.value()
                if not isinstance(conversation, dict):
                    record += 1
                    b.read += 1
                    b.reject(f"conversation {number} (character {offset})", "not-a-record",
                             json.dumps(conversation)[:300], "a conversation must be an object of comments")
                else:
                    for key, comment in conversation.items():
                        record += 1
                        self._comment(b, key, comment, conversation, record, f"conversation {number}", options)
                if b.full and (batch := b.flush()):
                    yield batch
                if scan.peek() == ",":
                    scan.expect(",")
            if scan.peek() != "]":
                raise scan.error("the conversations array is not closed")
        if batch := b.flush():
            yield batch

    def _comment(self, b: BatchBuilder, key: str, comment: Any, conversation: dict[str, Any], record: int,
                 where: str, options: WikiConvOptions) -> None:
        b.read += 1
        location = f"{where}, comment {key}"
        raw = json.dumps(comment, ensure_ascii=False)[:600] if not isinstance(comment, str) else comment
        if not isinstance(comment, dict):
            b.reject(location, "not-a-record", raw, "a comment must be an object")
            return
        post_id = str(comment.get("id") or key)
        ctype = str(comment.get("comment_type") or "")
        if ctype in _ROOT_TYPES:
            kind, text = "post", comment.get("content")
        elif ctype in _COMMENT_TYPES:
            kind, text = "comment", comment.get("content")
        elif ctype in _REMOVED_TYPES:
            kind, text = "comment", None
        else:
            b.reject(location, "unsupported-kind", raw, f"comment_type {ctype!r}")
            return
        parent = comment.get("parent_id")
        parent_id = str(parent) if parent and str(parent) != post_id else None
        author = comment.get("user_text")
        b.post(post_id=post_id, created_at=_time(comment.get("timestamp")), source_line=record,
               community=options.community, thread_id=_root(key, conversation), parent_id=parent_id,
               author_id=str(author).strip() if author else None, kind=kind,
               text=text if isinstance(text, str) else None)
