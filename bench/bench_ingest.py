"""Benchmark ``permadani ingest`` on generated Pushshift dumps: rows, seconds, records/s, peak RSS.

    python bench/bench_ingest.py --size 500k --size 5m [--repeat 3] [--memory-limit 4GB] [--temp-dir /big/tmp] [--keep]

Each run is the real CLI (``python -m permadani ingest FILE -o DATASET --format reddit-pushshift``) in a
subprocess; peak RSS is sampled over its process tree. The note gives rows per CPU-second (user + system time of
the process tree: the fairer figure on a shared machine) and the 1-minute load average before and after the run.
Datasets go to ``bench/data/ds_<size>`` (kept with ``--keep``, which ``bench_audit.py`` then reuses). Results
are appended to ``bench/results/ingest.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from _measure import BENCH, PYTHON, Measured, data_file, machine, run, save, table


def ingest_once(size: str, memory_limit: str | None = None, temp_dir: str | None = None,
                timeout: float | None = None, file: str | None = None, output: str | None = None,
                trace: str | None = None) -> Measured:
    """Ingest the ``size`` dump (or ``file``) into ``bench/data/ds_<size>`` (or ``output``) and measure it."""
    src = Path(file) if file else data_file(size)
    out = Path(output) if output else BENCH / "data" / f"ds_{size}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [PYTHON, "-m", "permadani", "ingest", str(src), "-o", str(out), "--format", "reddit-pushshift",
           "--quiet", "--json"]
    if memory_limit:
        cmd += ["--memory-limit", memory_limit]
    if temp_dir:
        cmd += ["--temp-dir", temp_dir]
    load_before = os.getloadavg()[0]
    seconds, peak, done = run(cmd, timeout=timeout, trace=Path(trace) if trace else None)
    load = f"load {load_before:.1f}->{os.getloadavg()[0]:.1f}"
    rows, note = 0, ""
    if done.returncode == 0:
        rows = json.loads((out / "manifest.json").read_text())["counts"]["posts"]
        raw = json.loads(src.with_suffix(".json").read_text()).get("raw_bytes", 0) if src.with_suffix(
            ".json").exists() else 0
        per_cpu = rows / done.cpu_seconds if done.cpu_seconds else 0.0
        rate = (f"{raw / seconds / 2**20:,.0f} MB/s json" if raw  # the generator's sidecar gives the JSON size
                else f"{src.stat().st_size / seconds / 2**20:,.0f} MB/s compressed")
        note = f"{per_cpu:,.0f} rows/CPU-s, {rate}, {load}"
    else:
        note = f"exit {done.returncode}: {done.stderr.strip().splitlines()[-1:] or ''}"
    return Measured(f"ingest {src.name if file else size}", rows, seconds, peak / 2**20, done.returncode, note,
                    done.cpu_seconds)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", action="append", choices=["500k", "5m", "100m"], help="repeatable (default 500k)")
    ap.add_argument("--memory-limit", default=None)
    ap.add_argument("--temp-dir", default=None)
    ap.add_argument("--timeout", type=float, default=None, help="seconds before a run is killed")
    ap.add_argument("--keep", action="store_true", help="keep the datasets (bench_audit.py reuses them)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per size (a busy machine makes single runs noisy)")
    ap.add_argument("--file", help="ingest this dump instead of a generated size (any Pushshift-style file)")
    ap.add_argument("--output", help="dataset folder (default bench/data/ds_<size>)")
    ap.add_argument("--trace", help="write 'seconds peak_rss_mb' per second of the run to this file")
    args = ap.parse_args(argv)
    runs = []
    if args.file:
        runs.append(ingest_once("file", args.memory_limit, args.temp_dir, args.timeout, args.file, args.output,
                                args.trace))
        print(table(runs, f"permadani ingest — {machine()}"))
        save("ingest", runs, {"memory_limit": args.memory_limit, "file": args.file})
        return 0 if runs[0].returncode == 0 else 1
    for size in args.size or ["500k"]:
        for _ in range(max(1, args.repeat)):
            runs.append(ingest_once(size, args.memory_limit, args.temp_dir, args.timeout, trace=args.trace))
            print(table(runs[-1:], ""), file=sys.stderr)
        if not args.keep:
            shutil.rmtree(BENCH / "data" / f"ds_{size}", ignore_errors=True)
    print(table(runs, f"permadani ingest — {machine()}"))
    save("ingest", runs, {"memory_limit": args.memory_limit})
    return 0 if all(r.returncode == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
