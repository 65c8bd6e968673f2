"""Benchmark ``permadani audit`` on an ingested dataset: rows, seconds, records/s, peak RSS (DuckDB and PySpark).

    python bench/bench_audit.py --size 5m [--engine duckdb --engine pyspark] [--sections tiers,responsiveness]
                                [--memory-limit 8GB] [--temp-dir DIR] [--threads N] [--master local[2]]
                                [--dataset bench/data/ds_5m]

Needs ``bench/data/ds_<size>`` (run ``bench_ingest.py --size SIZE --keep`` first; it is ingested here when
missing). Every engine runs in its own subprocess; with several engines the script also checks that they
return the same tier matrix. Per-step wall seconds come from the results' ``summary.json`` (``timings``); CPU
seconds cover the whole process tree (the rich-club worker included). Results are appended to
``bench/results/audit.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from _measure import BENCH, PYTHON, Measured, machine, run, save, table
from bench_ingest import ingest_once


def audit_once(size: str, engine: str = "duckdb", sections: str = "", memory_limit: str | None = None,
               master: str | None = None, timeout: float | None = None, dataset: str | None = None,
               threads: int | None = None, temp_dir: str | None = None, trace: str | None = None
               ) -> tuple[Measured, dict]:
    """Audit ``bench/data/ds_<size>`` (or ``dataset``) with ``engine``; return the measurement and the result."""
    dataset = dataset or BENCH / "data" / f"ds_{size}"
    cmd = [PYTHON, str(BENCH / "_permadani_audit.py"), str(dataset), "--engine", engine,
           "--output", str(BENCH / "data" / f"results_{size}_{engine}")]
    if sections:
        cmd += ["--sections", sections]
    if memory_limit:
        cmd += ["--memory-limit", memory_limit]
    if master:
        cmd += ["--master", master]
    if threads:
        cmd += ["--threads", str(threads)]
    if temp_dir:
        cmd += ["--temp-dir", temp_dir]
    seconds, peak, done = run(cmd, timeout=timeout, trace=Path(trace) if trace else None)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or [""]
        return Measured(f"audit {size} {engine}", 0, seconds, peak / 2**20, done.returncode, tail[0][:80],
                        done.cpu_seconds), {}
    out = json.loads(done.stdout.strip().splitlines()[-1])
    slowest = sorted(out.get("section_seconds", {}).items(), key=lambda kv: -kv[1])[:3]
    note = (f"{len(out['sections'])} sections; engine start {out['seconds_connect']:.0f}s; slowest: "
            + ", ".join(f"{k} {v:.1f}s" for k, v in slowest))
    return Measured(f"audit {size} {engine}", out["rows"], seconds, peak / 2**20, 0, note, done.cpu_seconds), out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="5m", choices=["500k", "5m", "100m"])
    ap.add_argument("--engine", action="append", choices=["duckdb", "pyspark"], help="repeatable (default duckdb)")
    ap.add_argument("--sections", default="", help="comma-separated sections (default: all)")
    ap.add_argument("--memory-limit", default=None)
    ap.add_argument("--master", default=None)
    ap.add_argument("--timeout", type=float, default=None)
    ap.add_argument("--dataset", default=None, help="dataset folder (default bench/data/ds_<size>)")
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads")
    ap.add_argument("--temp-dir", default=None, help="DuckDB spill folder")
    ap.add_argument("--trace", default=None, help="write 'seconds peak_rss_mb' per second of the run here")
    args = ap.parse_args(argv)
    runs: list[Measured] = []
    if args.dataset is None and not (BENCH / "data" / f"ds_{args.size}" / "manifest.json").exists():
        runs.append(ingest_once(args.size, args.memory_limit))
    answers = {}
    timings = {}
    for engine in args.engine or ["duckdb"]:
        measured, out = audit_once(args.size, engine, args.sections, args.memory_limit, args.master, args.timeout,
                                   args.dataset, args.threads, args.temp_dir, args.trace)
        runs.append(measured)
        answers[engine] = out.get("matrix")
        timings[engine] = {k: (v, out.get("section_cpu", {}).get(k)) for k, v in out.get("section_seconds", {}).items()}
    print(table(runs, f"permadani audit — {machine()}"))
    for engine, secs in timings.items():
        if secs:
            print(f"{engine} per step, wall s / CPU s of the audit process (rich_club = graph, observed curves and "
                  "waiting for its worker, whose CPU only the total counts): "
                  + ", ".join(f"{k} {w:.1f}/{c if c is None else round(c, 1)}" for k, (w, c) in secs.items()))
    extra: dict = {"size": args.size, "sections": args.sections or "all", "timings": timings}
    if len(answers) > 1:
        same = len({json.dumps(m, sort_keys=True) for m in answers.values()}) == 1
        extra["engines_agree"] = same
        print(f"engines return the same tier matrix: {'yes' if same else 'NO'}")
    save("audit", runs, extra)
    return 0 if all(r.returncode == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
