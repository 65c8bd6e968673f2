"""X/Twitter account archive ("Download an archive of your data", 2019-2024 layouts). Platform ``twitter``.

Follows the archive's own description of its files (``data/README.txt`` and ``manifest.js`` of an archive):
``tweet.js`` / ``tweets.js`` (and ``-partN`` splits) hold ``window.YTD.tweet.part0 = [ {"tweet": {...}}, ... ]``
(``window.YTD.tweets.part0`` in newer archives; very old ones have the tweet objects without the wrapper).
The array is streamed item by item after the JavaScript prefix, so a 1 GB archive needs little memory.

The tweets carry no author: it is the archive's owner, read from ``account.js`` (``accountId``; one account
record with username and createdAt — its ``email`` and ``createdVia`` are never read) or else from
``manifest.js`` (``userInfo.accountId``), else ``--option owner=ID``. ``profile.js`` holds only a bio and image
urls (no id, no counts): it is not read. Ids and columns match the Twitter API adapters so the same tweet
from an archive and from the API de-duplicates::

    post_id      = id_str;  author_id = the owner's account id
    parent_id    = in_reply_to_status_id_str (the parent is usually absent from the archive);
    thread_id    = null for replies (the root is unknown), own id for roots
    kind         = "repost" for "RT @..." tweets (the archive does not name the original: amplifies_id null),
                   "quote" when an entities.urls expanded_url links a status (amplifies_id = that status id),
                   else "post"
    created_at   = created_at ("Sat Jan 25 18:01:09 +0000 2020");  score = favorite_count;  lang = lang
    text         = full_text (else text)

The replied-to account (``in_reply_to_user_id_str`` / ``in_reply_to_screen_name``) is an account observation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AdapterError
from ._io import open_binary, parse_time, read_head
from ._social_json import head_text, iter_array_items
from .base import Adapter, Batch, BatchBuilder, Probe

PLATFORM = "twitter"
_TWEET_FILE = re.compile(r"^tweets?(-part\d+)?\.js$", re.IGNORECASE)
_STATUS_LINK = re.compile(r"(?:twitter|x)\.com/[^/]+/status(?:es)?/(\d+)", re.IGNORECASE)


def looks_like_archive(head: bytes) -> bool:
    text = head_text(head)
    return text.startswith(("window.YTD.tweet.", "window.YTD.tweets."))


@dataclass(frozen=True)
class ArchiveOptions:
    """``owner``: the archive owner's account id when neither account.js nor manifest.js is present."""

    owner: str | None = None


def _data_dir(path: Path) -> Path:
    return path / "data" if (path / "data").is_dir() else path


def _js_value(path: Path) -> Any:
    """The JSON value assigned by a small archive ``.js`` file (``window.X = <json>``)."""
    with open_binary(path) as fh:
        text = fh.read().decode("utf-8-sig")
    start = min((i for i in (text.find("["), text.find("{")) if i >= 0), default=-1)
    if start < 0:
        raise AdapterError("no JSON value after the 'window.' assignment", path=path)
    try:
        return json.loads(text[start:].rstrip().rstrip(";"))
    except (ValueError, RecursionError) as exc:
        raise AdapterError(f"not valid JSON after the 'window.' assignment ({exc})", path=path) from exc


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


class TwitterArchiveAdapter(Adapter):
    """X/Twitter account archive: tweet.js / tweets.js (plus account.js / manifest.js for the owner)."""

    name = "twitter-archive"
    platform = PLATFORM
    version = "1"
    description = "X/Twitter account archive (tweet.js / tweets.js with the window.YTD prefix)"
    Options = ArchiveOptions

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        if probe.is_dir:
            folder = _data_dir(probe.path)
            names = probe.children if folder == probe.path else tuple(p.name for p in folder.iterdir())
            return any(_TWEET_FILE.match(n) and looks_like_archive(read_head(folder / n, 256)) for n in names)
        return looks_like_archive(probe.head)

    def files(self, path: Path) -> list[Path]:
        if path.is_file():
            return [path]
        folder = _data_dir(path)
        tweets = sorted(p for p in folder.iterdir() if p.is_file() and _TWEET_FILE.match(p.name))
        account = folder / "account.js"
        return ([account] if account.is_file() else []) + tweets

    def read(self, path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[Batch]:
        folder = path.parent if path.is_file() else _data_dir(path)
        owner = self._owner(folder)
        for file in self.files(path):
            b = BatchBuilder(file, self.name, PLATFORM)
            if file.name.lower() == "account.js":
                self._account_file(b, file)
            else:
                if owner is not None:
                    b.account(author_id=owner[0], display_name=owner[1])
                for index, item in iter_array_items(file, on_bytes):
                    self._tweet(b, item, index, owner[0] if owner else None)
                    if b.full and (batch := b.flush()):
                        yield batch
            if batch := b.flush():
                yield batch

    def _owner(self, folder: Path) -> tuple[str, str | None] | None:
        """(account id, username) of the archive owner: account.js, else manifest.js, else the option."""
        account = folder / "account.js"
        if account.is_file():
            for entry in _js_value(account) or []:
                acc = entry.get("account") if isinstance(entry, dict) else None
                if isinstance(acc, dict) and acc.get("accountId"):
                    return str(acc["accountId"]), acc.get("username")
        for manifest in (folder / "manifest.js", folder.parent / "manifest.js"):
            if manifest.is_file():
                info = _js_value(manifest)
                user = info.get("userInfo") if isinstance(info, dict) else None
                if isinstance(user, dict) and user.get("accountId"):
                    return str(user["accountId"]), user.get("userName")
        return (str(self.options.owner), None) if self.options.owner else None

    def _account_file(self, b: BatchBuilder, file: Path) -> None:
        for index, entry in enumerate(_js_value(file) or [], 1):
            b.read += 1
            acc = entry.get("account") if isinstance(entry, dict) else None
            if not isinstance(acc, dict) or not acc.get("accountId"):
                b.reject(f"item {index}", "missing-id", json.dumps(entry)[:300], "an account entry without accountId")
                continue
            b.account(author_id=str(acc["accountId"]), record=True, source_file=b.source,
                      display_name=acc.get("username") or acc.get("accountDisplayName"),
                      account_created_at=parse_time(acc.get("createdAt")))

    def _tweet(self, b: BatchBuilder, item: Any, index: int, owner: str | None) -> None:
        b.read += 1
        loc = f"item {index}"
        tweet = item.get("tweet", item) if isinstance(item, dict) else None
        if not isinstance(tweet, dict):
            b.reject(loc, "not-a-record", json.dumps(item)[:300])
            return
        raw = json.dumps(tweet, ensure_ascii=False)[:300]
        tweet_id = tweet.get("id_str") or tweet.get("id")
        if not tweet_id:
            b.reject(loc, "missing-id", raw)
            return
        created = parse_time(tweet.get("created_at"))
        if created is None:
            b.reject(loc, "bad-timestamp", raw, f"created_at {tweet.get('created_at')!r}")
            return
        text = tweet.get("full_text") or tweet.get("text")
        parent = tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id")
        replied_user = tweet.get("in_reply_to_user_id_str")
        if replied_user:
            b.account(author_id=str(replied_user), display_name=tweet.get("in_reply_to_screen_name") or None)
        kind, amplifies = "post", None
        if isinstance(text, str) and text.startswith("RT @"):
            kind = "repost"
        else:
            entities = tweet["entities"] if isinstance(tweet.get("entities"), dict) else {}
            for url in entities.get("urls") or []:
                found = _STATUS_LINK.search(str(url.get("expanded_url", ""))) if isinstance(url, dict) else None
                if found and found.group(1) != str(tweet_id):
                    kind, amplifies = "quote", found.group(1)
                    break
        b.post(post_id=str(tweet_id), created_at=created, source_line=index, author_id=owner,
               parent_id=str(parent) if parent else None, kind=kind, text=text, amplifies_id=amplifies,
               score=_int(tweet.get("favorite_count")), lang=tweet.get("lang") or None)
