"""Streaming input helpers shared by adapters: transparent decompression, byte counting, lines, timestamps.

Reddit's Pushshift dumps are zstd with a 2 GiB window (``--long=31``); most readers refuse them. We read them
streaming, so memory stays flat whatever the file size: windows of 256 MiB and more through ``_zstd_window``
(the window in a disk-backed ring, not in process memory), smaller ones with python-zstandard.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import BinaryIO

import zstandard

from ..errors import AdapterError
from ..schema import EXCERPT_CHARS

ZSTD_MAX_WINDOW = 2**31
HEAD_BYTES = 64 * 1024
BOM = b"\xef\xbb\xbf"
CHUNK = 8 * 1024 * 1024
DAMAGED_HINT = "Re-download or re-copy the file; check it with 'zstd -t --long=31'"

_COMPRESSED = {".zst": "zstd", ".zstd": "zstd", ".gz": "gzip", ".bz2": "bz2", ".xz": "xz"}
_MAGIC = [(b"\x28\xb5\x2f\xfd", "zstd"), (b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz")]


def compression_of(path: Path) -> str | None:
    """'zstd', 'gzip', 'bz2', 'xz' or None, from the magic bytes (the suffix is only a hint)."""
    with open(path, "rb") as fh:
        magic = fh.read(6)
    for prefix, name in _MAGIC:
        if magic.startswith(prefix):
            return name
    return None


class CountingReader(io.RawIOBase):
    """Wraps a binary file and reports every byte read from disk to ``on_bytes`` (for byte progress bars)."""

    def __init__(self, raw: BinaryIO, on_bytes: Callable[[int], None] | None) -> None:
        self._raw = raw
        self._on_bytes = on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        if n and self._on_bytes is not None:
            self._on_bytes(n)
        return n

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if data and self._on_bytes is not None:
            self._on_bytes(len(data))
        return data

    def close(self) -> None:
        self._raw.close()
        super().close()


class CheckedZstdReader(io.RawIOBase):
    """Streaming zstd decompression (2 GiB windows allowed) that raises when the input ends inside a frame.

    python-zstandard's ``stream_reader`` ends silently on a truncated input, which would make a cut download look
    like a shorter dump; here every frame must reach its end. Concatenated frames are read one after another.
    """

    def __init__(self, raw: BinaryIO, path: Path) -> None:
        self._raw = raw
        self._path = path
        self._dctx = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
        self._obj = self._dctx.decompressobj()
        self._buffer = b""
        self._offset = 0
        self._seen = 0
        self._started = False
        self._blocks: Iterator[bytes] | None = None

    def readable(self) -> bool:
        return True

    def blocks(self) -> Iterator[bytes]:
        """Decompressed blocks as they come (one per megabyte of input), without copying them again."""
        while True:
            block = self._raw.read(1 << 20)
            if not block:
                if self._started and not self._obj.eof:
                    raise AdapterError("the compressed stream is truncated (it ends inside a zstd frame)",
                                       path=self._path, location=f"byte {self._seen}",
                                       hint=DAMAGED_HINT)
                return
            self._seen += len(block)
            try:
                if self._obj.eof:
                    self._obj = self._dctx.decompressobj()
                self._started = True
                out = self._obj.decompress(block)
                while self._obj.eof and self._obj.unused_data:  # the next frame starts inside this block
                    rest, self._obj = self._obj.unused_data, self._dctx.decompressobj()
                    out += self._obj.decompress(rest)
            except zstandard.ZstdError as exc:
                raise AdapterError(f"the compressed stream is damaged ({exc})", path=self._path,
                                   location=f"byte {self._seen}",
                                   hint=DAMAGED_HINT) from exc
            if out:
                yield out

    def _fill(self) -> bool:
        """Decompress more input into the buffer; False at a clean end of input."""
        if self._blocks is None:
            self._blocks = self.blocks()
        self._buffer = next(self._blocks, b"")
        self._offset = 0
        return bool(self._buffer)

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if self._offset >= len(self._buffer):
            self._buffer = b""
            if not self._fill():
                return 0
        n = min(len(buffer), len(self._buffer) - self._offset)
        buffer[:n] = self._buffer[self._offset:self._offset + n]
        self._offset += n
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_binary(path: Path, on_bytes: Callable[[int], None] | None = None) -> BinaryIO:
    """Open ``path`` for streaming reads, decompressing zstd (2 GiB windows included), gzip, bz2, xz.

    ``on_bytes`` is called with the number of *compressed* bytes consumed, so progress matches file size.
    """
    kind = compression_of(path)
    raw: BinaryIO = CountingReader(open(path, "rb"), on_bytes)  # type: ignore[assignment]
    if kind is None:
        return io.BufferedReader(raw, CHUNK)  # type: ignore[arg-type,type-var]
    if kind == "zstd":
        return io.BufferedReader(CheckedZstdReader(raw, path), CHUNK)  # type: ignore[arg-type]
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if kind == "bz2":
        return bz2.BZ2File(raw, mode="rb")  # type: ignore[return-value]
    return lzma.LZMAFile(raw, mode="rb")  # type: ignore[return-value]


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of the (decompressed) content; b'' when unreadable."""
    try:
        with open_binary(path) as fh:
            return fh.read(size)
    except (OSError, zstandard.ZstdError, EOFError, lzma.LZMAError):
        return b""


#: Where a zstd decoder keeps its window: "auto" (on disk for windows of ``_zstd_window.DISK_WINDOW_MIN`` and
#: more when the machine can, else in memory), "disk" or "memory".
ZSTD_WINDOW_MODES = ("auto", "disk", "memory")


def first_frame_window(path: Path) -> int:
    """Window size in bytes declared by the first zstd frame of ``path`` (0 when it cannot be read)."""
    with open(path, "rb") as fh:
        header = fh.read(18)
    try:
        return int(zstandard.get_frame_parameters(header).window_size)
    except zstandard.ZstdError:
        return 0


def _disk_window(path: Path, mode: str) -> int:
    """The window to keep on disk for ``path``, or 0 to decode in memory (``mode`` from ``ZSTD_WINDOW_MODES``)."""
    if mode not in ZSTD_WINDOW_MODES:
        raise ValueError(f"zstd_window must be one of {', '.join(ZSTD_WINDOW_MODES)} (got {mode!r})")
    if mode == "memory":
        return 0
    from . import _zstd_window

    window = first_frame_window(path)
    if mode == "disk":
        return max(window, 1)
    # a small file cannot fill a large window (text compresses ~5-10x): its decoder touches little memory
    big_enough = path.stat().st_size >= _zstd_window.DISK_WINDOW_MIN // 32
    return window if window >= _zstd_window.DISK_WINDOW_MIN and big_enough and _zstd_window.available() else 0


def _blocks(path: Path, on_bytes: Callable[[int], None] | None, size: int,
            zstd_window: str = "auto") -> Iterator[tuple[bytes, bool]]:
    """Decompressed bytes of ``path`` in blocks of any size, each with whether it is already a chunk of whole
    lines (zstd: as decoded, no extra copy; long windows kept on disk, see ``_zstd_window``, whose blocks are
    cut after a newline within ``size`` bytes)."""
    if compression_of(path) == "zstd":
        window = _disk_window(path, zstd_window)
        with open(path, "rb") as fh:
            raw = CountingReader(fh, on_bytes)
            if window:
                from . import _zstd_window

                try:
                    for block in _zstd_window.blocks(path, raw, window, block=size):
                        yield block, True
                    return
                except _zstd_window.NoRoomForWindow:
                    if zstd_window == "disk":
                        raise
                    fh.seek(0)  # nothing was read yet: decode in memory instead
            for block in CheckedZstdReader(raw, path).blocks():  # type: ignore[arg-type]
                yield block, False
        return
    with open_binary(path, on_bytes) as fh:
        while block := fh.read(size):
            yield block, False


#: A slice of a decompressed block: (block, start, end), kept without copying until a chunk is joined.
_Piece = tuple[bytes, int, int]


def _cut(pieces: list[_Piece]) -> tuple[bytes | None, list[_Piece]]:
    """Join ``pieces`` up to and including their last newline: ``(chunk, the pieces after it)``; None if none."""
    for i in range(len(pieces) - 1, -1, -1):
        block, start, end = pieces[i]
        cut = block.rfind(b"\n", start, end)
        if cut >= 0:
            views = [memoryview(b)[s:e] for b, s, e in pieces[:i]] + [memoryview(block)[start:cut + 1]]
            rest = ([(block, cut + 1, end)] if cut + 1 < end else []) + pieces[i + 1:]
            return b"".join(views), rest
    return None, pieces


def read_chunks(path: Path, on_bytes: Callable[[int], None] | None = None,
                chunk_size: int = CHUNK, zstd_window: str = "auto") -> Iterator[bytes]:
    """Yield decompressed chunks that each end on a line boundary (the last may not end with a newline).

    A chunk is the text up to the last newline within ``chunk_size`` bytes (longer only when a single line is);
    each byte is copied once, into its chunk (a block the decoder already cut after a newline is the chunk
    itself). A BOM at the very start is dropped. A damaged compressed stream raises ``AdapterError`` naming the
    file.
    """
    pieces: list[_Piece] = []
    have, want, first = 0, chunk_size, True
    try:
        for block, whole in _blocks(path, on_bytes, chunk_size, zstd_window):
            start = 0
            if first:
                first = False
                if block.startswith(BOM):
                    start = len(BOM)
            if whole and not pieces and block.endswith(b"\n"):
                if start < len(block):
                    yield block[start:] if start else block
                continue
            while start < len(block):  # here have < want
                end = min(len(block), start + want - have)
                pieces.append((block, start, end))
                have += end - start
                start = end
                while have >= want:
                    chunk, pieces = _cut(pieces)
                    if chunk is None:  # one line longer than a chunk: read on
                        want = have + chunk_size
                        break
                    yield chunk
                    have, want = sum(e - s for _, s, e in pieces), chunk_size
    except (zstandard.ZstdError, EOFError, lzma.LZMAError, gzip.BadGzipFile, OSError) as exc:
        raise AdapterError(
            f"the compressed stream is damaged or truncated ({exc})",
            path=path,
            hint=f"{DAMAGED_HINT} (or gzip -t)",
        ) from exc
    if pieces:
        yield b"".join(memoryview(b)[s:e] for b, s, e in pieces)


def iter_lines(path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line_number, raw_line)`` (1-based, newline and trailing CR removed), streaming."""
    number = 0
    for chunk in read_chunks(path, on_bytes):
        lines = chunk.split(b"\n")
        if chunk.endswith(b"\n"):
            lines.pop()
        for line in lines:
            number += 1
            if line.endswith(b"\r"):
                line = line[:-1]
            yield number, line


def excerpt(raw: bytes | str | None, limit: int = EXCERPT_CHARS) -> str:
    """A printable excerpt of a raw record: invalid UTF-8 bytes shown as ``\\xNN``."""
    if raw is None:
        return ""
    if isinstance(raw, bytes):
        raw = raw[: limit * 4].decode("utf-8", errors="backslashreplace")
    return raw[:limit]


_TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"
_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")


def parse_time(value: object) -> datetime | None:
    """Parse the timestamp shapes platforms use into an aware UTC datetime; None when impossible.

    Accepts epoch seconds (int, float or numeric string; values above 1e11 are taken as milliseconds),
    ISO 8601 (with or without zone; naive means UTC), RFC 2822 (e-mail) and Twitter's
    ``Wed Aug 27 13:08:45 +0000 2008``.
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, datetime):
            return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, int | float):
            seconds = float(value)
            if abs(seconds) > 1e11:
                seconds /= 1000.0
            return datetime.fromtimestamp(seconds, tz=UTC)
        text = str(value).strip()
        if not text:
            return None
        if _NUMERIC.match(text):
            return parse_time(float(text))
        if text.endswith((" UTC", " GMT")):
            text = text[:-4] + "+00:00"
        try:
            iso = text.replace("Z", "+00:00") if text.endswith("Z") else text
            parsed = datetime.fromisoformat(iso)
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
        try:
            return datetime.strptime(text, _TWITTER_TIME).astimezone(UTC)
        except ValueError:
            pass
        parsed = parsedate_to_datetime(text)
        if parsed is None:
            return None
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError, TypeError, IndexError):
        return None
