"""The benchmarks' peak memory (``bench/_measure.run``) must include spikes shorter than its sampling interval."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from _measure import run

#: Touches 400 MiB, frees it, then idles: a spike of a fraction of a second between samples taken every 2 s.
SPIKE = """
import time
time.sleep(0.3)
block = bytearray(400 * 2**20)
for i in range(0, len(block), 4096):
    block[i] = 1
del block
time.sleep(1.5)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")
def test_peak_includes_a_spike_between_samples() -> None:
    seconds, peak, done = run([sys.executable, "-c", SPIKE], interval=2.0)
    assert done.returncode == 0, done.stderr
    assert seconds >= 1.8
    assert 400 * 2**20 <= peak < 600 * 2**20
