"""Calibration of the responsiveness intervals on synthetic communities with planted effects.

For each seed: generate a community (``permadani.synthetic``), audit it on DuckDB, and check whether the realised
true rate of each matrix cell / gap lies inside the reported 95 % interval. A second run plants a zero gap
(equal reply-back probabilities towards the upper tier, no newcomer penalty) and counts how often the gap is
called significant (should be about 5 %). Prints a coverage table. Not a test: run it by hand.

    .venv/bin/python bench/calibration.py --seeds 100
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from permadani import audit
from permadani.synthetic import SynthParams, synthesize

STATS = ("upper->upper", "middle->upper", "lower->upper", "newcomer->upper", "lower->lower", "newcomer->lower")
GAPS = ("upper_vs_lower", "upper_vs_newcomer")
ZERO = {"upper:upper": 0.3, "middle:upper": 0.3, "lower:upper": 0.3}


def one(seed: int, folder: Path, zero: bool, n_boot: int, accounts: int, threads: int) -> dict[str, object]:
    params = SynthParams(seed=seed, accounts=accounts, threads=threads,
                         reply_back=ZERO if zero else {}, newcomer_penalty=0.0 if zero else 0.1)
    ds = synthesize(folder / f"{'z' if zero else 'p'}{seed}", params)
    truth = ds.parameters["truth"]
    resp = audit(ds, n_boot=n_boot, seed=seed, sections=("tiers", "responsiveness")).summary[
        "sections"]["responsiveness"]
    out: dict[str, object] = {}
    for m in resp["matrix"]:
        key = f"{m['from']}->{m['to']}"
        t = truth["matrix"][key]
        if key in STATS and t is not None and m["ci_low"] is not None:
            out[key] = m["ci_low"] <= t <= m["ci_high"]
    for g in resp["gaps"]:
        t = truth["gaps"][g["name"]]
        if t is not None and g["ci_low"] is not None:
            out[g["name"]] = g["ci_low"] <= t <= g["ci_high"]
            out[f"{g['name']}:significant"] = bool(g["significant"])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=1500)
    parser.add_argument("--threads", type=int, default=1200)
    args = parser.parse_args(argv)
    started = time.time()
    rows: dict[str, list[dict[str, object]]] = {"planted": [], "zero gap": []}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            for label, zero in (("planted", False), ("zero gap", True)):
                rows[label].append(one(seed, Path(tmp), zero, args.n_boot, args.accounts, args.threads))
            print(f"seed {seed} done ({time.time() - started:.0f} s)", file=sys.stderr)
    print(f"{'run':<10} {'statistic':<28} {'seeds':>5} {'covered':>8} {'coverage':>9}")
    for label, results in rows.items():
        for key in (*STATS, *GAPS):
            values = [r[key] for r in results if key in r]
            if values:
                print(f"{label:<10} {key:<28} {len(values):>5} {sum(map(bool, values)):>8} "
                      f"{sum(map(bool, values)) / len(values):>9.1%}")
        for key in GAPS:
            values = [r[f"{key}:significant"] for r in results if f"{key}:significant" in r]
            if values:
                print(f"{label:<10} {key + ' significant':<28} {len(values):>5} {sum(map(bool, values)):>8} "
                      f"{sum(map(bool, values)) / len(values):>9.1%}")
    print(f"total time {time.time() - started:.0f} s for {args.seeds} seeds × 2 runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
