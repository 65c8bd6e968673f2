"""Reply edges on the hand-built thread (conftest.HAND_ROWS): every number below was worked out by hand."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from permadani import Dataset, ingest
from permadani.analyses.context import AuditContext, keep_lean
from permadani.analyses.replies import EDGE_COLUMNS, reply_edges
from permadani.engine import Engine
from tests.analyses.conftest import write_hand_csv


def test_reply_edges_hand_built(hand_dataset: Dataset, duckdb_engine: Engine) -> None:
    edges = duckdb_engine.execute(reply_edges(duckdb_engine.posts(hand_dataset)).order_by("post_id"))
    rows = {r["post_id"]: (r["replier"], r["target"], r["is_self"]) for r in edges.to_pylist()}
    # x1 has a deleted author, o1 a parent that is not in the data: neither is a reply.
    assert rows == {
        "r1": ("B", "A", False), "r2": ("C", "A", False), "r3": ("D", "A", False),
        "a1": ("A", "B", False), "a2": ("A", "C", False), "b1": ("B", "A", False),
        "c1": ("C", "A", False), "s1": ("A", "A", True),
    }
    first = edges.to_pylist()[0]
    assert first["post_id"] == "a1" and first["parent_id"] == "r1" and first["thread_id"] == "p1"
    assert first["created_at"] == dt.datetime(2024, 5, 1, 3, tzinfo=dt.UTC)  # a1: 3 h after the start
    assert tuple(edges.column_names) == EDGE_COLUMNS


def test_one_platform_joins_on_ids_alone_with_the_same_edges(hand_dataset: Dataset, duckdb_engine: Engine) -> None:
    assert hand_dataset.one_platform  # every post is on "forum"
    posts = duckdb_engine.posts(hand_dataset)
    keyed = duckdb_engine.execute(reply_edges(posts).order_by("post_id"))
    by_ids = duckdb_engine.execute(reply_edges(posts, one_platform=True).order_by("post_id"))
    assert by_ids.equals(keyed) and by_ids.num_rows == 8


def test_one_platform_tables_are_stored_without_the_platform(hand_dataset: Dataset, duckdb_engine: Engine) -> None:
    assert hand_dataset.platform == "forum"
    expr = reply_edges(duckdb_engine.posts(hand_dataset), one_platform=True)
    full = duckdb_engine.execute(expr.order_by("post_id"))

    def stored() -> dict[str, set[str]]:  # the engine's temporary tables and their columns
        rows = duckdb_engine.backend.con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = 'temp'").fetchall()
        return {t: {c for u, c in rows if u == t} for t, _ in rows}

    before = stored()
    lean = keep_lean(duckdb_engine, expr, hand_dataset.platform)
    (new,) = set(stored()) - set(before)
    assert stored()[new] == set(expr.columns) - {"platform"}
    assert tuple(lean.columns) == tuple(expr.columns)
    back = duckdb_engine.execute(lean.order_by("post_id"))
    assert back.schema.equals(full.schema) and back.equals(full) and back.num_rows == 8
    # without a single platform the column is stored as it is
    kept = keep_lean(duckdb_engine, expr, None)
    assert duckdb_engine.execute(kept.order_by("post_id")).equals(full)


def test_two_platforms_keep_the_platform_in_every_join(tmp_path: Path, duckdb_engine: Engine) -> None:
    # the hand thread twice, on two platforms with the same post ids and other authors ("[deleted]" stays)
    rows = list(csv.reader(write_hand_csv(tmp_path / "hand.csv").open(encoding="utf-8")))
    header, body = rows[0], rows[1:]
    at = {name: i for i, name in enumerate(header)}
    mirror = []
    for r in body:
        author = r[at["author_id"]]
        r = [*r[:at["author_id"]], author if author.startswith("[") else "m" + author, *r[at["author_id"] + 1:]]
        mirror.append([*r[:at["platform"]], "mirror", *r[at["platform"] + 1:]])
    with open(tmp_path / "both.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *body, *mirror])
    ds = ingest([tmp_path / "both.csv"], tmp_path / "ds")
    assert ds.info()["platforms"] == {"forum": 11, "mirror": 11} and not ds.one_platform
    ctx = AuditContext.build(ds, duckdb_engine)
    edges = duckdb_engine.execute(ctx.edges).to_pylist()
    assert len(edges) == 16  # the hand thread's 8 replies on each platform, none across them
    assert all((e["platform"] == "mirror") == e["replier"].startswith("m") == e["target"].startswith("m")
               for e in edges)
    # matching on ids alone would pair replies with the other platform's parents: the flag matters
    crossed = duckdb_engine.execute(reply_edges(duckdb_engine.posts(ds), one_platform=True))
    assert crossed.num_rows == 32
