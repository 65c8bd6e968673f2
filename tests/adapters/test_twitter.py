"""X/Twitter adapters: v1.1 (files and the real PHEME folder; counts from the data README) and v2 (twarc2)."""

from __future__ import annotations

import statistics
from pathlib import Path

import duckdb
import pytest

from permadani import AdapterError, InputError, ingest
from permadani.adapters import sniff
from permadani.adapters.base import Probe
from permadani.adapters.twitter import TwitterV1Adapter, iter_json_values
from permadani.adapters.twitter_v2 import TwitterV2Adapter
from tests.helpers import assert_balanced, posts, table

PHEME = "twitter-pheme-rumoureval2017"


def _one(sql: str) -> tuple:
    return duckdb.sql(sql).fetchall()[0]


@pytest.fixture(scope="module")
def pheme(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    return ingest([shared_data / PHEME], tmp_path_factory.mktemp("pheme") / "ds")


def test_pheme_counts(pheme) -> None:
    assert_balanced(pheme)
    [source] = pheme.manifest["sources"]
    assert (source["format"], source["read"], source["kept"], source["rejected"]) == ("twitter-v1", 5594, 5594, 0)
    glob = pheme.posts_glob
    n, threads, authors, replies, resolved = _one(f"""
        SELECT count(*), count(DISTINCT thread_id), count(DISTINCT author_id), count(parent_id),
               count(*) FILTER (WHERE parent_id IN (SELECT post_id FROM read_parquet('{glob}')))
        FROM read_parquet('{glob}')""")
    assert (n, threads, authors, replies, resolved) == (5594, 327, 3884, 5267, 5264)
    # the 24 replies in the trump folder carry only the numeric in_reply_to_status_id (no *_str): still linked
    assert _one(f"SELECT count(*), count(parent_id) FROM read_parquet('{glob}') WHERE community = 'trump'") \
        == (26, 24)
    kinds = dict(duckdb.sql(f"SELECT kind, count(*) FROM read_parquet('{glob}') GROUP BY kind").fetchall())
    assert kinds == {"post": 5589, "quote": 5}
    # every thread id is a source tweet, i.e. a root of the data set
    assert _one(f"""SELECT count(DISTINCT thread_id) FROM read_parquet('{glob}')
                    WHERE thread_id IN (SELECT post_id FROM read_parquet('{glob}') WHERE source_file
                                        LIKE '%/source-tweet/%')""") == (327,)
    row = _one(f"SELECT community, source_file, source_line FROM read_parquet('{glob}') "
               f"WHERE post_id = '580320684305416192'")
    assert row[0] == "germanwings-crash" and row[1].endswith(
        "germanwings-crash/580320684305416192/source-tweet/580320684305416192.json") and row[2] == 1


def test_pheme_followers(pheme, shared_data: Path) -> None:
    accounts = str(pheme.accounts_path)
    n, with_count, top = _one(f"SELECT count(*), count(followers), max(followers) FROM read_parquet('{accounts}')")
    # 3,884 tweet authors + 2 authors seen only inside quoted tweets; one user object lacks followers_count
    assert (n, with_count, top) == (3886, 3885, 44_052_813)
    glob = pheme.posts_glob
    # accounts keep the maximum observed per account: median over the 3,884 authors
    assert _one(f"""SELECT median(followers) FROM read_parquet('{accounts}')
                    WHERE author_id IN (SELECT author_id FROM read_parquet('{glob}'))""") == (432.0,)
    # the README's 464 is the median over per-tweet observations: check it on the adapter's observations
    observed = []
    for batch in TwitterV1Adapter().read(shared_data / PHEME):
        observed += [f for f in batch.accounts["followers"].to_pylist() if f is not None]
    # 5,593 tweet authors with a count (README: median 464 over these) + 5 quoted-tweet authors
    assert len(observed) == 5593 + 5
    assert statistics.median(observed) == 465.5


def test_v1_collection(fixtures: Path, tmp_path: Path) -> None:
    path = fixtures / "twitter" / "v1-collection.jsonl"
    assert sniff(path) is TwitterV1Adapter
    ds = ingest([path], tmp_path / "ds")
    assert_balanced(ds)
    rows = {r["post_id"]: r for r in posts(ds).to_pylist()}
    assert sorted(rows) == ["2001", "2002", "2003", "2004", "2005", "2006", "2007"]
    assert (rows["2002"]["parent_id"], rows["2002"]["thread_id"]) == ("2001", "2001")
    assert (rows["2003"]["parent_id"], rows["2003"]["thread_id"]) == ("2002", "2001")  # walked up the chain
    assert (rows["2007"]["parent_id"], rows["2007"]["thread_id"]) == ("1999", "1999")  # parent absent
    assert (rows["2004"]["kind"], rows["2004"]["amplifies_id"]) == ("repost", "2001")
    assert (rows["2005"]["kind"], rows["2005"]["amplifies_id"], rows["2005"]["score"]) == ("quote", "2001", 3)
    assert rows["2006"]["text"].endswith("the extended tweet has it all.") and rows["2006"]["lang"] is None
    assert (rows["2001"]["score"], rows["2001"]["lang"], rows["2001"]["author_id"]) == (42, "en", "1001")
    assert str(rows["2001"]["created_at"]) == "2023-03-01 12:00:00+00:00"
    # the retweeted original is not emitted a second time
    assert sum(1 for r in rows.values() if r["text"] == "Staking rewards are live") == 1
    rejects = [(r["location"], r["reason"]) for r in table(ds.rejects_path).to_pylist()]
    assert rejects == [("line 5", "unsupported-kind"), ("line 9", "malformed-json"), ("line 10", "missing-id"),
                       ("line 11", "bad-timestamp"), ("line 12", "not-a-record")]
    [source] = ds.manifest["sources"]
    assert (source["read"], source["kept"], source["rejected"]) == (12, 7, 5)
    accounts = {r["author_id"]: r for r in table(ds.accounts_path).to_pylist()}
    assert (accounts["1001"]["display_name"], accounts["1001"]["followers"]) == ("alice", 120000)
    assert str(accounts["1001"]["account_created_at"]) == "2006-03-21 20:50:14+00:00"


def test_v1_array_and_single(fixtures: Path, tmp_path: Path) -> None:
    ds = ingest([fixtures / "twitter" / "v1-array.json", fixtures / "twitter" / "v1-single.json"], tmp_path / "ds")
    assert_balanced(ds)
    rows = {r["post_id"]: r for r in posts(ds).to_pylist()}
    assert sorted(rows) == ["2001", "2002", "2003", "2005"]
    # the array lists 2003 before its parent 2002: its thread falls back to the parent id (documented)
    assert rows["2003"]["thread_id"] == "2002" and rows["2002"]["thread_id"] == "2001"
    assert {r["source_line"] for r in rows.values() if r["source_file"].endswith("v1-array.json")} == {2, 24, 46}
    assert rows["2005"]["kind"] == "quote"


def test_v1_truncated_array_is_a_file_error(fixtures: Path, tmp_path: Path) -> None:
    with pytest.raises(AdapterError, match=r"v1-truncated-array\.json \(line \d+\): not valid JSON"):
        ingest([fixtures / "twitter" / "v1-truncated-array.json"], tmp_path / "ds")
    assert list(tmp_path.iterdir()) == []


def test_pheme_fixture(fixtures: Path, tmp_path: Path) -> None:
    folder = fixtures / "twitter" / "pheme-mini"
    assert sniff(folder) is TwitterV1Adapter
    ds = ingest([folder], tmp_path / "ds")
    assert_balanced(ds)
    rows = {r["post_id"]: r for r in posts(ds).to_pylist()}
    assert sorted(rows) == ["2001", "2002", "2003"]  # structure.json, urls.dat, annotations: not records
    assert {r["thread_id"] for r in rows.values()} == {"2001"}
    assert {r["community"] for r in rows.values()} == {"ottawashooting"}
    [reject] = table(ds.rejects_path).to_pylist()
    assert (reject["location"], reject["reason"]) == ("ottawashooting/2001/replies/2011.json", "malformed-json")


def test_archive_js_is_not_claimed(fixtures: Path) -> None:
    probe = Probe.of(fixtures / "twitter" / "archive-tweet.js")  # 'window.YTD...': the archive adapter's
    assert not TwitterV1Adapter.sniff(probe) and not TwitterV2Adapter.sniff(probe)


def test_v2_pages(fixtures: Path, tmp_path: Path) -> None:
    path = fixtures / "twitter" / "v2-pages.jsonl"
    assert sniff(path) is TwitterV2Adapter
    ds = ingest([path], tmp_path / "ds")
    assert_balanced(ds)
    rows = {r["post_id"]: r for r in posts(ds).to_pylist()}
    # includes.tweets (3001 again) are not records; the errors-only page has none
    assert sorted(rows) == ["3001", "3002", "3003", "3004", "3005", "3006", "3009"]
    assert (rows["3003"]["parent_id"], rows["3003"]["thread_id"], rows["3003"]["author_id"]) == ("3002", "3001", "1001")
    assert (rows["3004"]["kind"], rows["3004"]["amplifies_id"]) == ("repost", "3001")
    assert (rows["3005"]["kind"], rows["3005"]["amplifies_id"], rows["3005"]["score"]) == ("quote", "3001", 3)
    assert rows["3006"]["text"].startswith("A long post shown cut in text but complete")  # note_tweet
    assert rows["3006"]["lang"] is None  # 'und'
    assert (rows["3009"]["parent_id"], rows["3009"]["thread_id"]) == ("3006", "3006")  # single-object data
    assert (rows["3001"]["score"], str(rows["3001"]["created_at"])) == (42, "2023-03-01 12:00:00+00:00")
    rejects = [(r["location"], r["reason"]) for r in table(ds.rejects_path).to_pylist()]
    assert rejects == [("line 2, data[3]", "bad-timestamp"), ("line 5", "malformed-json")]
    [source] = ds.manifest["sources"]
    assert (source["read"], source["kept"], source["rejected"]) == (9, 7, 2)
    accounts = {r["author_id"]: r for r in table(ds.accounts_path).to_pylist()}
    assert sorted(accounts) == ["1001", "1002", "1003", "1004"]
    assert (accounts["1001"]["display_name"], accounts["1001"]["followers"]) == ("alice", 120000)
    assert str(accounts["1003"]["account_created_at"]) == "2020-07-01 00:00:00+00:00"
    assert all(a["source_file"] is None for a in accounts.values())  # observations, not records


def test_v2_flattened(fixtures: Path, tmp_path: Path) -> None:
    ds = ingest([fixtures / "twitter" / "v2-flat.jsonl"], tmp_path / "ds")
    assert_balanced(ds)
    rows = {r["post_id"]: r for r in posts(ds).to_pylist()}
    assert sorted(rows) == ["3002", "3005"]  # the inlined referenced tweets are not records
    assert (rows["3002"]["parent_id"], rows["3005"]["amplifies_id"]) == ("3001", "3001")
    accounts = {r["author_id"]: r["followers"] for r in table(ds.accounts_path).to_pylist()}
    assert accounts == {"1001": 120000, "1002": 35}  # alice seen only as the referenced tweets' author


def test_json_reader_modes(tmp_path: Path) -> None:
    lines = tmp_path / "a.jsonl"
    lines.write_bytes(b'\xef\xbb\xbf{"a": 1}\n\n{"a": 2\n{"a": 3}\n')
    items = list(iter_json_values(lines))
    assert [(i.line, i.value, i.reason) for i in items] == [(1, {"a": 1}, None), (3, None, "malformed-json"),
                                                             (4, {"a": 3}, None)]
    docs = tmp_path / "b.json"
    docs.write_text('{\n  "a": 1\n}\n{\n  "a": 12345}\n')
    assert [(i.line, i.value) for i in iter_json_values(docs)] == [(1, {"a": 1}), (4, {"a": 12345})]
    array = tmp_path / "c.json"
    array.write_text('[\n 1,\n {"b": [1, 2]} ]  \n')
    assert [(i.line, i.value) for i in iter_json_values(array)] == [(2, 1), (3, {"b": [1, 2]})]
    broken = tmp_path / "d.json"
    broken.write_text('[\n {"a": 1}\n {"a": 2}\n]')
    with pytest.raises(InputError, match=r"d\.json \(line 3\).*expected ','"):
        list(iter_json_values(broken))
