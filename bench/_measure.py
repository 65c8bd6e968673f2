"""Run a command in a subprocess and measure wall time and peak RSS of its whole process tree.

Peak RSS is the larger of two readings. (1) The maximum over samples (every ``interval`` seconds, psutil) of the
summed RSS of the process and all its descendants (a Spark JVM; DuckDB's threads live in the process). (2) The
largest per-process high-water mark the kernel keeps (``VmHWM`` in ``/proc/PID/status``, read at every sample):
it catches spikes shorter than the interval, which sampling alone can miss (``tests/test_bench_measure.py`` plants
one).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
PYTHON = sys.executable


@dataclass
class Measured:
    """One measured run."""

    name: str
    rows: int
    seconds: float
    peak_rss_mb: float
    returncode: int
    note: str = ""
    cpu_seconds: float = 0.0  # user + system time of the process tree: less sensitive to a busy machine

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "records_per_s": round(self.rate)}


def _tree_rss(proc: psutil.Process, marks: dict[int, int] | None = None) -> int:
    """Summed RSS of ``proc`` and its descendants; ``marks`` (pid -> bytes) is raised to each one's ``VmHWM``."""
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += p.memory_info().rss
        if marks is not None:
            marks[p.pid] = max(marks.get(p.pid, 0), _high_water_mark(p.pid))
    return total


def _high_water_mark(pid: int) -> int:
    """The kernel's peak RSS of process ``pid`` so far (``VmHWM``), in bytes; 0 where unavailable."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def run(cmd: list[str], *, env: dict[str, str] | None = None, timeout: float | None = None,
        interval: float = 0.05, cwd: Path | None = None, trace: Path | None = None
        ) -> tuple[float, int, subprocess.CompletedProcess]:
    """Run ``cmd``; return (seconds, peak RSS in bytes (see module), completed process with captured output).

    The CPU time (user + system) of the finished process tree is in ``completed.cpu_seconds``. With ``trace``,
    one line ``seconds peak_rss_mb`` per second (the peak within that second) is written there: memory over time.
    """
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    full_env = {**os.environ, **(env or {})}
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env, cwd=cwd or ROOT)
    ps = psutil.Process(proc.pid)
    peak = 0
    marks: dict[int, int] = {}  # pid -> its high-water mark, as last read
    stop = threading.Event()
    out_trace = open(trace, "w", encoding="utf-8") if trace else None

    def sample() -> None:
        nonlocal peak
        second, second_peak = 0, 0
        while not stop.is_set():
            rss = _tree_rss(ps, marks)
            peak = max(peak, rss)
            second_peak = max(second_peak, rss)
            now = int(time.perf_counter() - began)
            if out_trace is not None and now > second:
                out_trace.write(f"{now} {second_peak / 2**20:.0f}\n")
                out_trace.flush()
                second, second_peak = now, 0
            stop.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        for child in ps.children(recursive=True):
            child.kill()
        proc.kill()
        out, err = proc.communicate()
    finally:
        stop.set()
        sampler.join()
        if out_trace is not None:
            out_trace.close()
    seconds = time.perf_counter() - began
    done = subprocess.CompletedProcess(cmd, proc.returncode, out.decode("utf-8", "replace"),
                                       err.decode("utf-8", "replace"))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = max(peak, *marks.values(), 0)
    if after.ru_maxrss > usage.ru_maxrss:  # a new largest child: this run's (kB on Linux), spikes at exit too
        peak = max(peak, after.ru_maxrss * 1024)
    done.cpu_seconds = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)  # type: ignore[attr-defined]
    return seconds, peak, done


@functools.cache
def cpu_probe() -> float:
    """CPU seconds of a fixed piece of work (a 20M-step Python loop, then SHA-256 of 200 MiB), measured once per
    script: the same code's benchmark times drift with the host by up to a third (bench/README.md, rounds 5 – 7), so
    results from different hours compare only together with their probe (lower = a faster host)."""
    began = time.process_time()
    total = 0
    for i in range(20_000_000):
        total += i
    hashlib.sha256(bytes(200 << 20)).digest()
    return round(time.process_time() - began, 2)


def machine() -> str:
    """A one-line description of this machine (CPU count, RAM, Python, OS, current load average, ``cpu_probe``)."""
    mem = psutil.virtual_memory().total / 2**30
    cpu = platform.processor() or platform.machine()
    load = os.getloadavg()[0]
    return (f"{os.cpu_count()} cores {cpu}, {mem:.0f} GiB RAM, Python {platform.python_version()}, "
            f"{platform.system()}, load {load:.1f}, CPU probe {cpu_probe():.2f} s")


def table(rows: list[Measured], title: str) -> str:
    """A fixed-width text table of measured runs."""
    lines = [title, f"{'run':<30} {'rows':>12} {'seconds':>8} {'CPU s':>7} {'records/s':>10} {'peak RSS MB':>11}  note"]
    for r in rows:
        lines.append(f"{r.name:<30} {r.rows:>12,} {r.seconds:>8.1f} {r.cpu_seconds:>7.1f} {r.rate:>10,.0f} "
                     f"{r.peak_rss_mb:>11,.0f}  {r.note}")
    return "\n".join(lines)


def save(kind: str, rows: list[Measured], extra: dict | None = None) -> Path:
    """Append the runs to ``bench/results/<kind>.jsonl`` (gitignored) with date and machine."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{kind}.jsonl"
    record = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
              "load_average": [round(x, 1) for x in os.getloadavg()],
              "cpu_probe_s": cpu_probe(),
              "runs": [r.as_dict() for r in rows], **(extra or {})}
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")
    return path


def data_file(size: str) -> Path:
    """The generated dump for a size preset (``500k``, ``5m``, ``100m``); exits with a hint when missing."""
    path = BENCH / "data" / f"RC_synth_{size}.zst"
    if not path.exists():
        sys.exit(f"{path} is missing: run  python bench/gen_pushshift.py --size {size}")
    return path
