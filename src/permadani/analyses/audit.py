"""The audit runner: build the context once, run every section, write the results folder.

Results folder: ``summary.json`` (shape in BRIEF_AUDIT_CONTRACT / the report's input) and one
``<table>.parquet`` per table any section returned. The folder is written next to the target and renamed into
place, so a failed audit never leaves half a folder.
"""

from __future__ import annotations

import html
import importlib
import json
import math
import os
import shutil
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .. import __version__
from ..dataset import Dataset
from ..engine import Engine, connect
from ..errors import AnalysisError, PermadaniError, UsageError
from ..progress import NullProgress, ProgressSink
from .context import AuditContext, AuditParams, SectionResult

#: (section name, module exposing ``run(ctx) -> SectionResult``), run and reported in this order, except that a
#: module may also expose ``start(ctx)``: it is called for every chosen section before the first ``run``, and
#: such sections ``run`` last (the rich club starts its null models in a worker process in ``start``, so its
#: rewiring overlaps every other section). The summary keeps this order either way.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("tiers", "permadani.analyses.tiers"),
    ("responsiveness", "permadani.analyses.responsiveness"),
    ("accounts", "permadani.analyses.cards"),
    ("inequality", "permadani.analyses.inequality"),
    ("rich_club", "permadani.analyses.graph.richclub"),
    ("mobility", "permadani.analyses.mobility"),
    ("trend", "permadani.analyses.trend"),
    ("conversation", "permadani.analyses.conversation"),
)

SUMMARY_FILE = "summary.json"


@dataclass
class AuditResult:
    """An audit's outcome: ``summary`` (JSON-ready dict), ``tables`` (name → Arrow), ``path`` when written.

    A table too large to hold (one row per account of a 100M-post dump) may be a Parquet file instead of an
    Arrow table in ``tables``: ``table(name)`` reads it on demand.
    """

    summary: dict[str, Any]
    tables: dict[str, pa.Table | Path] = field(default_factory=dict)
    path: Path | None = None
    #: wall seconds per step (``context`` = shared tables, then each section). Written into summary.json as
    #: ``"timings"`` but kept out of ``summary``, so two runs of the same audit compare equal.
    timings: dict[str, float] = field(default_factory=dict)
    #: CPU seconds of this process per step (DuckDB threads included; a worker process is not): "cpu_timings".
    cpu_timings: dict[str, float] = field(default_factory=dict)

    @property
    def sections(self) -> dict[str, Any]:
        return self.summary.get("sections", {})

    def table(self, name: str) -> pa.Table:
        """One result table by name (read from its Parquet file when it was written there); KeyError lists the
        names."""
        if name not in self.tables:
            raise KeyError(f"no table {name!r}; tables: {', '.join(sorted(self.tables))}")
        value = self.tables[name]
        return pq.read_table(value) if isinstance(value, Path) else value

    def document(self) -> dict[str, Any]:
        """What ``summary.json`` holds: ``summary`` plus ``timings`` and ``cpu_timings`` when measured."""
        if not self.timings:
            return self.summary
        return {**self.summary, "timings": self.timings, "cpu_timings": self.cpu_timings}

    def write(self, folder: str | Path) -> Path:
        """Write ``summary.json`` and one Parquet per table into ``folder`` (replaced atomically)."""
        target = Path(folder)
        if target.exists() and not (target / SUMMARY_FILE).is_file() and any(target.iterdir()):
            raise UsageError(f"{target} exists and is not a permadani results folder; choose another -o folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            for name, table in sorted(self.tables.items()):
                if isinstance(table, Path):  # written by the engine already: move (or copy) it in
                    _move_or_copy(table, tmp / f"{name}.parquet")
                else:
                    pq.write_table(table, tmp / f"{name}.parquet", compression="zstd")
            (tmp / SUMMARY_FILE).write_text(json.dumps(self.document(), indent=2, ensure_ascii=False) + "\n",
                                            encoding="utf-8")
            if target.exists():
                old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
                target.rename(old)
                tmp.rename(target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                tmp.rename(target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.path = target
        for name, table in self.tables.items():
            if isinstance(table, Path):
                self.tables[name] = target / f"{name}.parquet"
        return target

    @classmethod
    def read(cls, folder: str | Path) -> AuditResult:
        """Load a results folder written by ``write``."""
        root = Path(folder)
        summary_path = root / SUMMARY_FILE
        if not summary_path.is_file():
            raise UsageError(f"{root} is not a permadani results folder (no {SUMMARY_FILE})")
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        timings = summary.pop("timings", None) or {}
        cpu = summary.pop("cpu_timings", None) or {}
        tables: dict[str, pa.Table | Path] = {p.stem: p for p in sorted(root.glob("*.parquet"))}
        return cls(summary=summary, tables=tables, path=root, timings=timings, cpu_timings=cpu)

    def _repr_html_(self) -> str:
        return render_html(self.summary)


def audit(dataset: Dataset | str | Path, output: str | Path | None = None, engine: str | Engine = "duckdb",
          params: AuditParams | None = None, progress: ProgressSink | None = None,
          sections: tuple[str, ...] | None = None, **overrides: Any) -> AuditResult:
    """Run the audit of ``dataset`` and return an ``AuditResult`` (written to ``output`` when given).

    ``params`` (or keyword ``overrides`` of its fields, e.g. ``status="attention"``) set the definitions;
    ``engine`` is ``"duckdb"``, ``"pyspark"`` or an open ``Engine``; ``sections`` limits which sections run.
    """
    ds = dataset if isinstance(dataset, Dataset) else Dataset.open(dataset)
    params = (params or AuditParams()).replace(**overrides) if overrides else (params or AuditParams())
    chosen = [s for s in SECTIONS if sections is None or s[0] in sections]
    if sections is not None:
        unknown = set(sections) - {s[0] for s in SECTIONS}
        if unknown:
            raise UsageError(f"unknown sections {sorted(unknown)}; choose from {[s[0] for s in SECTIONS]}")
    owned = not isinstance(engine, Engine)
    eng: Engine = engine if isinstance(engine, Engine) else connect(engine)
    sink = progress or NullProgress()
    # tables a section returns as expressions are written by the engine straight to Parquet here (when there is
    # an output folder), so they never pass through this process's memory
    staged = None if output is None else Path(output).parent / f".{Path(output).name}.tables-{uuid.uuid4().hex[:8]}"
    tables: dict[str, pa.Table | Path] = {}
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    ctx: AuditContext | None = None
    try:
        sink.start("audit", len(chosen) + 1, "steps")
        _note(sink, f"shared tables of {int(ds.info().get('posts') or 0):,} posts")
        began, used = time.perf_counter(), time.process_time()
        ctx = AuditContext.build(ds, eng, params)
        timings["context"], cpu["context"] = time.perf_counter() - began, time.process_time() - used
        sink.advance(1)
        started = []
        for name, module_name in chosen:
            hook = getattr(_module(name, module_name), "start", None)
            if hook is not None:
                began, used = time.perf_counter(), time.process_time()
                _guard(name, hook, ctx)
                timings[name], cpu[name] = time.perf_counter() - began, time.process_time() - used
                started.append((name, module_name))
        results: dict[str, Any] = {}
        for name, module_name in [s for s in chosen if s not in started] + started:
            _note(sink, name)
            began, used = time.perf_counter(), time.process_time()
            section = _run_section(name, module_name, ctx)
            for table_name, table in section.tables.items():
                if table_name in tables:
                    raise AnalysisError(f"section {name!r} writes table {table_name!r} a previous section wrote")
                tables[table_name] = table if isinstance(table, pa.Table) else _resolve(eng, table, table_name,
                                                                                         staged)
            ctx.release_scratch()
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - began
            cpu[name] = cpu.get(name, 0.0) + time.process_time() - used
            results[name] = _jsonable(section.summary)
            sink.advance(1)
        sink.finish()
        summary = {
            "permadani_version": __version__,
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "dataset": _dataset_info(ds, eng),
            "params": {**_jsonable(params.as_dict()), "status": ctx.measure, "engine": eng.name},
            "planted": _jsonable(ds.parameters),
            "sections": {name: results[name] for name, _ in chosen},
        }
    except BaseException:
        if staged is not None:
            shutil.rmtree(staged, ignore_errors=True)
        raise
    finally:
        if ctx is not None:
            ctx.close()
        if owned:
            eng.close()
    result = AuditResult(summary=summary, tables=tables, timings={k: round(v, 3) for k, v in timings.items()},
                         cpu_timings={k: round(v, 3) for k, v in cpu.items()})
    if output is not None:
        try:
            result.write(output)
        finally:
            if staged is not None:
                shutil.rmtree(staged, ignore_errors=True)
    return result


def _resolve(engine: Engine, expr: Any, name: str, staged: Path | None) -> pa.Table | Path:
    """A table a section returned as an expression: written by the engine to ``staged`` (streaming, in the
    expression's order) when the audit has an output folder, else executed into Arrow."""
    if staged is None:
        return engine.execute(expr)
    staged.mkdir(parents=True, exist_ok=True)
    path = staged / f"{name}.parquet"
    engine.write_parquet(expr, path)
    return path


def _move_or_copy(source: Path, target: Path) -> None:
    try:
        os.replace(source, target)
    except OSError:  # another filesystem
        shutil.copyfile(source, target)


def _note(sink: ProgressSink, text: str) -> None:
    """Tell the sink which step runs now (sinks without a ``note`` hook ignore it)."""
    note = getattr(sink, "note", None)
    if note is not None:
        note(text)


def _module(name: str, module_name: str) -> Any:
    return importlib.import_module(module_name)


def _guard(name: str, fn: Any, ctx: AuditContext) -> Any:
    try:
        return fn(ctx)
    except PermadaniError:
        raise
    except Exception as exc:
        raise AnalysisError(f"section {name!r} failed: {type(exc).__name__}: {exc}") from exc


def _run_section(name: str, module_name: str, ctx: AuditContext) -> SectionResult:
    return _guard(name, _module(name, module_name).run, ctx)


def _dataset_info(ds: Dataset, engine: Engine) -> dict[str, Any]:
    info = ds.info()
    reasons: dict[str, int] = {}
    if ds.rejects_path.exists():
        rejects = engine.backend.read_parquet(str(ds.rejects_path))
        counted = engine.execute(rejects.group_by("reason").aggregate(n=rejects.count()).order_by("reason"))
        reasons = {r["reason"]: int(r["n"]) for r in counted.to_pylist()}
    info["rejects_by_reason"] = reasons
    return info


def _jsonable(value: Any) -> Any:
    """Plain JSON values: NaN/inf → None, tuples → lists, datetimes → ISO strings."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return _jsonable(value.item())
    return value


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return html.escape(str(value))


def render_html(summary: Mapping[str, Any]) -> str:
    """A compact HTML view of an audit summary (tiers, responsiveness matrix, gaps) for Jupyter."""
    sections = summary.get("sections", {})
    parts = [f"<div><b>permadani audit</b> of <code>{html.escape(str(summary.get('dataset', {}).get('dataset')))}"
             f"</code> ({html.escape(str(summary.get('params', {}).get('engine')))}, status = "
             f"{html.escape(str(summary.get('params', {}).get('status')))})"]
    tiers = sections.get("tiers")
    if tiers:
        parts.append("<p>tiers: " + ", ".join(f"{k} {v:,}" for k, v in tiers.get("counts", {}).items()) + "</p>")
    resp = sections.get("responsiveness")
    if resp:
        rows = "".join(
            f"<tr><td>{_fmt(m['from'])}</td><td>{_fmt(m['to'])}</td><td>{m['replies']:,}</td>"
            f"<td>{_fmt(m['rate'])}</td><td>[{_fmt(m['ci_low'])}, {_fmt(m['ci_high'])}]</td></tr>"
            for m in resp.get("matrix", []))
        parts.append("<table><tr><th>replier</th><th>author</th><th>replies</th><th>reply-back</th>"
                     f"<th>95% CI</th></tr>{rows}</table>")
        gaps = "".join(f"<li>{_fmt(g['name'])}: {_fmt(g['gap'])} [{_fmt(g['ci_low'])}, {_fmt(g['ci_high'])}]</li>"
                       for g in resp.get("gaps", []))
        parts.append(f"<ul>{gaps}</ul>")
    others = [name for name in sections if name not in ("tiers", "responsiveness")]
    if others:
        parts.append("<p>other sections: " + ", ".join(html.escape(n) for n in others) + "</p>")
    parts.append("</div>")
    return "".join(parts)
