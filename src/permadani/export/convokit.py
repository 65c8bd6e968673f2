"""Write a canonical dataset out as a ConvoKit corpus folder (the layout ``convokit.Corpus(filename=...)`` loads).

Files (ConvoKit's on-disk format, checked against convokit 5.0's loader):

- ``utterances.jsonl``: one JSON object per post: ``id`` = post_id, ``conversation_id`` = thread_id,
  ``reply_to`` = parent_id, ``speaker`` = author_id (``[deleted]`` when the author is null: ConvoKit needs a
  speaker), ``timestamp`` = epoch seconds (an int when whole, else a float), ``text``, ``meta`` = platform,
  community, kind, score, lang, amplifies_id, and ``vectors`` = [].
- ``speakers.json``: ``{speaker: {"meta": {...}, "vectors": []}}`` for every author of an exported post and every
  account of the platform (display_name, followers, reputation, is_bot, account_created_at when known).
- ``conversations.json``: ``{thread_id: {"meta": {"platform", "community", "posts"}, "vectors": []}}``.
- ``corpus.json``: corpus meta (platform, exporter, schema version); ``index.json``: the meta type index.

ConvoKit ids are global, ours are unique within a platform, so one corpus holds one platform (``platform=``
chooses when a dataset has several). Rows stream from DuckDB in Arrow batches, ordered by thread, time and id;
the folder is written next to the target and renamed into place only when complete.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import duckdb

from .. import __version__
from ..dataset import Dataset
from ..errors import InputError, UsageError
from ..schema import SCHEMA_VERSION

DELETED_SPEAKER = "[deleted]"
BATCH_ROWS = 10_000


@dataclass(frozen=True)
class CorpusSummary:
    """What ``write_corpus`` wrote."""

    path: str
    platform: str
    utterances: int
    speakers: int
    conversations: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _seconds(micros: int) -> int | float:
    """Epoch microseconds → epoch seconds, an int when whole."""
    return micros // 1_000_000 if micros % 1_000_000 == 0 else micros / 1_000_000


class _TypeIndex:
    """ConvoKit's meta index: for each meta key, the Python type names of its values (``"<class 'int'>"``)."""

    def __init__(self) -> None:
        self.types: dict[str, set[str]] = {}

    def add(self, meta: dict[str, Any]) -> None:
        for key, value in meta.items():
            seen = self.types.setdefault(key, set())
            if value is not None:
                seen.add(f"<class '{type(value).__name__}'>")

    def as_json(self) -> dict[str, list[str]]:
        return {k: sorted(v) or ["<class 'NoneType'>"] for k, v in sorted(self.types.items())}


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> Iterator[dict[str, Any]]:
    for batch in con.sql(sql).to_arrow_reader(BATCH_ROWS):
        yield from batch.to_pylist()


class _ObjectWriter:
    """Writes ``{"key": value, ...}`` one member at a time."""

    def __init__(self, fh: IO[str]) -> None:
        self.fh = fh
        self.count = 0
        fh.write("{")

    def add(self, key: str, value: Any) -> None:
        self.fh.write((", " if self.count else "") + json.dumps(key, ensure_ascii=False) + ": "
                      + json.dumps(value, ensure_ascii=False))
        self.count += 1

    def close(self) -> None:
        self.fh.write("}\n")


def write_corpus(dataset: Dataset | str | Path, out_dir: str | Path, *, platform: str | None = None
                 ) -> CorpusSummary:
    """Write the posts (and accounts) of one platform of ``dataset`` as a ConvoKit corpus in ``out_dir``.

    ``out_dir`` must not exist or be empty. ``platform`` is required when the dataset holds several.
    Raises ``UsageError`` for a bad platform or target, ``InputError`` when there is nothing to export.
    """
    ds = dataset if isinstance(dataset, Dataset) else Dataset.open(dataset)
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{out} exists and is not an empty folder; choose another output folder")
    posts = f"read_parquet({_sql_text(ds.posts_glob)})"
    con = duckdb.connect()
    try:
        platforms = [r[0] for r in con.execute(f"SELECT DISTINCT platform FROM {posts} ORDER BY platform")
                     .fetchall()]
        if not platforms:
            raise InputError("the dataset has no posts to export", path=ds.path,
                             hint="Ingest some sources first")
        if platform is None:
            if len(platforms) > 1:
                raise UsageError(f"the dataset holds several platforms ({', '.join(platforms)}); "
                                 "choose one with --platform (ConvoKit ids are not namespaced by platform)")
            platform = platforms[0]
        elif platform not in platforms:
            raise UsageError(f"platform {platform!r} is not in the dataset; choose one of: {', '.join(platforms)}")
        tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
        tmp.mkdir(parents=True)
        try:
            summary = _write(con, ds, posts, platform, tmp)
            if out.exists():
                out.rmdir()
            tmp.rename(out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    finally:
        con.close()
    return CorpusSummary(path=str(out), platform=platform, **summary)


def _write(con: duckdb.DuckDBPyConnection, ds: Dataset, posts: str, platform: str, folder: Path
           ) -> dict[str, int]:
    where = f"platform = {_sql_text(platform)}"
    utterance_index, speaker_index, conversation_index = _TypeIndex(), _TypeIndex(), _TypeIndex()
    utterances = 0
    deleted = False
    with open(folder / "utterances.jsonl", "w", encoding="utf-8") as fh:
        for row in _rows(con, f"""
                SELECT post_id, thread_id, parent_id, author_id, epoch_us(created_at) AS micros, kind, text,
                       score, community, platform, amplifies_id, lang
                FROM {posts} WHERE {where}
                ORDER BY thread_id NULLS LAST, created_at, post_id"""):
            meta = {"platform": row["platform"], "community": row["community"], "kind": row["kind"],
                    "score": row["score"], "lang": row["lang"], "amplifies_id": row["amplifies_id"]}
            utterance_index.add(meta)
            deleted = deleted or row["author_id"] is None
            fh.write(json.dumps({
                "id": row["post_id"], "conversation_id": row["thread_id"], "text": row["text"],
                "speaker": row["author_id"] if row["author_id"] is not None else DELETED_SPEAKER,
                "meta": meta, "reply_to": row["parent_id"], "timestamp": _seconds(row["micros"]), "vectors": [],
            }, ensure_ascii=False) + "\n")
            utterances += 1

    accounts = f"(SELECT * FROM read_parquet({_sql_text(str(ds.accounts_path))}) WHERE {where})" \
        if ds.accounts_path.exists() else \
        "(SELECT NULL::VARCHAR AS author_id, NULL::VARCHAR AS display_name, NULL::BIGINT AS followers, " \
        "NULL::BIGINT AS reputation, NULL::BOOLEAN AS is_bot, NULL::TIMESTAMPTZ AS account_created_at LIMIT 0)"
    with open(folder / "speakers.json", "w", encoding="utf-8") as fh:
        speakers = _ObjectWriter(fh)
        for row in _rows(con, f"""
                WITH ids AS (SELECT author_id FROM {posts} WHERE {where} AND author_id IS NOT NULL
                             UNION SELECT author_id FROM {accounts})
                SELECT ids.author_id, a.display_name, a.followers, a.reputation, a.is_bot,
                       strftime(a.account_created_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%f+00:00') AS created
                FROM ids LEFT JOIN {accounts} a USING (author_id) ORDER BY ids.author_id"""):
            meta = {k: row[k] for k in ("display_name", "followers", "reputation", "is_bot") if row[k] is not None}
            if row["created"] is not None:
                meta["account_created_at"] = row["created"]
            speaker_index.add(meta)
            speakers.add(row["author_id"], {"meta": meta, "vectors": []})
        if deleted:
            speakers.add(DELETED_SPEAKER, {"meta": {}, "vectors": []})
        speakers.close()

    with open(folder / "conversations.json", "w", encoding="utf-8") as fh:
        conversations = _ObjectWriter(fh)
        for row in _rows(con, f"""
                SELECT thread_id, min(community) AS community, count(*) AS posts FROM {posts}
                WHERE {where} AND thread_id IS NOT NULL GROUP BY thread_id ORDER BY thread_id"""):
            meta = {"platform": platform, "community": row["community"], "posts": row["posts"]}
            conversation_index.add(meta)
            conversations.add(row["thread_id"], {"meta": meta, "vectors": []})
        conversations.close()

    corpus_meta = {"platform": platform, "exported_by": f"permadani {__version__}",
                   "permadani_schema_version": SCHEMA_VERSION, "source_dataset": ds.path.name}
    overall = _TypeIndex()
    overall.add(corpus_meta)
    (folder / "corpus.json").write_text(json.dumps(corpus_meta, ensure_ascii=False) + "\n", encoding="utf-8")
    index = {"utterances-index": utterance_index.as_json(), "speakers-index": speaker_index.as_json(),
             "conversations-index": conversation_index.as_json(), "overall-index": overall.as_json(),
             "version": 1, "vectors": []}
    (folder / "index.json").write_text(json.dumps(index) + "\n", encoding="utf-8")
    return {"utterances": utterances, "speakers": speakers.count, "conversations": conversations.count}
