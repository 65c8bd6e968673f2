"""Mastodon REST API v1 response bodies (Mastodon 4.x entities: Status, Account, Context).

Follows the Mastodon API documentation (docs.joinmastodon.org, "Entities": Status, Account, Context; API v1,
Mastodon 4.0-4.4). A source is one response body saved as ``.json`` (or a folder of them), or JSON lines with
one body per line. Recognised bodies:

- a Status, or an array of Statuses (timelines, bookmarks, favourites, account statuses, hashtag timelines);
- a Context (``{"ancestors": [...], "descendants": [...]}``);
- an Account, or an array of Accounts (followers, following, reblogged_by, directory, search): account RECORDS.

Anything else (instance info, an ``{"error": ...}`` body, a list, a filter...) is one reject ``unsupported-kind``.
A body is parsed whole: API pages are bounded (``limit`` <= 40 statuses or 80 accounts).

Ids. Status ``id`` values are local to the instance that served the response (the same toot has different ids
on mastodon.social and fosstodon.org), so::

    post_id   = status.uri          (the ActivityPub id, the same on every instance; url when uri is absent)
    parent_id = the uri of in_reply_to_id, found (1) among the statuses of the same body, else (2) rebuilt as
                https://HOST/users/USERNAME/statuses/ID when the replied-to account (in_reply_to_account_id,
                looked up among the body's authors, mentions and accounts) is local to the serving instance
                (Mastodon's own uri scheme), else (3) https://SERVER/api/v1/statuses/ID, the id scoped
                by the serving instance (--option instance=HOST, else inferred from the body's local accounts;
                "mastodon-id:ID" when unknown). (3) is a parent that is absent from the data.
    thread_id = the root's uri when the reply chain can be followed to a root inside the body, else null
    community = host of the status uri (the instance where the post lives)
    author_id = "@user@host" (the fediverse handle; acct plus the account url's host for local accounts; the
                leading @ keeps it a handle, not an address)
    kind      = "repost" for a boost (reblog non-null; amplifies_id = the original's uri, text null),
                "quote" for a Mastodon 4.4 quote (amplifies_id = the quoted status), else "post"
    score     = favourites_count;  lang = language;  text = content (HTML as published)

Boosts and quotes: the embedded original is itself a status record and is emitted as a post too (one more
record read); when the same original is met again (in another file, or as a top-level status) ingest counts it as
a duplicate, so nothing is counted twice. Accounts: every status author is an observation (followers_count,
created_at, bot); Account bodies are account records (``source_file`` set; repeated ones are duplicates at ingest).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from ._io import parse_time
from ._social_json import Bad, JsonDocumentsAdapter, head_text
from .base import BatchBuilder

PLATFORM = "mastodon"


@dataclass(frozen=True)
class MastodonOptions:
    """``instance``: host that served the responses (scopes ``in_reply_to_id`` of absent parents); inferred
    from the body's local accounts when not given."""

    instance: str | None = None


def looks_like_mastodon(head: bytes) -> bool:
    """True for the first bytes of a Mastodon Status, Account or Context body (or an array of them)."""
    text = head_text(head)
    if not text.startswith(("{", "[")):
        return False
    status = '"visibility"' in text and '"uri"' in text and '"account"' in text and '"content"' in text
    account = '"acct"' in text and '"followers_count"' in text and '"statuses_count"' in text
    context = '"ancestors"' in text and '"descendants"' in text
    return status or account or context


def _host(url: object) -> str | None:
    if not isinstance(url, str) or not url:
        return None
    return urlparse(url).hostname or None


def handle(account: dict[str, Any]) -> str | None:
    """The fediverse handle ``@user@host`` of an Account (``acct`` is relative to the serving instance)."""
    acct = account.get("acct") or account.get("username")
    if not isinstance(acct, str) or not acct:
        return None
    if "@" in acct:
        return "@" + acct.lstrip("@")
    host = _host(account.get("url")) or _host(account.get("uri"))
    return f"@{acct}@{host}" if host else "@" + acct


def _is_status(value: object) -> bool:
    return isinstance(value, dict) and "content" in value and "account" in value and (
        "uri" in value or "url" in value or "id" in value)


def _is_account(value: object) -> bool:
    return isinstance(value, dict) and "acct" in value and "username" in value


class _Body:
    """What one response body tells about ids: local id → uri, and the serving instance."""

    def __init__(self, statuses: list[dict[str, Any]], accounts: list[dict[str, Any]], instance: str | None
                 ) -> None:
        self.uri: dict[str, str] = {}
        self.by_id: dict[str, dict[str, Any]] = {}
        local_hosts: list[str] = []
        everything = list(statuses)
        for status in statuses:
            for key in ("reblog",):
                if _is_status(status.get(key)):
                    everything.append(status[key])
            quoted = _quoted(status)
            if quoted is not None:
                everything.append(quoted)
        #: accounts by their (serving-instance) id: authors, mentions and account records of the body
        self.accounts: dict[str, dict[str, Any]] = {}
        for acc in [*accounts, *(m for s in everything for m in (s.get("mentions") or [])),
                    *(s.get("account") for s in everything)]:
            if isinstance(acc, dict) and acc.get("id") is not None:
                self.accounts.setdefault(str(acc["id"]), acc)
        for status in everything:
            sid, uri = status.get("id"), status.get("uri") or status.get("url")
            if sid is not None and uri:
                self.uri[str(sid)] = str(uri)
                self.by_id[str(sid)] = status
            acc = status.get("account")
            if isinstance(acc, dict) and "@" not in str(acc.get("acct", "@")):
                local_hosts.append(_host(acc.get("url")) or "")
        for acc in accounts:
            if "@" not in str(acc.get("acct", "@")):
                local_hosts.append(_host(acc.get("url")) or "")
        inferred = next((h for h in local_hosts if h), None)
        self.instance = instance or inferred

    def parent(self, status: dict[str, Any]) -> str | None:
        """The canonical id of the status this one replies to (see the module docstring)."""
        local = status.get("in_reply_to_id")
        if local is None or local == "":
            return None
        local = str(local)
        if local in self.uri:
            return self.uri[local]
        target = status.get("in_reply_to_account_id")
        acc = self.accounts.get(str(target)) if target is not None else None
        if acc is not None:
            acct, host = str(acc.get("acct") or ""), _host(acc.get("url"))
            if acct and "@" not in acct and host and acc.get("username"):
                return f"https://{host}/users/{acc['username']}/statuses/{local}"
        return self.scoped(local)

    def scoped(self, local: str) -> str:
        return f"https://{self.instance}/api/v1/statuses/{local}" if self.instance else f"mastodon-id:{local}"

    def root(self, status: dict[str, Any]) -> str | None:
        """The uri of the thread's root when the in_reply_to chain stays inside the body."""
        seen: set[str] = set()
        current = status
        while True:
            parent = current.get("in_reply_to_id")
            if parent is None or parent == "":
                return current.get("uri") or current.get("url")
            parent = str(parent)
            if parent in seen or parent not in self.by_id:
                return None
            seen.add(parent)
            current = self.by_id[parent]


def _quoted(status: dict[str, Any]) -> dict[str, Any] | None:
    quote = status.get("quote")
    if isinstance(quote, dict) and _is_status(quote.get("quoted_status")):
        return quote["quoted_status"]
    return None


class MastodonAdapter(JsonDocumentsAdapter):
    """Mastodon API v1 JSON bodies: statuses, contexts and accounts."""

    name = "mastodon"
    platform = PLATFORM
    version = "1"
    description = "Mastodon REST API v1 JSON bodies (statuses, timelines, contexts, accounts)"
    Options = MastodonOptions

    looks_like = staticmethod(looks_like_mastodon)

    def document(self, builder: BatchBuilder, value: Any, location: str, line: int | None, raw: bytes) -> None:
        self._document(builder, value, location, line, raw)

    def _document(self, builder: BatchBuilder, value: Any, location: str, line: int | None, raw: bytes) -> None:
        if isinstance(value, Bad):
            builder.read += 1
            builder.reject(location, value.reason, raw, value.detail)
            return
        if isinstance(value, dict) and isinstance(value.get("ancestors"), list) \
                and isinstance(value.get("descendants"), list):
            items = [*value["ancestors"], *value["descendants"]]
            names = [f"{location} ancestors[{i}]" for i in range(len(value["ancestors"]))]
            names += [f"{location} descendants[{i}]" for i in range(len(value["descendants"]))]
        elif isinstance(value, list):
            items = value
            names = [f"{location} [{i}]" for i in range(len(value))]
        else:
            items, names = [value], [location]
        statuses = [x for x in items if _is_status(x)]
        accounts = [x for x in items if _is_account(x)]
        body = _Body(statuses, accounts, self.options.instance)
        for item, name in zip(items, names, strict=True):
            builder.read += 1
            if _is_status(item):
                self._status(builder, body, item, name, line)
            elif _is_account(item):
                self._account(builder, item, record=True)
            else:
                what = "an error response" if isinstance(item, dict) and "error" in item else (
                    f"a JSON {type(item).__name__}" if not isinstance(item, dict)
                    else "an object with keys " + ", ".join(sorted(item)[:8]))
                builder.reject(name, "unsupported-kind", _excerpt(item),
                               f"not a Mastodon Status, Context or Account: {what}")

    def _account(self, builder: BatchBuilder, account: Any, record: bool = False) -> str | None:
        if not isinstance(account, dict):
            return None
        author = handle(account)
        if author is None:
            return None
        followers = account.get("followers_count")
        builder.account(
            author_id=author, record=record, source_file=builder.source if record else None,
            display_name=account.get("display_name") or account.get("username"),
            followers=followers if isinstance(followers, int) and not isinstance(followers, bool) else None,
            account_created_at=parse_time(account.get("created_at")),
            is_bot=account.get("bot") if isinstance(account.get("bot"), bool) else None,
        )
        return author

    def _status(self, builder: BatchBuilder, body: _Body, status: dict[str, Any], name: str,
                line: int | None, *, count: bool = False) -> str | None:
        """Emit one status (and the original it boosts or quotes); return its post_id (None when rejected)."""
        if count:
            builder.read += 1
        post_id = status.get("uri") or status.get("url")
        if not post_id:
            builder.reject(name, "missing-id", _excerpt(status), "the status has neither uri nor url")
            return None
        created = parse_time(status.get("created_at"))
        if created is None:
            builder.reject(name, "bad-timestamp", _excerpt(status),
                           f"cannot read created_at {status.get('created_at')!r} as a time")
            return None
        author = self._account(builder, status.get("account"))
        kind, text, amplifies = "post", status.get("content"), None
        reblog = status.get("reblog")
        quoted = _quoted(status)
        if isinstance(reblog, dict) and _is_status(reblog):
            kind, text = "repost", None
            amplifies = self._status(builder, body, reblog, f"{name} reblog", line, count=True) \
                or reblog.get("uri") or reblog.get("url")
        elif quoted is not None:
            kind = "quote"
            amplifies = self._status(builder, body, quoted, f"{name} quote", line, count=True) \
                or quoted.get("uri") or quoted.get("url")
        elif isinstance(status.get("quote"), dict) and status["quote"].get("quoted_status_id"):
            kind = "quote"
            local = str(status["quote"]["quoted_status_id"])
            amplifies = body.uri.get(local) or body.scoped(local)
        parent = body.parent(status)
        score = status.get("favourites_count")
        builder.post(
            post_id=post_id, created_at=created, source_line=line,
            community=_host(post_id), parent_id=parent, thread_id=body.root(status),
            author_id=author, kind=kind, text=text, amplifies_id=amplifies,
            score=score if isinstance(score, int) and not isinstance(score, bool) else None,
            lang=status.get("language") or None,
        )
        return str(post_id)


def _excerpt(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)[:300]
