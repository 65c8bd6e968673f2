"""X/Twitter API v2 tweets as written by ``twarc2`` (``twitter-v2``).

Format, from the X API v2 data dictionary (Tweet and User objects, 2023 revision with
``edit_history_tweet_ids`` and ``note_tweet``) and twarc 2.x output:

- ``twarc2 search/timeline/...``: JSON lines, each line one API response page
  ``{"data": [tweet, ...], "includes": {"users": [...], "tweets": [...], ...}, "meta": {...}, "errors": [...]}``
  (a lookup of one tweet may give ``"data": {tweet}``);
- ``twarc2 flatten``: JSON lines, one tweet per line with the expansions inlined (``author``, full tweets in
  ``referenced_tweets``, ``__twarc``).
A pretty-printed single response (one JSON document) is read too.

Records: every tweet of ``data`` (or a flattened tweet line) is one record. ``includes.users`` and inlined
``author`` objects are account observations, not records; ``includes.tweets`` (the referenced originals) are not
records and are not emitted as posts (they would double-count; a collection that holds them as ``data`` has them).
``errors`` entries (tweets that were not available) and ``meta`` are not records. A line that is not valid JSON
is one ``malformed-json`` reject (the number of tweets it held cannot be known).

Mapping: ``post_id`` = ``id``; ``created_at`` (ISO 8601, UTC); ``author_id``; ``text`` = ``note_tweet.text`` for
long posts, else ``text``; ``referenced_tweets``: ``replied_to`` → ``parent_id``, ``retweeted`` → kind ``repost``
and ``amplifies_id``, ``quoted`` → kind ``quote`` and ``amplifies_id`` (retweeted wins), else kind ``post``;
``thread_id`` = ``conversation_id`` (the conversation's root tweet; when absent: own id for roots, the parent's id
for replies); ``score`` = ``public_metrics.like_count``; ``lang`` (``und`` → null); ``community`` =
``Options.community``. Users: ``display_name`` = ``username`` (the handle), ``followers`` =
``public_metrics.followers_count``, ``account_created_at`` = ``created_at``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ._io import parse_time
from .base import Adapter, Batch, BatchBuilder, Probe
from .twitter import PLATFORM, JsonItem, TwitterOptions, iter_json_values

_REFERENCE_KINDS = {"retweeted": "repost", "quoted": "quote"}


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _metric(obj: dict[str, Any], name: str) -> int | None:
    metrics = obj.get("public_metrics")
    return _count(metrics.get(name)) if isinstance(metrics, dict) else None


def _id(value: Any) -> str | None:
    if value in (None, "") or isinstance(value, bool | dict | list):
        return None
    return str(value)


class _V2Mapper:
    """Turns v2 tweet and user objects into posts and account observations on one builder."""

    def __init__(self, builder: BatchBuilder, community: str | None) -> None:
        self.builder = builder
        self.community = community

    def user(self, user: Any) -> None:
        if not isinstance(user, dict) or _id(user.get("id")) is None:
            return
        self.builder.account(author_id=_id(user["id"]), display_name=user.get("username") or user.get("name"),
                             followers=_metric(user, "followers_count"),
                             account_created_at=parse_time(user.get("created_at")))

    def tweet(self, tweet: Any, location: str, line: int, raw: bytes | str) -> None:
        """Count one tweet as read and turn it into exactly one post or reject."""
        b = self.builder
        b.read += 1
        if not isinstance(tweet, dict):
            b.reject(location, "not-a-record", raw, f"a JSON {type(tweet).__name__}, not a tweet object")
            return
        post_id = _id(tweet.get("id"))
        if post_id is None:
            b.reject(location, "missing-id", raw)
            return
        created = parse_time(tweet.get("created_at"))
        if created is None:
            b.reject(location, "bad-timestamp", raw, f"cannot read created_at {tweet.get('created_at')!r}")
            return
        parent, kind, amplifies = None, "post", None
        references = tweet.get("referenced_tweets")
        for ref in references if isinstance(references, list) else []:
            if not isinstance(ref, dict):
                continue
            ref_type, ref_id = ref.get("type"), _id(ref.get("id"))
            if ref_type == "replied_to":
                parent = ref_id
            elif ref_type in _REFERENCE_KINDS and (kind == "post" or ref_type == "retweeted"):
                kind, amplifies = _REFERENCE_KINDS[ref_type], ref_id
            self.user(ref.get("author"))  # flattened: the referenced tweet's author is inlined
        self.user(tweet.get("author"))
        note = tweet.get("note_tweet")
        text = note.get("text") if isinstance(note, dict) else None
        lang = tweet.get("lang") if tweet.get("lang") not in ("und", "") else None
        b.post(post_id=post_id, created_at=created, source_line=line,
               thread_id=_id(tweet.get("conversation_id")) or parent or post_id, parent_id=parent,
               author_id=_id(tweet.get("author_id")), community=self.community, kind=kind,
               text=text or tweet.get("text"), score=_metric(tweet, "like_count"), amplifies_id=amplifies,
               lang=lang)

    def item(self, item: JsonItem) -> None:
        """One line (or document): a response page, a flattened tweet, or a reject."""
        b, location = self.builder, f"line {item.line}"
        if item.reason:
            b.read += 1
            b.reject(location, item.reason, item.raw, item.detail)
            return
        value = item.value
        if not isinstance(value, dict):
            self.tweet(value, location, item.line, item.raw)
            return
        if "data" in value:
            includes = value.get("includes")
            users = includes.get("users") if isinstance(includes, dict) else None
            for user in users if isinstance(users, list) else []:
                self.user(user)
            data = value["data"]
            tweets = data if isinstance(data, list) else [data]
            for index, tweet in enumerate(tweets):
                self.tweet(tweet, f"{location}, data[{index}]", item.line, _excerpt(tweet))
            return
        if "id" in value or "text" in value:
            self.tweet(value, location, item.line, item.raw)
            return
        if not (set(value) <= {"errors", "meta", "includes", "__twarc", "matching_rules"}):
            b.read += 1
            b.reject(location, "unsupported-kind", item.raw, "neither a v2 response page nor a tweet object")


def _excerpt(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)[:300]


class TwitterV2Adapter(Adapter):
    """X/Twitter API v2 JSON lines from twarc2 (response pages or flattened tweets)."""

    name = "twitter-v2"
    platform = PLATFORM
    version = "1"
    description = "X/Twitter API v2 JSON lines as written by twarc2 (pages with includes, or flattened)"
    priority = 40
    Options = TwitterOptions

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        if probe.is_dir:
            return False
        text = probe.text
        if not text.startswith("{") or '"screen_name"' in text:
            return False
        page = '"data"' in text and ('"author_id"' in text or '"edit_history_tweet_ids"' in text
                                      or '"conversation_id"' in text)
        flat = '"author_id"' in text and '"conversation_id"' in text and '"id"' in text
        return page or flat

    def read(self, path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[Batch]:
        options: TwitterOptions = self.options
        mapper = _V2Mapper(BatchBuilder(path, self.name, PLATFORM), options.community)
        for item in iter_json_values(path, on_bytes):
            mapper.item(item)
            if mapper.builder.full and (batch := mapper.builder.flush()):
                yield batch
        if batch := mapper.builder.flush():
            yield batch
