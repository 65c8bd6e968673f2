"""ConvoKit export: round trip through our own reader, the layout ConvoKit's loader needs, the CLI, and a
privacy sweep over every file of a dataset built from all blog / e-mail / wiki / ConvoKit sources."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from permadani import Dataset, UsageError, ingest
from permadani.adapters.convokit import iter_object_items
from permadani.export import write_corpus
from permadani.privacy import EMAIL_AT_PATTERN, EMAIL_PATTERN, IPV4_PATTERN

CORE = "post_id, parent_id, thread_id, author_id, created_at, kind, score, community, platform, text"


def _posts(ds: Dataset, platform: str | None = None) -> list[tuple]:
    where = f"WHERE platform = '{platform}'" if platform else ""
    return duckdb.sql(f"SELECT {CORE} FROM read_parquet('{ds.posts_glob}') {where} ORDER BY platform, post_id"
                      ).fetchall()


def check_convokit_layout(folder: Path) -> None:
    """What convokit 5.0's ``Corpus(filename=...)`` loader relies on (read from its corpus_helpers.py): the five
    files; every utterance has id, conversation_id, speaker, reply_to, timestamp, text, meta; every speaker of
    an utterance is a key of speakers.json with a "meta" dict; every conversation id is a key of
    conversations.json; every reply_to names an utterance (ConvoKit raises on dangling replies when it fills
    conversation ids); index.json has the four indexes and a version."""
    assert {p.name for p in folder.iterdir()} == {"utterances.jsonl", "speakers.json", "conversations.json",
                                                  "corpus.json", "index.json"}
    speakers = {k: v for k, v, _ in iter_object_items(folder / "speakers.json")}
    conversations = {k: v for k, v, _ in iter_object_items(folder / "conversations.json")}
    assert all(isinstance(v.get("meta"), dict) for v in [*speakers.values(), *conversations.values()])
    ids = set()
    replies = []
    with open(folder / "utterances.jsonl", encoding="utf-8") as fh:
        for line in fh:
            u = json.loads(line)
            assert {"id", "conversation_id", "speaker", "reply_to", "timestamp", "text", "meta"} <= set(u)
            assert isinstance(u["id"], str) and isinstance(u["speaker"], str)
            assert isinstance(u["timestamp"], int | float) and isinstance(u["meta"], dict)
            assert u["speaker"] in speakers and u["conversation_id"] in conversations
            ids.add(u["id"])
            if u["reply_to"] is not None:
                replies.append(u["reply_to"])
    assert set(replies) <= ids
    index = json.loads((folder / "index.json").read_text())
    assert {"utterances-index", "speakers-index", "conversations-index", "overall-index"} <= set(index)
    assert index["version"] == 1
    assert isinstance(json.loads((folder / "corpus.json").read_text()), dict)


def test_cornell_round_trip(shared_data: Path, tmp_path: Path) -> None:
    ds = ingest([shared_data / "convokit-reddit-cornell"], tmp_path / "ds")
    summary = write_corpus(ds, tmp_path / "corpus")
    assert (summary.platform, summary.utterances, summary.conversations) == ("reddit", 1519, 50)
    assert summary.speakers == 537  # 536 accounts + the "[deleted]" placeholder ConvoKit needs
    check_convokit_layout(tmp_path / "corpus")
    first = json.loads((tmp_path / "corpus" / "utterances.jsonl").read_text().splitlines()[0])
    assert first["reply_to"] is None and first["conversation_id"] == first["id"] and "reply-to" not in first
    again = ingest([tmp_path / "corpus"], tmp_path / "again")
    before, after = _posts(ds), _posts(again)
    assert len(after) == 1519 and after == before
    accounts = "SELECT author_id, platform, display_name FROM read_parquet('{}') ORDER BY author_id"
    assert duckdb.sql(accounts.format(again.accounts_path)).fetchall() == \
        duckdb.sql(accounts.format(ds.accounts_path)).fetchall()


def test_export_choices_and_fractional_times(fixtures: Path, tmp_path: Path) -> None:
    ds = ingest([fixtures / "disqus" / "edge-cases.xml", fixtures / "convokit" / "legacy"], tmp_path / "ds")
    with pytest.raises(UsageError, match=r"several platforms .*convokit, disqus"):
        write_corpus(ds, tmp_path / "out")
    with pytest.raises(UsageError, match="'reddit' is not in the dataset"):
        write_corpus(ds, tmp_path / "out", platform="reddit")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(UsageError, match="not an empty folder"):
        write_corpus(ds, tmp_path / "full", platform="disqus")
    summary = write_corpus(ds, tmp_path / "disqus", platform="disqus")
    assert (summary.utterances, summary.conversations) == (7, 2)
    check_convokit_layout(tmp_path / "disqus")
    speakers = {k: v for k, v, _ in iter_object_items(tmp_path / "disqus" / "speakers.json")}
    assert speakers["edgeowner"]["meta"] == {"display_name": "Owner"}
    assert "[deleted]" in speakers  # deleted and nameless comments
    write_corpus(ds, tmp_path / "legacy", platform="convokit")
    times = {json.loads(line)["id"]: json.loads(line)["timestamp"]
             for line in (tmp_path / "legacy" / "utterances.jsonl").read_text().splitlines()}
    assert times == {"r1": 1500000000, "r2": 1500000060.5, "r3": 1500000120, "4": 1500000180}
    again = ingest([tmp_path / "disqus", tmp_path / "legacy"], tmp_path / "again")
    assert _posts(again, "disqus") == _posts(ds, "disqus")
    assert _posts(again, "convokit") == _posts(ds, "convokit")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "permadani", *args], capture_output=True, text=True, timeout=300)


def test_cli_export(fixtures: Path, tmp_path: Path) -> None:
    ingest([fixtures / "convokit" / "legacy"], tmp_path / "ds")
    r = _run("export", str(tmp_path / "ds"), "-o", str(tmp_path / "corpus"), "--to", "convokit", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"path": str(tmp_path / "corpus"), "platform": "convokit", "utterances": 4,
                                    "speakers": 3, "conversations": 1}
    r = _run("export", str(tmp_path / "ds"), "-o", str(tmp_path / "other"), "--to", "csv")
    assert r.returncode == 2 and "unknown export format 'csv'" in r.stderr and r.stdout == ""
    r = _run("export", str(tmp_path / "nothing"), "-o", str(tmp_path / "other"))
    assert r.returncode == 1 and "not a permadani dataset" in r.stderr


ADDRESS = re.compile(f"{EMAIL_PATTERN}|{EMAIL_AT_PATTERN}|{IPV4_PATTERN}")


def _leaks_in(folder: Path, con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every e-mail / IPv4 address in any file under ``folder``; Parquet files are read column by column."""
    found: list[str] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            columns = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
            for name, dtype, *_ in columns:
                if dtype != "VARCHAR":
                    continue
                rows = con.execute(
                    f"SELECT DISTINCT \"{name}\" FROM read_parquet('{path}') WHERE regexp_matches(\"{name}\", ?)",
                    [ADDRESS.pattern]).fetchall()
                found += [f"{path.name}:{name}: {ADDRESS.search(v).group(0)}" for (v,) in rows]
        else:
            text = path.read_bytes().decode("utf-8", "replace")
            found += [f"{path.name}: {m.group(0)}" for m in ADDRESS.finditer(text)]
    return found


def test_no_address_survives_anywhere(shared_data: Path, fixtures: Path, tmp_path: Path) -> None:
    sources = [
        shared_data / "wordpress-wxr" / "wordpress.xml", shared_data / "disqus-export" / "disqus.xml",
        *sorted((shared_data / "email-mbox").iterdir()), shared_data / "convokit-reddit-cornell",
        shared_data / "wikiconv-wikidetox" / "conversations_job1_x1000.js",
        shared_data / "wikiconv-wikidetox" / "conversations_job2_x1000.js",
        fixtures / "wordpress" / "undeclared-prefixes.xml", fixtures / "disqus" / "edge-cases.xml",
        fixtures / "email" / "list.mbox", fixtures / "email" / "maildir",
        fixtures / "wikiconv" / "conversations_fixture.js",
    ]
    # the raw sources are full of addresses: the sweep must be able to see them
    con = duckdb.connect()
    raw = "".join(p.read_text(encoding="utf-8", errors="replace") for p in sources[:3] + sources[-3:-2])
    assert len(ADDRESS.findall(raw)) > 1000
    control = tmp_path / "control"
    control.mkdir()
    con.execute(f"COPY (SELECT 'x' AS a, 'mail me at ana@example.com' AS b, 'from 203.0.113.9' AS c) "
                f"TO '{control / 't.parquet'}' (FORMAT parquet, COMPRESSION zstd)")
    assert _leaks_in(control, con) == ["t.parquet:b: ana@example.com", "t.parquet:c: 203.0.113.9"]
    ds = ingest(sources, tmp_path / "ds")
    assert set(ds.info()["platforms"]) == {"wordpress", "disqus", "email", "reddit", "wikipedia"}
    assert ds.info()["rejects"] > 300  # rejects' excerpts are swept too
    assert _leaks_in(tmp_path / "ds", con) == []
    for platform in ("wordpress", "disqus", "email", "wikipedia"):
        write_corpus(ds, tmp_path / f"corpus-{platform}", platform=platform)
        assert _leaks_in(tmp_path / f"corpus-{platform}", con) == []
