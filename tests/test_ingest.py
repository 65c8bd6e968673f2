"""Ingest contract on our own tiny fixture: accounting, duplicates, append, atomicity, privacy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from permadani import Dataset, InputError, UsageError, ingest
from permadani.adapters import Adapter
from permadani.adapters.base import BatchBuilder
from tests.conftest import FIXTURES, SAMPLE
from tests.helpers import assert_balanced, posts, table

TINY = SAMPLE / "tiny-forum.csv"


def test_tiny_forum_counts(tmp_path: Path) -> None:
    ds = ingest([TINY], tmp_path / "ds")
    info = ds.info()
    assert (info["posts"], info["threads"], info["accounts"], info["rejects"]) == (10, 2, 5, 1)
    [source] = info["sources"]
    assert (source["read"], source["kept"], source["duplicates"], source["rejected"]) == (12, 10, 1, 1)
    assert_balanced(ds)
    rejects = table(ds.rejects_path).to_pylist()
    assert rejects[0]["reason"] == "bad-timestamp" and rejects[0]["location"] == "line 13"
    rows = {r["post_id"]: r for r in posts(ds).to_pylist()}
    assert rows["c7"]["author_id"] is None  # [deleted] is nobody in particular
    assert rows["c8"]["text"] == "Who was that?"  # first occurrence wins
    assert rows["c2"]["parent_id"] == "c1" and rows["c2"]["thread_id"] == "t1"


def test_reingest_is_idempotent(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    ingest([TINY], out)
    ds = ingest([TINY], out, append=True)
    assert ds.info()["posts"] == 10
    second = ds.info()["sources"][1]
    assert (second["kept"], second["duplicates"], second["rejected"]) == (0, 11, 1)
    assert_balanced(ds)


def test_failed_ingest_leaves_previous_dataset(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    ingest([TINY], out)
    before = (out / "manifest.json").read_text()
    bad = tmp_path / "broken.csv"
    bad.write_text("id,when\n1,2024-01-01\n")  # no post_id/created_at columns: the whole file is unusable
    with pytest.raises(InputError, match=r"broken\.csv"):
        ingest([TINY, bad], out)
    assert (out / "manifest.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ds", "broken.csv"] or sorted(
        p.name for p in tmp_path.iterdir()) == ["broken.csv", "ds"]


def test_interrupted_ingest_writes_nothing(tmp_path: Path) -> None:
    class Exploding(Adapter):
        name = "exploding"
        platform = "test"

        @classmethod
        def sniff(cls, probe):  # pragma: no cover - forced by name
            return False

        def read(self, path, on_bytes=None):
            builder = BatchBuilder(path, self.name, self.platform)
            builder.read += 1
            builder.post(post_id="1", created_at=None, source_line=1)
            yield builder.flush()
            raise KeyboardInterrupt

    from permadani import adapters

    adapters.registry()["exploding"] = Exploding
    try:
        with pytest.raises(KeyboardInterrupt):
            ingest([TINY], tmp_path / "ds", format="exploding")
    finally:
        adapters.registry().pop("exploding")
    assert list(tmp_path.iterdir()) == []


def test_pseudonymise_is_keyed_and_stable(tmp_path: Path) -> None:
    a = ingest([TINY], tmp_path / "a", pseudonymise="secret")
    b = ingest([TINY], tmp_path / "b", pseudonymise="secret")
    c = ingest([TINY], tmp_path / "c", pseudonymise="other")
    ids_a = sorted(x for x in posts(a)["author_id"].to_pylist() if x)
    assert ids_a == sorted(x for x in posts(b)["author_id"].to_pylist() if x)
    assert set(ids_a).isdisjoint(x for x in posts(c)["author_id"].to_pylist() if x)
    assert "ayu" not in json.dumps(table(a.accounts_path).to_pylist())
    with pytest.raises(UsageError, match="pseudonymise"):
        ingest([TINY], tmp_path / "a", append=True)


def test_addresses_never_reach_the_dataset(tmp_path: Path) -> None:
    src = tmp_path / "mail.csv"
    src.write_text(
        "post_id,author_id,created_at,text\n"
        "1,alice@example.org,2024-01-01T00:00:00Z,write to bob@example.com or 10.1.2.3\n"
        "2,Alice@Example.org,2024-01-02T00:00:00Z,\"reply from carol at lists.example.net\"\n"
    )
    ds = ingest([src], tmp_path / "ds")
    rows = posts(ds).to_pylist()
    assert rows[0]["author_id"] == rows[1]["author_id"] and rows[0]["author_id"].startswith("email:")
    for path in (tmp_path / "ds").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for needle in (b"example.org", b"bob@", b"10.1.2.3", b"carol at"):
                assert needle not in data, (path, needle)


def test_missing_source_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        ingest([tmp_path / "nope.csv"], tmp_path / "ds")
    with pytest.raises(UsageError, match="unknown format"):
        ingest([TINY], tmp_path / "ds", format="nonsense")
    weird = tmp_path / "weird.bin"
    weird.write_bytes(b"\x00\x01\x02 not anything")
    with pytest.raises(InputError, match="cannot recognise"):
        ingest([weird], tmp_path / "ds")


def test_dataset_schema_is_canonical(tmp_path: Path) -> None:
    from permadani import schema

    ds = ingest([TINY], tmp_path / "ds")
    got = duckdb.sql(f"SELECT * FROM read_parquet('{ds.posts_glob}') LIMIT 0").to_arrow_table().schema
    assert got.names == schema.POSTS.names
    assert Dataset.open(ds.path).manifest["schema_version"] == schema.SCHEMA_VERSION
    shutil.rmtree(ds.path)


def test_folder_of_files_is_read_file_by_file(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(TINY, folder / "sub" / "forum.csv")
    (folder / "README.txt").write_text("notes about these exports\n")
    (folder / ".hidden.csv").write_text("junk")
    ds = ingest([folder], tmp_path / "ds")
    by_name = {Path(s["path"]).name: s for s in ds.info()["sources"]}
    assert set(by_name) == {"README.txt", "forum.csv"}
    assert by_name["README.txt"]["format"] == "skipped" and by_name["README.txt"]["read"] == 0
    assert (by_name["forum.csv"]["read"], by_name["forum.csv"]["kept"]) == (12, 10)
    (folder / "sub" / "forum.csv").unlink()
    with pytest.raises(InputError, match="no file in this folder"):
        ingest([folder], tmp_path / "ds2")


def test_real_dump_folder(shared_data: Path, tmp_path: Path) -> None:
    ds = ingest([shared_data / "reddit-pushshift"], tmp_path / "ds")
    reads = {Path(s["path"]).name: s["read"] for s in ds.info()["sources"]}
    assert reads == {"AskMen_submissions.zst": 13_050, "AskWomen_submissions.zst": 8_271,
                     "RC_2005-12.zst": 1_075, "RC_2006-01.zst": 3_666}
    assert ds.info()["posts"] == 13_050 + 8_271 + 1_075 + 3_666
    assert_balanced(ds)


def test_wrong_format_is_an_error_not_a_dataset_of_rejects(tmp_path: Path) -> None:
    src = tmp_path / "notes.jsonl"
    src.write_text("".join(f"<p>paragraph {i} of an HTML page</p>\n" for i in range(30)))
    with pytest.raises(InputError, match=r"none of the 30 records could be read as table \(malformed-json 30\)"):
        ingest([src], tmp_path / "ds", format="table")
    assert not (tmp_path / "ds").exists()
    src.write_text(src.read_text() + '{"post_id": "1", "created_at": "2024-01-01T00:00:00Z"}\n')
    ds = ingest([src], tmp_path / "ds", format="table")  # one good record: a damaged file, not a wrong format
    assert (ds.info()["posts"], ds.info()["rejects"]) == (1, 30)


def test_manifest_counts_distinct_pairs_with_nulls(tmp_path: Path) -> None:
    """Threads and communities count distinct (platform, value) pairs, a null value once per platform: the
    one-platform shortcut and the general query must agree with a direct count."""
    src = tmp_path / "posts.csv"
    src.write_text("post_id,thread_id,author_id,created_at,text,community,platform\n"
                   "p1,t1,a,2024-01-01T00:00:00Z,x,c1,\n"
                   "p2,t1,b,2024-01-02T00:00:00Z,x,,\n"
                   "p3,,b,2024-01-03T00:00:00Z,x,,\n"
                   "p4,t2,a,2024-01-04T00:00:00Z,x,c2,\n"
                   "p5,,c,2024-01-05T00:00:00Z,x,c2,\n")
    one = ingest([src], tmp_path / "one")
    nulls = duckdb.sql(f"SELECT count(*) - count(community) FROM read_parquet('{one.posts_glob}')").fetchall()
    assert nulls == [(2,)]
    # a post without a thread is the root of its own: threads {t1, t2, p3, p5}; communities {c1, c2, null}
    assert (one.info()["threads"], one.info()["communities"]) == (4, 3)
    other = tmp_path / "other.csv"
    other.write_text(src.read_text().replace(",\n", ",forum\n"))  # the same ids on another platform
    both = ingest([src, other], tmp_path / "both")
    info = both.info()
    assert info["posts"] == 10 and sorted(both.manifest["platforms"]) == ["forum", "generic"]
    assert (info["threads"], info["communities"]) == (8, 6)
    direct = duckdb.sql(f"SELECT count(DISTINCT (platform, thread_id)), count(DISTINCT (platform, community)) "
                        f"FROM read_parquet('{both.posts_glob}')").fetchall()
    assert direct == [(8, 6)]


def test_accounts_merge_observed_and_posting_authors(tmp_path: Path) -> None:
    """The account merge keeps three kinds of rows: observed and posting, observed only (a Users.xml account with
    no post: an account but not an author), posting only (no observation: a row of nulls)."""
    se = FIXTURES / "stackexchange" / "tiny.stackexchange.com"
    ds = ingest([TINY, se], tmp_path / "ds")
    assert (ds.info()["accounts"], ds.info()["authors"]) == (10, 9)
    rows = {(r["platform"], r["author_id"]): r for r in table(ds.accounts_path).to_pylist()}
    posting = {tuple(r) for r in duckdb.sql(
        f"SELECT DISTINCT platform, author_id FROM read_parquet('{ds.posts_glob}') WHERE author_id IS NOT NULL"
    ).fetchall()}
    assert set(rows) - posting == {("stackexchange", "-1")}  # the Community user observed, never posting
    assert rows["stackexchange", "-1"]["display_name"] == "Community" and rows["stackexchange", "-1"]["is_bot"]
    assert rows["stackexchange", "11"]["reputation"] == 5519  # observed and posting
    nulls = {k: v for k, v in rows["stackexchange", "name:gone user"].items() if k not in ("author_id", "platform")}
    assert set(nulls.values()) == {None}  # posting, never observed
    # fajar's only post was rejected (bad timestamp): no account
    assert {a for p, a in rows if p == "generic"} == {"ayu", "budi", "citra", "dewi", "eko"}
