"""Run rich-club null models in a separate Python process, so igraph's rewiring (which holds the GIL) overlaps the
audit's other sections.

The parent writes the arguments of ``richclub.null_phis`` to ``in.npz`` in a private temporary folder and starts
``python -m permadani.analyses.graph.nullworker IN OUT``; the child computes and writes ``out.npz``. A plain
subprocess (not ``multiprocessing``) never re-imports the caller's ``__main__``, so scripts without a main guard
and notebooks are safe. When the child cannot start or fails, ``result()`` computes the same samples in this
process (same seed, same numbers) and says so in ``where``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np


class Background:
    """A handle on one null-model computation running in a child process."""

    def __init__(self, args: tuple[Any, ...]) -> None:
        self.args = args
        self.where = "a worker process, alongside the other sections"
        self._dir = Path(tempfile.mkdtemp(prefix="permadani-nulls-"))
        edges, n_vertices, ks, rank, sizes, samples, trials, seed = args
        np.savez(self._dir / "in.npz", edges=edges, n_vertices=n_vertices, ks=ks,
                 rank=rank if rank is not None else np.empty(0, np.int64), has_rank=rank is not None,
                 sizes=sizes, samples=samples, trials=trials, seed=seed)
        try:
            self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
                [sys.executable, "-m", __name__, str(self._dir / "in.npz"), str(self._dir / "out.npz")],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env())
        except OSError:
            self._proc = None

    def result(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The null samples (waits for the child; falls back to computing them here)."""
        from .richclub import null_phis

        try:
            if self._proc is not None:
                self._proc.communicate()
                if self._proc.returncode == 0:
                    with np.load(self._dir / "out.npz") as out:
                        return out["null_k"], (out["null_m"] if bool(out["has_m"]) else None)
            self.where = "this process (the worker process failed)"
            return null_phis(*self.args)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the child if it still runs and remove the temporary folder."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            with contextlib.suppress(Exception):
                self._proc.communicate(timeout=10)
        shutil.rmtree(self._dir, ignore_errors=True)


def _env() -> dict[str, str]:
    """The parent's environment, with this copy of permadani first on the child's import path."""
    root = str(Path(__file__).resolve().parents[3])
    paths = [root, *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def main(argv: list[str]) -> int:
    from .richclub import null_phis

    src, dst = argv
    with np.load(src) as a:
        rank = a["rank"] if bool(a["has_rank"]) else None
        null_k, null_m = null_phis(a["edges"], int(a["n_vertices"]), a["ks"], rank, a["sizes"], int(a["samples"]),
                                   int(a["trials"]), int(a["seed"]))
    tmp = dst + ".tmp.npz"
    np.savez(tmp, null_k=null_k, null_m=null_m if null_m is not None else np.empty((0, 0)), has_m=null_m is not None)
    Path(tmp).replace(dst)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
