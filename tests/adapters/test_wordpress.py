"""WordPress WXR adapter: the real EverET.org export and a hand-written file with every edge case."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from permadani import AdapterError, ingest
from permadani.adapters import sniff
from permadani.adapters.wordpress import WordPressAdapter, undeclared_prefixes
from tests.helpers import assert_balanced, posts, table


def _one(sql: str) -> tuple:
    return duckdb.sql(sql).fetchall()[0]


def test_real_export_counts(shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / "wordpress-wxr" / "wordpress.xml"
    assert sniff(source) is WordPressAdapter
    ds = ingest([source], tmp_path / "ds")
    assert_balanced(ds)
    [s] = ds.manifest["sources"]
    # 440 items + 166 comments + 1 wp:author record
    assert (s["read"], s["kept"], s["duplicates"], s["rejected"]) == (607, 270, 0, 337)
    # 321 attachments (one kept: it has comments) + 11 menu items; 6 drafts without comments
    assert s["reasons"] == {"unsupported-kind": 331, "unpublished": 6}
    rows = posts(ds)
    glob = ds.posts_glob
    kinds = dict(duckdb.sql(f"SELECT kind, count(*) FROM read_parquet('{glob}') GROUP BY kind").fetchall())
    assert kinds == {"post": 102, "attachment": 1, "comment": 159, "pingback": 7}
    assert rows.num_rows == 269
    # 84 comments reply to another comment, and every parent and thread root is present
    assert _one(f"""SELECT count(*) FROM read_parquet('{glob}') c JOIN read_parquet('{glob}') p
                    ON c.parent_id = p.post_id WHERE p.kind IN ('comment', 'pingback')""") == (84,)
    assert _one(f"""SELECT count(*) FROM read_parquet('{glob}') WHERE parent_id IS NOT NULL
                    AND parent_id NOT IN (SELECT post_id FROM read_parquet('{glob}'))""") == (0,)
    assert _one(f"""SELECT count(*) FROM read_parquet('{glob}')
                    WHERE thread_id NOT IN (SELECT post_id FROM read_parquet('{glob}'))""") == (0,)
    # 71 comments by registered users (wp:comment_user_id != 0); the blog owner is user:1 on posts too
    assert _one(f"""SELECT count(*) FROM read_parquet('{glob}')
                    WHERE kind = 'comment' AND author_id LIKE 'user:%'""") == (71,)
    assert _one(f"SELECT count(*) FROM read_parquet('{glob}') WHERE kind = 'post' AND author_id = 'user:1'") == (102,)
    assert set(rows.column("community").to_pylist()) == {"everet.org"}
    # the one trashed comment keeps its place without author or text
    assert _one(f"""SELECT count(*) FROM read_parquet('{glob}')
                    WHERE kind = 'comment' AND author_id IS NULL AND text IS NULL""") == (1,)
    accounts = {r["author_id"]: r for r in table(ds.accounts_path).to_pylist()}
    assert accounts["user:1"]["display_name"] == "Stupid ET"
    assert not [a for a in accounts if "@" in a]


def test_edge_cases_fixture(fixtures: Path, tmp_path: Path) -> None:
    source = fixtures / "wordpress" / "undeclared-prefixes.xml"
    assert undeclared_prefixes(source) == {"wp", "dc"}
    assert sniff(source) is WordPressAdapter
    ds = ingest([source], tmp_path / "ds")
    assert_balanced(ds)
    [s] = ds.manifest["sources"]
    assert (s["read"], s["kept"], s["rejected"]) == (20, 11, 9)
    assert s["reasons"] == {"missing-id": 3, "spam": 1, "unsupported-kind": 3, "unpublished": 1,
                            "bad-timestamp": 1}
    rows = {r["post_id"]: r for r in posts(ds).to_pylist()}
    assert sorted(rows) == ["c100", "c101", "c102", "c103", "c105", "c106", "c140", "p10", "p11", "p14"]
    assert rows["p10"]["author_id"] == "user:7" and rows["p10"]["kind"] == "post"
    assert rows["p10"]["community"] == "edge.example.org"
    assert rows["p10"]["text"] == "<p>First post. Write to [email]</p>"
    assert rows["p11"]["kind"] == "post"  # a page
    assert rows["p14"]["kind"] == "attachment" and rows["p14"]["author_id"] == "login:someone"
    assert rows["c140"]["thread_id"] == "p14" and rows["c140"]["author_id"] == "guest:Eko"
    c100 = rows["c100"]
    assert (c100["parent_id"], c100["thread_id"]) == ("p10", "p10")
    assert c100["author_id"].startswith("email:")  # the lower-cased address, hashed by ingest
    assert c100["text"] == "Nice post! I am at [ip]"  # \x0b dropped, IP scrubbed
    assert rows["c101"]["author_id"] == "user:7" and rows["c101"]["parent_id"] == "c100"
    assert rows["c102"]["author_id"] == "guest:Budi" and rows["c102"]["parent_id"] == "c101"
    assert rows["c103"]["author_id"] is None  # "Anonymous" is nobody in particular
    assert (rows["c105"]["author_id"], rows["c105"]["text"], rows["c105"]["parent_id"]) == (None, None, "c100")
    assert rows["c106"]["kind"] == "pingback" and rows["c106"]["author_id"] == "site:other.example.net"
    assert str(rows["c101"]["created_at"]) == "2023-01-02 12:00:00+00:00"
    rejects = {r["location"]: r["reason"] for r in table(ds.rejects_path).to_pylist()}
    assert rejects["comment 5 of item 1 (wp:post_id 10)"] == "spam"
    assert rejects["item 3 (wp:post_id 12)"] == "unpublished"
    assert rejects["item 6 (wp:post_id 15)"] == "unsupported-kind"
    assert rejects["comment 1 of item 7 (wp:post_id ?)"] == "missing-id"
    assert rejects["wp:author 2"] == "missing-id"
    accounts = {r["author_id"]: r["display_name"] for r in table(ds.accounts_path).to_pylist()}
    assert accounts["user:7"] == "The Owner"
    assert accounts["site:other.example.net"] == "Other Blog » A post linking here"


def test_forced_format_and_unrecoverable_xml(fixtures: Path, tmp_path: Path) -> None:
    with pytest.raises(AdapterError, match=r"mismatched-tag\.xml \(line 9, column 3\)"):
        ingest([fixtures / "wordpress" / "mismatched-tag.xml"], tmp_path / "ds", format="wordpress")
    assert not (tmp_path / "ds").exists()
