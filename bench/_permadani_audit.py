"""Run permadani's audit on a dataset and print the benchmark question's answer as one JSON line.

    python bench/_permadani_audit.py DATASET [--sections tiers,responsiveness] [--engine duckdb|pyspark]
                                             [--master local[2]] [--memory-limit 8GB] [--threads 2]
                                             [--temp-dir DIR]

Used by ``bench_audit.py`` and ``compare.py`` (each run in its own subprocess so its peak memory is measured).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _question import TIERS, empty_matrix, result


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset")
    ap.add_argument("--sections", default="", help="comma-separated; default: every registered section")
    ap.add_argument("--engine", default="duckdb")
    ap.add_argument("--master", default=None, help="Spark master URL (pyspark engine)")
    ap.add_argument("--memory-limit", default=None, help="DuckDB memory limit, e.g. 8GB")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--temp-dir", default=None, help="DuckDB spill folder")
    ap.add_argument("--output", default=None, help="results folder to write")
    args = ap.parse_args(argv)

    from permadani.analyses.audit import audit
    from permadani.engine import connect

    began = time.perf_counter()
    settings: dict = {}
    if args.engine == "duckdb":
        settings = {"memory_limit": args.memory_limit, "threads": args.threads, "temp_directory": args.temp_dir}
    elif args.master:
        settings = {"master": args.master}
    engine = connect(args.engine, **{k: v for k, v in settings.items() if v})
    connected = time.perf_counter()
    sections = tuple(s for s in args.sections.split(",") if s) or None
    try:
        res = audit(args.dataset, args.output, engine=engine, sections=sections)
    finally:
        engine.close()
    done = time.perf_counter()
    matrix = empty_matrix()
    for row in res.summary["sections"].get("responsiveness", {}).get("matrix", []):
        if row["from"] in TIERS:
            matrix[f"{row['from']}->{row['to']}"] = [row["replies"], row["answered"]]
    info = res.summary.get("dataset", {})
    print(result(matrix, tool=f"permadani-{args.engine}", rows=info.get("posts"),
                 seconds_connect=round(connected - began, 2), seconds_audit=round(done - connected, 2),
                 sections=sorted(res.summary["sections"]), section_seconds=res.timings, section_cpu=res.cpu_timings,
                 gaps=res.summary["sections"].get("responsiveness", {}).get("gaps")))


if __name__ == "__main__":
    main()
