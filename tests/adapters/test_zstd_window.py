"""The disk-backed zstd window gives byte-for-byte the output of python-zstandard, over many laps of its ring,
across frames, and fails loudly (never wrongly) on truncated, damaged or too-long-window input."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import zstandard

from permadani import AdapterError
from permadani.adapters import _zstd_window
from permadani.adapters._io import read_chunks
from permadani.adapters.reddit_pushshift import PushshiftAdapter, PushshiftOptions

pytestmark = pytest.mark.skipif(not _zstd_window.available(), reason="needs Linux and libzstd >= 1.4.5")


def _text(n_lines: int, seed: int) -> bytes:
    """JSON-ish lines with repeats near and far (so the decoder copies from across the window)."""
    rng = np.random.default_rng(seed)
    words = [f"w{i:04d}".encode() for i in range(3000)]
    lines = []
    for i in range(n_lines):
        picked = rng.integers(0, len(words), 12)
        lines.append(b'{"id": "%d", "body": "' % i + b" ".join(words[j] for j in picked) + b'"}\n')
    return b"".join(lines)


def _compress(data: bytes, window_log: int) -> bytes:
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=window_log)
    obj = zstandard.ZstdCompressor(compression_params=params).compressobj()
    return obj.compress(data) + obj.flush()


@pytest.fixture()
def small_ring(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ring of 1 MiB + 256 KiB and small blocks: a few MB of output go round it several times."""
    monkeypatch.setattr(_zstd_window, "MARGIN", 256 * 1024)
    monkeypatch.setattr(_zstd_window, "BLOCK", 64 * 1024)
    monkeypatch.setattr(_zstd_window, "INPUT", 8 * 1024)
    monkeypatch.setattr(_zstd_window, "INPUT_MOST", 8 * 1024)
    monkeypatch.setattr(_zstd_window, "VIRTUAL", 2**30)


def _disk(path: Path, window: int) -> bytes:
    with open(path, "rb") as fh:
        return b"".join(_zstd_window.blocks(path, fh, window))


def test_same_bytes_as_python_zstandard_over_many_laps_and_frames(tmp_path: Path, small_ring: None) -> None:
    first, second = _text(60_000, 1), _text(40_000, 2)
    path = tmp_path / "two-frames.zst"
    path.write_bytes(_compress(first, 20) + _compress(second, 20))
    out = _disk(path, 2**20)
    assert len(out) == len(first) + len(second) > 5 * _zstd_window.ring_bytes(2**20)  # > 5 laps of the ring
    assert hashlib.sha256(out).digest() == hashlib.sha256(first + second).digest()
    chunks = list(read_chunks(path, chunk_size=100_000, zstd_window="disk"))
    assert b"".join(chunks) == first + second and all(c.endswith(b"\n") for c in chunks)


def test_truncated_and_damaged_streams_are_errors(tmp_path: Path, small_ring: None) -> None:
    data = _compress(_text(30_000, 3), 20)
    cut = tmp_path / "cut.zst"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(AdapterError, match="truncated") as info:
        _disk(cut, 2**20)
    assert "cut.zst" in str(info.value) and "byte" in str(info.value)
    bad = bytearray(data)
    bad[len(bad) // 2: len(bad) // 2 + 64] = bytes(64)
    broken = tmp_path / "broken.zst"
    broken.write_bytes(bytes(bad))
    with pytest.raises(AdapterError, match=r"damaged|truncated"):
        _disk(broken, 2**20)


def test_a_later_frame_with_a_larger_window_is_refused(tmp_path: Path, small_ring: None) -> None:
    path = tmp_path / "grow.zst"
    path.write_bytes(_compress(_text(2_000, 4), 12) + _compress(_text(40_000, 5), 24))
    with pytest.raises(AdapterError, match="damaged"):
        _disk(path, 2**12)


def test_real_dump_reads_the_same_with_the_window_on_disk(shared_data: Path) -> None:
    import shutil
    import tempfile

    if shutil.disk_usage(tempfile.gettempdir()).free < 3 * 2**30:
        pytest.skip("the 2 GiB window's scratch file needs 2.25 GiB of free disk in the temporary folder")
    path = shared_data / "reddit-pushshift" / "RC_2006-01.zst"  # a real 2 GiB-window dump
    assert _zstd_window.ring_bytes(2**31) == 2**31 + _zstd_window.MARGIN
    memory = [list(PushshiftAdapter(PushshiftOptions(zstd_window=mode)).read(path))
              for mode in ("memory", "disk")]
    tables = [[b.posts for b in batches] for batches in memory]
    assert sum(t.num_rows for t in tables[0]) == 3_666
    assert all(a.equals(b) for a, b in zip(tables[0], tables[1], strict=True))
    with pytest.raises(ValueError, match="zstd_window"):
        PushshiftOptions(zstd_window="ram")


def test_no_room_for_the_window_falls_back_to_memory_unless_disk_was_asked(
        tmp_path: Path, small_ring: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import os

    def full(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    data = _text(5_000, 6)
    path = tmp_path / "big-window.zst"
    path.write_bytes(_compress(data, 20))
    monkeypatch.setattr(os, "posix_fallocate", full)
    monkeypatch.setattr(_zstd_window, "DISK_WINDOW_MIN", 2**19)  # make auto choose the disk for this file
    assert path.stat().st_size >= 2**19 // 32  # big enough for auto to want the disk
    assert b"".join(read_chunks(path, zstd_window="auto")) == data
    with pytest.raises(AdapterError, match="free disk"):
        b"".join(read_chunks(path, zstd_window="disk"))


def test_blocks_are_cut_after_a_newline_and_long_lines_survive(tmp_path: Path, small_ring: None) -> None:
    """Blocks end after their last newline within ``BLOCK`` bytes (so ``read_chunks`` passes them on as chunks,
    without a second copy); a line longer than a block makes a longer block, and one longer than half the
    margin comes out in pieces that ``read_chunks`` joins again."""
    long_line = b'{"id": "long", "body": "' + b"x" * 100_000 + b'"}\n'  # > BLOCK (64 KiB), < MARGIN / 2
    huge_line = b'{"id": "huge", "body": "' + b"y" * 400_000 + b'"}\n'  # > MARGIN / 2 (128 KiB)
    data = _text(20_000, 7) + long_line + _text(20_000, 8) + huge_line + _text(5_000, 9) + b'{"id": "last"}'
    path = tmp_path / "lines.zst"
    path.write_bytes(_compress(data, 20))
    with open(path, "rb") as fh:
        blocks = list(_zstd_window.blocks(path, fh, 2**20))
    assert b"".join(blocks) == data
    whole = [b for b in blocks if b.endswith(b"\n")]
    assert len(whole) >= len(blocks) - 4  # the huge line's pieces and the unterminated end
    assert all(len(b) <= _zstd_window.BLOCK or b.count(b"\n") == 1 for b in whole)  # longer: one long line
    assert any(len(b) > _zstd_window.BLOCK for b in whole)  # the long line's block
    assert not blocks[-1].endswith(b"\n")
    chunks = list(read_chunks(path, chunk_size=_zstd_window.BLOCK, zstd_window="disk"))
    assert b"".join(chunks) == data
    assert all(c.endswith(b"\n") for c in chunks[:-1]) and chunks[-1].endswith(b'\n{"id": "last"}')
    assert any(c.endswith(huge_line) for c in chunks)  # rejoined whole


def test_pages_read_back_from_far_are_released_within_the_budget(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Long-distance matching (``zstd --long``) makes the decoder copy from all over the window; the pages it maps
    back in are dropped again once they reach ``REMAPPED_PAGES``, not only every ``SWEEP`` bytes."""
    base = _text(100_000, 3)  # ~7 MB, repeated with its ids changed: every repeat copies from 7 MB back
    data = b"".join(base.replace(b'"id": "', b'"id": "%d-' % k) for k in range(6))
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=24, enable_ldm=True)
    path = tmp_path / "ldm.zst"
    path.write_bytes(zstandard.ZstdCompressor(compression_params=params).compress(data))
    monkeypatch.setattr(_zstd_window, "BLOCK", 1 << 20)
    monkeypatch.setattr(_zstd_window, "MARGIN", 4 << 20)
    monkeypatch.setattr(_zstd_window, "VIRTUAL", 2**32)
    monkeypatch.setattr(_zstd_window, "INPUT", 512)  # the repeats compress ~1000:1: at most ~0.5 MB out per call
    monkeypatch.setattr(_zstd_window, "INPUT_MOST", 2048)  # and ~2 MB once the far reads stop
    block_pages = (1 << 20) // 4096

    def most_mapped_back(budget_pages: int) -> int:
        monkeypatch.setattr(_zstd_window, "REMAPPED_PAGES", budget_pages)
        pages = _zstd_window._MappedPages()
        start, mapped, out = pages.now(), [], []
        with pages, open(path, "rb") as fh:
            for block in _zstd_window.blocks(path, fh, 2**24):
                out.append(block)
                mapped.append(pages.now() - start)
        assert b"".join(out) == data
        return max(mapped[len(mapped) // 2:])  # in the repeats, once the window is full

    unbounded = most_mapped_back(2**40)
    bounded = most_mapped_back(256)
    assert unbounded > 6000  # over 24 MB of the window mapped back: the 256 MiB sweeps never come
    assert bounded <= 256 + 3 * block_pages
