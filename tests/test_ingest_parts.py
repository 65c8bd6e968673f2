"""Ingest at scale, in miniature: posts split into many parts, duplicates found across parts and appends."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from permadani import ingest as ingest_api
from tests.helpers import assert_balanced, posts


def _csv(path: Path, ids: list[int], label: str) -> Path:
    lines = ["post_id,author_id,created_at,text,community"]
    for i in ids:
        lines.append(f"p{i:03d},user{i % 7},2024-01-{1 + i % 28:02d}T00:00:00Z,{label} {i},c{i % 3}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    module = importlib.import_module("permadani.staging")
    monkeypatch.setattr(module, "PART_ROWS", 1)  # every batch (here: every source file) becomes its own part


def test_duplicates_across_parts_first_occurrence_wins(tmp_path: Path, small_parts: None) -> None:
    a = _csv(tmp_path / "a.csv", list(range(0, 30)), "first")
    b = _csv(tmp_path / "b.csv", [*range(20, 40), 5, 5], "second")  # 10 + 2 repeats of posts in a
    ds = ingest_api([a, b], tmp_path / "ds")
    files = sorted((tmp_path / "ds" / "posts").glob("*.parquet"))
    assert [f.name for f in files] == ["part-00000.parquet", "part-00001.parquet"]
    info = ds.info()
    assert info["posts"] == 40
    sa, sb = info["sources"]
    assert (sa["read"], sa["kept"], sa["duplicates"]) == (30, 30, 0)
    assert (sb["read"], sb["kept"], sb["duplicates"]) == (22, 10, 12)
    assert_balanced(ds)
    rows = {r["post_id"]: r["text"] for r in posts(ds).to_pylist()}
    assert rows["p025"] == "first 25" and rows["p005"] == "first 5" and rows["p035"] == "second 35"
    # each part keeps the order the records were read in (source line by source line)
    for f in files:
        lines = pq.read_table(f, columns=["source_line"])["source_line"].to_pylist()
        assert lines == sorted(lines) and len(set(lines)) == len(lines)
    assert pq.read_table(files[1]).num_rows == 10  # the rewritten part holds only the new posts


def test_append_drops_keys_already_in_the_dataset(tmp_path: Path, small_parts: None) -> None:
    out = tmp_path / "ds"
    ingest_api([_csv(tmp_path / "a.csv", list(range(0, 10)), "old")], out)
    ds = ingest_api([_csv(tmp_path / "b.csv", list(range(8, 12)), "new")], out, append=True,
                    memory_limit="256MB", temp_dir=tmp_path / "spill")
    assert ds.info()["posts"] == 12
    last = ds.info()["sources"][-1]
    assert (last["read"], last["kept"], last["duplicates"]) == (4, 2, 2)
    rows = {r["post_id"]: r["text"] for r in posts(ds).to_pylist()}
    assert rows["p009"] == "old 9" and rows["p011"] == "new 11"
    assert not any((tmp_path / "spill").glob("permadani-spill-*"))  # spill folder cleaned up


def test_parts_stream_in_row_groups_and_duplicates_are_found_inside_them(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    module = importlib.import_module("permadani.staging")
    monkeypatch.setattr(module, "ROW_GROUP_SIZE", 7)
    monkeypatch.setattr(module, "PART_ROWS", 20)
    # 40 posts, then 3 repeats: parts of 3 row groups of 7 rows are written while reading (rows 0-20, 21-41, 42);
    # the repeats are rows 19-20 of part 1 (in its third row group) and row 0 of part 2
    a = _csv(tmp_path / "a.csv", [*range(0, 40), 16, 27, 16], "post")
    ds = ingest_api([a], tmp_path / "ds")
    files = sorted((tmp_path / "ds" / "posts").glob("*.parquet"))
    groups = [[pq.ParquetFile(f).metadata.row_group(i).num_rows for i in range(pq.ParquetFile(f).num_row_groups)]
              for f in files]
    # part 1 is rewritten without its two repeats (19 rows); part 2 held only a repeat and is gone
    assert groups == [[7, 7, 7], [7, 7, 5]]
    info = ds.info()
    assert (info["posts"], info["sources"][0]["duplicates"]) == (40, 3)
    ids = [r["post_id"] for r in posts(ds).to_pylist()]
    assert sorted(ids) == [f"p{i:03d}" for i in range(40)]
    assert_balanced(ds)


def test_writers_skip_what_nothing_reads(tmp_path: Path) -> None:
    """Posts files keep min/max for every column but ``text``; key files have a dictionary for ``platform`` only
    and no statistics (both settings are there for the part writer's CPU; bench/README.md, round 13)."""
    from permadani import staging

    ds = ingest_api([_csv(tmp_path / "a.csv", list(range(0, 30)), "first")], tmp_path / "ds")
    part = pq.ParquetFile(next((tmp_path / "ds" / "posts").glob("*.parquet")))
    group = part.metadata.row_group(0)
    stats = {group.column(i).path_in_schema: group.column(i).statistics for i in range(group.num_columns)}
    assert stats.pop("text") is None
    assert stats["post_id"].min == "p000" and stats["post_id"].max == "p029"
    assert all(s is not None for s in stats.values())
    assert ds.info()["posts"] == 30

    keys_file = tmp_path / "keys.parquet"
    n = 30
    with staging.keys_writer(keys_file) as writer:
        writer.write_table(pa.table({"platform": ["generic"] * n, "post_id": [f"p{i:03d}" for i in range(n)],
                                     "_order": range(n), "_src": [0] * n, "_part": [0] * n, "_row": range(n)},
                                    schema=staging._KEYS))
    keys = pq.ParquetFile(keys_file).metadata.row_group(0)
    columns = [keys.column(i) for i in range(keys.num_columns)]
    assert [c.path_in_schema for c in columns if c.dictionary_page_offset is not None] == ["platform"]
    assert all(c.statistics is None for c in columns)
