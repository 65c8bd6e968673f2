"""Keep freed memory in the process during a long job, instead of handing it back to the kernel at once.

glibc's ``malloc`` unmaps a freed block larger than its mmap threshold and trims the heap's free top beyond its
trim threshold. An ingest allocates and frees blocks of ~16 MiB (decompressed chunks) hundreds of times, so
each new one cost fresh pages: a page fault and a zeroed page per 4 KiB, which on virtual machines can also
mean the host backing that memory again. ``retain_freed_memory`` raises both thresholds so that freed blocks
are reused. Peak memory does not grow: the same number of blocks is alive at any time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable
from typing import cast

#: ``mallopt`` parameters (glibc ``malloc.h``).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
#: Blocks up to this size come from the heap, where a freed block can be reused (glibc's largest setting on
#: 64-bit systems is 32 MiB).
MMAP_THRESHOLD = 32 * 2**20
#: Free memory at the top of the heap kept up to this size (an ingest has about six chunks in flight).
TRIM_THRESHOLD = 256 * 2**20


def _mallopt() -> Callable[[int, int], int] | None:
    """glibc's ``mallopt``, or None (not Linux, or another C library)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return cast(Callable[[int, int], int], mallopt)


def available() -> bool:
    """True where ``retain_freed_memory`` can act (Linux with glibc)."""
    return _mallopt() is not None


def retain_freed_memory() -> bool:
    """Set glibc's thresholds (see module) for this process; False where there is no glibc (nothing changes)."""
    mallopt = _mallopt()
    if mallopt is None:
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
