"""X/Twitter account archive: window.YTD prefix, owner from account.js/manifest.js, streaming items."""

from __future__ import annotations

from pathlib import Path

import pytest

from permadani import AdapterError, ingest
from permadani.adapters import sniff
from permadani.adapters.base import Probe
from permadani.adapters.twitter_archive import TwitterArchiveAdapter
from tests.helpers import assert_balanced, posts, table

OWNER = "1000000000000000001"


def test_fixture_archive(fixtures: Path, tmp_path: Path) -> None:
    archive = fixtures / "twitter_archive" / "archive"
    assert sniff(archive) is TwitterArchiveAdapter
    ds = ingest([archive], tmp_path / "ds")
    assert_balanced(ds)
    sources = {Path(s["path"]).name: (s["read"], s["kept"], s["rejected"]) for s in ds.manifest["sources"]}
    assert sources == {"account.js": (1, 1, 0), "tweets.js": (5, 4, 1)}
    rows = {r["post_id"]: r for r in posts(ds).to_pylist()}
    assert {r["author_id"] for r in rows.values()} == {OWNER}
    reply = rows["1500000000000000002"]
    assert (reply["parent_id"], reply["thread_id"], reply["kind"]) == ("1499999999999999999", None, "post")
    assert rows["1500000000000000001"]["thread_id"] == "1500000000000000001"
    assert rows["1500000000000000001"]["score"] == 5
    assert (rows["1500000000000000003"]["kind"], rows["1500000000000000003"]["amplifies_id"]) == ("repost", None)
    assert (rows["1500000000000000004"]["kind"], rows["1500000000000000004"]["amplifies_id"]) == (
        "quote", "1499999999999999990")
    accounts = {a["author_id"]: a for a in table(ds.accounts_path).to_pylist()}
    assert accounts[OWNER]["display_name"] == "owner_example"
    assert accounts["42"]["display_name"] == "someone"
    [reject] = table(ds.rejects_path).to_pylist()
    assert (reject["location"], reject["reason"]) == ("item 5", "bad-timestamp")
    for path in ds.path.rglob("*"):  # account.js carries the owner's e-mail: it is never read
        if path.is_file():
            assert b"owner@example.com" not in path.read_bytes()


def test_streaming_reader_small_chunks_and_truncation(fixtures: Path, tmp_path: Path) -> None:
    from permadani.adapters._social_json import iter_array_items

    source = fixtures / "twitter_archive" / "archive" / "data" / "tweets.js"
    items = list(iter_array_items(source, chunk_size=64))  # items larger than the chunk: buffer grows
    assert [i for i, _ in items] == [1, 2, 3, 4, 5]
    assert items[3][1]["tweet"]["entities"]["urls"][0]["url"] == "https://t.co/abc"
    cut = tmp_path / "tweet.js"
    cut.write_bytes(source.read_bytes()[:700])
    with pytest.raises(AdapterError, match=r"tweet\.js"):
        list(TwitterArchiveAdapter().read(cut))


def test_real_archive(shared_data: Path, tmp_path: Path) -> None:
    """22 tweets, 9 replies whose parents are absent; the owner comes from manifest.js (no account.js)."""
    source = shared_data / "twitter-archive"
    assert sniff(source) is TwitterArchiveAdapter and sniff(source / "tweet.js") is TwitterArchiveAdapter
    assert not TwitterArchiveAdapter.sniff(Probe.of(source / "profile.js"))
    ds = ingest([source], tmp_path / "ds")
    assert_balanced(ds)
    rows = posts(ds).to_pylist()
    assert len(rows) == 22
    replies = [r for r in rows if r["parent_id"]]
    ids = {r["post_id"] for r in rows}
    assert len(replies) == 9 and not any(r["parent_id"] in ids for r in replies)
    assert {r["author_id"] for r in rows} == {"1153674767859441664"}
    assert {r["platform"] for r in rows} == {"twitter"}
    first = next(r for r in rows if r["post_id"] == "1221130902635458567")
    assert first["score"] == 35 and first["lang"] == "en"
