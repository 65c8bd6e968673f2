"""zstd decompression that keeps a long window (Pushshift's 2 GiB) in a disk-backed ring, not in process memory.

A zstd decoder must be able to copy from anywhere in the last ``window`` bytes it produced, so python-zstandard
keeps that window in its own buffer: 2 GiB of RAM for the Reddit dumps once 2 GiB have been decompressed.

Here libzstd (through ctypes, in ``ZSTD_d_stableOutBuffer`` mode) writes straight into one huge virtual buffer
whose pages come from a scratch file of ``R = 2^⌈log₂ window⌉ + margin`` bytes mapped again and again: lap k of
the buffer, bytes [k·R, (k+1)·R), is the same file. The decoder sees contiguous output and reads back at most
``window`` < R bytes, which are still the right ones; writing byte x overwrites x − R, long handed out. After
every block, the pages behind what was handed out are unmapped (``MADV_DONTNEED``): they stay in the kernel's
page cache, which writes them to disk and drops them under memory pressure (as DuckDB does with its spill
files), and the decoder faults back in the pages it copies from, released again every ``SWEEP`` bytes or as soon
as ``REMAPPED_PAGES`` are mapped back, which is checked after every call to the decoder (``INPUT``).
Process memory stays at a few blocks plus what the decoder re-read since the last sweep; the cost is page faults
(measured in ``bench/README.md``) and ``R`` bytes of free disk in the temporary folder.

``available()`` tells whether this machine can (Linux, libzstd ≥ 1.4.5); ``_io.read_chunks`` uses it for frames
whose window is at least ``DISK_WINDOW_MIN``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import math
import mmap
import os
import sys
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import AdapterError
from ._io import DAMAGED_HINT

#: Windows from this size up are kept on disk by default (smaller ones cost little memory).
DISK_WINDOW_MIN = 256 * 2**20
#: Ring bytes beyond the window (at least; four blocks when blocks are larger): slack for what the decoder writes
#: ahead of its position and for the very long lines handed out in pieces (half of it). Output not yet handed out
#: may use the whole ring; more is an error, never a silent overwrite. Every byte of the ring is fresh page cache
#: on the first lap, and on this project's virtual machines a page touched for the first time costs ~9 µs of
#: system time, so the margin is kept small (it was 256 MiB: bench/README.md, round 11).
MARGIN = 64 * 2**20
#: Virtual size of the output buffer (the largest decompressed size this reader supports): 16 TiB.
VIRTUAL = 2**44
#: At most this many laps (memory mappings) of the ring.
MAX_LAPS = 8192
#: Compressed bytes fed per call: from ``INPUT`` up to ``INPUT_MOST``, halved after a call that mapped more than
#: ``READ_BACK`` pages of old output back in and doubled after one that did not (after each call, the pages
#: mapped back are counted, see ``REMAPPED_PAGES``). Small calls bound what one call can map back (the 5M dump
#: compressed with long-distance matching: 64 KiB peaked at 677 MB, 1 MiB at 1.8 GB); large ones cost less
#: where nothing far is read (our own 5M dump's ingest: 3.8 – 3.9 s of system time against 5.3 – 6.8 s).
INPUT = 64 << 10
INPUT_MOST = 1 << 20
READ_BACK = (4 << 20) // mmap.PAGESIZE
#: Decompressed bytes handed out at a time (cut after a newline, see ``blocks``).
BLOCK = 16 << 20
#: Every this many bytes handed out, the whole window is released again: the decoder's reads of old output fault
#: pages back in, which would otherwise pile up to the window's size.
SWEEP = 256 << 20
#: ... or as soon as the decoder has mapped this many pages back in since the last sweep (dumps compressed with
#: long-distance matching, ``zstd --long=31`` as Pushshift's are, read back from all over the window: a 5M dump
#: recompressed that way mapped 3.3 GB back between 256 MiB sweeps; bench/README.md, rounds 12 and 13). Checked
#: after every call to the decoder. Until the decoder first reads from far back, a read fault maps one page
#: (``MADV_RANDOM``); from then on its neighbours too (the kernel's fault-around), which for these dumps costs
#: half the CPU for the same bound (5M LDM dump: 16.6 – 17.5 s to decompress with one page per fault and 256 MiB
#: checked per block, peak 616 MB; 8.2 s and 563 MB with fault-around and this budget checked per call, 8.0 s
#: and 675 MB with 256 MiB, 9.8 s and 549 MB with 128 MiB).
REMAPPED_PAGES = (192 << 20) // mmap.PAGESIZE

_WINDOW_LOG_MAX = 100  # ZSTD_d_windowLogMax
_STABLE_OUT_BUFFER = 1001  # ZSTD_d_stableOutBuffer (ZSTD_d_experimentalParam2)
_PROT_NONE, _PROT_RW = 0, mmap.PROT_READ | mmap.PROT_WRITE
_MAP_FIXED, _MAP_NORESERVE = 0x10, 0x4000
_MADV_DONTNEED = 4
_MADV_NORMAL, _MADV_RANDOM = 0, 1


class NoRoomForWindow(AdapterError):
    """The scratch file does not fit in the temporary folder (raised before any input is read)."""


class _Buffer(ctypes.Structure):  # ZSTD_inBuffer and ZSTD_outBuffer have the same layout
    _fields_ = [("ptr", ctypes.c_void_p), ("size", ctypes.c_size_t), ("pos", ctypes.c_size_t)]


@cache
def _libraries() -> tuple[Any, Any] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        zstd = ctypes.CDLL(ctypes.util.find_library("zstd") or "libzstd.so.1")
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if zstd.ZSTD_versionNumber() < 10405:  # stable output buffers came with 1.4.5
            return None
    except (OSError, AttributeError):
        return None
    zstd.ZSTD_createDCtx.restype = ctypes.c_void_p
    zstd.ZSTD_freeDCtx.argtypes = [ctypes.c_void_p]
    zstd.ZSTD_DCtx_setParameter.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    zstd.ZSTD_DCtx_setParameter.restype = ctypes.c_size_t
    zstd.ZSTD_decompressStream.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Buffer), ctypes.POINTER(_Buffer)]
    zstd.ZSTD_decompressStream.restype = ctypes.c_size_t
    zstd.ZSTD_isError.argtypes = [ctypes.c_size_t]
    zstd.ZSTD_isError.restype = ctypes.c_uint
    zstd.ZSTD_getErrorName.argtypes = [ctypes.c_size_t]
    zstd.ZSTD_getErrorName.restype = ctypes.c_char_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                          ctypes.c_long]
    libc.mmap.restype = ctypes.c_void_p
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    for name in ("memchr", "memrchr"):
        getattr(libc, name).argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
        getattr(libc, name).restype = ctypes.c_void_p
    return zstd, libc


def available() -> bool:
    """True when this machine can keep zstd windows on disk (Linux with libzstd ≥ 1.4.5)."""
    return _libraries() is not None


def window_log(window: int) -> int:
    """⌈log₂ window⌉, at least 12 (so that every lap starts on a page)."""
    return max(12, math.ceil(math.log2(max(window, 1))))


def margin_bytes(block: int | None = None) -> int:
    """Ring bytes beyond the window for blocks of ``block`` bytes (default ``BLOCK``): ``MARGIN``, or four blocks
    (in whole pages, so that every lap of the ring starts on a page)."""
    return max(MARGIN, -(-4 * (block or BLOCK) // mmap.PAGESIZE) * mmap.PAGESIZE)


def ring_bytes(window: int, block: int | None = None) -> int:
    """Size of the scratch file for a frame window of ``window`` bytes: window + ``margin_bytes(block)``, and at
    least ``VIRTUAL / MAX_LAPS`` (the kernel allows a process some 65k mappings; one per lap)."""
    fewest = -(-VIRTUAL // MAX_LAPS // mmap.PAGESIZE) * mmap.PAGESIZE
    return max((1 << window_log(window)) + margin_bytes(block), fewest)


def blocks(path: Path, raw: Any, window: int, temp_dir: str | Path | None = None, block: int | None = None
           ) -> Iterator[bytes]:
    """Decompressed blocks of the zstd stream ``raw`` (a binary file object), the window on disk (see module).

    Each block is the output up to its last newline within ``block`` bytes (default ``BLOCK``), copied once out
    of the ring, so it can serve as a chunk of whole lines as it is. A line longer than that makes a longer
    block; one longer than half of the margin (``margin_bytes``) is handed out in pieces. The last block is the
    rest.

    AdapterError (naming ``path`` and the compressed byte offset) on a damaged or truncated stream, when the
    scratch file does not fit on disk, or when a later frame needs a larger window than the first.
    """
    libs = _libraries()
    if libs is None:
        raise AdapterError("keeping the zstd window on disk needs Linux and libzstd >= 1.4.5", path=path,
                           hint="Use --option zstd_window=memory")
    zstd, libc = libs
    block = block or BLOCK
    margin = margin_bytes(block)
    ring = ring_bytes(window, block)
    laps = VIRTUAL // ring
    folder = Path(temp_dir) if temp_dir else Path(tempfile.gettempdir())
    fd, name = tempfile.mkstemp(prefix="permadani-zstd-window-", dir=folder)
    os.unlink(name)
    base = None
    dctx = None
    try:
        try:
            os.posix_fallocate(fd, 0, ring)  # reserve the blocks now: a full disk is an error here, not a SIGBUS
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            raise NoRoomForWindow(f"the zstd window needs {ring / 2**30:.1f} GiB of free disk in {folder}",
                               path=path, hint="Set TMPDIR to a larger disk, or use --option zstd_window=memory"
                               ) from exc
        base = libc.mmap(None, laps * ring, _PROT_NONE, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | _MAP_NORESERVE,
                         -1, 0)
        if base in (None, ctypes.c_void_p(-1).value):
            raise OSError(ctypes.get_errno(), "cannot reserve address space for the zstd window")
        for lap in range(laps):  # every lap maps the same file: contiguous output, R bytes of pages
            at = libc.mmap(base + lap * ring, ring, _PROT_RW, mmap.MAP_SHARED | _MAP_FIXED, fd, 0)
            if at != base + lap * ring:
                raise OSError(ctypes.get_errno(), "cannot map the zstd window file")
        libc.madvise(base, laps * ring, _MADV_RANDOM)  # until the decoder reads from far back (see ``_decode``)
        dctx = zstd.ZSTD_createDCtx()
        # a later frame with a larger window than the ring holds is refused by the decoder, never mis-decoded
        for param, value in ((_WINDOW_LOG_MAX, window_log(window)), (_STABLE_OUT_BUFFER, 1)):
            _check(zstd, zstd.ZSTD_DCtx_setParameter(dctx, param, value), path, 0)
        yield from _decode(zstd, libc, dctx, raw, path, base, laps * ring, ring, block, margin)
    finally:
        if dctx is not None:
            zstd.ZSTD_freeDCtx(dctx)
        if base is not None:
            libc.munmap(base, laps * ring)
        with contextlib.suppress(OSError):
            os.close(fd)


def _decode(zstd: Any, libc: Any, dctx: int, raw: Any, path: Path, base: int, size: int, ring: int, block: int,
            margin: int) -> Iterator[bytes]:
    out = _Buffer(base, size, 0)
    handed = dropped = swept = seen = known = 0
    result = 0
    started = False
    page = mmap.PAGESIZE
    step, far = INPUT, False
    with _MappedPages() as mapped:
        while True:
            data = raw.read(step)
            if not data:
                break
            seen += len(data)
            started = True
            source = ctypes.create_string_buffer(data, len(data))
            inp = _Buffer(ctypes.addressof(source), len(data), 0)
            while inp.pos < inp.size:
                before, written = mapped.now(), out.pos
                result = zstd.ZSTD_decompressStream(dctx, ctypes.byref(out), ctypes.byref(inp))
                _check(zstd, result, path, seen)
                # pages mapped during the call beyond the new output's own: old output read back
                after = mapped.now()
                read_far = after - before - (out.pos - written) // page > READ_BACK
                step = max(INPUT, step // 2) if read_far else min(INPUT_MOST, step * 2)
                if read_far and not far:  # long-distance matches: from now on read faults map neighbours too
                    libc.madvise(base, size, _MADV_NORMAL)
                    far = True
                if out.pos - handed >= ring - page:  # the ring wrapped over output not yet handed out
                    raise AdapterError("a zstd block expands beyond the disk window's margin", path=path,
                                       location=f"byte {seen}", hint="Use --option zstd_window=memory")
                if after - mapped.after_sweep >= REMAPPED_PAGES:  # pages read back from the window: drop them again
                    low = max(0, dropped - ring)
                    libc.madvise(base + low, dropped - low, _MADV_DONTNEED)
                    mapped.swept()
                while out.pos - handed >= block:
                    cut, known = _cut(libc, base, handed, known, out.pos, block, margin)
                    if not cut:
                        break
                    yield ctypes.string_at(base + handed, cut - handed)
                    handed = cut
                    keep = handed // page * page
                    if keep > dropped:
                        libc.madvise(base + dropped, keep - dropped, _MADV_DONTNEED)
                        dropped = keep
                    if keep - swept >= SWEEP:  # the whole window again, whatever was counted
                        low = max(0, keep - ring) // page * page
                        libc.madvise(base + low, keep - low, _MADV_DONTNEED)
                        swept = keep
                        mapped.swept()
    if started and result != 0:
        raise AdapterError("the compressed stream is truncated (it ends inside a zstd frame)", path=path,
                           location=f"byte {seen}", hint=DAMAGED_HINT)
    if out.pos > handed:
        yield ctypes.string_at(base + handed, out.pos - handed)


class _MappedPages:
    """Resident file-backed (and shared) pages of this process (``/proc/self/statm``, third field), and how many
    there were at the last ``swept()``: the window's pages that the decoder faulted back in are counted there.
    Always 0 where ``statm`` cannot be read. Read through one open descriptor: it is read around every call to
    the decoder."""

    def __init__(self) -> None:
        try:
            self.fd: int | None = os.open("/proc/self/statm", os.O_RDONLY)
        except OSError:
            self.fd = None
        self.after_sweep = self.now()

    def __enter__(self) -> _MappedPages:
        return self

    def __exit__(self, *_: object) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def now(self) -> int:
        if self.fd is None:
            return 0
        try:
            return int(os.pread(self.fd, 256, 0).split()[2])
        except (OSError, ValueError, IndexError):
            return 0

    def swept(self) -> None:
        self.after_sweep = self.now()


def _cut(libc: Any, base: int, handed: int, known: int, end: int, block: int, margin: int) -> tuple[int, int]:
    """``(where the next block ends, known)``: after the last newline of the ``block`` bytes from ``handed``,
    else after the first newline beyond them (a long line), else at half the ``margin`` without one (a very long
    line, handed out in pieces), else 0: decode more first. ``known``: up to there, no newline follows
    ``handed`` (so a line still being decoded is not searched again from its start)."""
    if known <= handed:
        last = libc.memrchr(base + handed, 10, block)
        if last:
            return int(last) - base + 1, 0
        known = handed + block
    beyond = libc.memchr(base + known, 10, end - known)
    if beyond:
        return int(beyond) - base + 1, 0
    return (end, 0) if end - handed >= margin // 2 else (0, end)


def _check(zstd: Any, result: int, path: Path, seen: int) -> None:
    if zstd.ZSTD_isError(result):
        name = zstd.ZSTD_getErrorName(result).decode("ascii", "replace")
        raise AdapterError(f"the compressed stream is damaged ({name})", path=path, location=f"byte {seen}",
                           hint=DAMAGED_HINT)
