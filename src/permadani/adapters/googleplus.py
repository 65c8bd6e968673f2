"""Google+ Takeout (2018-2019, the service closed in April 2019): the Stream's JSON posts (``googleplus``) and
the HTML form, one file per post (``googleplus-html``). Platform ``googleplus``.

Google+ had no reply threading: a comment's parent is always its post (thread_id = parent_id = the post).

**JSON** (Takeout "Google+ Stream/Posts/*.json", one post per file; JSON lines of posts also accepted)::

    {"url", "creationTime": "2015-02-06 07:36:49+0100", "author": {"displayName", "profilePageUrl",
     "resourceName": "users/123"}, "content" (HTML), "resourceName": "users/123/posts/abc",
     "resharedPost": {"url", "author", "content", "resourceName"}, "plusOnes": [...],
     "comments": [{"creationTime", "author", "content", "resourceName", "postUrl"}],
     "postAcl": {"communityAcl": {"community": {"displayName"}}} | {"collectionAcl": {"collection": ...}}}

    post_id      = url (else resourceName);  comment post_id = its resourceName (else post url + "#comment-N")
    author_id    = author.resourceName (else profilePageUrl);  display_name = author.displayName
    kind         = "post"; a reshare (resharedPost) is "quote" when it has its own content, else "repost",
                   amplifies_id = the reshared post's url (the original carries no creationTime: not a post)
    community    = the community or collection display name from postAcl, else null
    score        = number of plusOnes;  text = content (HTML as published)

**HTML** (what Takeout actually produced for many users; one ``*.html`` file per post)::

    post:     the first a.author (href = profile url, text = name), the next link to ".../posts/ID" (href =
              post_id, text = creation time "2011-08-14 20:39:28-0700"), div.main-content (text)
    reshare:  a.reshare-attribution "Originally shared by NAME" (href = original post): kind "quote" when the
              resharer wrote something, else "repost"; amplifies_id = that href
    comments: div.comment > a.author, span.time, div.comment-content; post_id = post url + "#comment-N"
              (N = 1-based order in the file), parent_id = thread_id = the post
    author_id = the profile url's last path segment ("+ChristopherHicksFINI" or the numeric id);
    text      = plain text (line breaks kept) of main-content / comment-content; +1 lists and reshare lists
                are not read (they carry no time); community = null.

A file is small (one post); it is parsed whole. A file without a post link or time is one reject.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ._io import open_binary, parse_time
from ._social_json import JsonDocumentsAdapter, base_suffix, head_text, sniff_folder
from .base import Adapter, Batch, BatchBuilder, Probe

PLATFORM = "googleplus"


def _excerpt(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)[:300]


def profile_id(url: object) -> str | None:
    """``+Name`` or the numeric id: the last path segment of a plus.google.com profile url."""
    if not isinstance(url, str) or not url:
        return None
    path = urlparse(url).path.rstrip("/")
    return path.rsplit("/", 1)[-1] or None


# -- JSON -----------------------------------------------------------------------------------------------------


def looks_like_gplus_json(head: bytes) -> bool:
    text = head_text(head)
    return text.startswith("{") and '"creationTime"' in text and ("plus.google.com" in text or
                                                                   '"resourceName"' in text)


def _author(b: BatchBuilder, author: object) -> str | None:
    if not isinstance(author, dict):
        return None
    author_id = author.get("resourceName") or profile_id(author.get("profilePageUrl"))
    if author_id:
        b.account(author_id=author_id, display_name=author.get("displayName") or None)
    return author_id


def _community(post: dict[str, Any]) -> str | None:
    acl = post.get("postAcl")
    if not isinstance(acl, dict):
        return None
    for key, inner in (("communityAcl", "community"), ("collectionAcl", "collection")):
        node = acl.get(key)
        if isinstance(node, dict) and isinstance(node.get(inner), dict) and node[inner].get("displayName"):
            return str(node[inner]["displayName"])
    return None


class GooglePlusAdapter(JsonDocumentsAdapter):
    """Google+ Takeout Stream posts in JSON."""

    name = "googleplus"
    platform = PLATFORM
    version = "1"
    description = "Google+ Takeout Stream posts (JSON, one post per file)"

    looks_like = staticmethod(looks_like_gplus_json)

    def document(self, b: BatchBuilder, value: Any, loc: str, line: int | None, raw: bytes) -> None:
        self._post(b, value, loc, line)

    def _post(self, b: BatchBuilder, post: Any, loc: str, line: int | None) -> None:
        b.read += 1
        if not isinstance(post, dict) or "creationTime" not in post:
            b.reject(loc, "unsupported-kind", _excerpt(post), "not a Google+ post (no creationTime)")
            return
        post_id = post.get("url") or post.get("resourceName")
        if not post_id:
            b.reject(loc, "missing-id", _excerpt(post), "a post without url or resourceName")
            return
        created = parse_time(post.get("creationTime"))
        if created is None:
            b.reject(loc, "bad-timestamp", _excerpt(post), f"creationTime {post.get('creationTime')!r}")
            return
        community = _community(post)
        reshared = post.get("resharedPost")
        amplifies, kind = None, "post"
        if isinstance(reshared, dict):
            amplifies = reshared.get("url") or reshared.get("resourceName")
            kind = "quote" if post.get("content") else "repost"
            _author(b, reshared.get("author"))
        plus = post.get("plusOnes")
        b.post(post_id=post_id, created_at=created, source_line=line, community=community,
               author_id=_author(b, post.get("author")), kind=kind, text=post.get("content") or None,
               amplifies_id=amplifies, score=len(plus) if isinstance(plus, list) else None)
        for i, comment in enumerate(post.get("comments") or [], 1):
            b.read += 1
            where = f"{loc} comments[{i - 1}]"
            if not isinstance(comment, dict):
                b.reject(where, "not-a-record", _excerpt(comment))
                continue
            when = parse_time(comment.get("creationTime"))
            if when is None:
                b.reject(where, "bad-timestamp", _excerpt(comment), f"creationTime {comment.get('creationTime')!r}")
                continue
            b.post(post_id=comment.get("resourceName") or f"{post_id}#comment-{i}", created_at=when,
                   source_line=line, community=community, parent_id=post_id, thread_id=post_id,
                   author_id=_author(b, comment.get("author")), kind="comment",
                   text=comment.get("content") or None)


# -- HTML -----------------------------------------------------------------------------------------------------


def looks_like_gplus_html(head: bytes) -> bool:
    text = head_text(head)
    return text.lower().startswith(("<html", "<!doctype")) and "plus.google.com" in text \
        and 'class="author"' in text


class _PostPage(HTMLParser):
    """Collects the parts of one Takeout post page (see the module docstring)."""

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
                      "track", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []  # the class (or "") of every open element
        self.author: tuple[str, str] | None = None  # (href, name)
        self.url: str | None = None
        self.time = ""
        self.text: list[str] = []
        self.reshare: str | None = None
        self.comments: list[dict[str, Any]] = []
        self._capture: str | None = None  # what the current text belongs to
        self._capture_depth = 0
        self._open_comments = 0  # open elements of class "comment" (a counter, not a scan of the stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        cls = a.get("class") or ""
        href = a.get("href") or ""
        if tag == "br":
            self.handle_data("\n")
            return
        if tag in self.VOID:
            return
        self.stack.append(cls)
        if cls == "comment":
            self._open_comments += 1
        in_comment = self._open_comments > 0
        if cls == "comment":
            self.comments.append({"author": None, "name": "", "time": "", "text": []})
        elif tag == "a" and cls == "author":
            if in_comment and self.comments:
                self.comments[-1]["author"] = href
                self._start("comment-name")
            elif self.author is None:
                self.author = (href, "")
                self._start("author-name")
        elif tag == "a" and not cls and self.url is None and self.author is not None and "/posts/" in href \
                and not in_comment:
            self.url = href
            self._start("time")
        elif tag == "a" and cls == "reshare-attribution":
            self.reshare = href
        elif cls == "main-content":
            self._start("text")
        elif cls == "time" and in_comment:
            self._start("comment-time")
        elif cls == "comment-content":
            self._start("comment-text")

    def _start(self, what: str) -> None:
        self._capture, self._capture_depth = what, len(self.stack)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID or not self.stack:
            return
        if self._capture is not None and len(self.stack) == self._capture_depth:
            self._capture = None
        if self.stack.pop() == "comment":
            self._open_comments -= 1

    def handle_data(self, data: str) -> None:
        what = self._capture
        if what == "text":
            self.text.append(data)
        elif what == "time":
            self.time += data
        elif what == "author-name" and self.author is not None:
            self.author = (self.author[0], self.author[1] + data)
        elif what == "comment-name":
            self.comments[-1]["name"] += data
        elif what == "comment-time":
            self.comments[-1]["time"] += data
        elif what == "comment-text":
            self.comments[-1]["text"].append(data)


class GooglePlusHtmlAdapter(Adapter):
    """Google+ Takeout posts in HTML (one file per post, flat comment lists)."""

    name = "googleplus-html"
    platform = PLATFORM
    version = "1"
    description = "Google+ Takeout posts in HTML (one file per post)"

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        if probe.is_dir:
            return sniff_folder(probe.path, probe.children, looks_like_gplus_html, suffixes=(".html", ".htm"))
        return looks_like_gplus_html(probe.head)

    def files(self, path: Path) -> list[Path]:
        if path.is_file():
            return [path]
        return sorted(p for p in path.rglob("*") if p.is_file() and base_suffix(p) in (".html", ".htm"))

    def read(self, path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[Batch]:
        for file in self.files(path):
            b = BatchBuilder(file, self.name, PLATFORM)
            with open_binary(file, on_bytes) as fh:
                raw = fh.read()
            self._page(b, raw)
            if batch := b.flush():
                yield batch

    def _page(self, b: BatchBuilder, raw: bytes) -> None:
        b.read += 1
        try:
            html = raw.decode("utf-8")
        except UnicodeDecodeError:
            b.reject("document", "invalid-utf8", raw)
            return
        page = _PostPage()
        page.feed(html)
        page.close()
        created = parse_time(page.time.strip())
        if page.url is None or page.author is None:
            b.reject("document", "missing-id", raw, "no post link (a.author followed by a link to /posts/)")
            return
        if created is None:
            b.reject("document", "bad-timestamp", raw, f"cannot read {page.time.strip()!r} as a time")
            return
        author = profile_id(page.author[0])
        if author:
            b.account(author_id=author, display_name=page.author[1].strip() or None)
        text = "".join(page.text).strip() or None
        kind = ("quote" if text else "repost") if page.reshare else "post"
        b.post(post_id=page.url, created_at=created, source_line=1, author_id=author, kind=kind, text=text,
               amplifies_id=page.reshare)
        for i, comment in enumerate(page.comments, 1):
            b.read += 1
            where = f"comment {i}"
            stamp = comment["time"].strip().lstrip("-").strip()
            when = parse_time(stamp)
            if when is None:
                b.reject(where, "bad-timestamp", json.dumps(comment, default=str),
                         f"cannot read {stamp!r} as a time")
                continue
            commenter = profile_id(comment["author"])
            if commenter:
                b.account(author_id=commenter, display_name=comment["name"].strip() or None)
            b.post(post_id=f"{page.url}#comment-{i}", created_at=when, source_line=1, author_id=commenter,
                   parent_id=page.url, thread_id=page.url, kind="comment",
                   text="".join(comment["text"]).strip() or None)
