"""E-mail adapters (mbox, Maildir): the real list archives and hand-written edge cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from permadani import AdapterError, ingest
from permadani.adapters import sniff
from permadani.adapters.email import MaildirAdapter, MboxAdapter, hash_id, normalise_id, parse_from
from tests.helpers import assert_balanced, posts, table

# "From " separator lines per file (grep -c '^From '): one message each.
REAL_MESSAGES = {
    "2001-November.txt": 164,
    "3GPP_TSG_RAN_WG4_NR-MIMO-OTA.mbox": 59,
    "3GPP_TSG_SA_WG4_EVS.mbox": 50,
    "dev_ponymail_apache_org_2020-10.mbox": 1,
    "n47hcfdt6z70tqxvnhgn3zrdwqgg36yl.mbox": 1,
    "users_ponymail_apache_org_2019-09.mbox": 4,
    "users_ponymail_apache_org_2022-01.mbox": 6,
}


def test_pipermail_every_message_twice(shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / "email-mbox" / "2001-November.txt"
    assert sniff(source) is MboxAdapter
    ds = ingest([source], tmp_path / "ds")
    [s] = ds.manifest["sources"]
    assert (s["read"], s["kept"], s["duplicates"], s["rejected"]) == (164, 82, 82, 0)
    rows = posts(ds).to_pylist()
    assert {r["community"] for r in rows} == {"numpy-discussion"}  # from the [Numpy-discussion] subject tag
    assert all(r["author_id"].startswith("email:") for r in rows)  # "name at host" turned into an address
    first = next(r for r in rows if r["post_id"] == hash_id("user-5e55332ad7@example.invalid"))
    assert str(first["created_at"]) == "2001-11-01 11:19:12+00:00"
    assert first["parent_id"] == hash_id("user-1ed372c4ac@example.invalid")
    assert first["text"].startswith("On Tue, 30 Oct 2001, Perry Greenfield wrote:\n[...]\n> > What is")
    names = {r["display_name"] for r in table(ds.accounts_path).to_pylist()}
    assert "John J. Lee" in names


def test_whole_folder(shared_data: Path, tmp_path: Path) -> None:
    """285 messages: one per "From " separator line. (The README's "~330" is an estimate; the archives hold
    402 "From:" lines because Outlook-style replies quote the headers of the message they answer.)"""
    folder = shared_data / "email-mbox"
    files = sorted(folder.iterdir())
    assert {f.name for f in files} == set(REAL_MESSAGES)
    ds = ingest(files, tmp_path / "ds")
    assert_balanced(ds)
    by_file = {Path(s["path"]).name: s for s in ds.manifest["sources"]}
    assert {k: v["read"] for k, v in by_file.items()} == REAL_MESSAGES
    assert sum(REAL_MESSAGES.values()) == 285
    # duplicates: pipermail 82; LISTSERV RAN4 one message three times + one twice (3), EVS one twice (1);
    # the single-message Pony Mail file is also the first message of users_…2022-01 (1)
    assert {k: v["duplicates"] for k, v in by_file.items() if v["duplicates"]} == {
        "2001-November.txt": 82, "3GPP_TSG_RAN_WG4_NR-MIMO-OTA.mbox": 3, "3GPP_TSG_SA_WG4_EVS.mbox": 1,
        "users_ponymail_apache_org_2022-01.mbox": 1}
    # LISTSERV wrote one stub with nothing but an Archived-At header
    assert by_file["3GPP_TSG_RAN_WG4_NR-MIMO-OTA.mbox"]["reasons"] == {"empty-message": 1}
    assert ds.info()["posts"] == 285 - 87 - 1 == 197
    rows = posts(ds).to_pylist()
    ids = {r["post_id"] for r in rows}
    ponymail = [r for r in rows if r["community"] == "users.ponymail.incubator.apache.org"]
    assert len(ponymail) == 4 and len({r["thread_id"] for r in ponymail}) == 1
    assert all(r["parent_id"] in ids for r in ponymail if r["parent_id"])
    communities = {r["community"] for r in rows}
    assert {"3GPP_TSG_RAN_WG4_NR-MIMO-OTA", "dev.ponymail.apache.org", "numpy-discussion"} <= communities
    assert not [r for r in rows if "@" in r["post_id"] + (r["author_id"] or "") + (r["thread_id"] or "")]


def test_mbox_edge_cases(fixtures: Path, tmp_path: Path) -> None:
    source = fixtures / "email" / "list.mbox"
    ds = ingest([source], tmp_path / "ds")
    assert_balanced(ds)
    [s] = ds.manifest["sources"]
    assert (s["read"], s["kept"], s["duplicates"], s["rejected"]) == (9, 7, 1, 1)
    assert s["reasons"] == {"empty-message": 1}
    rows = {r["post_id"]: r for r in posts(ds).to_pylist()}
    a, b, c = (hash_id(f"{x}@lists.example.org") for x in "abc")
    missing = hash_id("missing@lists.example.org")
    # newest first in the file: C and B are read before their root A, and still find it
    assert (rows[c]["parent_id"], rows[c]["thread_id"]) == (b, a)
    assert (rows[b]["parent_id"], rows[b]["thread_id"]) == (a, a)
    assert (rows[a]["parent_id"], rows[a]["thread_id"]) == (None, a)
    assert rows[a]["text"].strip() == "Hello plain, grüße. Mail me at [email] or call [ip]"
    assert rows[a]["community"] == "list.example.org"
    assert "From here on I mean it" in rows[b]["text"]  # not a separator: no blank line before it
    m7, m8 = hash_id("m7@lists.example.org"), hash_id("m8@lists.example.org")
    assert (rows[m7]["parent_id"], rows[m7]["thread_id"]) == (missing, missing)
    assert (rows[m8]["parent_id"], rows[m8]["thread_id"]) == (m7, missing)
    derived = hash_id("derived\0Sun Mar 1 07:00:00 2020|x at example.com (X Person)|[Example] no id here")
    assert rows[derived]["community"] == "list" and rows[derived]["kind"] == "message"
    undated = rows[hash_id("f@lists.example.org")]
    assert str(undated["created_at"]) == "2020-02-28 05:00:00+00:00"  # from the "From " line
    assert str(rows[c]["created_at"]) == "2020-03-04 03:00:00+00:00"  # +0700 → UTC
    accounts = {r["author_id"]: r["display_name"] for r in table(ds.accounts_path).to_pylist()}
    assert accounts[rows[a]["author_id"]] == "Jürgen Müller"
    assert accounts[rows[derived]["author_id"]] == "X Person"
    assert rows[a]["author_id"] == rows[a]["author_id"].lower() and rows[a]["author_id"].startswith("email:")


def test_maildir(fixtures: Path, tmp_path: Path) -> None:
    folder = fixtures / "email" / "maildir"
    assert sniff(folder) is MaildirAdapter
    ds = ingest([folder], tmp_path / "ds")
    [s] = ds.manifest["sources"]
    assert (s["read"], s["kept"], s["rejected"]) == (2, 2, 0)  # tmp/ holds an unfinished delivery: skipped
    rows = {r["post_id"]: r for r in posts(ds).to_pylist()}
    root, reply = hash_id("root@md.example.org"), hash_id("reply@md.example.org")
    assert set(rows) == {root, reply}
    assert (rows[reply]["parent_id"], rows[reply]["thread_id"], rows[reply]["community"]) == (
        root, root, "md.example.org")


@pytest.mark.parametrize(("value", "expected"), [
    ("user-a at example.invalid (John J. Lee)", ("user-a@example.invalid", "John J. Lee")),
    ('"Rodriguez-Herrera, Alfonso"              U@Example.Invalid', ("u@example.invalid",
                                                                     "Rodriguez-Herrera, Alfonso")),
    ("Ruixin Wang user-1@example.invalid", ("user-1@example.invalid", "Ruixin Wang")),
    ("<only@example.org>", ("only@example.org", None)),
    ('"me@example.org" <me@example.org>', ("me@example.org", None)),
    ("MAILER-DAEMON", (None, "MAILER-DAEMON")),
])
def test_parse_from(value: str, expected: tuple) -> None:
    assert parse_from(value) == expected


def test_normalise_id() -> None:
    assert normalise_id(" <abc@host> ") == "abc@host"
    assert normalise_id("abc@host") == "abc@host"
    assert normalise_id("Your message of Tue <x@y>") == "x@y"
    assert normalise_id("  ") is None


def test_forced_format_on_the_wrong_input(fixtures: Path, tmp_path: Path) -> None:
    with pytest.raises(AdapterError, match=r"edge-cases\.xml: not an mbox file"):
        ingest([fixtures / "disqus" / "edge-cases.xml"], tmp_path / "ds", format="mbox")
    with pytest.raises(AdapterError, match="not a Maildir folder"):
        ingest([fixtures / "email"], tmp_path / "ds", format="maildir")
    empty = tmp_path / "empty.mbox"
    empty.write_bytes(b"")
    assert ingest([empty], tmp_path / "ds", format="mbox").info()["posts"] == 0  # empty is fine, not an error
