"""reddit-api: Listings, comment trees with nested replies and more stubs, accounts, JSON lines, failures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from permadani import AdapterError, ingest
from permadani.adapters import sniff
from permadani.adapters.base import Probe
from permadani.adapters.reddit_api import RedditApiAdapter, walk_things
from permadani.adapters.reddit_pushshift import PushshiftAdapter
from permadani.schema import ACCOUNTS, POSTS, REJECTS
from tests.conftest import FIXTURES, SAMPLE
from tests.helpers import assert_balanced, posts, table

REDDIT = FIXTURES / "reddit"


def read_all(path: Path, adapter: type = RedditApiAdapter) -> tuple[int, int, pa.Table, pa.Table, pa.Table]:
    """(records read, account records, posts, accounts, rejects) of one file read by the adapter alone."""
    batches = list(adapter().read(path))
    for batch in batches:
        batch.check()
        assert batch.posts.schema.equals(POSTS) and batch.accounts.schema.equals(ACCOUNTS)
        assert batch.rejects.schema.equals(REJECTS)
    return (sum(b.read for b in batches), sum(b.account_records for b in batches),
            pa.concat_tables([b.posts for b in batches]), pa.concat_tables([b.accounts for b in batches]),
            pa.concat_tables([b.rejects for b in batches]))


def test_comment_tree_with_replies_and_more_stubs(tmp_path: Path) -> None:
    path = REDDIT / "api-comments.json"
    assert sniff(path) is RedditApiAdapter
    read, records, got, _, rejects = read_all(path)
    # 8 things in document order: q1, k1, k2, k3, more(k9), k4, k5, more(k6, k7)
    assert (read, records, got.num_rows, rejects.num_rows) == (8, 0, 6, 2)
    tree = [(r["post_id"], r["parent_id"], r["thread_id"], r["kind"], r["source_line"]) for r in got.to_pylist()]
    assert tree == [("q1", None, "q1", "post", 1), ("k1", "q1", "q1", "comment", 2),
                    ("k2", "k1", "q1", "comment", 3), ("k3", "k2", "q1", "comment", 4),
                    ("k4", "k1", "q1", "comment", 6), ("k5", "q1", "q1", "comment", 7)]
    assert [(r["location"], r["reason"]) for r in rejects.to_pylist()] == [
        ("thing 5", "more-stub"), ("thing 8", "more-stub")]
    assert "2 comment(s) under t3_q1" in rejects.to_pylist()[1]["detail"]
    ds = ingest([path], tmp_path / "ds")
    [source] = ds.info()["sources"]
    assert (source["format"], source["read"], source["kept"], source["duplicates"], source["rejected"]) == (
        "reddit-api", 8, 6, 0, 2)
    assert_balanced(ds)
    rows = {r["post_id"]: r for r in posts(ds).to_pylist()}
    assert rows["q1"]["text"] == "What is your favourite tea?\n\nMine is oolong."
    assert rows["q1"]["created_at"] == datetime(2019, 10, 1, 0, 1, 34, tzinfo=UTC)
    assert rows["k5"]["author_id"] is None  # [deleted]
    bots = {r["author_id"]: r["is_bot"] for r in table(ds.accounts_path).to_pylist()}
    assert bots == {"AutoModerator": True, "ivan": None, "judy": None}


def test_listing_of_submissions() -> None:
    assert sniff(REDDIT / "api-listing.json") is RedditApiAdapter
    read, _, got, accounts, rejects = read_all(REDDIT / "api-listing.json")
    rows = {r["post_id"]: r for r in got.to_pylist()}
    assert (read, rejects.num_rows) == (3, 0)
    assert rows["q2"]["text"] == "Tea or coffee?" and rows["q4"]["amplifies_id"] == "q2"
    assert rows["q3"]["author_id"] is None
    assert sorted(accounts.column("author_id").to_pylist()) == ["mallory", "niaj"]


def test_account_thing_is_an_account_record(tmp_path: Path) -> None:
    read, records, got, accounts, _ = read_all(REDDIT / "api-about.json")
    assert (read, records, got.num_rows) == (1, 1, 0)
    [row] = accounts.to_pylist()
    assert (row["author_id"], row["reputation"], row["account_created_at"]) == (
        "ivan", 3520, datetime(2014, 5, 13, 16, 53, 20, tzinfo=UTC))
    ds = ingest([REDDIT / "api-about.json", REDDIT / "api-comments.json"], tmp_path / "ds")
    assert_balanced(ds)
    ivan = [r for r in table(ds.accounts_path).to_pylist() if r["author_id"] == "ivan"]
    assert [(r["reputation"], r["source_file"] is not None) for r in ivan] == [(3520, True)]


def test_json_lines_of_responses() -> None:
    read, _, got, _, rejects = read_all(REDDIT / "api-lines.jsonl")
    assert [(r["post_id"], r["parent_id"]) for r in got.to_pylist()] == [("r1", None), ("r2", "r1")]
    assert read == 4  # r1, the damaged line 2, r2, the t5 subreddit
    assert [(r["location"], r["reason"]) for r in rejects.to_pylist()] == [
        ("line 2", "malformed-json"), ("line 3, thing 3", "unsupported-kind")]


def test_broken_document_raises_naming_the_file(tmp_path: Path) -> None:
    text = (REDDIT / "api-comments.json").read_text()
    broken = tmp_path / "thread.json"
    broken.write_text(text[: len(text) // 2])
    assert sniff(broken) is RedditApiAdapter  # the head still looks right
    with pytest.raises(AdapterError, match=r"thread\.json \(line \d+, column \d+\): not valid JSON"):
        ingest([broken], tmp_path / "ds")
    assert not (tmp_path / "ds").exists()


def test_deep_nesting_raises_adapter_error(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_bytes(b'[{"kind": "Listing", "data": {"children": ' + b"[" * 100_000)
    with pytest.raises(AdapterError, match=r"deep\.json"):
        list(RedditApiAdapter().read(deep))


def test_same_comment_same_row_as_pushshift(tmp_path: Path) -> None:
    """A t1's data saved as a Pushshift line maps to the same canonical row (both adapters share one mapping)."""
    doc = json.loads((REDDIT / "api-comments.json").read_text())
    k2 = doc[1]["data"]["children"][0]["data"]["replies"]["data"]["children"][0]["data"]
    line = tmp_path / "k2.ndjson"
    line.write_text(json.dumps({k: v for k, v in k2.items() if k != "replies"}) + "\n")
    _, _, api_rows, _, _ = read_all(REDDIT / "api-comments.json")
    _, _, dump_rows, _, _ = read_all(line, PushshiftAdapter)
    api = next(r for r in api_rows.to_pylist() if r["post_id"] == "k2")
    [dump] = dump_rows.to_pylist()
    ignore = {"source_file": None, "source_line": None}
    assert api | ignore == dump | ignore


def test_deep_reply_chains_do_not_recurse() -> None:
    node: object = ""
    for depth in range(5_000, 0, -1):
        thing = {"kind": "t1", "data": {"id": f"d{depth}", "replies": node}}
        node = {"kind": "Listing", "data": {"children": [thing]}}
    ids = [t["data"]["id"] for t in walk_things(node)]  # type: ignore[index]
    assert ids[:2] == ["d1", "d2"] and len(ids) == 5_000


def test_sniff_foreign_inputs(tmp_path: Path) -> None:
    assert not RedditApiAdapter.sniff(Probe.of(SAMPLE / "tiny-forum.csv"))
    assert not RedditApiAdapter.sniff(Probe.of(REDDIT / "comments.ndjson"))
    other = tmp_path / "other.json"
    other.write_text('{"kind": "status", "data": {}}')
    assert not RedditApiAdapter.sniff(Probe.of(other))
