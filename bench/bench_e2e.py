"""End to end: ingest a Pushshift-style dump, then the structural audit, each measured; totals against the target.

    python bench/bench_e2e.py --size 100m [--memory-limit 5GB] [--temp-dir /big/tmp] [--keep]
    python bench/bench_e2e.py --file /data/RC_2019-10.zst --output /big/ds_rc_2019_10

The audit runs the sections the issue calls the full structural audit (tiers, responsiveness with bootstrap CIs,
account cards, inequality, mobility; ``--sections`` to change). Both steps are the real CLI/API in their own
subprocess, with peak RSS sampled over the process tree and, with ``--trace DIR``, memory per second written to
``DIR/ingest.trace`` and ``DIR/audit.trace``. Results are appended to ``bench/results/e2e.jsonl``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from _measure import BENCH, Measured, machine, save, table
from bench_audit import audit_once
from bench_ingest import ingest_once

STRUCTURAL = "tiers,responsiveness,accounts,inequality,mobility"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="5m", choices=["500k", "5m", "100m"])
    ap.add_argument("--file", help="a dump to ingest instead of the generated size")
    ap.add_argument("--output", help="dataset folder (default bench/data/ds_<size or file name>)")
    ap.add_argument("--sections", default=STRUCTURAL)
    ap.add_argument("--memory-limit", default=None, help="DuckDB memory limit of the audit (default: permadani's)")
    ap.add_argument("--ingest-memory-limit", default=None, help="DuckDB memory limit of the ingest merge")
    ap.add_argument("--temp-dir", default=None, help="DuckDB spill folder for both steps")
    ap.add_argument("--trace", default=None, help="folder for per-second memory traces")
    ap.add_argument("--timeout", type=float, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the dataset and results")
    args = ap.parse_args(argv)
    label = Path(args.file).name.removesuffix(".zst").removesuffix(".json") if args.file else args.size
    dataset = Path(args.output) if args.output else BENCH / "data" / f"ds_{label}"
    trace = Path(args.trace) if args.trace else None
    if trace is not None:
        trace.mkdir(parents=True, exist_ok=True)
    ingest = ingest_once(args.size, args.ingest_memory_limit, args.temp_dir, args.timeout, args.file,
                         str(dataset), str(trace / "ingest.trace") if trace else None)
    runs = [ingest]
    if ingest.returncode == 0:
        audited, _ = audit_once(label, "duckdb", args.sections, args.memory_limit, None, args.timeout,
                                str(dataset), None, args.temp_dir,
                                trace=str(trace / "audit.trace") if trace else None)
        runs.append(audited)
    ok = all(r.returncode == 0 for r in runs)
    total = Measured("end to end", ingest.rows, sum(r.seconds for r in runs), max(r.peak_rss_mb for r in runs),
                     0 if ok else 1, "ingest + audit; peak = the larger of the two",
                     sum(r.cpu_seconds for r in runs))
    runs.append(total)
    print(table(runs, f"permadani end to end — {machine()}"))
    print(f"targets for 100M comments: < 900 s and < 8,192 MB peak; this run: {total.seconds:,.0f} s, "
          f"{total.peak_rss_mb:,.0f} MB")
    save("e2e", runs, {"size": label, "file": args.file, "sections": args.sections,
                       "memory_limit": args.memory_limit})
    if not args.keep:
        shutil.rmtree(dataset, ignore_errors=True)
        shutil.rmtree(BENCH / "data" / f"results_{label}_duckdb", ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
