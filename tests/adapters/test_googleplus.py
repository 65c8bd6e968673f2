"""Google+ Takeout: JSON posts (fixture written from the Takeout JSON shape) and the real HTML form."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from permadani import ingest
from permadani.adapters import sniff
from permadani.adapters.base import Probe
from permadani.adapters.googleplus import GooglePlusAdapter, GooglePlusHtmlAdapter
from tests.helpers import assert_balanced, posts, table

POST = "https://plus.google.com/+AnaExample/posts/AbC123"


def test_json_post(fixtures: Path) -> None:
    [batch] = list(GooglePlusAdapter().read(fixtures / "googleplus" / "post_with_comments.json"))
    batch.check()
    rows = {r["post_id"]: r for r in batch.posts.to_pylist()}
    post = rows[POST]
    assert (post["kind"], post["amplifies_id"], post["score"], post["community"], post["author_id"]) == (
        "quote", "https://plus.google.com/+BudiExample/posts/Orig42", 2, "Bandung Makers", "users/1001")
    assert post["created_at"] == datetime(2015, 2, 6, 6, 36, 49, tzinfo=UTC)
    comment = rows["users/1001/posts/AbC123/comments/c1"]
    assert (comment["parent_id"], comment["thread_id"], comment["kind"]) == (POST, POST, "comment")
    assert [(r["location"], r["reason"]) for r in batch.rejects.to_pylist()] == [
        ("document comments[1]", "bad-timestamp")]
    names = {a["author_id"]: a["display_name"] for a in batch.accounts.to_pylist()}
    assert names["users/1002"] == "Budi Example"  # the reshared author is observed
    assert sniff(fixtures / "googleplus" / "post_with_comments.json") is GooglePlusAdapter


def test_real_html_takeout(shared_data: Path, tmp_path: Path) -> None:
    """140 post files: 127 own posts + 13 reshares with a comment of their own (quotes), 86 comments on 43 of
    them, 2011-08 to 2013-09 (this is half of the account's 279 posts); 10 distinct authors."""
    source = shared_data / "googleplus-takeout-html"
    assert sniff(source) is GooglePlusHtmlAdapter
    assert not GooglePlusAdapter.sniff(Probe.of(source))
    ds = ingest([source], tmp_path / "ds")
    assert_balanced(ds)
    rows = posts(ds).to_pylist()
    assert Counter(r["kind"] for r in rows) == {"post": 127, "comment": 86, "quote": 13}
    assert len(ds.manifest["sources"]) == 140 and table(ds.rejects_path).num_rows == 0
    comments = [r for r in rows if r["kind"] == "comment"]
    ids = {r["post_id"] for r in rows}
    assert all(c["parent_id"] in ids and c["parent_id"] == c["thread_id"] for c in comments)
    assert len({c["parent_id"] for c in comments}) == 43
    assert Counter(r["author_id"] for r in rows).most_common(1) == [("+ChristopherHicksFINI", 185)]
    first = next(r for r in rows if r["post_id"].endswith("/posts/fbNx3GuEAZ1"))
    assert first["created_at"] == datetime(2011, 8, 15, 3, 39, 28, tzinfo=UTC)  # 20:39:28-0700
    assert "I'm typing lots of stuff I'm not" in first["text"]  # entities decoded
    reply = next(r for r in comments if r["parent_id"] == first["post_id"])
    assert reply["author_id"] == "+GreyPerkins"
    assert reply["text"].startswith("I'm not having any problems in Safari")
    quote = next(r for r in rows if r["post_id"].endswith("/posts/9Zd2f1cpajo"))
    assert quote["amplifies_id"] == "https://plus.google.com/+JakeGross/posts/HgJTPoeCorQ"
    assert quote["text"] == "I'm a noob again too since I learned several things from this.  Enjoy."
