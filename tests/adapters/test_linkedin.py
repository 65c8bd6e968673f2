"""LinkedIn export: broken CSV quoting recovered (real Comments.csv / Shares.csv), messages, connections."""

from __future__ import annotations

from pathlib import Path

from permadani import ingest
from permadani.adapters import sniff
from permadani.adapters.base import Probe
from permadani.adapters.generic import GenericTableAdapter
from permadani.adapters.linkedin import LinkedInAdapter, unwrap_lines, urn_of
from tests.conftest import SAMPLE
from tests.helpers import assert_balanced, posts, table


def _read(path: Path) -> dict[str, tuple[list[dict], list[dict], list[dict], int]]:
    out = {}
    for batch in LinkedInAdapter().read(path):
        batch.check()
        out[Path(batch.source).name] = (batch.posts.to_pylist(), batch.accounts.to_pylist(),
                                        batch.rejects.to_pylist(), batch.account_records)
    return out


def test_helpers() -> None:
    assert unwrap_lines('first."\n""\n"second "quoted" word."\n"last') == 'first.\n\nsecond "quoted" word.\nlast'
    assert unwrap_lines('one line "with quotes"') == 'one line "with quotes"'
    assert urn_of("https://www.linkedin.com/feed/update/urn%3Ali%3Aactivity%3A7348931489259999233") == \
        "urn:li:activity:7348931489259999233"


def test_fixture_export(fixtures: Path) -> None:
    got = _read(fixtures / "linkedin" / "export")
    comments, _, rejects, _ = got["Comments.csv"]
    assert [c["parent_id"] for c in comments] == ["urn:li:activity:7344186464080941056",
                                                  "urn:li:activity:7343469241997717504"]
    assert comments[0]["text"].endswith('I tell ChatGPT to "Challenge my assumptions, ask probing questions, '
                                        'and engage."')
    assert comments[0]["source_line"] == 2 and comments[1]["source_line"] == 5
    assert [(r["location"], r["reason"]) for r in rejects] == [("line 6", "malformed-csv")]
    messages, accounts, rejects, _ = got["messages.csv"]
    assert [(m["kind"], m["thread_id"], m["author_id"]) for m in messages] == [
        ("message", "2-ZmFrZWNvbnZlcnNhdGlvbjE=", "https://www.linkedin.com/in/ana-putri-example"),
        ("message", "2-ZmFrZWNvbnZlcnNhdGlvbjE=", "https://www.linkedin.com/in/budi-example")]
    assert messages[0]["text"] == "Halo Budi, apa kabar?\nLama tidak bertemu."
    assert [(r["location"], r["reason"]) for r in rejects] == [("line 5", "bad-timestamp")]
    _, accounts, rejects, records = got["Connections.csv"]
    assert records == 2 and [(a["author_id"], a["display_name"]) for a in accounts] == [
        ("https://www.linkedin.com/in/budi-example", "Budi Santoso"),
        ("https://www.linkedin.com/in/citra-example", "Citra")]
    assert [(r["location"], r["reason"]) for r in rejects] == [("line 7", "missing-id")]


def test_no_address_reaches_the_dataset(fixtures: Path, tmp_path: Path) -> None:
    ds = ingest([fixtures / "linkedin" / "export"], tmp_path / "ds")
    assert_balanced(ds)
    for path in ds.path.rglob("*"):
        if path.is_file():
            assert b"budi@example.com" not in path.read_bytes(), path


def test_sniff_wins_over_generic_csv(fixtures: Path, shared_data: Path) -> None:
    assert sniff(shared_data / "linkedin-export" / "Shares.csv") is LinkedInAdapter
    assert sniff(fixtures / "linkedin" / "export") is LinkedInAdapter
    plain = fixtures / "linkedin" / "export" / "Connections.csv"
    assert LinkedInAdapter.sniff(Probe.of(plain))
    assert not LinkedInAdapter.sniff(Probe.of(SAMPLE / "tiny-forum.csv"))
    assert sniff(SAMPLE / "tiny-forum.csv") is GenericTableAdapter


def test_real_export(shared_data: Path, tmp_path: Path) -> None:
    """Comments.csv: 323 comments (a naive CSV parse sees 337 non-empty rows: 14 of them are pieces of rows
    cut at backslash-escaped quotes). Shares.csv: 202 rows, 198 shares (one share is listed 5 times, once per
    image)."""
    ds = ingest([shared_data / "linkedin-export"], tmp_path / "ds")
    assert_balanced(ds)
    sources = {Path(s["path"]).name: (s["read"], s["kept"], s["duplicates"], s["rejected"])
               for s in ds.manifest["sources"]}
    assert sources == {"Comments.csv": (323, 323, 0, 0), "Shares.csv": (202, 198, 4, 0)}
    rows = posts(ds).to_pylist()
    shares = [r for r in rows if r["kind"] == "post"]
    assert all(r["post_id"].startswith(("urn:li:share:", "urn:li:ugcPost:", "urn:li:groupPost:")) for r in shares)
    vipassana = next(r for r in shares if r["post_id"] == "urn:li:share:7345821826846990338")
    assert vipassana["text"].startswith("I'm off for a 10-day Vipassana meditation program.\n\n\U0001d5ea")
    assert '"\n"' not in vipassana["text"]
    comments = [r for r in rows if r["kind"] == "comment"]
    assert all(r["parent_id"].startswith("urn:li:") for r in comments)
    srini = next(r for r in comments if r["text"].startswith("Srini Annamaraju"))
    assert srini["text"].endswith('and engage rather than affirm."')
    assert table(ds.rejects_path).num_rows == 0
