"""``retain_freed_memory``: blocks of ~16 MiB made in one thread and freed in another are reused, not faulted in
afresh (each case in its own interpreter, as the setting is process-wide)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from permadani import memory

_CHURN = """
import queue, resource, sys, threading
if sys.argv[1] == "retain":
    from permadani.memory import retain_freed_memory
    assert retain_freed_memory()
blocks = queue.Queue(maxsize=3)

def produce():
    for i in range(60):  # like the reader thread's decompressed chunks
        blocks.put(b"x" * (16 * 2**20 + i * 4096))
    blocks.put(None)

before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
worker = threading.Thread(target=produce)
worker.start()
while blocks.get() is not None:
    pass
worker.join()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _page_faults(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", _CHURN, mode], capture_output=True, text=True, check=True)
    return int(done.stdout)


@pytest.mark.skipif(not memory.available(), reason="needs Linux with glibc")
def test_freed_blocks_are_reused() -> None:
    default, retained = _page_faults("default"), _page_faults("retain")
    pages = 60 * 16 * 2**20 // 4096  # every block on fresh pages
    assert default > 0.8 * pages  # glibc as it comes: almost every block faults in anew
    assert retained < 0.4 * pages  # retained: only the first few blocks do
