"""JSON reading helpers shared by the social-platform adapters (Mastodon, Bluesky, Facebook, Google+, X archive).

Three shapes of JSON input, one reader each:

- ``iter_array_items``: a file that is one big JSON array (optionally behind a JavaScript prefix such as X's
  ``window.YTD.tweet.part0 = [``): items are decoded one at a time from a sliding text buffer, so memory is
  bounded by the largest item, not by the file;
- ``iter_documents``: a file holding one JSON document (an API response body: bounded by the API's page size,
  so it is parsed whole) or JSON lines (one document per line, streamed);
- ``json_files`` / ``sniff_folder``: the JSON files of an export folder, and a cheap folder sniff that looks at
  the first bytes of a few of them.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import AdapterError
from ._io import BOM, iter_lines, open_binary, read_head
from .base import Adapter, Batch, BatchBuilder, Probe

JSON_SUFFIXES = (".json", ".jsonl", ".ndjson", ".js")
_COMPRESSED = (".gz", ".zst", ".zstd", ".bz2", ".xz")
_WS = " \t\r\n"


class Bad:
    """A document or item that could not be decoded: ``reason`` code and ``detail``."""

    __slots__ = ("detail", "reason")

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail


def base_suffix(path: Path) -> str:
    """The suffix that names the content (``.json`` for ``x.json.gz``), lower case."""
    suffixes = [s.lower() for s in path.suffixes]
    while suffixes and suffixes[-1] in _COMPRESSED:
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def json_files(path: Path, suffixes: tuple[str, ...] = (".json", ".jsonl", ".ndjson")) -> list[Path]:
    """``path`` itself when it is a file, else the files below it whose content suffix is in ``suffixes``."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and base_suffix(p) in suffixes)


def sniff_folder(path: Path, names: tuple[str, ...], test: Callable[[bytes], bool], limit: int = 8,
                 suffixes: tuple[str, ...] = JSON_SUFFIXES) -> bool:
    """True when one of the first ``limit`` children with a suffix in ``suffixes`` has a head that passes
    ``test`` (a cheap look at a few files, never a scan of the folder)."""
    seen = 0
    for name in names:
        child = path / name
        if base_suffix(child) not in suffixes or not child.is_file():
            continue
        seen += 1
        if test(read_head(child)):
            return True
        if seen >= limit:
            break
    return False


def head_text(head: bytes) -> str:
    """The head decoded leniently with BOM and leading whitespace removed."""
    return head.decode("utf-8", errors="replace").lstrip("\ufeff" + _WS)


def _is_json_lines(head: bytes) -> bool:
    """True when the first line is a complete JSON value and something follows it (JSON lines)."""
    text = head_text(head)
    first, newline, rest = text.partition("\n")
    if not newline or not rest.strip():
        return False
    try:
        json.loads(first)
    except (ValueError, RecursionError):
        return False
    return True


def iter_documents(path: Path, on_bytes: Callable[[int], None] | None = None
                   ) -> Iterator[tuple[str, int | None, Any, bytes]]:
    """Yield ``(location, line, value, raw)`` for every JSON document of ``path``.

    ``value`` is the decoded document, or a ``Bad`` for a JSON-lines line that cannot be decoded. A file that
    holds one document is parsed whole (API response bodies are bounded by the API's page size); a damaged one
    raises ``AdapterError`` naming the file. JSON lines are streamed line by line.
    """
    head = read_head(path)
    if not _is_json_lines(head):
        with open_binary(path, on_bytes) as fh:
            data = fh.read()
        if data.startswith(BOM):
            data = data[len(BOM):]
        if not data.strip():
            return
        try:
            yield "document", None, json.loads(data), data[:2000]
            return
        except UnicodeDecodeError as exc:
            raise AdapterError(f"not valid UTF-8 ({exc})", path=path, hint="Re-export the file as UTF-8") from exc
        except RecursionError as exc:
            raise AdapterError("JSON nested too deeply to read", path=path,
                               hint="This does not look like a platform export; check the file") from exc
        except json.JSONDecodeError as exc:
            if not exc.msg.startswith("Extra data"):
                raise AdapterError(
                    f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})", path=path,
                    hint="The file may be truncated; re-download it, or check it with 'python -m json.tool'",
                ) from exc
        # "Extra data": JSON lines whose first line is longer than the sniffing head; read it line by line.
    for number, raw in iter_lines(path, on_bytes):
        if not raw.strip():
            continue
        try:
            yield f"line {number}", number, json.loads(raw), raw
        except UnicodeDecodeError:
            yield f"line {number}", number, Bad("invalid-utf8", "the line is not valid UTF-8"), raw
        except (ValueError, RecursionError) as exc:
            yield f"line {number}", number, Bad("malformed-json", str(exc)), raw


def iter_array_items(path: Path, on_bytes: Callable[[int], None] | None = None, chunk_size: int = 1 << 20
                     ) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, item)`` (1-based) for the items of the JSON array that makes up ``path``, streaming.

    Anything before the first ``[`` (X's ``window.YTD.tweet.part0 =``) is skipped. A file whose first value
    is not an array, or an array that is damaged or truncated, raises ``AdapterError`` naming the item.
    """
    decoder = json.JSONDecoder()
    with open_binary(path, on_bytes) as binary:
        reader = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="strict")

        def more(size: int) -> str:
            try:
                return reader.read(size)
            except UnicodeDecodeError as exc:
                raise AdapterError(f"not valid UTF-8 ({exc})", path=path,
                                   hint="Re-export the file as UTF-8") from exc

        buf = more(chunk_size)
        eof = not buf
        start = buf.find("[")
        brace = buf.find("{")
        while start < 0 and not eof and len(buf) < 4 * chunk_size:
            block = more(chunk_size)
            eof = not block
            buf += block
            start, brace = buf.find("["), buf.find("{")
        if start < 0 or (0 <= brace < start):
            raise AdapterError("expected a JSON array (optionally after a 'window.YTD... =' prefix)", path=path,
                               hint="Choose the adapter for this file with --format")
        pos = start + 1
        index = 0
        want = chunk_size
        while True:
            while True:
                while pos < len(buf) and buf[pos] in _WS + ",":
                    pos += 1
                if pos < len(buf) or eof:
                    break
                block = more(chunk_size)
                eof = not block
                buf, pos = buf[pos:] + block, 0
            if pos >= len(buf):
                raise AdapterError(f"the JSON array ends without ']' after item {index}", path=path,
                                   location=f"item {index + 1}", hint="The file is truncated; re-download it")
            if buf[pos] == "]":
                return
            try:
                value, end = decoder.raw_decode(buf, pos)
                complete = isinstance(value, dict | list) or end < len(buf) or eof
            except RecursionError as exc:
                raise AdapterError(f"item {index + 1} is nested too deeply to read", path=path,
                                   location=f"item {index + 1}",
                                   hint="This does not look like a platform export; check the file") from exc
            except json.JSONDecodeError as exc:
                if eof:
                    raise AdapterError(f"item {index + 1} is not valid JSON ({exc.msg})", path=path,
                                       location=f"item {index + 1}",
                                       hint="The file is damaged or truncated; re-download it") from exc
                complete = False
            if not complete:
                block = more(want)
                eof = not block
                buf, pos = buf[pos:] + block, 0
                want *= 2
                continue
            want = chunk_size
            index += 1
            yield index, value
            pos = end
            if pos > chunk_size:
                buf, pos = buf[pos:], 0


class JsonDocumentsAdapter(Adapter):
    """Base for adapters whose input is API response bodies or JSON lines: one file, or a folder of them.

    A subclass gives ``looks_like(head)`` (cheap test on the first bytes) and ``document(builder, value, location,
    line, raw)`` (turn one parsed document into posts / account records / rejects). This class sniffs files and
    folders, lists the JSON files, streams the documents, and rejects the ones that cannot be parsed.
    """

    @staticmethod
    def looks_like(head: bytes) -> bool:
        raise NotImplementedError

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        if probe.is_dir:
            return sniff_folder(probe.path, probe.children, cls.looks_like)
        return cls.looks_like(probe.head)

    def files(self, path: Path) -> list[Path]:
        return json_files(path)

    def read(self, path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[Batch]:
        for file in self.files(path):
            builder = BatchBuilder(file, self.name, self.platform)
            for location, line, value, raw in iter_documents(file, on_bytes):
                if isinstance(value, Bad):
                    builder.read += 1
                    builder.reject(location, value.reason, raw, value.detail)
                else:
                    self.document(builder, value, location, line, raw)
                if builder.full and (batch := builder.flush()):
                    yield batch
            if batch := builder.flush():
                yield batch

    def document(self, builder: BatchBuilder, value: Any, location: str, line: int | None, raw: bytes) -> None:
        """Turn one parsed JSON document into rows; every record met counts in ``builder.read``."""
        raise NotImplementedError
