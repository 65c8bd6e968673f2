"""Small test helpers: read a dataset's tables, check the accounting balance."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from permadani import Dataset


def posts(dataset: Dataset | Path | str) -> pa.Table:
    ds = dataset if isinstance(dataset, Dataset) else Dataset.open(dataset)
    return duckdb.sql(f"SELECT * FROM read_parquet('{ds.posts_glob}') ORDER BY platform, post_id").to_arrow_table()


def table(path: Path) -> pa.Table:
    return duckdb.sql(f"SELECT * FROM read_parquet('{path}')").to_arrow_table()


def assert_balanced(dataset: Dataset) -> None:
    """read = kept + duplicates + rejected for every source, and the totals match the files."""
    sources = dataset.manifest["sources"]
    for s in sources:
        assert s["read"] == s["kept"] + s["duplicates"] + s["rejected"], s
    rejects = duckdb.sql(f"SELECT count(*) FROM read_parquet('{dataset.rejects_path}')").fetchall()[0][0]
    assert rejects == sum(s["rejected"] for s in sources)
