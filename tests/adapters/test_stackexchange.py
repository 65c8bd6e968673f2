"""Stack Exchange dump adapter: the real cardano dump (counts from the data README) and our own edge cases."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from permadani import AdapterError, ingest
from permadani.adapters import sniff
from permadani.adapters._xml import iter_elements, root_tag
from permadani.adapters.stackexchange import StackExchangeAdapter, site_name
from tests.helpers import assert_balanced, posts, table

SE = "stackexchange-cardano"


@pytest.fixture(scope="module")
def cardano(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    return ingest([shared_data / SE], tmp_path_factory.mktemp("se") / "ds")


def _one(sql: str) -> tuple:
    return duckdb.sql(sql).fetchall()[0]


def test_cardano_counts(cardano) -> None:
    assert_balanced(cardano)
    by_file = {Path(s["path"]).name: s for s in cardano.manifest["sources"]}
    assert sorted(by_file) == ["Comments.xml", "Posts.xml", "Users.xml"]  # Votes, Badges, Tags... not read
    assert (by_file["Posts.xml"]["read"], by_file["Posts.xml"]["kept"], by_file["Posts.xml"]["rejected"]) == \
        (2630, 2538, 92)
    assert by_file["Posts.xml"]["reasons"] == {"unsupported-kind": 92}
    # one comment sits on a moderator nomination (PostTypeId 6): rejected with its post
    assert (by_file["Comments.xml"]["read"], by_file["Comments.xml"]["kept"]) == (1829, 1828)
    assert (by_file["Users.xml"]["read"], by_file["Users.xml"]["kept"], by_file["Users.xml"]["rejected"]) == \
        (3988, 3988, 0)
    glob = cardano.posts_glob
    kinds = dict(duckdb.sql(f"SELECT kind, count(*) FROM read_parquet('{glob}') GROUP BY kind").fetchall())
    assert kinds == {"question": 1042, "answer": 1496, "comment": 1828}
    # the other 92 posts: 43 tag-wiki excerpts (4), 43 tag wikis (5), 6 moderator nominations (6)
    details = dict(duckdb.sql(
        f"SELECT detail, count(*) FROM read_parquet('{cardano.rejects_path}') GROUP BY detail").fetchall())
    assert details == {
        "PostTypeId 4 is not a question (1) or an answer (2)": 43,
        "PostTypeId 5 is not a question (1) or an answer (2)": 43,
        "PostTypeId 6 is not a question (1) or an answer (2)": 6,
        "comment on post 1959, which is not a question or an answer": 1,
    }
    assert _one(f"SELECT DISTINCT community FROM read_parquet('{glob}')") == ("cardano",)


def test_cardano_links_resolve(cardano) -> None:
    glob = cardano.posts_glob
    unresolved = _one(f"""
        SELECT count(*) FILTER (WHERE p.parent_id IS NOT NULL AND q.post_id IS NULL),
               count(*) FILTER (WHERE p.parent_id IS NOT NULL)
        FROM read_parquet('{glob}') p LEFT JOIN read_parquet('{glob}') q ON q.post_id = p.parent_id""")
    assert unresolved == (0, 1496 + 1828)
    # every thread id is a question, and a comment's thread is its post's thread
    assert _one(f"""SELECT count(*) FROM read_parquet('{glob}') p
                    WHERE p.thread_id NOT IN (SELECT post_id FROM read_parquet('{glob}') WHERE kind = 'question')""") \
        == (0,)
    assert _one(f"""SELECT count(*) FROM read_parquet('{glob}') c JOIN read_parquet('{glob}') p
                    ON p.post_id = c.parent_id WHERE c.kind = 'comment' AND c.thread_id <> p.thread_id""") == (0,)
    assert _one(f"SELECT thread_id, parent_id, author_id FROM read_parquet('{glob}') WHERE post_id = 'c8'") == \
        ("4", "4", "38")


def test_cardano_accounts(cardano) -> None:
    accounts = str(cardano.accounts_path)
    n, n_records, median, top = _one(f"""
        SELECT count(*), count(source_file), quantile_disc(reputation, 0.5), max(reputation)
        FROM read_parquet('{accounts}')""")
    assert (n_records, median, top) == (3988, 1, 5519)
    # plus one 'name:<display>' author: the deleted user who wrote 2 posts and 2 comments
    assert n == 3989
    assert _one(f"SELECT count(*) FROM read_parquet('{cardano.posts_glob}') WHERE author_id LIKE 'name:%'") == (4,)
    assert _one(f"SELECT display_name, is_bot FROM read_parquet('{accounts}') WHERE author_id = '-1'") == \
        ("Community", True)
    assert _one(f"SELECT count(*) FROM read_parquet('{accounts}') WHERE is_bot") == (1,)


def test_fixture_dump(fixtures: Path, tmp_path: Path) -> None:
    folder = fixtures / "stackexchange" / "tiny.stackexchange.com"
    assert sniff(folder) is StackExchangeAdapter
    ds = ingest([folder], tmp_path / "ds")
    assert_balanced(ds)
    rows = {r["post_id"]: r for r in posts(ds).to_pylist()}
    assert sorted(rows) == ["1", "2", "3", "8", "c100", "c101", "c104"]
    assert rows["1"]["text"] == "Staking basics\n\n<p>How do I stake?</p>"  # BOM-prefixed file parses
    assert (rows["1"]["kind"], rows["1"]["thread_id"], rows["1"]["parent_id"], rows["1"]["score"]) == \
        ("question", "1", None, 5)
    assert (rows["2"]["kind"], rows["2"]["thread_id"], rows["2"]["parent_id"]) == ("answer", "1", "1")
    assert rows["3"]["author_id"] == "name:gone user"  # deleted owner, display name kept
    assert rows["8"]["author_id"] is None
    assert (rows["c101"]["parent_id"], rows["c101"]["thread_id"], rows["c101"]["kind"]) == ("2", "1", "comment")
    assert rows["c104"]["author_id"] == "name:visitor"
    assert rows["1"]["community"] == "tiny"
    assert rows["2"]["source_line"] == 4 and str(rows["2"]["created_at"]) == "2021-04-27 16:00:00+00:00"
    rejects = {(Path(r["source"]).name, r["location"], r["reason"]) for r in table(ds.rejects_path).to_pylist()}
    assert rejects == {
        ("Posts.xml", "line 6, row Id=4", "unsupported-kind"),
        ("Posts.xml", "line 7, row", "missing-id"),
        ("Posts.xml", "line 8, row Id=6", "bad-timestamp"),
        ("Posts.xml", "line 9, row Id=7", "missing-field"),
        ("Comments.xml", "line 5, row Id=102", "unsupported-kind"),
        ("Comments.xml", "line 6, row Id=103", "missing-field"),
        ("Users.xml", "line 6, row Id=12", "bad-timestamp"),
    }
    accounts = {r["author_id"]: r for r in table(ds.accounts_path).to_pylist()}
    assert (accounts["11"]["reputation"], accounts["11"]["display_name"]) == (5519, "Answerer")
    assert accounts["-1"]["is_bot"] is True and accounts["10"]["is_bot"] is None
    by_file = {Path(s["path"]).name: (s["read"], s["kept"], s["rejected"]) for s in ds.manifest["sources"]}
    assert by_file == {"Posts.xml": (8, 4, 4), "Comments.xml": (5, 3, 2), "Users.xml": (4, 3, 1)}


def test_site_option_and_names(fixtures: Path, tmp_path: Path) -> None:
    assert site_name(Path("/dumps/stackexchange-cardano")) == "cardano"
    assert site_name(Path("/dumps/cardano.meta.stackexchange.com/Posts.xml")) == "cardano.meta"
    assert site_name(Path("/dumps/stackoverflow.com")) == "stackoverflow"
    ds = ingest([fixtures / "stackexchange" / "tiny.stackexchange.com" / "Posts.xml"], tmp_path / "ds",
                options={"site": "ada"})
    assert {r["community"] for r in posts(ds).to_pylist()} == {"ada"}


def test_comments_alone_use_post_as_thread(fixtures: Path, tmp_path: Path) -> None:
    ds = ingest([fixtures / "stackexchange" / "tiny.stackexchange.com" / "Comments.xml"], tmp_path / "ds")
    rows = {r["post_id"]: r for r in posts(ds).to_pylist()}
    # without Posts.xml nothing says post 2 is an answer to 1, nor that 4 is a tag wiki
    assert (rows["c101"]["thread_id"], rows["c102"]["thread_id"]) == ("2", "4")


def test_ignored_tables_are_refused_alone(fixtures: Path, tmp_path: Path) -> None:
    with pytest.raises(AdapterError, match=r"Votes\.xml.*<votes> rows are not posts or accounts"):
        ingest([fixtures / "stackexchange" / "tiny.stackexchange.com" / "Votes.xml"], tmp_path / "ds")
    assert not (tmp_path / "ds").exists()


def test_billion_laughs_is_refused(fixtures: Path, tmp_path: Path) -> None:
    with pytest.raises(AdapterError, match=r"billion-laughs/Posts\.xml \(line \d+\): refused hostile") as info:
        ingest([fixtures / "stackexchange" / "billion-laughs"], tmp_path / "ds")
    assert "EntitiesForbidden" in str(info.value)
    assert list(tmp_path.iterdir()) == []  # no dataset, no temporary folder


def test_malformed_row_fails_the_whole_file(fixtures: Path, tmp_path: Path) -> None:
    """XML cannot be resumed after a syntax error: the file is refused, with line and column, nothing written."""
    with pytest.raises(AdapterError, match=r"malformed/Posts\.xml \(line 4, column \d+\): not well-formed"):
        ingest([fixtures / "stackexchange" / "malformed"], tmp_path / "ds")
    assert list(tmp_path.iterdir()) == []


def test_truncated_file_fails(fixtures: Path, tmp_path: Path) -> None:
    with pytest.raises(AdapterError, match=r"truncated/Posts\.xml .*not well-formed.*truncated"):
        ingest([fixtures / "stackexchange" / "truncated"], tmp_path / "ds")


def test_xml_helper_streams_and_clears(fixtures: Path) -> None:
    path = fixtures / "stackexchange" / "tiny.stackexchange.com" / "Posts.xml"
    assert root_tag(path.read_bytes()[:200]) == "posts"
    seen = []
    parents = []
    for line, elem in iter_elements(path, {"row"}, feed_bytes=64):  # tiny feeds: elements span many chunks
        seen.append((line, elem.get("Id")))
        parents.append(elem)
    assert seen[:3] == [(3, "1"), (4, "2"), (5, "3")] and len(seen) == 8
    assert all(not e.attrib for e in parents)  # cleared after use: nothing accumulates
