"""Mastodon API v1 bodies: id scoping, boosts, quotes, contexts, account records, real responses."""

from __future__ import annotations

import statistics
from pathlib import Path

import duckdb
import pyarrow as pa

from permadani import ingest
from permadani.adapters import sniff
from permadani.adapters.base import Probe
from permadani.adapters.mastodon import MastodonAdapter, handle
from tests.helpers import assert_balanced, posts, table

ALICE = "https://example.social/users/alice/statuses/100"


def _read(path: Path, **options: str) -> tuple[list[dict], list[dict], list[dict], int]:
    adapter = MastodonAdapter(MastodonAdapter.options_from(options))
    tables: dict[str, list[pa.Table]] = {"p": [], "a": [], "r": []}
    records = 0
    for batch in adapter.read(path):
        batch.check()
        records += batch.account_records
        tables["p"].append(batch.posts)
        tables["a"].append(batch.accounts)
        tables["r"].append(batch.rejects)
    return (*(pa.concat_tables(v).to_pylist() for v in tables.values()), records)  # type: ignore[return-value]


def test_status_array_ids_parents_boosts_quotes(fixtures: Path) -> None:
    rows, accounts, rejects, _ = _read(fixtures / "mastodon" / "statuses.json")
    by_id: dict[str, dict] = {}
    for r in rows:
        by_id.setdefault(r["post_id"], r)  # first occurrence, as ingest keeps it
    assert len(rows) == 8 and len(by_id) == 7  # the boosted original is also a top-level status
    reply = by_id["https://example.social/users/bob/statuses/200"]
    assert (reply["parent_id"], reply["thread_id"], reply["author_id"]) == (ALICE, ALICE, "@bob@example.social")
    # parent absent, replied-to account local to the serving instance: Mastodon's uri scheme rebuilds it
    remote = by_id["https://other.example/users/carol/statuses/987"]
    assert remote["parent_id"] == "https://example.social/users/alice/statuses/150"
    assert remote["thread_id"] is None and remote["community"] == "other.example" and remote["lang"] == "de"
    # parent absent and remote: the local id is scoped by the serving instance (inferred from local accounts)
    assert by_id["https://example.social/users/alice/statuses/400"]["parent_id"] == \
        "https://example.social/api/v1/statuses/555"
    boost = by_id["https://example.social/users/bob/statuses/500/activity"]
    assert (boost["kind"], boost["amplifies_id"], boost["text"]) == ("repost", ALICE, None)
    quote = by_id["https://example.social/users/bob/statuses/600"]
    assert (quote["kind"], quote["amplifies_id"]) == ("quote", "https://far.example/users/dan/statuses/42")
    assert by_id["https://far.example/users/dan/statuses/42"]["author_id"] == "@dan@far.example"
    assert by_id[ALICE]["score"] == 7 and by_id[ALICE]["thread_id"] == ALICE
    assert sorted((r["reason"], r["location"]) for r in rejects) == [
        ("bad-timestamp", "document [6]"), ("unsupported-kind", "document [7]")]
    carol = next(a for a in accounts if a["author_id"] == "@carol@other.example")
    assert carol["is_bot"] is True and carol["display_name"] == "carol"


def test_instance_option_scopes_absent_parents(fixtures: Path) -> None:
    rows, *_ = _read(fixtures / "mastodon" / "statuses.json", instance="mastodon.example")
    parents = {r["post_id"]: r["parent_id"] for r in rows}
    assert parents["https://example.social/users/alice/statuses/400"] == \
        "https://mastodon.example/api/v1/statuses/555"


def test_handles_are_not_address_shaped() -> None:
    assert handle({"acct": "bob", "url": "https://example.social/@bob"}) == "@bob@example.social"
    assert handle({"acct": "carol@other.example", "url": "https://other.example/@carol"}) == "@carol@other.example"


def test_fixture_folder_ingest_accounts_for_everything(fixtures: Path, tmp_path: Path) -> None:
    ds = ingest([fixtures / "mastodon"], tmp_path / "ds")
    assert_balanced(ds)
    sources = {Path(s["path"]).name: s for s in ds.manifest["sources"]}
    assert {k: (s["read"], s["kept"], s["duplicates"], s["rejected"]) for k, s in sources.items()} == {
        "statuses.json": (10, 7, 1, 2),
        "instance.json": (1, 0, 0, 1),
        "error.json": (1, 0, 0, 1),
        "collected.jsonl": (3, 2, 0, 1),  # a status, a truncated line, an array with one account record
    }
    reasons = table(ds.rejects_path).to_pylist()
    assert {r["reason"] for r in reasons} == {"bad-timestamp", "unsupported-kind", "malformed-json"}
    accounts = {a["author_id"]: a for a in table(ds.accounts_path).to_pylist()}
    assert accounts["@alice@example.social"]["followers"] == 5002  # the maximum observed
    assert accounts["@carol@other.example"]["source_file"].endswith("collected.jsonl")


def test_sniff(fixtures: Path) -> None:
    assert MastodonAdapter.sniff(Probe.of(fixtures / "mastodon" / "statuses.json"))
    assert MastodonAdapter.sniff(Probe.of(fixtures / "mastodon"))
    assert not MastodonAdapter.sniff(Probe.of(fixtures / "mastodon" / "instance.json"))


def test_real_responses(shared_data: Path, tmp_path: Path) -> None:
    """439 unique statuses (437 + 2 boosted originals), 182 replies of which 39 have their parent present."""
    source = shared_data / "mastodon-api"
    assert sniff(source) is MastodonAdapter
    ds = ingest([source], tmp_path / "ds")
    assert_balanced(ds)
    info = ds.info()
    assert info["posts"] == 439 and info["rejects"] == 0
    rows = posts(ds).to_pylist()
    ids = {r["post_id"] for r in rows}
    replies = [r for r in rows if r["parent_id"]]
    assert len(replies) == 182
    assert sum(r["parent_id"] in ids for r in replies) == 39
    assert sum(r["kind"] == "repost" for r in rows) == 2
    # identical bodies (INDEX.tsv: the same endpoint saved as *_default, *_noparse...) are duplicates
    index = (source / "INDEX.tsv").read_text().splitlines()
    context_files = [line.split("\t")[0] for line in index if line.endswith("/context")]
    assert len(context_files) == 6
    kept = duckdb.sql(f"SELECT count(*) FROM read_parquet('{ds.posts_glob}') "
                      f"WHERE source_file LIKE '%get_context_default.json'").fetchall()[0][0]
    assert kept == 0  # get_context_anonymous.json (same body) is read first and keeps them
    # authors: 228 account urls, one bridged Bluesky account seen under two urls -> 227 handles
    authors = {r["author_id"] for r in rows}
    assert len(authors) == 227
    followers = {a["author_id"]: a["followers"] for a in table(ds.accounts_path).to_pylist()}
    counts = [followers[a] for a in authors]
    assert statistics.median(counts) == 344 and max(counts) == 3_480_000
    assert len(followers) == 328  # status authors plus the account records (followers, favourited_by...)


def test_real_context_thread(shared_data: Path) -> None:
    """get_context: 59 descendants of a focal status that is not in the body; 16 reply to each other, the other
    43 reply to the focal status, whose uri is rebuilt (its author is local to mastodon.social)."""
    rows, _, rejects, _ = _read(shared_data / "mastodon-api" / "get_context_default.json")
    assert not rejects and len(rows) == 59
    in_body = {r["post_id"] for r in rows}
    assert sum(r["parent_id"] in in_body for r in rows) == 16
    assert {r["parent_id"] for r in rows if r["parent_id"] not in in_body} == {
        "https://mastodon.social/users/austinkocher/statuses/109294719267373593"}


def test_social_sniffers_do_not_steal_other_formats(shared_data: Path) -> None:
    """None of the social adapters (mastodon, bluesky, facebook, linkedin, googleplus, twitter-archive) claims a
    file or folder of another platform's real data."""
    from permadani.adapters import registry
    from permadani.errors import InputError

    mine = {name for name, cls in registry().items()
            if cls.__module__.rsplit(".", 1)[-1] in ("mastodon", "bluesky", "facebook", "linkedin", "googleplus",
                                                     "twitter_archive")}
    assert len(mine) == 8
    own = {"mastodon-api", "bluesky-api", "facebook-dyi", "linkedin-export", "googleplus-takeout-html",
           "twitter-archive"}
    checked = 0
    for folder in sorted(p for p in shared_data.iterdir() if p.is_dir() and p.name not in own):
        candidates = [folder, *sorted(p for p in folder.rglob("*") if p.is_file())[:12]]
        for path in candidates:
            try:
                name = sniff(path).name
            except InputError:
                continue
            checked += 1
            assert name not in mine, path
    assert checked > 20
