"""reddit-pushshift: real dumps (README counts), our edge-case fixtures, fast path == per-line path."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
import zstandard

from permadani import AdapterError, ingest
from permadani.adapters import registry, sniff
from permadani.adapters.base import Probe
from permadani.adapters.reddit_pushshift import PushshiftAdapter, PushshiftOptions, fast_parse
from permadani.schema import ACCOUNTS, POSTS, REJECTS
from tests.conftest import FIXTURES, SAMPLE
from tests.helpers import assert_balanced, posts, table

REDDIT = FIXTURES / "reddit"
DUMPS = {"RC_2005-12.zst": 1_075, "RC_2006-01.zst": 3_666,
         "AskMen_submissions.zst": 13_050, "AskWomen_submissions.zst": 8_271}


def read_all(path: Path, **options: object) -> tuple[int, pa.Table, pa.Table, pa.Table]:
    """(records read, posts, accounts, rejects) of one file read by the adapter alone."""
    batches = list(PushshiftAdapter(PushshiftOptions(**options)).read(path))  # type: ignore[arg-type]
    for batch in batches:
        batch.check()
        assert batch.posts.schema.equals(POSTS) and batch.accounts.schema.equals(ACCOUNTS)
        assert batch.rejects.schema.equals(REJECTS)
    cat = pa.concat_tables
    return (sum(b.read for b in batches), cat([b.posts for b in batches] or [POSTS.empty_table()]),
            cat([b.accounts for b in batches] or [ACCOUNTS.empty_table()]),
            cat([b.rejects for b in batches] or [REJECTS.empty_table()]))


def by_id(tbl: pa.Table) -> dict[str, dict]:
    return {row["post_id"]: row for row in tbl.to_pylist()}


def zst(data: bytes, path: Path, long_window: bool = False) -> Path:
    """Compress ``data`` to ``path``; ``long_window``: a 2 GiB window like the real RC_ dumps (streamed, so the
    compressor cannot shrink the window to the content size)."""
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=31 if long_window else 0)
    obj = zstandard.ZstdCompressor(compression_params=params).compressobj()
    path.write_bytes(obj.compress(data) + obj.flush())
    return path


# --- real data --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DUMPS))
def test_real_dump_counts_and_sniff(shared_data: Path, tmp_path: Path, name: str) -> None:
    path = shared_data / "reddit-pushshift" / name
    assert sniff(path) is PushshiftAdapter
    ds = ingest([path], tmp_path / "ds")
    [source] = ds.info()["sources"]
    expected = DUMPS[name]
    assert (source["format"], source["read"], source["kept"], source["duplicates"], source["rejected"]) == (
        "reddit-pushshift", expected, expected, 0, 0)
    kinds = dict(duckdb.sql(f"SELECT kind, count(*) FROM read_parquet('{ds.posts_glob}') GROUP BY kind").fetchall())
    assert kinds == ({"comment": expected} if name.startswith("RC_") else {"post": expected})
    assert_balanced(ds)


def test_comment_to_comment_parents_resolve(shared_data: Path, tmp_path: Path) -> None:
    """README: "1,648 of 1,691 comment→comment parents resolve".

    1,691 = comments of both RC files whose ``parent_id`` had a ``t1_`` prefix, which is exactly the comments
    whose parent is not their thread root (parent_id != thread_id; the other 3,050 answer a submission).
    1,648 of those parents are comments present in the union of both months (15 + 28 dangle across/beyond).
    """
    folder = shared_data / "reddit-pushshift"
    ds = ingest([folder / "RC_2005-12.zst", folder / "RC_2006-01.zst"], tmp_path / "ds")
    total, to_comments, resolved = duckdb.sql(f"""
        WITH p AS (SELECT * FROM read_parquet('{ds.posts_glob}'))
        SELECT count(*),
               count(*) FILTER (WHERE c.parent_id <> c.thread_id),
               count(*) FILTER (WHERE c.parent_id <> c.thread_id
                                AND EXISTS (SELECT 1 FROM p q WHERE q.post_id = c.parent_id))
        FROM p c
    """).fetchall()[0]
    assert (total, to_comments, resolved) == (4_741, 1_691, 1_648)
    # no top-level comment finds its submission: those live in RS_ files that are not here
    roots = duckdb.sql(f"""SELECT count(*) FROM read_parquet('{ds.posts_glob}') c
                           WHERE c.parent_id = c.thread_id AND c.thread_id IN
                                 (SELECT post_id FROM read_parquet('{ds.posts_glob}'))""").fetchall()[0][0]
    assert roots == 0


def test_real_mapping_of_first_comment(shared_data: Path) -> None:
    read, got, accounts, rejects = read_all(shared_data / "reddit-pushshift" / "RC_2005-12.zst")
    first = by_id(got)["c13"]
    assert first | {"source_file": None} == {
        "post_id": "c13", "platform": "reddit", "community": "reddit.com", "thread_id": "17863",
        "parent_id": "17863", "author_id": "frjo", "created_at": datetime(2005, 12, 12, 5, 26, 28, tzinfo=UTC),
        "kind": "comment", "text": "A look at Vietnam and Mexico exposes the myth of market liberalisation.",
        "score": 2, "amplifies_id": None, "lang": None, "source_file": None, "source_line": 1}
    assert got.column("source_line").to_pylist() == list(range(1, 1_076))
    assert (read, rejects.num_rows, len(set(accounts.column("author_id").to_pylist()))) == (1_075, 0, 393)


def test_real_submissions_accounts(shared_data: Path, tmp_path: Path) -> None:
    """author_created_utc becomes account_created_at; AutoModerator (9 AskWomen posts) is flagged as a bot."""
    folder = shared_data / "reddit-pushshift"
    ds = ingest([folder / "AskMen_submissions.zst", folder / "AskWomen_submissions.zst"], tmp_path / "ds")
    accounts = table(ds.accounts_path)
    per_file = duckdb.sql(f"""
        SELECT community, count(DISTINCT author_id), count(*) FILTER (WHERE author_id IS NULL)
        FROM read_parquet('{ds.posts_glob}') GROUP BY community ORDER BY community""").fetchall()
    assert per_file == [("AskMen", 4_976, 6_671), ("AskWomen", 3_176, 4_336)]
    rows = {r["author_id"]: r for r in accounts.to_pylist()}
    assert rows["AutoModerator"]["is_bot"] is True
    assert sum(r["is_bot"] is True for r in rows.values()) == 1
    assert "[deleted]" not in rows
    with_created = sum(r["account_created_at"] is not None for r in rows.values())
    # 7,811 distinct named authors across both subreddits; only one never carries author_created_utc
    assert (len(rows), with_created) == (7_811, 7_810)
    assert rows["Echotus"]["account_created_at"] is None


@pytest.mark.parametrize("name", ["RC_2006-01.zst", "AskWomen_submissions.zst"])
def test_fast_and_per_line_paths_agree_on_real_data(shared_data: Path, name: str) -> None:
    path = shared_data / "reddit-pushshift" / name
    fast = read_all(path)
    slow = read_all(path, fast=False)
    small_chunks = read_all(path, chunk_size=64 * 1024)  # many chunk boundaries: line numbers must continue
    assert fast[0] == slow[0] == small_chunks[0] == DUMPS[name]
    assert fast[1].equals(slow[1]) and fast[2].equals(slow[2])
    order = [("post_id", "ascending")]
    assert fast[1].sort_by(order).equals(small_chunks[1].sort_by(order))


def test_info_json_balances(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "reddit-pushshift"
    out = tmp_path / "ds"
    ingest([folder / "RC_2005-12.zst", REDDIT / "malformed-line.ndjson", REDDIT / "duplicates.ndjson"], out)
    r = subprocess.run([sys.executable, "-m", "permadani", "info", str(out), "--json"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    got = [(Path(s["path"]).name, s["read"], s["kept"], s["duplicates"], s["rejected"]) for s in info["sources"]]
    assert got == [("RC_2005-12.zst", 1_075, 1_075, 0, 0), ("malformed-line.ndjson", 5, 4, 0, 1),
                   ("duplicates.ndjson", 3, 0, 3, 0)]  # a1, a2 already came from malformed-line.ndjson
    for s in info["sources"]:
        assert s["read"] == s["kept"] + s["duplicates"] + s["rejected"]
    assert info["posts"] == 1_075 + 4 and info["rejects"] == 1


# --- our fixtures: one per edge case ---------------------------------------------------------------------


def test_malformed_line_in_the_middle(tmp_path: Path) -> None:
    ds = ingest([REDDIT / "malformed-line.ndjson"], tmp_path / "ds", format="reddit-pushshift")
    [source] = ds.info()["sources"]
    assert (source["read"], source["kept"], source["rejected"]) == (5, 4, 1)
    [reject] = table(ds.rejects_path).to_pylist()
    assert (reject["location"], reject["reason"], reject["format"]) == ("line 3", "malformed-json", "reddit-pushshift")
    assert reject["excerpt"].startswith('{"id": "a9"')
    lines = {r["post_id"]: r["source_line"] for r in posts(ds).to_pylist()}
    assert lines == {"a1": 1, "a2": 2, "a3": 4, "a4": 5}


def test_reject_reasons_and_blank_line(tmp_path: Path) -> None:
    read, got, _, rejects = read_all(REDDIT / "rejects.ndjson")
    assert read == 6  # the blank line 6 is not a record
    assert [(r["location"], r["reason"]) for r in rejects.to_pylist()] == [
        ("line 2", "not-a-record"), ("line 3", "missing-id"), ("line 4", "bad-timestamp"), ("line 5", "bad-value")]
    assert {r["post_id"]: r["source_line"] for r in got.to_pylist()} == {"a1": 1, "a2": 7}


def test_deep_nesting_is_a_reject_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "deep.ndjson"
    path.write_bytes((REDDIT / "comments.ndjson").read_bytes() + b"[" * 100_000 + b"\n")
    read, got, _, rejects = read_all(path)
    assert (read, got.num_rows) == (5, 4)
    assert [(r["location"], r["reason"]) for r in rejects.to_pylist()] == [("line 5", "malformed-json")]


def test_comment_mapping_and_bots() -> None:
    _, got, accounts, _ = read_all(REDDIT / "comments.ndjson")
    rows = by_id(got)
    assert [(r["parent_id"], r["thread_id"], r["kind"]) for r in rows.values()] == [
        ("x1", "x1", "comment"), ("a1", "x1", "comment"), ("a2", "x1", "comment"), ("x1", "x1", "comment")]
    assert {r["author_id"]: r["is_bot"] for r in accounts.to_pylist()} == {
        "AutoModerator": True, "alice": None, "bob": None}
    _, _, accounts, _ = read_all(REDDIT / "comments.ndjson", bots="Alice, someone")
    assert {r["author_id"]: r["is_bot"] for r in accounts.to_pylist()}["alice"] is True


def test_submission_mapping() -> None:
    _, got, accounts, _ = read_all(REDDIT / "submissions.ndjson")
    rows = by_id(got)
    assert rows["p1"]["text"] == "What is your favourite tea?\n\nMine is oolong."
    assert rows["p2"]["text"] == "Link post"  # empty selftext: just the title
    assert rows["p3"]["amplifies_id"] == "p1"  # crosspost_parent t3_p1
    assert {(r["kind"], r["thread_id"] == r["post_id"], r["parent_id"]) for r in rows.values()} == {
        ("post", True, None)}
    assert rows["p4"]["author_id"] is None
    created = {r["author_id"]: r["account_created_at"] for r in accounts.to_pylist()}
    assert created == {"ivan": datetime(2014, 5, 13, 16, 53, 20, tzinfo=UTC), "judy": None}


def test_truncated_zst_fails_naming_the_file(tmp_path: Path) -> None:
    data = (REDDIT / "comments.ndjson").read_bytes() * 200
    whole = zst(data, tmp_path / "whole.zst")
    cut = tmp_path / "RC_cut.zst"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(AdapterError, match=r"RC_cut\.zst.*(damaged|truncated)"):
        ingest([cut], tmp_path / "ds", format="reddit-pushshift")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["RC_cut.zst", "whole.zst"]  # no dataset, no temp


def test_long_window_zst_and_sniff(tmp_path: Path) -> None:
    data = (REDDIT / "comments.ndjson").read_bytes()
    path = zst(data, tmp_path / "RC_tiny.zst", long_window=True)
    assert zstandard.get_frame_parameters(path.read_bytes()).window_size == 2**31
    # what most readers meet: the default window limit refuses it
    with pytest.raises(zstandard.ZstdError, match="too much memory"):
        zstandard.ZstdDecompressor().decompressobj().decompress(path.read_bytes())
    assert PushshiftAdapter.sniff(Probe.of(path))
    plain_read, plain, _, _ = read_all(REDDIT / "comments.ndjson")
    read, got, _, _ = read_all(path)
    assert read == plain_read == 4
    assert got.drop_columns(["source_file"]).equals(plain.drop_columns(["source_file"]))


def test_bom_at_start(tmp_path: Path) -> None:
    ds = ingest([REDDIT / "bom.ndjson"], tmp_path / "ds")  # sniffed despite the BOM
    assert ds.info()["sources"][0]["format"] == "reddit-pushshift"
    assert {r["post_id"]: r["source_line"] for r in posts(ds).to_pylist()} == {"a1": 1, "a2": 2}


def test_empty_file_gives_empty_valid_dataset(tmp_path: Path) -> None:
    ds = ingest([REDDIT / "empty.ndjson"], tmp_path / "ds", format="reddit-pushshift")
    info = ds.info()
    assert (info["posts"], info["rejects"]) == (0, 0)
    assert [(s["read"], s["kept"], s["rejected"]) for s in info["sources"]] == [(0, 0, 0)]
    assert posts(ds).num_rows == 0


def test_duplicates_counted(tmp_path: Path) -> None:
    ds = ingest([REDDIT / "duplicates.ndjson"], tmp_path / "ds")
    [source] = ds.info()["sources"]
    assert (source["read"], source["kept"], source["duplicates"], source["rejected"]) == (3, 2, 1, 0)
    assert by_id(posts(ds))["a1"]["text"] == "First!"  # first occurrence wins


def test_orphan_parents_kept(tmp_path: Path) -> None:
    ds = ingest([REDDIT / "orphans.ndjson"], tmp_path / "ds")  # no final newline either
    rows = by_id(posts(ds))
    assert {k: (r["parent_id"], r["thread_id"]) for k, r in rows.items()} == {
        "o1": ("gone1", "x9"), "o2": ("o1", "x9")}


def test_invalid_utf8_rejected_others_kept(tmp_path: Path) -> None:
    ds = ingest([REDDIT / "invalid-utf8.ndjson"], tmp_path / "ds")
    [source] = ds.info()["sources"]
    assert (source["read"], source["kept"], source["rejected"]) == (4, 3, 1)
    [reject] = table(ds.rejects_path).to_pylist()
    assert (reject["location"], reject["reason"]) == ("line 2", "invalid-utf8")
    assert "\\xfc" in reject["excerpt"]
    # a bad byte in a field we do not read (line 3's flair) does not cost the comment
    assert sorted(by_id(posts(ds))) == ["a1", "a3", "a4"]


def test_string_and_float_timestamps() -> None:
    read, got, _, rejects = read_all(REDDIT / "string-timestamps.ndjson")
    rows = by_id(got)
    assert (read, rejects.num_rows) == (2, 0)
    assert rows["s1"]["created_at"] == datetime(2006, 1, 1, 0, 7, 9, tzinfo=UTC)
    assert rows["s2"]["created_at"] == datetime(2006, 1, 1, 0, 8, 20, 500_000, tzinfo=UTC)


def test_deleted_authors_have_no_author_id(tmp_path: Path) -> None:
    ds = ingest([REDDIT / "deleted-authors.ndjson"], tmp_path / "ds")
    assert {k: r["author_id"] for k, r in by_id(posts(ds)).items()} == {"d1": None, "d2": None, "d3": "heidi"}
    assert table(ds.accounts_path).column("author_id").to_pylist() == ["heidi"]


@pytest.mark.parametrize("name", ["comments.ndjson", "submissions.ndjson", "string-timestamps.ndjson",
                                  "rejects.ndjson", "invalid-utf8.ndjson", "malformed-line.ndjson"])
def test_fast_and_per_line_paths_agree_on_fixtures(name: str) -> None:
    fast, slow = read_all(REDDIT / name), read_all(REDDIT / name, fast=False)
    assert fast[0] == slow[0]
    for a, b in zip(fast[1:], slow[1:], strict=True):
        assert a.equals(b)


def test_fast_path_taken_only_for_clean_chunks() -> None:
    clean = (REDDIT / "comments.ndjson").read_bytes()
    assert fast_parse(clean) is not None and fast_parse(clean).num_rows == 4
    for name in ("malformed-line.ndjson", "rejects.ndjson", "invalid-utf8.ndjson", "string-timestamps.ndjson"):
        assert fast_parse((REDDIT / name).read_bytes()) is None, name
    assert fast_parse(clean.replace(b"\n", b"\n\n", 1)) is None  # a blank line would shift line numbers
    two_on_one_line = clean.replace(b"}\n", b"} ", 1)
    assert fast_parse(two_on_one_line) is None


def test_sniff_rejects_foreign_inputs(tmp_path: Path) -> None:
    assert not PushshiftAdapter.sniff(Probe.of(SAMPLE / "tiny-forum.csv"))
    assert not PushshiftAdapter.sniff(Probe.of(REDDIT / "api-comments.json"))
    assert not PushshiftAdapter.sniff(Probe.of(REDDIT / "api-listing.json"))
    other = tmp_path / "other.ndjson"
    other.write_text('{"id": 1, "created_at": "2020-01-01", "text": "hi"}\n')
    assert not PushshiftAdapter.sniff(Probe.of(other))
    assert sniff(other) is registry()["table"]


def test_options_from_cli_strings() -> None:
    options = PushshiftAdapter.options_from({"chunk_size": "65536", "fast": "false", "bots": "x"})
    assert (options.chunk_size, options.fast, "x" in options.bot_names) == (65_536, False, True)
