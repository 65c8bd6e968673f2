"""WikiConv (Wikipedia talk pages) adapter: the two real Wikidetox files and a hand-written fixture."""

from __future__ import annotations

import re
from pathlib import Path

from permadani import ingest
from permadani.adapters import sniff
from permadani.adapters.wikiconv import WikiConvAdapter
from permadani.privacy import IPV4_PATTERN
from tests.helpers import assert_balanced, posts, table


def test_real_jobs_overlap(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "wikiconv-wikidetox"
    job1, job2 = folder / "conversations_job1_x1000.js", folder / "conversations_job2_x1000.js"
    assert sniff(job1) is WikiConvAdapter and sniff(job2) is WikiConvAdapter
    ds = ingest([job1, job2], tmp_path / "ds")
    assert_balanced(ds)
    s1, s2 = ds.manifest["sources"]
    assert (s1["read"], s1["kept"], s1["duplicates"], s1["rejected"]) == (3460, 3460, 0, 0)
    assert (s2["read"], s2["kept"], s2["duplicates"], s2["rejected"]) == (4355, 1162, 3193, 0)
    rows = {r["post_id"]: r for r in posts(ds).to_pylist()}
    assert len(rows) == 4622
    replies = [r for r in rows.values() if r["parent_id"]]
    assert all(r["parent_id"] in rows for r in replies)
    assert all(r["thread_id"] in rows and rows[r["thread_id"]]["parent_id"] is None for r in rows.values())
    assert {r["platform"] for r in rows.values()} == {"wikipedia"}
    roots = [r for r in rows.values() if r["kind"] == "post"]
    assert len(roots) == len({r["post_id"] for r in roots}) and all(r["parent_id"] is None for r in roots)
    # anonymous editors are IP addresses: stored only as keyed hashes
    ip_authors = {r["author_id"] for r in rows.values() if (r["author_id"] or "").startswith("ip:")}
    assert len(ip_authors) > 100
    ipv4 = re.compile(IPV4_PATTERN)
    assert not [r for r in rows.values() if ipv4.search(r["author_id"] or "") or ipv4.search(r["text"] or "")]
    assert str(rows["43141647.1360.1360"]["created_at"]) == "2006-03-10 14:50:43+00:00"
    # job1 has one comment whose parent_id is itself: taken as a root; its reply keeps the link
    assert rows["114466139.3343.3343"]["parent_id"] is None
    assert rows["102822627.1238.1238"]["parent_id"] == "114466139.3343.3343"


def test_fixture_edge_cases(fixtures: Path, tmp_path: Path) -> None:
    source = fixtures / "wikiconv" / "conversations_fixture.js"
    ds = ingest([source], tmp_path / "ds")
    assert_balanced(ds)
    [s] = ds.manifest["sources"]
    assert (s["read"], s["kept"], s["rejected"]) == (10, 7, 3)
    assert s["reasons"] == {"unsupported-kind": 1, "not-a-record": 2}
    rows = {r["post_id"]: r for r in posts(ds).to_pylist()}
    assert rows["100.1.1"]["kind"] == "post" and rows["100.1.1"]["community"] == "en.wikipedia"
    anon = rows["100.2.1"]
    assert anon["author_id"].startswith("ip:") and anon["thread_id"] == "100.1.1"
    assert anon["text"] == " Please cite. —Preceding unsigned comment added by [ip] (talk)"
    v6 = rows["101.3.1"]
    assert v6["author_id"].startswith("ip:") and v6["kind"] == "comment" and "2001:db8" not in v6["text"]
    assert rows["102.4.1"]["text"] is None  # a removed comment keeps its place, not its words
    # a conversation with two roots: each root heads its own thread
    assert rows["200.2.2"]["parent_id"] is None and rows["200.2.2"]["thread_id"] == "200.2.2"
    assert rows["200.3.2"]["thread_id"] == "200.2.2"
    accounts = table(ds.accounts_path).to_pylist()
    assert not [a for a in accounts if a["display_name"]]  # nothing copied next to an IP id
    assert sorted(a["author_id"] for a in accounts if not a["author_id"].startswith("ip:")) == [
        "Editor A", "Editor B", "Editor C"]


def test_bare_json_array(fixtures: Path, tmp_path: Path) -> None:
    source = fixtures / "wikiconv" / "bare_array.json"
    assert sniff(source) is WikiConvAdapter
    ds = ingest([source], tmp_path / "ds")
    [s] = ds.manifest["sources"]
    assert (s["read"], s["kept"], s["rejected"]) == (4, 3, 1)
