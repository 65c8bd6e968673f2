"""Execution engines: one Ibis expression, run on DuckDB (embedded default) or PySpark (local mode or a cluster).

Analyses build Ibis expressions and never execute them; ``Engine.execute`` is the only place where an
expression runs. It returns a ``pyarrow.Table`` whose schema is the expression's schema, with every timestamp
in UTC, so results from both engines compare equal column for column.

Engine differences the analyses must respect (and do): NULL ordering differs (never order by a nullable key;
coalesce first), ``rank``/``row_number`` are 0-based in Ibis on both, ties need an explicit tie-breaker, PySpark
returns naive timestamps (we mark them UTC: the Spark session runs with ``spark.sql.session.timeZone=UTC``).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from .dataset import Dataset
from .errors import EngineError, MissingDependencyError, UsageError

ENGINES = ("duckdb", "pyspark")

_counter = itertools.count()
_RUN = uuid.uuid4().hex[:8]


@dataclass
class Engine:
    """An Ibis backend plus what permadani needs from it.

    ``capabilities``: ``out_of_core`` (spills to disk), ``distributed`` (runs on a cluster), ``exact_quantiles``
    (both engines compute our nearest-rank quantiles exactly; approximate ones are never used).
    """

    name: str
    backend: Any
    capabilities: dict[str, bool] = field(default_factory=dict)
    _owned_session: Any = None
    _cached: list[ir.Table] = field(default_factory=list)
    _preserve_order: bool = False

    def posts(self, dataset: Dataset | str | Path) -> ir.Table:
        """The canonical posts of ``dataset`` as an Ibis table (lazy, column-pruned by the engine)."""
        ds = _dataset(dataset)
        # Spark reads a folder of parts natively (a glob trips its streaming-metadata probe); DuckDB wants a glob.
        return self._read_parquet(ds.posts_glob if self.name == "duckdb" else str(ds.path / "posts"))

    def accounts(self, dataset: Dataset | str | Path) -> ir.Table:
        """The canonical accounts of ``dataset`` as an Ibis table."""
        ds = _dataset(dataset)
        return self._read_parquet(str(ds.accounts_path))

    def _read_parquet(self, path: str) -> ir.Table:
        name = f"permadani_src_{next(_counter)}"
        try:
            return self.backend.read_parquet(path, table_name=name)
        except Exception as exc:  # engine-specific errors
            raise EngineError(f"{self.name} cannot read {path}: {exc}") from exc

    def register(self, name: str, table: pa.Table) -> ir.Table:
        """Make a small Arrow table (computed in Python, e.g. PageRank scores) usable in expressions."""
        unique = f"{name}_{_RUN}_{next(_counter)}"
        try:
            if self.name == "duckdb":
                return self.backend.create_table(unique, table, temp=True, overwrite=True)
            # a session-scoped temporary view: nothing is written to the Spark warehouse (whose leftovers from an
            # earlier process would collide with the name)
            self.backend._session.createDataFrame(table.to_pandas()).createOrReplaceTempView(unique)
            return self.backend.table(unique)
        except Exception as exc:
            raise EngineError(f"{self.name} cannot register table {name!r}: {exc}") from exc

    def materialize(self, expr: ir.Table) -> ir.Table:
        """Compute ``expr`` once inside the engine (a temp table / cached view) so later expressions reuse it."""
        try:
            cached = expr.cache()
        except Exception as exc:
            raise EngineError(f"{self.name} cannot cache an intermediate result: {exc}") from exc
        self._cached.append(cached)
        return cached

    def release(self, table: ir.Table) -> None:
        """Drop a table ``materialize`` made (its memory and spill files) once nothing will read it again."""
        for i, cached in enumerate(self._cached):
            if cached is table:
                del self._cached[i]
                try:
                    table.release()
                except Exception as exc:
                    raise EngineError(f"{self.name} cannot release an intermediate result: {exc}") from exc
                return

    def execute(self, expr: ir.Table) -> pa.Table:
        """Run ``expr`` and return Arrow with the expression's schema (timestamps UTC). The only executor."""
        try:
            result = self.backend.to_pyarrow(expr)
        except Exception as exc:
            raise EngineError(f"{self.name} failed to run a query: {exc}") from exc
        return _normalise(result, expr.schema().to_pyarrow())

    def write_parquet(self, expr: ir.Table, path: str | Path) -> None:
        """Write ``expr`` to one Parquet file at ``path``, rows in the expression's order.

        DuckDB streams it (``COPY … TO``, spilling beyond its memory limit; insertion order preserved for this
        statement so that an ``order_by`` holds in the file); other engines execute it to Arrow first.
        """
        try:
            if self.name == "duckdb":
                self.backend.raw_sql("SET preserve_insertion_order = true")
                try:
                    self.backend.to_parquet(expr, str(path), compression="zstd")
                finally:
                    self.backend.raw_sql(f"SET preserve_insertion_order = {str(self._preserve_order).lower()}")
                return
        except Exception as exc:
            raise EngineError(f"{self.name} cannot write {path}: {exc}") from exc
        import pyarrow.parquet as pq

        pq.write_table(self.execute(expr), str(path), compression="zstd")

    def close(self) -> None:
        """Release cached tables and the backend (stops a Spark session only when this engine started it)."""
        while self._cached:
            with contextlib.suppress(Exception):  # best effort: the backend may already be gone
                self._cached.pop().release()
        if self.name == "duckdb":
            self.backend.disconnect()
        elif self._owned_session is not None:
            self._owned_session.stop()
            self._owned_session = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(name: str = "duckdb", **settings: Any) -> Engine:
    """Open an engine.

    ``duckdb`` settings: ``database`` (default in memory), ``threads``, ``memory_limit`` (e.g. ``"8GB"``;
    default half the RAM, at most 4 GB: DuckDB spills joins, aggregates, sorts and cached tables to disk beyond it),
    ``temp_directory`` (where it spills; default a ``.tmp`` folder next to the database, i.e. the working
    directory for in-memory databases),
    ``preserve_insertion_order`` (default False: results are always ordered explicitly, and not preserving it
    lets DuckDB stream and spill more).
    ``pyspark`` settings: ``master`` (default ``$PERMADANI_SPARK_MASTER``, else ``local[2]``; e.g.
    ``spark://host:7077``, ``yarn``), ``session`` an existing SparkSession, ``config`` extra Spark settings.
    Spark always runs with ``spark.sql.session.timeZone=UTC``.
    """
    if isinstance(name, Engine):
        return name
    if name == "duckdb":
        return _duckdb(**settings)
    if name == "pyspark":
        return _pyspark(**settings)
    raise UsageError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")


#: Upper bound of the default DuckDB cap: measured on the 100M-comment audit, a 4 GB cap (spilling the rest) kept
#: the whole process under 8 GB and was no slower than 5 GB (bench/README.md, round 3).
DEFAULT_MEMORY_CAP = 4 * 2**30


def default_memory_limit() -> str:
    """Half of this machine's RAM, at most ``DEFAULT_MEMORY_CAP`` (DuckDB's own default is 80 %, which leaves too
    little for the Arrow results, the rich-club worker and the rest of the process)."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        total = 2 * DEFAULT_MEMORY_CAP
    return f"{max(1, min(total // 2, DEFAULT_MEMORY_CAP) // 2**20)}MB"


#: SQL functions the analyses call by their Spark names that DuckDB lacks (``analyses.timekeys``): defined on every
#: DuckDB connection as temporary macros (inlined by the planner, so they cost nothing).
DUCKDB_MACROS = {"timestamp_micros(micros)": "make_timestamp(micros)"}


def define_duckdb_macros(backend: Any) -> None:
    """Define ``DUCKDB_MACROS`` on an Ibis DuckDB ``backend`` (done by ``connect``; for hand-made backends)."""
    for signature, body in DUCKDB_MACROS.items():
        backend.raw_sql(f"CREATE OR REPLACE TEMP MACRO {signature} AS {body}")


def _duckdb(database: str = ":memory:", threads: int | None = None, memory_limit: str | None = None,
            temp_directory: str | Path | None = None, preserve_insertion_order: bool = False) -> Engine:
    config: dict[str, Any] = {"memory_limit": str(memory_limit or default_memory_limit())}
    if threads:
        config["threads"] = int(threads)
    if temp_directory:
        Path(temp_directory).mkdir(parents=True, exist_ok=True)
        config["temp_directory"] = str(temp_directory)
    try:
        backend = ibis.duckdb.connect(database, **config)
    except Exception as exc:  # bad memory limit, unwritable temp directory, ...
        raise UsageError(f"cannot start DuckDB with {config}: {exc}") from exc
    backend.raw_sql("SET TimeZone = 'UTC'")
    define_duckdb_macros(backend)
    backend.raw_sql("SET enable_progress_bar = false")  # DuckDB draws it on stdout, which carries data only
    backend.raw_sql(f"SET preserve_insertion_order = {'true' if preserve_insertion_order else 'false'}")
    return Engine("duckdb", backend, {"out_of_core": True, "distributed": False, "exact_quantiles": True},
                  _preserve_order=preserve_insertion_order)


def _pyspark(master: str | None = None, session: Any = None, config: dict[str, str] | None = None,
             app_name: str = "permadani") -> Engine:
    master = master or os.environ.get("PERMADANI_SPARK_MASTER") or "local[2]"
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise MissingDependencyError(
            "the pyspark engine needs PySpark and Java: pip install 'permadani[spark]'") from exc
    owned = None
    if session is None:
        builder = (SparkSession.builder.master(master).appName(app_name)
                   .config("spark.sql.session.timeZone", "UTC")
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.shuffle.partitions", "2")
                   .config("spark.default.parallelism", "2"))
        for key, value in (config or {}).items():
            builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
        except Exception as exc:
            raise EngineError(f"cannot start Spark (master {master!r}): {exc}. Is Java 17 installed?") from exc
        owned = session
    if session.conf.get("spark.sql.session.timeZone") != "UTC":
        session.conf.set("spark.sql.session.timeZone", "UTC")
    backend = ibis.pyspark.connect(session)
    return Engine("pyspark", backend, {"out_of_core": True, "distributed": True, "exact_quantiles": True},
                  _owned_session=owned)


def _dataset(dataset: Dataset | str | Path) -> Dataset:
    return dataset if isinstance(dataset, Dataset) else Dataset.open(dataset)


def _normalise(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Cast ``table`` to ``schema``; naive timestamps (PySpark) are UTC by session setting."""
    columns = []
    for target in schema:
        col = table.column(target.name)
        if pa.types.is_timestamp(target.type):
            unit = target.type.unit
            target = pa.field(target.name, pa.timestamp(unit, tz="UTC"), target.nullable)
            if col.type.tz is None:
                col = col.cast(pa.timestamp(col.type.unit)).cast(pa.timestamp(unit, tz="UTC"))
        columns.append(col.cast(target.type) if not col.type.equals(target.type) else col)
    fields = [pa.field(f.name, c.type, True) for f, c in zip(schema, columns, strict=True)]
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))
