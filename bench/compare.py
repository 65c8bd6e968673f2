"""Side by side on the same data: permadani (ingest + audit) vs ConvoKit vs plain Python + networkx.

    python bench/compare.py [--size 500k | --file DUMP.zst] [--skip convokit] [--skip networkx]

The question is the same for all three (``_question.py``): the reply-back matrix by tier. permadani answers it
with its CLI ingest plus the ``tiers`` and ``responsiveness`` audit sections (which also bootstrap 95 %
intervals: more work than the baselines do); the baselines read the ``.zst`` line by line in the ConvoKit venv
(``bench/.venv-convokit``, see README). Every tool runs in its own subprocess; peak RSS is sampled over its
process tree. The script checks that every tool finds the same matrix and prints a ratio table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from _measure import BENCH, PYTHON, Measured, data_file, machine, run, save, table

BASELINE_PYTHON = BENCH / ".venv-convokit" / "bin" / "python"


def _run_json(name: str, cmd: list[str], timeout: float | None) -> tuple[Measured, dict]:
    seconds, peak, done = run(cmd, timeout=timeout)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or [""])[-1][:80]
        return Measured(name, 0, seconds, peak / 2**20, done.returncode, tail, done.cpu_seconds), {}
    text = done.stdout.strip()
    out = json.loads(text[text.index("{\n"):] if "{\n" in text else text.splitlines()[-1])
    return Measured(name, int(out.get("rows") or 0), seconds, peak / 2**20, 0, "", done.cpu_seconds), out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="500k", choices=["500k", "5m"])
    ap.add_argument("--skip", action="append", default=[], choices=["convokit", "networkx"])
    ap.add_argument("--file", default=None, help="any Pushshift-style dump (e.g. from another generator) instead "
                    "of a generated size")
    ap.add_argument("--timeout", type=float, default=3600)
    args = ap.parse_args(argv)
    src = Path(args.file) if args.file else data_file(args.size)
    if not src.is_file():
        sys.exit(f"{src} is not a file")
    label = src.stem.removesuffix(".json") if args.file else args.size
    if not BASELINE_PYTHON.exists():
        sys.exit(f"{BASELINE_PYTHON} is missing: create the ConvoKit venv first (see bench/README.md)")
    dataset = BENCH / "data" / f"cmp_{label}"
    shutil.rmtree(dataset, ignore_errors=True)

    ingest, _ = _run_json("permadani ingest", [
        PYTHON, "-m", "permadani", "ingest", str(src), "-o", str(dataset), "--format", "reddit-pushshift",
        "--quiet", "--json"], args.timeout)
    if ingest.returncode == 0:
        ingest.rows = json.loads((dataset / "manifest.json").read_text())["counts"]["posts"]
    audit, ours = _run_json("permadani audit", [
        PYTHON, str(BENCH / "_permadani_audit.py"), str(dataset), "--sections", "tiers,responsiveness"], args.timeout)
    total = Measured("permadani (ingest + audit)", ingest.rows, ingest.seconds + audit.seconds,
                     max(ingest.peak_rss_mb, audit.peak_rss_mb), ingest.returncode or audit.returncode, "",
                     ingest.cpu_seconds + audit.cpu_seconds)
    runs = [ingest, audit, total]
    answers = {"permadani": ours.get("matrix")}
    for tool in ("convokit", "networkx"):
        if tool in args.skip:
            continue
        measured, out = _run_json(tool, [str(BASELINE_PYTHON), str(BENCH / f"baseline_{tool}.py"), str(src)],
                                  args.timeout)
        if out:
            parts = [f"{k.removeprefix('seconds_')} {v:.0f}s" for k, v in out.items() if k.startswith("seconds_")]
            measured.note = ", ".join(parts)
            if tool == "convokit" and out.get("seconds_corpus"):
                measured.note += f"; corpus {out['rows'] / (out['seconds_read'] + out['seconds_corpus']):,.0f} utt/s"
        runs.append(measured)
        answers[tool] = out.get("matrix")
    print(table(runs, f"who answers whom, by tier — {src.name} — {machine()}"))
    print()
    print(f"{'baseline / permadani':<22} {'wall time':>10} {'CPU time':>10} {'peak RSS':>10}")
    ratios = {}
    for r in runs[3:]:
        if r.returncode == 0 and total.returncode == 0:
            ratios[r.name] = {"time": r.seconds / total.seconds, "cpu": r.cpu_seconds / max(total.cpu_seconds, 1e-9),
                              "memory": r.peak_rss_mb / total.peak_rss_mb}
            q = ratios[r.name]
            print(f"{r.name:<22} {q['time']:>9.1f}x {q['cpu']:>9.1f}x {q['memory']:>9.1f}x")
    agree = len({json.dumps(m, sort_keys=True) for m in answers.values() if m}) == 1
    print(f"\nall tools find the same tier matrix: {'yes' if agree else 'NO'}")
    if answers.get("permadani"):
        cells = answers["permadani"]
        print("reply-back rate to upper-tier authors: " + ", ".join(
            f"{k.split('->')[0]} {v['rate']:.3f}" for k, v in cells.items() if k.endswith("->upper") and v["rate"]))
    save("compare", runs, {"size": label, "file": str(src), "ratios": ratios, "agree": agree})
    shutil.rmtree(dataset, ignore_errors=True)
    return 0 if agree and all(r.returncode == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
