"""Ingest: adapter → validate → stage → de-duplicate → write the dataset atomically, with full accounting.

For every source file, ``read = kept + duplicates + rejected``. Rows stream through Arrow batches; posts go a row
group at a time into *parts* of about ``PART_ROWS`` rows (or ``PART_BYTES``), written in arrival order by a
background thread straight into the final ``posts/part-*.parquet`` files, with a small key file per part. DuckDB
then finds duplicates on the keys only (``(platform, post_id)``: first occurrence wins, earlier datasets win on
``append``) and rewrites just the parts that hold any, merges account observations and writes everything into a
temporary sibling folder that replaces the target only when everything succeeded. A failed or interrupted ingest
leaves the previous dataset (or none), never a half-written one. Memory is bounded by a few row groups whatever the
input size; DuckDB's work is bounded by ``memory_limit`` and spills to ``temp_dir``.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import __version__, privacy, schema
from .adapters import Adapter, Probe, adapter_for, registry, sniff
from .dataset import ACCOUNTS_FILE, MANIFEST, POSTS_DIR, REJECTS_FILE, Dataset
from .errors import InputError, UsageError
from .prefetch import prefetched
from .progress import NullProgress, ProgressSink
from .staging import FINAL_STEPS, SourceTally, Stage, write_posts

#: DuckDB's memory cap for the de-duplication and account merge after reading, when none is given: it spills to
#: disk beyond it, so an ingest's peak memory does not grow with the dump (DuckDB's own default is 80 % of RAM).
MERGE_MEMORY_LIMIT = "1GB"


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
    memory_limit: str | None = None,
    temp_dir: str | Path | None = None,
) -> Dataset:
    """Read ``sources`` into the canonical dataset at ``output`` and return its handle.

    ``format`` forces an adapter (else each source is sniffed); ``append`` adds to an existing dataset;
    ``pseudonymise`` is a key: author ids and names become HMAC pseudonyms; ``options`` go to the adapters'
    ``Options`` (e.g. ``{"map": {...}}`` for generic tables); ``parameters`` are recorded in the manifest
    (synthetic datasets record their planted effects there). ``memory_limit`` (DuckDB syntax, e.g. ``"4GB"``;
    default ``MERGE_MEMORY_LIMIT``) caps the de-duplication and account merge, which spill to ``temp_dir``
    (default: inside the new dataset's temporary folder) beyond it.
    """
    if not sources:
        raise UsageError("no sources given")
    target = Path(output)
    previous = _previous(target, append, pseudonymise)
    plans = [plan for s in sources for plan in _plan(Path(s), format, options or {})]
    sink = progress or NullProgress()
    key = pseudonymise.encode("utf-8") if pseudonymise else None

    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    stage: Stage | None = None
    try:
        (tmp / POSTS_DIR).mkdir()
        stage = Stage(tmp / "_staging", key, tmp / POSTS_DIR, _previous_parts(previous))
        tallies: list[SourceTally] = []
        for path, adapter in plans:
            if adapter is None:  # a file in an expanded folder that no adapter recognises: listed, nothing read
                tallies.append(SourceTally(path=str(path), format="skipped", adapter_version="", platform="",
                                           bytes=path.stat().st_size))
                continue
            files = adapter.files(path)
            sink.start(f"{adapter.name}: {path.name}", sum(f.stat().st_size for f in files))
            on_rows = getattr(sink, "rows", None)  # optional hook: records read so far, for the progress line
            for batch in prefetched(adapter.read(path, sink.advance)):
                batch.check()
                index = _tally_index(tallies, batch.source, adapter)
                stage.add(batch, tallies[index], index)
                if on_rows is not None:
                    on_rows(batch.read)
            sink.finish()
            _refuse_wrong_format(tallies, path, files, adapter)
            if not any(t.path == str(path) or t.path in {str(f) for f in files} for t in tallies):
                _tally_index(tallies, str(path), adapter)  # a source with no records still gets its line (read 0)
            sizes = {str(f): f.stat().st_size for f in files}
            sizes[str(path)] = sum(sizes.values())  # a folder source counts all the files it read
            for tally in tallies:
                tally.bytes = sizes.get(tally.path, tally.bytes)
        sink.start("writing the dataset", len(FINAL_STEPS), "steps")
        stage.close()
        sink.advance(1)
        manifest = _finalise(tmp, stage, tallies, previous, key, parameters, memory_limit, temp_dir, sink)
        sink.finish()
        _swap(tmp, target)
    except BaseException:
        if stage is not None:
            stage.abort()
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


def _plan(path: Path, fmt: str | None, options: Mapping[str, Any]) -> list[tuple[Path, Adapter | None]]:
    """The adapter for ``path``; a folder no adapter reads as a whole (e.g. a folder of dumps) is read file by file.

    In an expanded folder, files no adapter recognises (README, LICENSE, ...) are listed as skipped sources with
    nothing read (adapter None), so the manifest shows them; hidden files are ignored.
    """
    if not path.exists():
        raise InputError("no such file or folder", path=path, hint="Check the path")
    forced = adapter_for(fmt) if fmt else None
    if not path.is_dir() or (forced is not None and forced.sniff(Probe.of(path))):
        cls = forced or sniff(path)
        return [(path, cls(cls.options_from(options)))]
    if forced is None:
        try:
            cls = sniff(path)
            return [(path, cls(cls.options_from(options)))]
        except InputError:
            pass
    plans: list[tuple[Path, Adapter | None]] = []
    for file in sorted(f for f in path.rglob("*") if f.is_file()
                       and not any(part.startswith(".") for part in f.relative_to(path).parts)):
        probe = Probe.of(file)
        found = (forced if forced is not None and forced.sniff(probe)
                 else None if forced is not None else next((c for c in registry().values() if c.sniff(probe)), None))
        plans.append((file, found(found.options_from(options)) if found is not None else None))
    if not any(adapter for _, adapter in plans):
        if forced is not None:  # the user insists: let the forced adapter read the folder as it understands it
            return [(path, forced(forced.options_from(options)))]
        raise InputError("no file in this folder is in a known format", path=path,
                         hint="Force one with --format, or name the files; see 'permadani formats'")
    return plans


#: Reject reasons that mean "this is not the format the adapter reads" when every record has one of them.
_PARSE_REASONS = frozenset({"malformed-json", "malformed-xml", "malformed-csv", "invalid-utf8", "not-a-record"})
_WRONG_FORMAT_MIN_RECORDS = 20


def _refuse_wrong_format(tallies: list[SourceTally], path: Path, files: list[Path], adapter: Adapter) -> None:
    """Raise InputError when a source kept nothing and ≥ 90 % of its ≥ 20 records failed to parse: a wrong format."""
    names = {str(path), *(str(f) for f in files)}
    for tally in tallies:
        unparsed = sum(n for reason, n in tally.reasons.items() if reason in _PARSE_REASONS)
        if (tally.path in names and tally.read >= _WRONG_FORMAT_MIN_RECORDS and tally.candidates == 0
                and unparsed >= 0.9 * tally.read):
            reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(tally.reasons.items()))
            raise InputError(
                f"none of the {tally.read:,} records could be read as {adapter.name} ({reasons})",
                path=tally.path, hint="Is this the right format? Let permadani sniff it (drop --format) or see "
                "'permadani formats'",
            )


def _tally_index(tallies: list[SourceTally], source: str, adapter: Adapter) -> int:
    """Index of the tally for ``source`` (created on first sight; sources are few)."""
    for index in range(len(tallies) - 1, -1, -1):
        if tallies[index].path == source:
            return index
    tallies.append(SourceTally(path=source, format=adapter.name, adapter_version=adapter.version,
                               platform=adapter.platform))
    return len(tallies) - 1


def _finalise(tmp: Path, stage: Stage, tallies: list[SourceTally], previous: Dataset | None,
              key: bytes | None, parameters: Mapping[str, Any] | None, memory_limit: str | None = None,
              temp_dir: str | Path | None = None, sink: ProgressSink | None = None) -> dict[str, Any]:
    """De-duplicate the posts parts and write accounts, rejects and the manifest into ``tmp``."""
    posts_dir = tmp / POSTS_DIR
    spill = Path(temp_dir) / f"permadani-spill-{uuid.uuid4().hex[:8]}" if temp_dir else tmp / "_spill"
    config: dict[str, Any] = {"preserve_insertion_order": False, "temp_directory": str(spill),
                              "memory_limit": memory_limit or MERGE_MEMORY_LIMIT}
    con = duckdb.connect(config=config)
    try:
        con.execute("SET enable_progress_bar = false")  # DuckDB would draw it on stdout, which carries data only
        _link_previous_posts(previous, posts_dir)
        keys = stage.parts.keys_glob()
        if keys is not None:
            _drop_duplicates(con, keys, previous, posts_dir, tallies)
        if not any(posts_dir.iterdir()):
            pq.write_table(schema.empty(schema.POSTS), posts_dir / "part-00000.parquet")
        step = sink.advance if sink is not None else (lambda n: None)
        step(1)
        n_authors = _write_accounts(con, stage, previous, tmp, tallies)
        step(1)
        _write_rejects(con, stage, previous, tmp)
        manifest = _manifest(con, tmp, tallies, previous, key, parameters, n_authors)
        step(1)
    finally:
        con.close()
    shutil.rmtree(tmp / "_staging", ignore_errors=True)
    shutil.rmtree(spill, ignore_errors=True)
    return manifest


def _previous_parts(previous: Dataset | None) -> int:
    """Number of post files of the dataset being appended to (new parts are numbered after them)."""
    return len(previous.posts_files) if previous is not None else 0


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


def _drop_duplicates(con: duckdb.DuckDBPyConnection, keys_glob: str, previous: Dataset | None, posts_dir: Path,
                     tallies: list[SourceTally]) -> None:
    """Find duplicate posts on the key files only, count them per source and rewrite the parts that hold any.

    A row is a duplicate when an earlier row (by arrival ``_order``) has the same ``(platform, post_id)``, or
    when the dataset being appended to already has that key.
    """
    keys = f"read_parquet({_sql_path(keys_glob)})"
    # Candidates first, by a 64-bit hash of the key (an integer GROUP BY: ~40 % faster than on the strings at 100M
    # rows); the exact (platform, post_id) partition below then ignores hash collisions.
    drops = f"""
        SELECT _part, _row, _src FROM (
            SELECT k._part, k._row, k._src,
                   row_number() OVER (PARTITION BY k.platform, k.post_id ORDER BY k._order) AS _rn
            FROM {keys} k
            WHERE hash(k.platform, k.post_id) IN (
                SELECT h FROM (SELECT hash(platform, post_id) AS h FROM {keys}) GROUP BY h HAVING count(*) > 1))
        WHERE _rn > 1"""
    if previous is not None and previous.posts_files:
        old = f"(SELECT DISTINCT platform, post_id FROM read_parquet({_sql_path(previous.posts_glob)}))"
        drops += f" UNION SELECT _part, _row, _src FROM {keys} SEMI JOIN {old} o USING (platform, post_id)"
    con.execute(f"CREATE TEMP TABLE drops AS {drops}")
    for src, dups in con.execute("SELECT _src, count(*) FROM drops GROUP BY _src").fetchall():
        tallies[src].duplicates += dups
    for (part,) in con.execute("SELECT DISTINCT _part FROM drops ORDER BY _part").fetchall():
        rows = con.execute("SELECT _row FROM drops WHERE _part = ?", [part]).fetchnumpy()["_row"]
        path = posts_dir / f"part-{part:05d}.parquet"
        table = pq.read_table(path, schema=schema.POSTS)
        keep = np.ones(table.num_rows, dtype=bool)
        keep[np.asarray(rows, dtype=np.int64)] = False
        if keep.any():
            write_posts(table.filter(pa.array(keep)), path)
        else:
            path.unlink()
    con.execute("DROP TABLE drops")


def _write_accounts(con: duckdb.DuckDBPyConnection, stage: Stage, previous: Dataset | None, tmp: Path,
                    tallies: list[SourceTally]) -> int:
    """Merge account observations into ``accounts.parquet``; return the number of accounts with a post.

    The observations (the previous dataset's accounts, then this run's, by ``_order``) are grouped first and the
    distinct authors of the posts joined to them after: an author only in the posts gets a row of nulls. Grouping
    both in one ``UNION ALL`` took 33.4 – 36.7 s (and once ran out of its 1 GB) against 22.8 – 23.7 s for this at
    100M comments (43M observations, 6.3M authors; bench/README.md, round 12).
    """
    parts = []
    if previous is not None and previous.accounts_path.exists():
        parts.append(f"SELECT {', '.join(schema.ACCOUNTS.names)}, -1::BIGINT AS _order, -1 AS _src "
                     f"FROM read_parquet({_sql_path(previous.accounts_path)})")
    staged_accounts = stage.path("accounts")
    if staged_accounts is not None:
        parts.append(f"SELECT {', '.join(schema.ACCOUNTS.names)}, _order, _src "
                     f"FROM read_parquet({_sql_path(staged_accounts)})")
    posted = (f"SELECT DISTINCT author_id, platform FROM read_parquet({_sql_path(tmp / POSTS_DIR / '*.parquet')}) "
              "WHERE author_id IS NOT NULL")
    acc_cols = [f for f in schema.ACCOUNTS.names if f not in ("author_id", "platform")]
    if parts:
        con.execute("CREATE TEMP VIEW obs AS " + " UNION ALL ".join(parts))
        # Account *records* (rows of a users file) seen before in this run or in the previous dataset: duplicates.
        for src, dups in con.execute("""
            SELECT _src, count(*) FROM (
                SELECT _src, row_number() OVER (PARTITION BY platform, author_id ORDER BY _order) AS rn
                FROM obs WHERE source_file IS NOT NULL)
            WHERE rn > 1 AND _src >= 0 GROUP BY _src
        """).fetchall():
            tallies[src].duplicates += dups
        con.execute(f"""
            CREATE TEMP TABLE merged AS
            WITH observed AS (
                SELECT author_id, platform,
                       arg_max(display_name, _order) FILTER (WHERE display_name IS NOT NULL) AS display_name,
                       max(followers) AS followers,
                       min(account_created_at) AS account_created_at,
                       max(reputation) AS reputation,
                       bool_or(is_bot) AS is_bot,
                       arg_min(source_file, _order) FILTER (WHERE source_file IS NOT NULL) AS source_file
                FROM obs GROUP BY author_id, platform),
            posted AS ({posted})
            SELECT author_id, platform, {', '.join(acc_cols)}, p.author_id IS NOT NULL AS _posted
            FROM observed o FULL OUTER JOIN posted p USING (author_id, platform)
        """)
        con.execute("DROP VIEW obs")
    else:
        nulls = ", ".join(f"NULL AS {c}" for c in acc_cols)  # typed by _recast
        con.execute(f"CREATE TEMP TABLE merged AS SELECT author_id, platform, {nulls}, true AS _posted "
                    f"FROM ({posted})")
    con.execute(f"COPY (SELECT * EXCLUDE (_posted) FROM merged ORDER BY platform, author_id) "
                f"TO {_sql_path(tmp / ACCOUNTS_FILE)} (FORMAT parquet, COMPRESSION zstd)")
    row = con.execute("SELECT count(*) FILTER (WHERE _posted) FROM merged").fetchone()
    con.execute("DROP TABLE merged")
    _recast(tmp / ACCOUNTS_FILE, schema.ACCOUNTS)
    return int(row[0]) if row else 0


def _write_rejects(con: duckdb.DuckDBPyConnection, stage: Stage, previous: Dataset | None, tmp: Path) -> None:
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
              key: bytes | None, parameters: Mapping[str, Any] | None, n_authors: int) -> dict[str, Any]:
    posts = _sql_path(tmp / POSTS_DIR / "*.parquet")
    platforms = dict(con.execute(
        f"SELECT platform, count(*) FROM read_parquet({posts}) GROUP BY platform ORDER BY platform"
    ).fetchall())
    n_posts, n_threads, n_communities, first, last = con.execute(f"""
        SELECT count(*), {_distinct_pairs("thread_id", len(platforms))}, {_distinct_pairs("community", len(platforms))},
               min(created_at), max(created_at)
        FROM read_parquet({posts})
    """).fetchone()  # type: ignore[misc]
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


def _distinct_pairs(column: str, n_platforms: int) -> str:
    """SQL for the number of distinct ``(platform, column)`` pairs of the posts (a null ``column`` counts once per
    platform). With one platform, the distinct values of ``column`` alone, plus one when it has nulls: the same
    number without a struct per row (manifest counts at 100M comments 6.8 – 6.9 → 5.7 – 5.8 s; bench/README.md,
    round 12)."""
    if n_platforms > 1:
        return f"count(DISTINCT (platform, {column}))"
    return f"count(DISTINCT {column}) + (count(*) > count({column}))::BIGINT"


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


