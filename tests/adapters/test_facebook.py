"""Facebook Graph API feed (fixture written from the Graph API docs) and Download-your-information export."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from permadani import ingest
from permadani.adapters import sniff
from permadani.adapters.base import Probe
from permadani.adapters.facebook import FacebookDyiAdapter, FacebookGraphAdapter, fix_mojibake
from tests.helpers import assert_balanced, posts


def _read(adapter, path: Path) -> tuple[list[dict], list[dict]]:
    rows, rejects = [], []
    for batch in adapter.read(path):
        batch.check()
        rows.append(batch.posts)
        rejects.append(batch.rejects)
    return pa.concat_tables(rows).to_pylist(), pa.concat_tables(rejects).to_pylist()


def test_graph_feed_nesting(fixtures: Path) -> None:
    rows, rejects = _read(FacebookGraphAdapter(), fixtures / "facebook" / "page_feed.json")
    by_id = {r["post_id"]: r for r in rows}
    assert set(by_id) == {"111_201", "201_301", "201_302", "201_303", "111_202"}
    post = by_id["111_201"]
    assert (post["kind"], post["score"], post["community"], post["author_id"]) == ("post", 12, "111", "111")
    assert (by_id["201_301"]["parent_id"], by_id["201_301"]["thread_id"]) == ("111_201", "111_201")
    assert (by_id["201_302"]["parent_id"], by_id["201_302"]["kind"]) == ("201_301", "comment")
    assert by_id["201_303"]["parent_id"] == "201_301" and by_id["201_303"]["author_id"] is None  # from withheld
    share = by_id["111_202"]
    assert (share["kind"], share["amplifies_id"], share["score"]) == ("repost", "999_888", 3)
    assert by_id["201_302"]["created_at"] == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    assert [(r["reason"], r["location"]) for r in rejects] == [("bad-timestamp", "document data[0] comments[1]")]


def test_mojibake_repair_with_a_real_string() -> None:
    # from your_posts_1.json: "Stay tuned" followed by three fire emoji written byte by byte
    assert fix_mojibake("Stay tuned\u00f0\u009f\u0094\u00a5") == "Stay tuned\U0001f525"
    assert fix_mojibake("caf\u00e9") == "caf\u00e9"  # does not round-trip: already right, kept
    assert fix_mojibake("I\u00e2\u0080\u0099m") == "I\u2019m"


def test_dyi_fixture(fixtures: Path) -> None:
    rows, rejects = _read(FacebookDyiAdapter(FacebookDyiAdapter.options_from({"owner": "me"})),
                          fixtures / "facebook" / "dyi")
    texts = {r["text"]: r for r in rows}
    assert set(texts) == {"Mantap \U0001f44d caf\u00e9", "Stay tuned\U0001f525", "https://example.org/article"}
    assert {r["author_id"] for r in rows} == {"me"}
    assert texts["Mantap \U0001f44d caf\u00e9"]["kind"] == "comment"
    assert texts["Mantap \U0001f44d caf\u00e9"]["parent_id"] is None
    assert sorted((r["reason"], r["location"]) for r in rejects) == [
        ("bad-timestamp", "comments[1]"), ("not-a-record", "item 3")]


def test_sniff_does_not_confuse_the_two(fixtures: Path) -> None:
    assert sniff(fixtures / "facebook" / "page_feed.json") is FacebookGraphAdapter
    assert sniff(fixtures / "facebook" / "dyi" / "your_posts_1.json") is FacebookDyiAdapter
    assert sniff(fixtures / "facebook" / "dyi" / "comments.json") is FacebookDyiAdapter
    assert not FacebookGraphAdapter.sniff(Probe.of(fixtures / "facebook" / "dyi" / "your_posts_1.json"))


def test_real_dyi_export(shared_data: Path, tmp_path: Path) -> None:
    """506 own posts 2011-2020; two entries are byte-identical repeats in the export (kept once)."""
    source = shared_data / "facebook-dyi"
    assert sniff(source) is FacebookDyiAdapter
    ds = ingest([source], tmp_path / "ds")
    assert_balanced(ds)
    [src] = ds.manifest["sources"]
    assert (src["read"], src["kept"], src["duplicates"], src["rejected"]) == (506, 504, 2, 0)
    rows = posts(ds).to_pylist()
    assert {r["author_id"] for r in rows} == {"self"}
    years = sorted({r["created_at"].year for r in rows})
    assert (years[0], years[-1]) == (2011, 2020)
    assert any(r["text"] and r["text"].endswith("Stay tuned\U0001f525\U0001f525\U0001f525") for r in rows)
    assert not any("\u00f0\u009f" in (r["text"] or "") for r in rows)  # no mojibake left
    assert sum(r["text"] is None for r in rows) == 44  # photo-only or "wrote on a timeline" entries
