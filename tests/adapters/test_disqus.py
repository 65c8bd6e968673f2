"""Disqus XML adapter: the real tanglei.name export and a hand-written file with every author/status case."""

from __future__ import annotations

from pathlib import Path

import duckdb

from permadani import ingest
from permadani.adapters import sniff
from permadani.adapters.disqus import DisqusAdapter
from tests.helpers import assert_balanced, posts, table


def test_real_export_counts(shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / "disqus-export" / "disqus.xml"
    assert sniff(source) is DisqusAdapter
    ds = ingest([source], tmp_path / "ds")
    assert_balanced(ds)
    [s] = ds.manifest["sources"]
    assert (s["read"], s["kept"], s["duplicates"], s["rejected"]) == (569 + 2693, 569 + 2693, 0, 0)
    rows = {r["post_id"]: r for r in posts(ds).to_pylist()}
    roots = [r for r in rows.values() if r["kind"] == "post"]
    comments = [r for r in rows.values() if r["kind"] == "comment"]
    assert (len(roots), len(comments)) == (569, 2693)
    assert all(r["parent_id"] is None and r["thread_id"] == r["post_id"] for r in roots)
    # 439 comment→comment links, all resolve; the others reply to their thread's root page
    links = [r for r in comments if r["parent_id"].startswith("p")]
    assert len(links) == 439 and all(r["parent_id"] in rows for r in links)
    assert all(r["thread_id"] in rows for r in comments)
    assert all(rows[r["parent_id"]]["thread_id"] == r["thread_id"] for r in links)

    def depth(r: dict) -> int:
        d = 0
        while r["parent_id"].startswith("p"):
            r, d = rows[r["parent_id"]], d + 1
        return d

    assert max(depth(r) for r in comments) == 5
    # the 6 comments Disqus marks deleted keep their place without text or author
    deleted = [r for r in comments if r["text"] is None]
    assert len(deleted) == 6 and all(r["author_id"] is None for r in deleted)
    assert {r["community"] for r in rows.values()} == {"hexo-tanglei"}
    assert {r["author_id"] for r in roots} == {"tangleithu"}
    # guests are identified by their (hashed) e-mail address, which appears nowhere in clear
    assert sum(1 for r in comments if (r["author_id"] or "").startswith("email:")) > 2000
    assert not [r for r in comments if "@" in (r["author_id"] or "")]


def test_edge_cases_fixture(fixtures: Path, tmp_path: Path) -> None:
    source = fixtures / "disqus" / "edge-cases.xml"
    ds = ingest([source], tmp_path / "ds", format="disqus")
    assert_balanced(ds)
    [s] = ds.manifest["sources"]
    assert (s["read"], s["kept"], s["rejected"]) == (11, 7, 4)
    assert s["reasons"] == {"missing-id": 2, "missing-field": 1, "spam": 1}
    rows = {r["post_id"]: r for r in posts(ds).to_pylist()}
    assert sorted(rows) == ["p9001", "p9002", "p9003", "p9004", "p9006", "t500", "t501"]
    assert (rows["t500"]["text"], rows["t500"]["author_id"], rows["t500"]["community"]) == (
        "First article", "edgeowner", "edge-forum")
    assert rows["t501"]["author_id"] is None and rows["t501"]["community"] == "other-forum"
    p1 = rows["p9001"]
    assert (p1["parent_id"], p1["thread_id"], p1["community"]) == ("t500", "t500", "edge-forum")
    assert p1["author_id"].startswith("email:") and p1["text"] == "<p>Great read! mail me: [email]</p>"
    assert (rows["p9002"]["author_id"], rows["p9002"]["parent_id"]) == ("edgeowner", "p9001")
    assert (rows["p9003"]["author_id"], rows["p9003"]["text"]) == (None, None)  # deleted
    assert (rows["p9004"]["author_id"], rows["p9004"]["parent_id"]) == ("guest:No Mail", "p9003")
    assert rows["p9006"]["author_id"] is None and rows["p9006"]["community"] == "other-forum"
    assert str(rows["p9002"]["created_at"]) == "2020-05-01 12:00:00+00:00"
    accounts = {r["author_id"]: r["display_name"] for r in table(ds.accounts_path).to_pylist()}
    assert accounts["edgeowner"] == "Owner"
    assert accounts[p1["author_id"]] == "Guest One"
    assert "Bad Person" not in accounts.values()  # deleted comments observe no one
    reasons = dict(duckdb.sql(f"SELECT location, reason FROM read_parquet('{ds.rejects_path}')").fetchall())
    assert reasons["post 8 (dsq:id 9005)"] == "spam"
    assert reasons["post 10 (dsq:id 9007)"] == "missing-field"
