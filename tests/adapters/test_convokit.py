"""ConvoKit corpus adapter: the real r/Cornell corpus and a legacy-format fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from permadani import AdapterError, ingest
from permadani.adapters import sniff
from permadani.adapters.convokit import ConvoKitAdapter, iter_object_items
from tests.helpers import assert_balanced, posts, table


def test_real_cornell_corpus(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "convokit-reddit-cornell"
    assert sniff(folder) is ConvoKitAdapter
    assert sniff(folder / "utterances.jsonl") is ConvoKitAdapter  # the file alone means its folder
    ds = ingest([folder], tmp_path / "ds")
    assert_balanced(ds)
    by_file = {Path(s["path"]).name: s for s in ds.manifest["sources"]}
    u, s = by_file["utterances.jsonl"], by_file["speakers.json"]
    assert (u["read"], u["kept"], u["duplicates"], u["rejected"]) == (1519, 1519, 0, 0)
    # 537 speakers; "[deleted]" is a placeholder, not a person
    assert (s["read"], s["kept"], s["rejected"], s["reasons"]) == (537, 536, 1, {"anonymous-account": 1})
    rows = {r["post_id"]: r for r in posts(ds).to_pylist()}
    replies = [r for r in rows.values() if r["parent_id"] is not None]
    assert len(replies) == 1469 and all(r["parent_id"] in rows for r in replies)
    assert len({r["thread_id"] for r in rows.values()}) == 50
    assert all(rows[r["thread_id"]]["parent_id"] is None for r in rows.values())
    assert {(r["platform"], r["community"]) for r in rows.values()} == {("reddit", "Cornell")}
    root = rows["o0ss4"]
    assert (root["kind"], root["score"], root["author_id"]) == ("post", 24, "moon_river")
    assert str(root["created_at"]) == "2012-01-03 06:16:17+00:00"  # 1325571377
    assert all(r["score"] is not None for r in rows.values())
    # every utterance speaker is among the 536 speaker records
    assert ds.info()["accounts"] == 536
    assert {r["author_id"] for r in rows.values()} - {None} <= {a["author_id"] for a in table(ds.accounts_path)
                                                                .to_pylist()}


def test_legacy_keys_and_bad_records(fixtures: Path, tmp_path: Path) -> None:
    ds = ingest([fixtures / "convokit" / "legacy"], tmp_path / "ds", format="convokit")
    assert_balanced(ds)
    by_file = {Path(s["path"]).name: s for s in ds.manifest["sources"]}
    u, sp = by_file["utterances.jsonl"], by_file["users.json"]
    assert (u["read"], u["kept"], u["rejected"]) == (8, 4, 4)
    assert u["reasons"] == {"malformed-json": 1, "not-a-record": 1, "missing-id": 1, "bad-timestamp": 1}
    assert (sp["read"], sp["kept"], sp["rejected"]) == (4, 2, 2)
    assert sp["reasons"] == {"anonymous-account": 1, "not-a-record": 1}
    rows = {r["post_id"]: r for r in posts(ds).to_pylist()}
    assert sorted(rows) == ["4", "r1", "r2", "r3"]
    assert {r["platform"] for r in rows.values()} == {"convokit"}
    assert {r["community"] for r in rows.values()} == {"legacy"}  # the folder name
    assert (rows["r1"]["kind"], rows["r1"]["score"], rows["r1"]["author_id"]) == ("post", 5, "alice")
    r2 = rows["r2"]
    assert (r2["kind"], r2["parent_id"], r2["thread_id"], r2["score"]) == ("comment", "r1", "r1", 3)
    assert str(r2["created_at"]) == "2017-07-14 02:41:00.500000+00:00"
    assert rows["r3"]["author_id"] is None
    assert (rows["4"]["parent_id"], rows["4"]["score"]) == ("r3", None)
    accounts = {r["author_id"]: r for r in table(ds.accounts_path).to_pylist()}
    assert accounts["alice"]["display_name"] == "Alice A." and accounts["alice"]["source_file"].endswith("users.json")


@pytest.mark.parametrize("chunk", [1, 3, 7, 1 << 20])
def test_object_items_stream_in_any_chunk_size(tmp_path: Path, chunk: int) -> None:
    value = {"a": {"meta": {"x": [1, 2, {"y": "z}"}]}}, "b\"q": 12, "c": [], "d": None, "é": "ü"}
    path = tmp_path / "o.json"
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2), encoding="utf-8")
    assert {k: v for k, v, _ in iter_object_items(path, chunk)} == value


def test_truncated_object_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "speakers.json"
    path.write_text('{"a": {"meta": {}}, "b": {"me', encoding="utf-8")
    with pytest.raises(AdapterError, match=r"speakers\.json \(character \d+\)"):
        list(iter_object_items(path))
