"""Ingest: adapter → validate → stage → de-duplicate → write the dataset atomically, with full accounting.

For every source file, ``read = kept + duplicates + rejected``. Rows stream through Arrow batches into staging
Parquet files; DuckDB then de-duplicates by ``(platform, post_id)`` (first occurrence wins, earlier datasets
win on ``append``), merges account observations and writes the final dataset into a temporary sibling folder
that replaces the target only when everything succeeded. A failed or interrupted ingest leaves the previous
dataset (or none), never a half-written one.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import __version__, privacy, schema
from .adapters import Adapter, adapter_for, sniff
from .adapters.base import Batch
from .dataset import ACCOUNTS_FILE, MANIFEST, POSTS_DIR, REJECTS_FILE, Dataset
from .errors import InputError, UsageError
from .progress import NullProgress, ProgressSink

#: Author values that mean "nobody in particular": kept as posts, never treated as one person.
ANONYMOUS_AUTHORS = ("[deleted]", "[removed]", "", "null", "None", "deleted", "anonymous")


@dataclass
class SourceTally:
    """Accounting for one source file."""

    path: str
    format: str
    adapter_version: str
    platform: str
    read: int = 0
    candidates: int = 0  # posts + account records that passed validation, before de-duplication
    rejected: int = 0
    duplicates: int = 0
    bytes: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def kept(self) -> int:
        return self.candidates - self.duplicates

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "format": self.format, "adapter_version": self.adapter_version,
            "platform": self.platform, "read": self.read, "kept": self.kept, "duplicates": self.duplicates,
            "rejected": self.rejected, "bytes": self.bytes, "reasons": dict(sorted(self.reasons.items())),
        }


def ingest(
    sources: Sequence[str | Path],
    output: str | Path,
    *,
    format: str | None = None,
    append: bool = False,
    pseudonymise: str | None = None,
    options: Mapping[str, Any] | None = None,
    progress: ProgressSink | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> Dataset:
    """Read ``sources`` into the canonical dataset at ``output`` and return its handle.

    ``format`` forces an adapter (else each source is sniffed); ``append`` adds to an existing dataset;
    ``pseudonymise`` is a key: author ids and names become HMAC pseudonyms; ``options`` go to the adapters'
    ``Options`` (e.g. ``{"map": {...}}`` for generic tables); ``parameters`` are recorded in the manifest
    (synthetic datasets record their planted effects there).
    """
    if not sources:
        raise UsageError("no sources given")
    target = Path(output)
    previous = _previous(target, append, pseudonymise)
    plans = [_plan(Path(s), format, options or {}) for s in sources]
    sink = progress or NullProgress()
    key = pseudonymise.encode("utf-8") if pseudonymise else None

    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        stage = _Stage(tmp / "_staging", key)
        tallies: list[SourceTally] = []
        for path, adapter in plans:
            files = adapter.files(path)
            sink.start(f"{adapter.name}: {path.name}", sum(f.stat().st_size for f in files))
            for batch in adapter.read(path, sink.advance):
                batch.check()
                index = _tally_index(tallies, batch.source, adapter)
                stage.add(batch, tallies[index], index)
            sink.finish()
            sizes = {str(f): f.stat().st_size for f in files}
            for tally in tallies:
                tally.bytes = sizes.get(tally.path, tally.bytes)
        stage.close()
        manifest = _finalise(tmp, stage, tallies, previous, key, parameters)
        _swap(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Dataset(path=target, manifest=manifest)


def _previous(target: Path, append: bool, pseudonymise: str | None) -> Dataset | None:
    if not target.exists():
        return None
    if not append:
        if not (target / MANIFEST).is_file() and any(target.iterdir()):
            raise UsageError(f"{target} exists and is not a permadani dataset; choose another -o folder")
        return None
    previous = Dataset.open(target)
    was = previous.manifest.get("pseudonymised_key")
    now = privacy.key_fingerprint(pseudonymise.encode()) if pseudonymise else None
    if was != now:
        raise UsageError(
            f"{target} was ingested {'with' if was else 'without'} --pseudonymise"
            f"{' (a different key)' if was and now else ''}; append with the same setting"
        )
    return previous


def _plan(path: Path, fmt: str | None, options: Mapping[str, Any]) -> tuple[Path, Adapter]:
    if not path.exists():
        raise InputError("no such file or folder", path=path, hint="Check the path")
    cls = adapter_for(fmt) if fmt else sniff(path)
    return path, cls(cls.options_from(options))


def _tally_index(tallies: list[SourceTally], source: str, adapter: Adapter) -> int:
    """Index of the tally for ``source`` (created on first sight; sources are few)."""
    for index in range(len(tallies) - 1, -1, -1):
        if tallies[index].path == source:
            return index
    tallies.append(SourceTally(path=source, format=adapter.name, adapter_version=adapter.version,
                               platform=adapter.platform))
    return len(tallies) - 1


class _Stage:
    """Staging Parquet writers; adds ``_order`` (global arrival order) and ``_src`` (source index)."""

    def __init__(self, folder: Path, key: bytes | None) -> None:
        folder.mkdir(parents=True)
        self.folder = folder
        self.key = key
        self.address_key: bytes | None = None
        self.order = 0
        self.writers: dict[str, pq.ParquetWriter] = {}

    def _write(self, name: str, table: pa.Table, src: int) -> None:
        if table.num_rows == 0:
            return
        n = table.num_rows
        table = table.append_column("_order", pa.array(range(self.order, self.order + n), pa.int64()))
        table = table.append_column("_src", pa.array([src] * n, pa.int32()))
        self.order += n
        writer = self.writers.get(name)
        if writer is None:
            writer = pq.ParquetWriter(self.folder / f"{name}.parquet", table.schema, compression="zstd")
            self.writers[name] = writer
        writer.write_table(table)

    def add(self, batch: Batch, tally: SourceTally, src: int) -> None:
        posts, invalid = _validate_posts(batch.posts, batch.source)
        rejects = pa.concat_tables([batch.rejects, invalid]) if invalid.num_rows else batch.rejects
        posts, accounts, rejects = self._protect(posts, batch.accounts, rejects)
        accounts = accounts.filter(pc.is_valid(accounts["author_id"]))
        tally.read += batch.read
        tally.rejected += rejects.num_rows
        tally.candidates += posts.num_rows + batch.account_records
        for reason, count in _value_counts(rejects["reason"]).items():
            tally.reasons[reason] = tally.reasons.get(reason, 0) + count
        self._write("posts", posts, src)
        self._write("accounts", accounts, src)
        self._write("rejects", rejects, src)

    def _protect(self, posts: pa.Table, accounts: pa.Table, rejects: pa.Table) -> tuple[pa.Table, ...]:
        """Scrub addresses from text, hash address-shaped ids, pseudonymise authors when a key is set."""
        if self.address_key is None:
            self.address_key = self.key or privacy.address_key()
        akey = self.address_key
        posts = _set(posts, "text", privacy.scrub_text(posts["text"]))
        posts = _set(posts, "author_id", privacy.hash_addresses(_anonymous_to_null(posts["author_id"]), akey))
        accounts = _set(accounts, "author_id",
                        privacy.hash_addresses(_anonymous_to_null(accounts["author_id"]), akey))
        accounts = _set(accounts, "display_name",
                        privacy.scrub_text(privacy.hash_addresses(accounts["display_name"], akey)))
        rejects = _set(rejects, "excerpt", privacy.scrub_text(rejects["excerpt"]))
        if self.key is not None:
            posts = _set(posts, "author_id", privacy.pseudonymise(posts["author_id"], self.key))
            accounts = _set(accounts, "author_id", privacy.pseudonymise(accounts["author_id"], self.key))
            accounts = _set(accounts, "display_name", privacy.pseudonymise(accounts["author_id"], self.key))
        return posts, accounts, rejects

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()

    def path(self, name: str) -> Path | None:
        p = self.folder / f"{name}.parquet"
        return p if p.exists() else None


def _set(table: pa.Table, name: str, values: pa.Array | pa.ChunkedArray) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), table.schema.field(name), values)


def _anonymous_to_null(values: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    anonymous = pc.is_in(values, value_set=pa.array(ANONYMOUS_AUTHORS))
    return pc.if_else(anonymous, pa.scalar(None, pa.string()), values)


def _value_counts(values: pa.ChunkedArray) -> dict[str, int]:
    if len(values) == 0:
        return {}
    counts = pc.value_counts(values)
    return {str(v["values"]): int(v["counts"]) for v in counts.to_pylist()}


def _validate_posts(posts: pa.Table, source: str) -> tuple[pa.Table, pa.Table]:
    """Split posts into valid ones and rejects (empty id → missing-id, no timestamp → bad-timestamp)."""
    if posts.num_rows == 0:
        return posts, schema.empty(schema.REJECTS)
    missing_id = pc.or_kleene(pc.is_null(posts["post_id"]), pc.equal(posts["post_id"], ""))
    missing_id = pc.fill_null(missing_id, True)
    missing_time = pc.is_null(posts["created_at"])
    bad = pc.or_(missing_id, missing_time)
    if not pc.any(bad).as_py():
        return posts, schema.empty(schema.REJECTS)
    bad_rows = posts.filter(bad)
    reasons = pc.if_else(pc.filter(missing_id, bad), "missing-id", "bad-timestamp")
    locations = pc.binary_join_element_wise("record ", pc.cast(bad_rows["source_line"], pa.string()), "")
    rejects = pa.table({
        "source": bad_rows["source_file"],
        "format": pa.nulls(bad_rows.num_rows, pa.string()),
        "location": pc.fill_null(locations, "record ?"),
        "reason": reasons,
        "detail": pa.nulls(bad_rows.num_rows, pa.string()),
        "excerpt": pc.utf8_slice_codeunits(pc.fill_null(bad_rows["text"], ""), 0, schema.EXCERPT_CHARS),
    }, schema=schema.REJECTS)
    return posts.filter(pc.invert(bad)), rejects


def _finalise(tmp: Path, stage: _Stage, tallies: list[SourceTally], previous: Dataset | None,
              key: bytes | None, parameters: Mapping[str, Any] | None) -> dict[str, Any]:
    """De-duplicate and write posts, accounts, rejects and the manifest into ``tmp``."""
    posts_dir = tmp / POSTS_DIR
    posts_dir.mkdir()
    con = duckdb.connect(config={"preserve_insertion_order": False,
                                 "temp_directory": str(tmp / "_spill")})
    try:
        part = _link_previous_posts(previous, posts_dir)
        staged_posts = stage.path("posts")
        if staged_posts is not None:
            _write_new_posts(con, staged_posts, previous, posts_dir / f"part-{part:05d}.parquet", tallies)
        if not any(posts_dir.iterdir()):
            pq.write_table(schema.empty(schema.POSTS), posts_dir / "part-00000.parquet")
        _write_accounts(con, stage, previous, tmp, tallies)
        _write_rejects(con, stage, previous, tmp)
        manifest = _manifest(con, tmp, tallies, previous, key, parameters)
    finally:
        con.close()
    shutil.rmtree(tmp / "_staging", ignore_errors=True)
    shutil.rmtree(tmp / "_spill", ignore_errors=True)
    return manifest


def _link_previous_posts(previous: Dataset | None, posts_dir: Path) -> int:
    """Hard-link (or copy) an existing dataset's post files into the new folder; return the next part number."""
    if previous is None:
        return 0
    files = previous.posts_files
    for i, src in enumerate(files):
        dst = posts_dir / f"part-{i:05d}.parquet"
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
    return len(files)


def _sql_path(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _write_new_posts(con: duckdb.DuckDBPyConnection, staged: Path, previous: Dataset | None, out: Path,
                     tallies: list[SourceTally]) -> None:
    cols = ", ".join(schema.POSTS.names)
    seen = "FALSE"
    if previous is not None and previous.posts_files:
        con.execute(f"CREATE TEMP TABLE old_keys AS SELECT DISTINCT platform, post_id "
                    f"FROM read_parquet({_sql_path(previous.posts_glob)})")
        seen = ("EXISTS (SELECT 1 FROM old_keys o WHERE o.platform = s.platform AND o.post_id = s.post_id)")
    con.execute(f"""
        CREATE TEMP TABLE ranked AS
        SELECT s.*, row_number() OVER (PARTITION BY platform, post_id ORDER BY _order) AS _rn,
               {seen} AS _seen
        FROM read_parquet({_sql_path(staged)}) s
    """)
    for src, dups in con.execute(
        "SELECT _src, count(*) FROM ranked WHERE _rn > 1 OR _seen GROUP BY _src"
    ).fetchall():
        tallies[src].duplicates += dups
    con.execute(f"""
        COPY (SELECT {cols} FROM ranked WHERE _rn = 1 AND NOT _seen
              ORDER BY platform, community, thread_id, created_at, post_id)
        TO {_sql_path(out)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)
    """)
    con.execute("DROP TABLE ranked")
    if not out.exists():
        pq.write_table(schema.empty(schema.POSTS), out)


def _write_accounts(con: duckdb.DuckDBPyConnection, stage: _Stage, previous: Dataset | None, tmp: Path,
                    tallies: list[SourceTally]) -> None:
    acc_cols = [f for f in schema.ACCOUNTS.names if f not in ("author_id", "platform")]
    parts = []
    if previous is not None and previous.accounts_path.exists():
        parts.append(f"SELECT {', '.join(schema.ACCOUNTS.names)}, -1::BIGINT AS _order, -1 AS _src "
                     f"FROM read_parquet({_sql_path(previous.accounts_path)})")
    staged_accounts = stage.path("accounts")
    if staged_accounts is not None:
        parts.append(f"SELECT {', '.join(schema.ACCOUNTS.names)}, _order, _src "
                     f"FROM read_parquet({_sql_path(staged_accounts)})")
    nulls = ", ".join(f"NULL AS {c}" for c in acc_cols)
    parts.append(f"SELECT DISTINCT author_id, platform, {nulls}, 9223372036854775807::BIGINT AS _order, -1 AS _src "
                 f"FROM read_parquet({_sql_path(tmp / POSTS_DIR / '*.parquet')}) WHERE author_id IS NOT NULL")
    con.execute("CREATE TEMP TABLE obs AS " + " UNION ALL ".join(parts))
    # Account *records* (rows of a users file) seen before in this run or in the previous dataset: duplicates.
    for src, dups in con.execute("""
        SELECT _src, count(*) FROM (
            SELECT _src, row_number() OVER (PARTITION BY platform, author_id ORDER BY _order) AS rn
            FROM obs WHERE source_file IS NOT NULL)
        WHERE rn > 1 AND _src >= 0 GROUP BY _src
    """).fetchall():
        tallies[src].duplicates += dups
    con.execute(f"""
        COPY (SELECT author_id, platform,
                     arg_max(display_name, _order) FILTER (WHERE display_name IS NOT NULL) AS display_name,
                     max(followers) AS followers,
                     min(account_created_at) AS account_created_at,
                     max(reputation) AS reputation,
                     bool_or(is_bot) AS is_bot,
                     arg_min(source_file, _order) FILTER (WHERE source_file IS NOT NULL) AS source_file
              FROM obs GROUP BY author_id, platform ORDER BY platform, author_id)
        TO {_sql_path(tmp / ACCOUNTS_FILE)} (FORMAT parquet, COMPRESSION zstd)
    """)
    con.execute("DROP TABLE obs")
    _recast(tmp / ACCOUNTS_FILE, schema.ACCOUNTS)


def _write_rejects(con: duckdb.DuckDBPyConnection, stage: _Stage, previous: Dataset | None, tmp: Path) -> None:
    cols = ", ".join(schema.REJECTS.names)
    parts = []
    if previous is not None and previous.rejects_path.exists():
        parts.append(f"SELECT {cols}, -1::BIGINT AS _order FROM read_parquet({_sql_path(previous.rejects_path)})")
    staged = stage.path("rejects")
    if staged is not None:
        parts.append(f"SELECT {cols}, _order FROM read_parquet({_sql_path(staged)})")
    if not parts:
        pq.write_table(schema.empty(schema.REJECTS), tmp / REJECTS_FILE)
        return
    con.execute(f"COPY (SELECT {cols} FROM ({' UNION ALL '.join(parts)}) ORDER BY _order) "
                f"TO {_sql_path(tmp / REJECTS_FILE)} (FORMAT parquet, COMPRESSION zstd)")
    _recast(tmp / REJECTS_FILE, schema.REJECTS)


def _recast(path: Path, target: pa.Schema) -> None:
    """Rewrite a small DuckDB-written file with the canonical Arrow schema (field docs, exact types)."""
    table = pq.read_table(path)
    pq.write_table(schema.conform(table, target), path, compression="zstd")


def _manifest(con: duckdb.DuckDBPyConnection, tmp: Path, tallies: list[SourceTally], previous: Dataset | None,
              key: bytes | None, parameters: Mapping[str, Any] | None) -> dict[str, Any]:
    posts = _sql_path(tmp / POSTS_DIR / "*.parquet")
    n_posts, n_threads, n_authors, n_communities, first, last = con.execute(f"""
        SELECT count(*), count(DISTINCT (platform, thread_id)),
               count(DISTINCT (platform, author_id)) FILTER (WHERE author_id IS NOT NULL),
               count(DISTINCT (platform, community)), min(created_at), max(created_at)
        FROM read_parquet({posts})
    """).fetchone()  # type: ignore[misc]
    platforms = dict(con.execute(
        f"SELECT platform, count(*) FROM read_parquet({posts}) GROUP BY platform ORDER BY platform"
    ).fetchall())
    n_accounts = _count(con, tmp / ACCOUNTS_FILE)
    n_rejects = _count(con, tmp / REJECTS_FILE)
    earlier = list(previous.manifest.get("sources", [])) if previous is not None else []
    params = dict(previous.parameters) if previous is not None else {}
    params.update(parameters or {})
    manifest: dict[str, Any] = {
        "schema_version": schema.SCHEMA_VERSION,
        "permadani_version": __version__,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sources": earlier + [t.as_dict() for t in tallies],
        "counts": {"posts": n_posts, "accounts": n_accounts, "threads": n_threads, "authors": n_authors,
                   "communities": n_communities, "rejects": n_rejects},
        "platforms": platforms,
        "first_post_at": _iso(first),
        "last_post_at": _iso(last),
        "pseudonymised": key is not None,
        "pseudonymised_key": privacy.key_fingerprint(key) if key is not None else None,
        "parameters": params,
    }
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def _count(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    row = con.execute(f"SELECT count(*) FROM read_parquet({_sql_path(path)})").fetchone()
    return int(row[0]) if row else 0


def _iso(value: object) -> str | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return None


def _swap(tmp: Path, target: Path) -> None:
    """Put ``tmp`` in place of ``target``: two renames, so readers see the old dataset, none, or the new."""
    old: Path | None = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        target.rename(old)
    try:
        tmp.rename(target)
    except OSError:
        if old is not None:
            old.rename(target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


