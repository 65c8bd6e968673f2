"""Facebook: Graph API feed responses (``facebook-graph``) and the "Download your information" export
(``facebook-dyi``). Platform ``facebook``.

**Graph API** (developers.facebook.com/docs/graph-api, v19-v21: Page Feed, Group Feed, Post and Comment
nodes). A body is ``{"data": [Post...], "paging": {...}}``, a single Post, or JSON lines of either; a body is
parsed whole (pages are bounded by ``limit`` <= 100). Posts may nest ``"comments": {"data": [Comment...]}`` and
comments nest their replies the same way::

    post_id      = id ("PAGEID_POSTID" for posts)
    community    = --option community, else the page/group id (the part of the post id before "_")
    post:          kind "post", text = message (else story), score = reactions (else likes) summary
                   total_count; a share carries ``parent_id`` (the shared post): kind "quote" when it has its
                   own message, else "repost", amplifies_id = that id
    comment:       kind "comment", parent_id = parent.id when given, else the enclosing post or comment;
                   thread_id = the post; score = like_count
    author_id    = from.id (display_name = from.name); null when the API withholds ``from``
    created_at   = created_time ("2019-01-01T10:00:00+0000")

**Download your information** (JSON format, 2019-2024 layouts): ``your_posts_N.json`` (an array of posts,
streamed item by item) and ``comments.json`` (``{"comments_v2": [...]}`` or the older ``{"comments": [...]}``,
parsed whole). Facebook writes each UTF-8 byte of a string as a separate code point (``"\\u00f0\\u009f\\u0094
\\u00a5"`` for one emoji): every string is repaired with ``s.encode("latin-1").decode("utf-8")`` when that
round-trips (strings that do not round-trip are already right and are kept).

The export has no ids at all, so::

    author_id  = --option owner=NAME (default "self"): the export's owner; every post and comment is theirs
    post_id    = "dyi:" + timestamp + ":" + the first 12 hex digits of SHA-1 over the entry's canonical JSON
                 (stable across re-exports of the same entry, so re-ingesting finds duplicates)
    post:        kind "post", text = data[].post (else an attachment's description, url or name), or null
    comment:     kind "comment", text = comment.comment; the commented post is not named by the export, so
                 parent_id is null (a comment is never counted as a reply)
    created_at = timestamp (epoch seconds)

Upload IP addresses in media metadata are never read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AdapterError
from ._io import parse_time, read_head
from ._social_json import (
    Bad,
    JsonDocumentsAdapter,
    base_suffix,
    head_text,
    iter_array_items,
    iter_documents,
    json_files,
    sniff_folder,
)
from .base import Adapter, Batch, BatchBuilder, Probe

PLATFORM = "facebook"


def fix_mojibake(value: str) -> str:
    """Undo Facebook's export encoding (UTF-8 bytes written as latin-1 code points) when it round-trips."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _fixed(value: object) -> str | None:
    return fix_mojibake(value) if isinstance(value, str) and value != "" else None


def _excerpt(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)[:300]


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# -- Graph API ------------------------------------------------------------------------------------------------


def looks_like_graph(head: bytes) -> bool:
    text = head_text(head)
    return text.startswith("{") and '"created_time"' in text and ('"data"' in text or '"message"' in text) \
        and '"id"' in text


@dataclass(frozen=True)
class GraphOptions:
    """``community``: name for the page or group (default: the page/group id taken from post ids)."""

    community: str | None = None


class FacebookGraphAdapter(JsonDocumentsAdapter):
    """Facebook Graph API page/group feed JSON with nested comments and replies."""

    name = "facebook-graph"
    platform = PLATFORM
    version = "1"
    description = "Facebook Graph API feed JSON (posts with nested comments and replies)"
    Options = GraphOptions
    looks_like = staticmethod(looks_like_graph)

    def document(self, b: BatchBuilder, value: Any, loc: str, line: int | None, raw: bytes) -> None:
        if isinstance(value, dict) and isinstance(value.get("data"), list):
            for i, post in enumerate(value["data"]):
                self._node(b, post, f"{loc} data[{i}]", line, None, None)
        elif isinstance(value, dict) and "created_time" in value:
            self._node(b, value, loc, line, None, None)
        else:
            b.read += 1
            b.reject(loc, "unsupported-kind", _excerpt(value), "not a Graph API feed page or post")

    def _node(self, b: BatchBuilder, node: Any, loc: str, line: int | None, parent: str | None,
              thread: tuple[str, str | None] | None) -> None:
        """One post (``thread`` None) or comment (``thread`` = (post id, community)), then its comments."""
        b.read += 1
        if not isinstance(node, dict):
            b.reject(loc, "not-a-record", _excerpt(node))
            return
        node_id = node.get("id")
        if not node_id:
            b.reject(loc, "missing-id", _excerpt(node))
            return
        node_id = str(node_id)
        created = parse_time(node.get("created_time"))
        if created is None:
            b.reject(loc, "bad-timestamp", _excerpt(node), f"created_time {node.get('created_time')!r}")
            return
        author = None
        sender = node.get("from")
        if isinstance(sender, dict) and sender.get("id"):
            author = str(sender["id"])
            b.account(author_id=author, display_name=sender.get("name") or None)
        if thread is None:
            community = self.options.community or (node_id.split("_", 1)[0] if "_" in node_id else None)
            thread = (node_id, community)
            shared = node.get("parent_id")
            message = node.get("message")
            kind = ("quote" if message else "repost") if shared else "post"
            reactions = node.get("reactions") or node.get("likes")
            summary = reactions.get("summary") if isinstance(reactions, dict) else None
            score = _count(summary.get("total_count")) if isinstance(summary, dict) else None
            b.post(post_id=node_id, created_at=created, source_line=line, community=community,
                   author_id=author, kind=kind, text=message or node.get("story"), score=score,
                   amplifies_id=str(shared) if shared else None)
        else:
            given = node.get("parent")
            parent = str(given["id"]) if isinstance(given, dict) and given.get("id") else parent
            b.post(post_id=node_id, created_at=created, source_line=line, community=thread[1],
                   thread_id=thread[0], parent_id=parent, author_id=author, kind="comment",
                   text=node.get("message"), score=_count(node.get("like_count")))
        comments = node.get("comments")
        if isinstance(comments, dict) and isinstance(comments.get("data"), list):
            for i, child in enumerate(comments["data"]):
                self._node(b, child, f"{loc} comments[{i}]", line, node_id, thread)


# -- Download your information ---------------------------------------------------------------------------------


def _is_dyi_posts_name(name: str) -> bool:
    return name.startswith("your_posts") and base_suffix(Path(name)) == ".json"


def looks_like_dyi(head: bytes, name: str = "") -> bool:
    text = head_text(head)
    if text.startswith("{") and ('"comments_v2"' in text[:200] or (
            name.startswith("comments") and '"comments"' in text[:200] and '"timestamp"' in text)):
        return True
    if not text.startswith("["):
        return False
    return '"timestamp"' in text and ('"post"' in text or '"attachments"' in text or '"title"' in text) \
        and ('"data"' in text or '"attachments"' in text) and (_is_dyi_posts_name(name) or '"post"' in text)


@dataclass(frozen=True)
class DyiOptions:
    """``owner``: author id for the export's owner (the export carries none; default "self")."""

    owner: str = "self"


class FacebookDyiAdapter(Adapter):
    """Facebook "Download your information" JSON: your_posts_N.json and comments.json."""

    name = "facebook-dyi"
    platform = PLATFORM
    version = "1"
    description = "Facebook 'Download your information' JSON (your_posts_N.json, comments.json)"
    Options = DyiOptions

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        if probe.is_dir:
            names = [n for n in probe.children if _is_dyi_posts_name(n.lower())]
            posts = probe.path / "posts"
            if not names and posts.is_dir():
                return any(_is_dyi_posts_name(p.name.lower()) for p in posts.iterdir())
            return bool(names) and sniff_folder(probe.path, tuple(names),
                                                lambda h: looks_like_dyi(h, "your_posts_1.json"))
        return looks_like_dyi(probe.head, probe.name)

    def files(self, path: Path) -> list[Path]:
        if path.is_file():
            return [path]
        return [p for p in json_files(path, (".json",))
                if _is_dyi_posts_name(p.name.lower()) or p.name.lower().startswith("comments")]

    def read(self, path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[Batch]:
        owner = self.options.owner
        for file in self.files(path):
            b = BatchBuilder(file, self.name, PLATFORM)
            b.account(author_id=owner)
            text = head_text(_head(file))
            if text.startswith("["):
                for index, entry in iter_array_items(file, on_bytes):
                    self._entry(b, entry, f"item {index}", index, owner, "post")
                    if b.full and (batch := b.flush()):
                        yield batch
            elif text.startswith("{"):
                for _loc, _line, value, _raw in iter_documents(file, on_bytes):
                    if isinstance(value, Bad) or not isinstance(value, dict):
                        raise AdapterError("not a Facebook comments file", path=file,
                                           hint="Expected {\"comments_v2\": [...]}; choose another --format")
                    entries = value.get("comments_v2", value.get("comments"))
                    if not isinstance(entries, list):
                        raise AdapterError("no comments_v2 (or comments) list in this file", path=file,
                                           hint="Choose another --format for it")
                    for i, entry in enumerate(entries, 1):
                        self._entry(b, entry, f"comments[{i - 1}]", i, owner, "comment")
                        if b.full and (batch := b.flush()):
                            yield batch
            else:
                raise AdapterError("not a Facebook 'Download your information' JSON file", path=file,
                                   hint="Use the JSON format of the export (not HTML)")
            if batch := b.flush():
                yield batch

    def _entry(self, b: BatchBuilder, entry: Any, loc: str, index: int, owner: str, kind: str) -> None:
        b.read += 1
        if not isinstance(entry, dict):
            b.reject(loc, "not-a-record", _excerpt(entry))
            return
        stamp = entry.get("timestamp")
        created = parse_time(stamp) if isinstance(stamp, int | float) and not isinstance(stamp, bool) else None
        if created is None:
            b.reject(loc, "bad-timestamp", _excerpt(entry), f"timestamp {stamp!r} is not epoch seconds")
            return
        digest = hashlib.sha1(json.dumps(entry, sort_keys=True, ensure_ascii=True).encode()).hexdigest()[:12]
        text = _comment_text(entry) if kind == "comment" else _post_text(entry)
        b.post(post_id=f"dyi:{int(created.timestamp())}:{digest}", created_at=created, source_line=index,
               author_id=owner, kind=kind, text=text)


def _head(path: Path) -> bytes:
    return read_head(path, 4096)


def _post_text(entry: dict[str, Any]) -> str | None:
    for item in entry.get("data") or []:
        if isinstance(item, dict) and (text := _fixed(item.get("post"))):
            return text
    for attachment in entry.get("attachments") or []:
        for item in (attachment.get("data") or []) if isinstance(attachment, dict) else []:
            if not isinstance(item, dict):
                continue
            media, context = item.get("media"), item.get("external_context")
            if isinstance(media, dict) and (text := _fixed(media.get("description"))):
                return text
            if isinstance(context, dict) and (text := _fixed(context.get("url")) or _fixed(context.get("name"))):
                return text
    return None


def _comment_text(entry: dict[str, Any]) -> str | None:
    for item in entry.get("data") or []:
        comment = item.get("comment") if isinstance(item, dict) else None
        if isinstance(comment, dict) and (text := _fixed(comment.get("comment"))):
            return text
    return None
