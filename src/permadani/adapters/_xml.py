"""Safe streaming XML for adapters: defusedxml parsing, one element at a time, memory flat.

``iter_elements(path, tags)`` yields ``(line, element)`` for every completed element whose tag is in ``tags``
(namespaced tags as ``{uri}local``). After the caller has looked at an element it is cleared and detached from
its parent, so a 50 GB dump needs no more memory than its largest element. The parser is defusedxml's
``DefusedXMLParser`` (expat underneath): entity declarations (billion laughs, quadratic blow-up) and external
references are refused, never expanded. Line numbers come from expat and are the line of the element's start tag.

XML cannot be resumed after a syntax error, so any error is a whole-file ``AdapterError`` naming the file, the
line and column, and what to do; elements yielded before it are then discarded by ingest (nothing is written).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, TreeBuilder

import zstandard
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from ..errors import AdapterError
from ._io import open_binary

FEED_BYTES = 1024 * 1024

_PROLOG = re.compile(rb"\s*(<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(\[.*?\])?\s*>)", re.S)
_TAG = re.compile(rb"\s*<([A-Za-z_][\w.\-:]*)")


def root_tag(head: bytes) -> str | None:
    """The name of the document element in the first bytes of an XML file (for sniffing); None when not XML."""
    data = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    pos = 0
    while True:
        match = _PROLOG.match(data, pos)
        if not match:
            break
        pos = match.end()
    tag = _TAG.match(data, pos)
    return tag.group(1).decode("ascii", "replace") if tag else None


class _Collector:
    """Parser target: builds elements with a TreeBuilder and records the wanted ones as they close."""

    def __init__(self, tags: Collection[str]) -> None:
        self.tags = frozenset(tags)
        self.builder = TreeBuilder()
        self.stack: list[tuple[Element, int | None]] = []
        self.done: list[tuple[int | None, Element, Element | None]] = []
        self.expat: Any = None

    def start(self, tag: str, attrib: dict[str, str]) -> Element:
        elem = self.builder.start(tag, attrib)
        line = getattr(self.expat, "CurrentLineNumber", None)
        self.stack.append((elem, line))
        return elem

    def end(self, tag: str) -> Element:
        elem = self.builder.end(tag)
        _, line = self.stack.pop()
        if tag in self.tags:
            parent = self.stack[-1][0] if self.stack else None
            self.done.append((line, elem, parent))
        return elem

    def data(self, text: str) -> None:
        self.builder.data(text)

    def close(self) -> Element:
        return self.builder.close()


def _hostile(path: Path, exc: Exception, line: int | None) -> AdapterError:
    return AdapterError(
        f"refused hostile or unsafe XML ({type(exc).__name__}: {exc})", path=path,
        location=f"line {line}" if line else None,
        hint="permadani never expands entity declarations or external references; "
             "remove the DOCTYPE/ENTITY declarations or use an unmodified export",
    )


def _malformed(path: Path, exc: SyntaxError) -> AdapterError:
    position = getattr(exc, "position", None)
    location = f"line {position[0]}, column {position[1]}" if position else None
    return AdapterError(
        f"not well-formed XML ({getattr(exc, 'msg', None) or exc})", path=path, location=location,
        hint="The file is damaged or truncated; XML cannot be resumed after an error, so the whole file "
             "is refused. Re-download or re-export it",
    )


def iter_elements(path: Path, tags: Collection[str], on_bytes: Callable[[int], None] | None = None,
                  feed_bytes: int = FEED_BYTES) -> Iterator[tuple[int | None, Element]]:
    """Yield ``(start_line, element)`` for each element of ``tags`` in document order, streaming.

    Do not keep references to a yielded element: it is cleared as soon as the caller asks for the next one.
    Raises ``AdapterError`` for hostile XML (entities), malformed or truncated XML, or a damaged compressed stream.
    """
    collector = _Collector(tags)
    parser = DefusedXMLParser(target=collector, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    collector.expat = getattr(parser, "parser", None)
    try:
        with open_binary(path, on_bytes) as fh:
            while True:
                block = fh.read(feed_bytes)
                final = not block
                if final:
                    parser.close()
                else:
                    parser.feed(block)
                for line, elem, parent in collector.done:
                    yield line, elem
                    elem.clear()
                    if parent is not None:
                        parent.remove(elem)
                collector.done.clear()
                if final:
                    return
    except DefusedXmlException as exc:
        raise _hostile(path, exc, getattr(collector.expat, "CurrentLineNumber", None)) from exc
    except SyntaxError as exc:  # ElementTree's ParseError (a SyntaxError subclass, from a private module copy)
        raise _malformed(path, exc) from exc
    except (zstandard.ZstdError, EOFError, OSError) as exc:
        raise AdapterError(f"cannot read the file ({exc})", path=path,
                           hint="Check that it is complete and readable; re-download it") from exc


def attributes_excerpt(tag: str, attrib: dict[str, str], limit: int = 300) -> str:
    """A short ``<tag k="v" .../>`` rendering of an attribute-only element, for reject excerpts."""
    parts = [f'{key}="{value[:limit]}"' for key, value in attrib.items()]
    return f"<{tag} {' '.join(parts)} />"[:limit]
