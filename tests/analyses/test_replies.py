"""Reply edges on the hand-built thread (conftest.HAND_ROWS): every number below was worked out by hand."""

from __future__ import annotations

import datetime as dt

from permadani import Dataset
from permadani.analyses.replies import EDGE_COLUMNS, reply_edges
from permadani.engine import Engine


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
