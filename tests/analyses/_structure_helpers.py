"""Small builders for the structure-analysis tests: canonical posts from tuples, reply edges, a DuckDB runner."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import ibis
import pyarrow as pa

from permadani.analyses.replies import reply_edges
from permadani.engine import define_duckdb_macros
from permadani.schema import POSTS, conform

__all__ = ["T0", "UTC", "Duck", "posts_table", "reply_edges", "ts"]

UTC = dt.UTC
T0 = dt.datetime(2021, 1, 1, tzinfo=UTC)


def ts(days: float = 0.0, hours: float = 0.0, base: dt.datetime = T0) -> dt.datetime:
    return base + dt.timedelta(days=days, hours=hours)


def posts_table(rows: Iterable[Sequence[object]], platform: str = "forum") -> pa.Table:
    """Canonical posts from (post_id, author_id, parent_id, created_at[, community[, thread_id]]) tuples.

    ``thread_id`` defaults to the root reached through parent links present in ``rows``.
    """
    rows = [tuple(r) for r in rows]
    parent = {r[0]: r[2] for r in rows}

    def root(pid: str) -> str:
        seen = set()
        while parent.get(pid) is not None and parent[pid] in parent and pid not in seen:
            seen.add(pid)
            pid = parent[pid]
        return pid

    data = {
        "post_id": [r[0] for r in rows],
        "platform": [platform] * len(rows),
        "community": [r[4] if len(r) > 4 else "c1" for r in rows],
        "thread_id": [r[5] if len(r) > 5 else root(r[0]) for r in rows],
        "parent_id": [r[2] for r in rows],
        "author_id": [r[1] for r in rows],
        "created_at": pa.array([r[3] for r in rows], pa.timestamp("us", tz="UTC")),
        "kind": ["comment" if r[2] else "post" for r in rows],
        "source_file": ["test"] * len(rows),
    }
    return conform(pa.table(data), POSTS)


class Duck:
    """A DuckDB Ibis backend with the engine's ``execute`` shape (expression -> pyarrow.Table)."""

    def __init__(self) -> None:
        self.con = ibis.duckdb.connect()
        define_duckdb_macros(self.con)
        self._n = 0

    def table(self, data: pa.Table, name: str | None = None) -> ibis.Table:
        self._n += 1
        return self.con.create_table(name or f"t{self._n}", data, overwrite=True)

    def execute(self, expr: ibis.Expr) -> pa.Table:
        return self.con.to_pyarrow(expr)
