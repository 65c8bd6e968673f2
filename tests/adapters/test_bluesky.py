"""Bluesky: AppView responses (real), post records, Jetstream lines (fixture written from Jetstream's format)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa

from permadani import ingest
from permadani.adapters import sniff
from permadani.adapters.base import Probe
from permadani.adapters.bluesky import BlueskyAdapter
from tests.helpers import assert_balanced, posts, table

ROOT = "at://did:plc:alice0000000000000000000/app.bsky.feed.post/3l3qaaaaaaa2a"


def _read(path: Path) -> tuple[list[dict], list[dict], list[dict], int]:
    parts: dict[str, list[pa.Table]] = {"p": [], "a": [], "r": []}
    records = 0
    for batch in BlueskyAdapter().read(path):
        batch.check()
        records += batch.account_records
        parts["p"].append(batch.posts)
        parts["a"].append(batch.accounts)
        parts["r"].append(batch.rejects)
    return (*(pa.concat_tables(v).to_pylist() for v in parts.values()), records)  # type: ignore[return-value]


def test_jetstream_lines(fixtures: Path) -> None:
    rows, accounts, rejects, records = _read(fixtures / "bluesky" / "jetstream.jsonl")
    by_id = {r["post_id"]: r for r in rows}
    assert len(rows) == 4 and records == 1
    reply = by_id["at://did:plc:bob00000000000000000000/app.bsky.feed.post/3l3qbbbbbbb2b"]
    assert (reply["parent_id"], reply["thread_id"], reply["author_id"], reply["lang"]) == (
        ROOT, ROOT, "did:plc:bob00000000000000000000", "id")
    assert by_id[ROOT]["thread_id"] == ROOT and by_id[ROOT]["parent_id"] is None
    quote = by_id["at://did:plc:carol000000000000000000/app.bsky.feed.post/3l3qccccccc2c"]
    assert (quote["kind"], quote["amplifies_id"]) == ("quote", ROOT)
    repost = by_id["at://did:plc:bob00000000000000000000/app.bsky.feed.repost/3l3qddddddd2d"]
    assert (repost["kind"], repost["amplifies_id"], repost["author_id"]) == ("repost", ROOT, reply["author_id"])
    assert [(r["location"], r["reason"]) for r in rejects] == [
        ("line 5", "unsupported-kind"), ("line 7", "unsupported-kind"), ("line 8", "unsupported-kind"),
        ("line 9", "malformed-json")]
    assert "app.bsky.feed.like" in rejects[0]["detail"] and "delete" in rejects[2]["detail"]
    assert accounts == [{"author_id": "did:plc:bob00000000000000000000", "platform": "bluesky",
                         "display_name": "bob.example.com", "followers": None, "account_created_at": None,
                         "reputation": None, "is_bot": None, "source_file": str(fixtures / "bluesky" /
                                                                                 "jetstream.jsonl")}]


def test_sniff(fixtures: Path, shared_data: Path) -> None:
    assert BlueskyAdapter.sniff(Probe.of(fixtures / "bluesky" / "jetstream.jsonl"))
    assert sniff(fixtures / "bluesky" / "jetstream.jsonl") is BlueskyAdapter
    assert sniff(shared_data / "bluesky-api") is BlueskyAdapter
    assert not BlueskyAdapter.sniff(Probe.of(shared_data / "bluesky-api" / "r_post_reply_0.json"))  # {"did": ...}


def test_real_appview_responses(shared_data: Path, tmp_path: Path) -> None:
    """The folder holds a part of the recorded session: 82 distinct post records (+ 7 reposts) by 24 authors
    (the README's 184 posts / 50 authors describe the whole recording, not these 12 files)."""
    source = shared_data / "bluesky-api"
    ds = ingest([source], tmp_path / "ds")
    assert_balanced(ds)
    rows = posts(ds).to_pylist()
    kinds = Counter(r["kind"] for r in rows)
    assert kinds == {"post": 72, "quote": 10, "repost": 7}
    assert len({r["author_id"] for r in rows if r["kind"] != "repost"}) == 24
    ids = {r["post_id"] for r in rows}
    replies = [r for r in rows if r["parent_id"]]
    assert len(replies) == 39 and sum(r["parent_id"] in ids for r in replies) == 34
    assert all(r["amplifies_id"] in ids for r in rows if r["amplifies_id"])  # originals are in the responses
    # six bodies are not posts: session/handle ({"did"}), uploadBlob, createRecord receipts
    rejects = table(ds.rejects_path).to_pylist()
    assert len(rejects) == 6 and {r["reason"] for r in rejects} == {"unsupported-kind"}
    feed = next(s for s in ds.manifest["sources"] if s["path"].endswith("f_autfeed_0.json"))
    # 50 feed posts + 36 reply root/parent views (6 more are notFoundPost placeholders: skipped, not records)
    # + 20 quoted views + 7 reposts = 113 records, many of them the same post seen twice
    assert (feed["read"], feed["rejected"]) == (113, 0)
    accounts = {a["author_id"]: a for a in table(ds.accounts_path).to_pylist()}
    assert accounts["did:plc:wpe35pganb6d4pg4ekmfy6u5"]["display_name"] == "chriskenny.bsky.social"
    thread = [r for r in rows if r["source_file"].endswith("f_postthread_0.json")]
    assert thread == [] or all(r["kind"] == "post" for r in thread)
