"""Bluesky (AT Protocol): AppView JSON responses, raw post records and Jetstream JSON lines.

Follows the ``app.bsky`` lexicons (atproto.com / docs.bsky.app, 2025: ``app.bsky.feed.defs#postView``,
``#feedViewPost``, ``#threadViewPost``, ``#reasonRepost``, ``app.bsky.embed.record#viewRecord``,
``app.bsky.feed.post``, ``app.bsky.feed.repost``, ``app.bsky.actor.defs#profileView*``) and the Jetstream
event format (github.com/bluesky-social/jetstream: ``{"did", "time_us", "kind": "commit"|"identity"|"account",
"commit": {"operation", "collection", "rkey", "record", "cid"}}``).

Recognised bodies (one per ``.json`` file, parsed whole: AppView pages are bounded by ``limit`` <= 100; or one
per line of a JSON-lines file, streamed):

- ``getAuthorFeed`` / ``getTimeline`` / ``getFeed`` (``{"feed": [feedViewPost]}``), ``getPostThread``
  (``{"thread": threadViewPost}``, parents and replies followed), ``getPosts`` / ``searchPosts`` /
  ``getQuotes`` (``{"posts": [postView]}``);
- ``com.atproto.repo.getRecord`` / ``listRecords`` (``{"uri", "value"}``, ``{"records": [...]}``);
- profiles (``getProfile``, ``getProfiles``, ``getFollowers``/``getFollows``): account records;
- Jetstream events, one per line.

Every post view found in a body is a record and becomes a post: the feed item's post, its ``reply.root`` and
``reply.parent``, the quoted ``viewRecord`` of an embed, the thread's parents and replies. The same post met
twice is a duplicate at ingest. ``notFoundPost`` / ``blockedPost`` placeholders are references, not records:
they are skipped. Any other body (``{"did": ...}``, a blob, a write receipt) is one reject ``unsupported-kind``.

Mapping (platform ``bluesky``)::

    post_id      = at:// uri of the post
    parent_id    = record.reply.parent.uri;  thread_id = record.reply.root.uri (own uri for roots)
    author_id    = DID (from author.did, else from the uri)
    kind         = "quote" when record.embed quotes a post (app.bsky.embed.record / recordWithMedia pointing
                   at an app.bsky.feed.post; amplifies_id = that uri), else "post"
    repost       = a feed item with reason #reasonRepost, or an app.bsky.feed.repost record: kind "repost",
                   author = the reposter, amplifies_id = the subject uri; post_id = reason.uri when the AppView
                   gives it, else "at://DID/app.bsky.feed.repost/?subject=URI" (one repost per account and post);
                   created_at = reason.indexedAt (repost records: createdAt)
    created_at   = record.createdAt (Jetstream: else time_us);  score = likeCount;  lang = record.langs[0]
    community    = null (Bluesky has no communities)
    accounts     = author observations: display_name = handle (else displayName), account_created_at =
                   author.createdAt, followers = followersCount where the view has it
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ._io import parse_time
from ._social_json import Bad, JsonDocumentsAdapter, head_text
from .base import BatchBuilder

PLATFORM = "bluesky"
POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"


def looks_like_bluesky(head: bytes) -> bool:
    """True for the first bytes of an AppView response, a post record or a Jetstream line."""
    text = head_text(head)
    if not text.startswith(("{", "[")):
        return False
    if '"time_us"' in text and '"did"' in text and '"kind"' in text:
        return True
    return "app.bsky." in text and ('"at://did:' in text or '"did:plc:' in text or '"did:web:' in text)


def did_of(uri: str) -> str | None:
    """The DID in ``at://DID/collection/rkey``."""
    if not uri.startswith("at://"):
        return None
    return uri[5:].split("/", 1)[0] or None


def _collection(uri: object) -> str | None:
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return None
    parts = uri[5:].split("/")
    return parts[1] if len(parts) > 1 else None


def _excerpt(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)[:300]


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _quoted_uri(record: dict[str, Any]) -> str | None:
    """The uri of the post quoted by a post record's embed, if any."""
    embed = record.get("embed")
    if not isinstance(embed, dict):
        return None
    target = embed.get("record")
    if isinstance(target, dict) and "record" in target and isinstance(target["record"], dict):
        target = target["record"]  # recordWithMedia: {"record": {"record": strongRef}, "media": ...}
    uri = target.get("uri") if isinstance(target, dict) else None
    return uri if _collection(uri) == POST else None


def _ref_uri(record: dict[str, Any], key: str) -> str | None:
    reply = record.get("reply")
    if isinstance(reply, dict) and isinstance(reply.get(key), dict):
        uri = reply[key].get("uri")
        return uri if isinstance(uri, str) and uri else None
    return None


class BlueskyAdapter(JsonDocumentsAdapter):
    """Bluesky AppView responses, post records and Jetstream lines."""

    name = "bluesky"
    platform = PLATFORM
    version = "1"
    description = "Bluesky AppView JSON (feeds, threads, posts, profiles), post records, Jetstream JSON lines"

    looks_like = staticmethod(looks_like_bluesky)

    def document(self, b: BatchBuilder, value: Any, loc: str, line: int | None, raw: bytes) -> None:
        self._document(b, value, loc, line, raw)

    # -- bodies ---------------------------------------------------------------------------------------------

    def _document(self, b: BatchBuilder, value: Any, loc: str, line: int | None, raw: bytes) -> None:
        if isinstance(value, Bad):
            b.read += 1
            b.reject(loc, value.reason, raw, value.detail)
            return
        if isinstance(value, list):
            for i, item in enumerate(value):
                self._document(b, item, f"{loc} [{i}]", line, raw)
            return
        if not isinstance(value, dict):
            b.read += 1
            b.reject(loc, "unsupported-kind", _excerpt(value), f"a JSON {type(value).__name__}")
            return
        if "time_us" in value and "kind" in value and "did" in value:
            self._jetstream(b, value, loc, line)
        elif isinstance(value.get("feed"), list):
            for i, item in enumerate(value["feed"]):
                self._feed_item(b, item, f"{loc} feed[{i}]", line)
        elif isinstance(value.get("thread"), dict):
            self._thread(b, value["thread"], f"{loc} thread", line)
        elif isinstance(value.get("posts"), list):
            for i, view in enumerate(value["posts"]):
                self._view(b, view, f"{loc} posts[{i}]", line)
        elif isinstance(value.get("records"), list):
            for i, rec in enumerate(value["records"]):
                self._record_ref(b, rec, f"{loc} records[{i}]", line)
        elif isinstance(value.get("uri"), str) and isinstance(value.get("value"), dict):
            self._record_ref(b, value, loc, line)
        elif _is_post_view(value):
            self._view(b, value, loc, line)
        elif any(isinstance(value.get(k), list) for k in ("profiles", "followers", "follows", "actors")):
            for key in ("profiles", "followers", "follows", "actors"):
                for profile in value.get(key) or []:
                    b.read += 1
                    if not self._profile(b, profile, record=True):
                        b.reject(f"{loc} {key}", "missing-id", _excerpt(profile), "a profile without a did")
        elif isinstance(value.get("did"), str) and isinstance(value.get("handle"), str):
            b.read += 1
            self._profile(b, value, record=True)
        else:
            b.read += 1
            b.reject(loc, "unsupported-kind", _excerpt(value),
                     "not a Bluesky feed, thread, post, record or profile body: keys "
                     + ", ".join(sorted(value)[:8]))

    def _feed_item(self, b: BatchBuilder, item: Any, loc: str, line: int | None) -> None:
        if not isinstance(item, dict):
            b.read += 1
            b.reject(loc, "not-a-record", _excerpt(item))
            return
        post = item.get("post")
        subject = self._view(b, post, f"{loc} post", line)
        reply = item.get("reply")
        if isinstance(reply, dict):
            for key in ("root", "parent"):
                if _is_post_view(reply.get(key)):
                    self._view(b, reply[key], f"{loc} reply.{key}", line)
        reason = item.get("reason")
        if isinstance(reason, dict) and str(reason.get("$type", "")).endswith("#reasonRepost"):
            b.read += 1
            by = reason["by"] if isinstance(reason.get("by"), dict) else {}
            reposter = by.get("did")
            target = subject or (post.get("uri") if isinstance(post, dict) else None)
            if not reposter or not target:
                b.reject(f"{loc} reason", "missing-id", _excerpt(reason), "a repost without reposter or subject")
                return
            created = parse_time(reason.get("indexedAt"))
            if created is None:
                b.reject(f"{loc} reason", "bad-timestamp", _excerpt(reason), "reasonRepost without indexedAt")
                return
            self._profile(b, by)
            repost_id = reason.get("uri") or f"at://{reposter}/{REPOST}/?subject={target}"
            b.post(post_id=repost_id, created_at=created, source_line=line, author_id=reposter, kind="repost",
                   amplifies_id=target)

    def _thread(self, b: BatchBuilder, node: Any, loc: str, line: int | None, up: bool = True,
                down: bool = True) -> None:
        if not isinstance(node, dict) or not _is_post_view(node.get("post")):
            return  # notFoundPost / blockedPost: a reference, not a record
        self._view(b, node["post"], f"{loc}.post", line)
        if up and isinstance(node.get("parent"), dict):
            self._thread(b, node["parent"], f"{loc}.parent", line, up=True, down=False)
        if down:
            for i, child in enumerate(node.get("replies") or []):
                self._thread(b, child, f"{loc}.replies[{i}]", line, up=False, down=True)

    def _record_ref(self, b: BatchBuilder, ref: Any, loc: str, line: int | None) -> None:
        """``{"uri", "cid", "value"}`` from getRecord / listRecords."""
        if not isinstance(ref, dict) or not isinstance(ref.get("value"), dict):
            b.read += 1
            b.reject(loc, "not-a-record", _excerpt(ref))
            return
        uri = ref.get("uri")
        self._record(b, ref["value"], uri if isinstance(uri, str) else None, None, loc, line)

    # -- posts ----------------------------------------------------------------------------------------------

    def _view(self, b: BatchBuilder, view: Any, loc: str, line: int | None) -> str | None:
        """A postView or embed viewRecord (record under ``record`` / ``value``); returns the post uri."""
        if not _is_post_view(view):
            return None
        author = view.get("author") if isinstance(view.get("author"), dict) else {}
        record = view.get("record") if isinstance(view.get("record"), dict) else view.get("value")
        uri = self._record(b, record, view.get("uri"), author, loc, line, score=_count(view.get("likeCount")))
        for embedded, where in _embedded_views(view):
            self._view(b, embedded, f"{loc} {where}", line)
        return uri

    def _record(self, b: BatchBuilder, record: dict[str, Any], uri: str | None, author: dict[str, Any] | None,
                loc: str, line: int | None, score: int | None = None, fallback_time: Any = None
                ) -> str | None:
        """One ``app.bsky.feed.post`` or ``app.bsky.feed.repost`` record at ``uri``."""
        b.read += 1
        rtype = record.get("$type") or _collection(uri)
        if rtype not in (POST, REPOST):
            b.reject(loc, "unsupported-kind", _excerpt(record), f"record type {rtype!r} is not a post or repost")
            return None
        if not uri:
            b.reject(loc, "missing-id", _excerpt(record), "a record without its at:// uri")
            return None
        created = parse_time(record.get("createdAt")) or parse_time(fallback_time)
        if created is None:
            b.reject(loc, "bad-timestamp", _excerpt(record), f"createdAt {record.get('createdAt')!r}")
            return None
        did = (author or {}).get("did") or did_of(uri)
        if author:
            self._profile(b, author)
        if rtype == REPOST:
            subject = record["subject"] if isinstance(record.get("subject"), dict) else {}
            b.post(post_id=uri, created_at=created, source_line=line, author_id=did, kind="repost",
                   amplifies_id=subject.get("uri"))
            return uri
        quoted = _quoted_uri(record)
        langs = record.get("langs")
        b.post(post_id=uri, created_at=created, source_line=line, author_id=did,
               parent_id=_ref_uri(record, "parent"), thread_id=_ref_uri(record, "root"),
               kind="quote" if quoted else "post", text=record.get("text"), amplifies_id=quoted, score=score,
               lang=langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None)
        return uri

    def _profile(self, b: BatchBuilder, profile: Any, record: bool = False) -> bool:
        if not isinstance(profile, dict) or not isinstance(profile.get("did"), str):
            return False
        b.account(author_id=profile["did"], record=record, source_file=b.source if record else None,
                  display_name=profile.get("handle") or profile.get("displayName") or None,
                  followers=_count(profile.get("followersCount")),
                  account_created_at=parse_time(profile.get("createdAt")))
        return True

    def _jetstream(self, b: BatchBuilder, event: dict[str, Any], loc: str, line: int | None) -> None:
        kind, did = event.get("kind"), event.get("did")
        if kind == "identity" and isinstance(event.get("identity"), dict):
            b.read += 1
            ident = event["identity"]
            b.account(author_id=did, record=True, source_file=b.source, display_name=ident.get("handle"))
            return
        commit = event.get("commit") if isinstance(event.get("commit"), dict) else None
        if kind != "commit" or commit is None:
            b.read += 1
            b.reject(loc, "unsupported-kind", _excerpt(event), f"Jetstream {kind!r} event")
            return
        collection, operation = commit.get("collection"), commit.get("operation")
        if operation not in ("create", "update") or collection not in (POST, REPOST) \
                or not isinstance(commit.get("record"), dict):
            b.read += 1
            b.reject(loc, "unsupported-kind", _excerpt(event), f"Jetstream {operation} of {collection}")
            return
        uri = f"at://{did}/{collection}/{commit.get('rkey')}" if did and commit.get("rkey") else None
        time_us = event.get("time_us")
        fallback = time_us / 1e6 if isinstance(time_us, int | float) and not isinstance(time_us, bool) else None
        self._record(b, commit["record"], uri, None, loc, line, fallback_time=fallback)


def _is_post_view(value: object) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("uri"), str) and _collection(value["uri"]) == POST
            and isinstance(value.get("record", value.get("value")), dict))


def _embedded_views(view: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """Quoted posts shown inside a view: ``embed`` (postView) or ``embeds`` (viewRecord), recordWithMedia too."""
    embeds = []
    if isinstance(view.get("embed"), dict):
        embeds.append(("embed", view["embed"]))
    for i, e in enumerate(view.get("embeds") or []):
        if isinstance(e, dict):
            embeds.append((f"embeds[{i}]", e))
    for where, embed in embeds:
        target = embed.get("record")
        if isinstance(target, dict) and isinstance(target.get("record"), dict) and "uri" not in target:
            target, where = target["record"], where + ".record"
        if _is_post_view(target):
            yield target, where + ".record"
