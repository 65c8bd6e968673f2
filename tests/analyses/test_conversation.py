"""Conversation metrics on a tiny hand-built forum, every number computed by hand below."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from permadani import Dataset, ingest
from permadani.analyses import conversation as conv
from permadani.engine import connect

from ._structure_helpers import Duck, posts_table, reply_edges, ts

# T1: p1 (A) <- r1 (B) <- r2 (A) <- r3 (C);  p1 <- r4 (C);  p1 <- r5 (A, self) <- r6 (D)
# T2: p2 (B) <- r7 (A) <- r8 (B);  T3: p3 (E) alone;  r9 (F) answers a post absent from the data
ROWS = [
    ("p1", "A", None, ts(0)), ("r1", "B", "p1", ts(0, 1)), ("r2", "A", "r1", ts(0, 2)), ("r3", "C", "r2", ts(0, 3)),
    ("r4", "C", "p1", ts(0, 4)), ("r5", "A", "p1", ts(0, 5)), ("r6", "D", "r5", ts(0, 6)),
    ("p2", "B", None, ts(1)), ("r7", "A", "p2", ts(1, 1)), ("r8", "B", "r7", ts(1, 2)),
    ("p3", "E", None, ts(2)), ("r9", "F", "gone", ts(3)),
]


@pytest.fixture(scope="module")
def result() -> tuple[dict[str, pa.Table], dict]:
    duck = Duck()
    posts = duck.table(posts_table(ROWS))
    return conv.compute(posts, reply_edges(posts), duck.execute, min_posts=1)


def test_community_numbers_by_hand(result: tuple) -> None:
    tables, summary = result
    (c,) = tables["conversation_communities"].to_pylist()
    assert (c["posts"], c["accounts"], c["replies"], c["self_replies"]) == (12, 6, 7, 1)
    assert c["reply_share"] == pytest.approx(7 / 12)
    assert c["replied_posts"] == 6 and c["replied_share"] == pytest.approx(0.5)  # p1 r1 r2 r5 p2 r7
    assert (c["threads"], c["threads_with_reply"], c["bf_threads"]) == (4, 2, 2)  # A->B->A in T1, B->A->B in T2
    assert c["bf_share"] == pytest.approx(0.5)
    assert (c["pairs"], c["reciprocated_pairs"]) == (3, 1)  # {A,B} both ways, {A,C}, {A,D} one way
    assert c["reciprocity"] == pytest.approx(1 / 3)
    # thread depths: T1 3, T2 2, T3 0, T4 (r9 -> missing parent) 1
    assert (c["depth_median"], c["depth_p90"], c["depth_max"]) == pytest.approx((1.5, 2.7, 3.0))
    hist = tables["conversation_depth"].to_pylist()
    assert [(h["depth"], h["threads"]) for h in hist] == [(0, 1), (1, 1), (2, 1), (3, 1)]
    assert summary["bf_share"] == pytest.approx(0.5) and summary["posts_on_parent_cycles"] == 0


def test_account_numbers_by_hand(result: tuple) -> None:
    tables, _ = result
    acc = {r["author_id"]: r for r in tables["conversation_accounts"].to_pylist()}
    a = acc["A"]
    assert (a["posts"], a["threads"], a["replies_given"], a["replies_received"]) == (4, 2, 2, 5)
    assert (a["replied_posts"], a["partners"], a["reciprocated_partners"], a["bf_threads"]) == (4, 3, 1, 2)
    assert (a["reply_share"], a["replied_share"], a["bf_share"]) == pytest.approx((0.5, 1.0, 1.0))
    assert a["reciprocity"] == pytest.approx(1 / 3)
    b = acc["B"]
    assert (b["posts"], b["replies_given"], b["replies_received"], b["bf_threads"], b["reciprocity"]) == \
        (3, 2, 2, 2, 1.0)
    c = acc["C"]
    assert (c["replies_given"], c["replies_received"], c["partners"], c["reciprocated_partners"], c["bf_threads"]) \
        == (2, 0, 1, 0, 0)
    assert acc["F"]["reply_share"] == 0.0  # a reply to an absent post is not a reply
    assert [a for a, r in acc.items() if r["broadcaster"]] == ["E", "F"]
    assert [a for a, r in acc.items() if r["conversationalist"]] == ["A", "B"]


def test_ranked_lists(result: tuple) -> None:
    _, summary = result
    assert [r["author_id"] for r in summary["top_broadcasters"]] == ["E", "F"]
    assert [r["author_id"] for r in summary["top_conversationalists"]] == ["A", "B"]
    assert summary["broadcasters"] == 2 and summary["conversationalists"] == 2


def test_depth_by_pointer_jumping_long_chains_and_cycles() -> None:
    n = 1000
    ids = [f"x{i}" for i in range(n)]
    parents = [None, *ids[:-1]]
    links = pa.table({"platform": ["p"] * (n + 3), "community": ["c"] * (n + 3),
                      "thread": ["x0"] * n + ["y", "y", "z"],
                      "post_id": [*ids, "y1", "y2", "z1"], "parent_id": [*parents, "y2", "y1", "nowhere"]})
    depth = conv.post_depths(links)
    assert depth[:n].tolist() == list(range(n))
    assert np.isnan(depth[n]) and np.isnan(depth[n + 1])  # y1 <-> y2 is a cycle
    assert depth[n + 2] == 1.0
    threads, cyclic = conv.thread_depths(links)
    assert cyclic == 2
    assert {r["thread"]: r["depth"] for r in threads.to_pylist()} == {"x0": n - 1, "z": 1}


def test_parent_rows_match_platform_and_id_and_take_the_first_of_repeated_keys() -> None:
    links = pa.table({"platform": ["a", "b", "a", "b", "a", "a", "a"],
                      "post_id": ["1", "1", "2", "2", "3", "3", "4"],
                      "parent_id": [None, None, "1", "1", "2", "missing", "3"]})
    # a/2 -> a/1 (row 0), b/2 -> b/1 (row 1), a/3 -> a/2 (row 2), a/3' has no parent in the data, a/4 -> a/3 at
    # rows 4 and 5: the first (as Arrow's index_in gave)
    assert conv.parent_rows(links).tolist() == [-1, -1, 0, 1, 2, -1, 4]
    assert conv.parent_rows(links.slice(0, 0)).tolist() == []


def test_real_thread_structure(shared_data: Path, real_dataset: Callable[[str], Dataset], tmp_path: Path) -> None:
    """README: Stack Exchange has 1,042 questions (threads) and only question → answer → comment nesting; Disqus
    has 569 threads and 2,693 posts whose reply links reach depth ≤ 5 below the thread's root post."""
    se = real_dataset("stackexchange")
    with connect("duckdb") as engine:
        tables, summary = conv.compute(engine.posts(se), reply_edges(engine.posts(se)), engine.execute)
    (c,) = tables["conversation_communities"].to_pylist()
    assert c["threads"] == 1042 and c["depth_max"] == 2.0
    assert sum(tables["conversation_depth"].column("threads").to_pylist()) == 1042
    assert summary["self_replies"] > 0 and summary["posts_on_parent_cycles"] == 0
    disqus = ingest([shared_data / "disqus-export" / "disqus.xml"], tmp_path / "disqus")
    with connect("duckdb") as engine:
        tables, summary = conv.compute(engine.posts(disqus), reply_edges(engine.posts(disqus)), engine.execute)
    (c,) = tables["conversation_communities"].to_pylist()
    assert (c["posts"], c["threads"]) == (2693 + 569, 569)
    assert c["depth_max"] == 6.0  # comment depth 5 + the article's root post
    assert sum(tables["conversation_depth"].column("threads").to_pylist()) == 569
