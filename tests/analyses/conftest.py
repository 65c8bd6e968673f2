"""Fixtures of the audit-core tests: one Spark engine per session, a hand-built thread, cached synthetic data."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from permadani import Dataset, ingest
from permadani.engine import Engine, connect
from permadani.synthetic import SynthParams, synthesize

#: The hand-built thread (see test_replies / test_responsiveness for the numbers expected from it).
#: Times are hours after 2024-05-01T00:00Z; "a2" answers "r2" 8 days late; "s1" is A's self-reply.
HAND_ROWS = [
    # post_id, parent_id, author_id, hours, score
    ("p1", "", "A", 0, 10),
    ("r1", "p1", "B", 1, 1),
    ("r2", "p1", "C", 2, 1),
    ("a1", "r1", "A", 3, 1),
    ("r3", "p1", "D", 4, 0),
    ("b1", "a1", "B", 4, 0),
    ("s1", "p1", "A", 5, 0),
    ("x1", "p1", "[deleted]", 5.5, 0),
    ("o1", "missing", "B", 6, 0),
    ("a2", "r2", "A", 2 + 8 * 24, 0),
    ("c1", "a2", "C", 3 + 8 * 24, 0),
]


def write_hand_csv(path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["post_id", "thread_id", "parent_id", "author_id", "created_at", "text", "score",
                         "community", "platform"])
        for post_id, parent, author, hours, score in HAND_ROWS:
            seconds = int(hours * 3600)
            stamp = f"2024-05-{1 + seconds // 86400:02d}T{seconds % 86400 // 3600:02d}:{seconds % 3600 // 60:02d}:00Z"
            writer.writerow([post_id, "p1", parent, author, stamp, f"text {post_id}", score, "cafe", "forum"])
    return path


@pytest.fixture(scope="session")
def hand_dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    folder = tmp_path_factory.mktemp("hand")
    return ingest([write_hand_csv(folder / "hand.csv")], folder / "ds")


@pytest.fixture(scope="session")
def synth_dataset(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Dataset]:
    """``synth_dataset(seed=..., **params)``: a generated dataset, cached per parameter set for the session."""
    cache: dict[tuple, Dataset] = {}
    root = tmp_path_factory.mktemp("synth")

    def make(**params: object) -> Dataset:
        key = tuple(sorted((k, repr(v)) for k, v in params.items()))
        if key not in cache:
            cache[key] = synthesize(root / f"ds{len(cache)}", SynthParams(**params))  # type: ignore[arg-type]
        return cache[key]

    return make


@pytest.fixture(scope="session")
def spark_engine() -> Iterator[Engine]:
    """One local Spark engine for the whole session (skips when PySpark or Java is missing)."""
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("PySpark needs Java (not found on PATH)")
    engine = connect("pyspark", master="local[2]")
    yield engine
    engine.close()


@pytest.fixture()
def duckdb_engine() -> Iterator[Engine]:
    engine = connect("duckdb")
    yield engine
    engine.close()


#: Real sources (under the shared data folder) and the adapter that reads them.
REAL = {
    "stackexchange": (("stackexchange-cardano",), "stackexchange"),
    "twitter": (("twitter-pheme-rumoureval2017",), None),
    "reddit": (("reddit-pushshift/RC_2005-12.zst", "reddit-pushshift/RC_2006-01.zst"), None),
}


@pytest.fixture(scope="session")
def real_dataset(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Dataset]:
    """``real_dataset("stackexchange")``: the real source ingested once per session (skips when its adapter is
    not registered yet)."""
    from permadani.adapters import registry

    cache: dict[str, Dataset] = {}

    def make(name: str) -> Dataset:
        if name not in cache:
            sources, fmt = REAL[name]
            if fmt is not None and fmt not in registry():
                pytest.skip(f"the {fmt} adapter is not registered yet")
            paths = [shared_data / s for s in sources]
            try:
                cache[name] = ingest(paths, tmp_path_factory.mktemp(name) / "ds", format=fmt)
            except Exception as exc:  # a source no registered adapter recognises yet
                if "cannot recognise" in str(exc):
                    pytest.skip(f"no adapter reads {sources[0]} yet")
                raise
        return cache[name]

    return make
