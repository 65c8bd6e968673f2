"""reddit-pushshift: the vectorised (DuckDB) path equals the per-line path on JSON edge cases, line by line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from permadani.adapters import reddit_pushshift
from permadani.adapters.reddit_pushshift import (
    ChunkLines,
    PushshiftAdapter,
    PushshiftOptions,
    _unshaped,
    chunk_lines,
    fast_parse,
    parsed,
    split_lines,
    vector_parse,
)
from permadani.errors import AdapterError

GOOD = '{"id": "%s", "parent_id": "t3_x1", "link_id": "t3_x1", "author": "alice", "created_utc": 1136074029, ' \
       '"body": "hi", "score": 1, "subreddit": "test"}'

#: One line each; every line must give the same row or reject on both paths.
EDGES = [
    b'{"id": "tc", "created_utc": 1136074029, "body": "trailing comma", "subreddit": "t",}',
    b'{"id": "tc2", "created_utc": 1136074029, "body": "x", "subreddit": "t", "a": [1, 2 , \t]}',
    b'{"id": "ok,}", "created_utc": 1136074029, "body": "a comma-brace inside text ,} is fine", "subreddit": "t"}',
    b'{"id": "dup", "created_utc": 1136074029, "body": "first", "body": "second", "subreddit": "t"}',
    b'{"id": "dup2", "created_utc": 1136074029, "created_utc": "later", "body": "b", "subreddit": "t"}',
    b'{"id": 12345, "created_utc": 1136074029, "body": "int id", "subreddit": "t"}',
    b'{"id": 1.5, "created_utc": 1136074029, "body": "float id", "subreddit": "t"}',
    b'{"id": "", "created_utc": 1136074029, "body": "empty id", "subreddit": "t"}',
    b'{"id": "sc1", "created_utc": 1136074029, "body": "float score", "score": 3.0, "subreddit": "t"}',
    b'{"id": "sc2", "created_utc": 1136074029, "body": "fraction score", "score": 3.5, "subreddit": "t"}',
    b'{"id": "sc3", "created_utc": 1136074029, "body": "huge score", "score": 9223372036854775808, "subreddit": "t"}',
    b'{"id": "sc4", "created_utc": 1136074029, "body": "string score", "score": "-7", "subreddit": "t"}',
    b'{"id": "sc5", "created_utc": 1136074029, "body": "bool score", "score": true, "subreddit": "t"}',
    b'{"id": "sc6", "created_utc": 1136074029, "body": "uint score", "score": 9223372036854775807, "subreddit": "t"}',
    b'{"id": "t1", "created_utc": NaN, "body": "nan time", "subreddit": "t"}',
    b'{"id": "t2", "created_utc": -1, "body": "negative time", "subreddit": "t"}',
    b'{"id": "t3", "created_utc": 1e400, "body": "infinite time", "subreddit": "t"}',
    b'{"id": "t4", "created_utc": " 1136074029 ", "body": "padded string time", "subreddit": "t"}',
    b'{"id": "t5", "created_utc": "1136074029.25", "body": "fraction string time", "subreddit": "t"}',
    b'{"id": "t6", "created_utc": "\xd9\xa1\xd9\xa2", "body": "arabic-indic digits", "subreddit": "t"}',
    b'{"id": "t7", "created_utc": true, "body": "bool time", "subreddit": "t"}',
    b'{"id": "t8", "created_utc": 253402300800, "body": "year 10000", "subreddit": "t"}',
    b'{"id": "t9", "created_utc": "1e3", "body": "exponent string", "subreddit": "t"}',
    b'{"id": "a1", "created_utc": 1136074029, "body": "b", "subreddit": "t", "author_created_utc": "x"}',
    b'{"id": "a2", "created_utc": 1136074029, "body": "b", "subreddit": "t", "author_created_utc": false}',
    b'{"id": "a3", "created_utc": 1136074029, "body": "b", "subreddit": "t", "author_created_utc": 1e400}',
    b'{"id": "a4", "created_utc": 1136074029, "body": "b", "subreddit": "t", "author_created_utc": "12.5"}',
    b'{"id": "a5", "created_utc": 1136074029, "body": "b", "subreddit": "t", "author_created_utc": {"x": 1}}',
    b'{"id": "s1", "created_utc": 1136074029, "body": 5, "subreddit": "t"}',
    b'{"id": "s2", "created_utc": 1136074029, "body": {"nested": "object"}, "subreddit": "t"}',
    b'{"id": "s3", "created_utc": 1136074029, "body": null, "subreddit": null, "author": "[deleted]"}',
    b'{"id": "s4", "created_utc": 1136074029, "body": "lone \\ud800 surrogate", "subreddit": "t"}',
    b'{"id": "s5", "created_utc": 1136074029, "body": "nul \\u0000 escaped, \\u00e9 \\/ \\"q\\"", "subreddit": "t"}',
    b'{"id": "s6", "created_utc": 1136074029, "body": "raw \xff byte", "subreddit": "t"}',
    b'{"id": "s7", "created_utc": 1136074029, "body": "ok", "subreddit": "t", "other": "raw \xff in unread"}',
    b'{"id": "s8", "created_utc": 1136074029, "body": "a\ttab", "subreddit": "t"}',
    b'{"ID": "case", "Created_utc": 1136074029, "body": "keys are case-sensitive", "subreddit": "t"}',
    b'{"\\u0069d": "esc", "created_utc": 1136074029, "body": "escaped key", "subreddit": "t"}',
    b'{"id": "crlf", "created_utc": 1136074029, "body": "windows line end", "subreddit": "t"}\r',
    b'   ',
    b'  {"id": "pad", "created_utc": 1136074029, "body": "padded with spaces", "subreddit": "t"} ',
    b'{"id": "dup3", "created_utc": 1136074029, "body": 5, "body": "second", "subreddit": "t"}',
    b'{"id": "dup4", "created_utc": 1136074029, "body": "b", "score": 2.5, "score": 3.0, "subreddit": "t"}',
    b'{"id": -42, "created_utc": 1136074029, "body": "negative int id", "subreddit": "t"}',
    b'{"id": 123456789012345678901234, "created_utc": 1136074029, "body": "huge int id", "subreddit": "t"}',
    b'{"id": "sc7", "created_utc": 1136074029, "body": "b", "score": 1e2, "subreddit": "t"}',
    b'{"id": "sc8", "created_utc": 1136074029, "body": "b", "score": -0.0, "subreddit": "t"}',
    b'{"id": "sc9", "created_utc": 1136074029, "body": "b", "score": 9007199254740993.0, "subreddit": "t"}',
    b'{"id": "sc10", "created_utc": 1136074029, "body": "b", "score": "3.0", "subreddit": "t"}',
    b'{"id": "sc11", "created_utc": 1136074029, "body": "b", "score": 1e400, "subreddit": "t"}',
    b'["not", "an", "object"]',
    b'"just a string"',
    b'{"id": "two"} {"id": "on one line"}',
    b'{"id": "cut", "body": "cut off',
    b'{"id": "r1", "created_utc": 1136074029, "body": "true", "author": "1234", "subreddit": "[1]"}',
    b'{"id": "r2", "created_utc": 1136074029, "body": "\\"quoted\\"", "author": "[deleted]", "score": "007"}',
    b'{"id": "r3", "created_utc": 1136074029.5e0, "body": "", "author": "", "score": -0, "subreddit": "-"}',
    b'{"id": "sub", "created_utc": 1136074029, "title": "T", "selftext": "", "subreddit": "t", '
    b'"crosspost_parent": "t3_abc"}',
    b'{"id": "tc3", "created_utc": 1136074029, "body": "x", "subreddit": "t", "a": [1,' + b" " * 100 + b"]}",
    b'{"id": "ok2", "created_utc": 1136074029, "body": "list: a, b ] and { c, }", "subreddit": "t"}',
    b'{"id": "ws1", "created_utc": 1136074029, "body": "\\n 12", "author": " [1]", "subreddit": "\\t{}"}',
    b'{"id": "nf1", "created_utc": 1136074029, "body": "NaN", "author": "inf", "subreddit": "-Infinity"}',
    b'{"id": "nf2", "created_utc": 1136074029, "body": Infinity, "subreddit": "t"}',
    b'{"id": "nf3", "created_utc": 1136074029, "body": "b", "author": -Infinity, "subreddit": "t"}',
    b'{"id": "nf4", "created_utc": 1136074029, "body": "b", "author": inf, "subreddit": "t"}',
    b'{"id": "nf5", "created_utc": 1136074029, "body": "b", "parent_id": false, "link_id": true, "subreddit": "t"}',
    b'{"id": "nf6", "created_utc": 1136074029, "body": "b", "link_id": "true", "parent_id": "false ", '
    b'"subreddit": "t"}',
]


def _read(path: Path, **options: object) -> tuple[int, pa.Table, pa.Table, pa.Table]:
    batches = list(PushshiftAdapter(PushshiftOptions(**options)).read(path))  # type: ignore[arg-type]
    for batch in batches:
        batch.check()
    return (sum(b.read for b in batches), pa.concat_tables([b.posts for b in batches]),
            pa.concat_tables([b.accounts for b in batches]), pa.concat_tables([b.rejects for b in batches]))


@pytest.mark.parametrize("relax_share", [0.25, 0.0])  # 0: every chunk with an odd line is also read relaxed
@pytest.mark.parametrize("chunk_size", [1024, 1 << 20])
def test_vectorised_equals_per_line_on_edge_cases(tmp_path: Path, chunk_size: int, relax_share: float,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reddit_pushshift, "RELAX_SHARE", relax_share)
    lines = []
    for i, edge in enumerate(EDGES):
        lines += [(GOOD % f"g{i}").encode(), edge]
    path = tmp_path / "edges.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    fast, slow = _read(path, chunk_size=chunk_size), _read(path, fast=False, chunk_size=chunk_size)
    assert fast[0] == slow[0]
    for a, b in zip(fast[1:], slow[1:], strict=True):
        assert a.equals(b)
    kept = {r["post_id"]: r for r in fast[1].to_pylist()}
    # spot checks of the documented semantics, not just agreement
    assert kept["dup"]["text"] == "first" and "dup2" in kept  # a repeated key: the first value counts
    assert kept["12345"]["source_line"] == 12 and kept["sc1"]["score"] == 3
    assert kept["t5"]["created_at"].timestamp() == 1136074029.25 and kept["t9"]["created_at"].timestamp() == 1000
    assert kept["s5"]["text"] == 'nul \x00 escaped, \u00e9 / "q"' and "s7" in kept and "s8" not in kept
    assert kept["esc"]["text"] == "escaped key" and kept["crlf"]["text"] == "windows line end"
    assert kept["ok,}"]["source_line"] == 6 and kept["sub"]["amplifies_id"] == "abc"
    assert (kept["r1"]["text"], kept["r1"]["author_id"], kept["r1"]["community"]) == ("true", "1234", "[1]")
    assert (kept["r2"]["text"], kept["r2"]["author_id"], kept["r2"]["score"]) == ('"quoted"', None, 7)
    assert kept["r3"]["created_at"].timestamp() == 1136074029.5 and kept["r3"]["score"] == 0
    reasons = {r["location"]: r["reason"] for r in fast[3].to_pylist()}
    assert reasons["line 2"] == reasons["line 4"] == "malformed-json"  # trailing commas, as Python's json says
    assert reasons["line 64"] == "invalid-utf8" and reasons["line 68"] == "invalid-utf8"
    assert reasons["line 20"] == "bad-value" and reasons["line 30"] == "bad-timestamp"
    tc3 = next(i for i, edge in enumerate(EDGES) if b'"tc3"' in edge)
    assert reasons[f"line {tc3 * 2 + 2}"] == "malformed-json" and "ok2" in kept
    assert kept["pad"]["text"] == "padded with spaces"  # legal JSON, read by the per-line path
    assert "dup3" not in kept and "dup4" not in kept and kept["-42"]["text"] == "negative int id"
    assert (kept["sc7"]["score"], kept["sc8"]["score"], kept["sc9"]["score"]) == (100, 0, 9007199254740992)
    assert "sc10" not in kept and "sc11" not in kept
    # strings that read as JSON only after their leading blanks, or that spell a non-finite number, stay strings
    assert (kept["ws1"]["text"], kept["ws1"]["author_id"], kept["ws1"]["community"]) == ("\n 12", " [1]", "\t{}")
    assert (kept["nf1"]["text"], kept["nf1"]["author_id"], kept["nf1"]["community"]) == ("NaN", "inf", "-Infinity")
    assert kept["nf6"]["thread_id"] == "true" and kept["nf6"]["parent_id"] == "false "
    assert not {"nf2", "nf3", "nf4", "nf5"} & kept.keys()  # non-strings in string fields (inf: not JSON)
    assert fast[0] == len(EDGES) * 2 - 1  # the blank line is not a record


def test_one_streaming_query_gives_what_each_chunk_alone_gives() -> None:
    """``parsed`` (one query over all chunks) equals ``vector_parse`` chunk by chunk, also after a malformed
    line stops the query, and passes an error of the reader on unchanged after the chunks before it."""
    lines = [(GOOD % f"g{i}").encode() for i in range(40)]
    lines[17] = b'{"id": "bad", "created_utc": 1136074029, "body": "x" "y", "subreddit": "t"}'  # DuckDB stops
    lines[31] = b'{"id": 31, "created_utc": "1136074029", "body": "odd but well formed", "subreddit": "t"}'
    chunks = [chunk_lines(b"\n".join(lines[i:i + 5]) + b"\n") for i in range(0, 40, 5)]
    streamed = list(parsed(iter(chunks)))
    assert [item[0] for item in streamed] == chunks  # every chunk once, in order
    for (_, raw, clean), chunk in zip(streamed, chunks, strict=True):
        alone_raw, alone_clean, _ = vector_parse(chunk)
        assert raw.equals(alone_raw) and clean.tolist() == alone_clean.tolist()
    assert streamed[3][2].tolist() == [True, True, False, True, True]
    assert streamed[6][2].tolist() == [True, False, True, True, True]  # an integer id: the per-line path's
    assert streamed[7][1]["id"].to_pylist() == [f"g{i}" for i in range(35, 40)]

    def damaged() -> Iterator[ChunkLines]:
        yield from chunks[:2]
        raise AdapterError("the compressed stream is damaged", path=Path("RC.zst"))

    got = []
    with pytest.raises(AdapterError, match="damaged"):
        for item in parsed(damaged()):
            got.append(item[0])
    assert got == chunks[:2]


def test_vector_parse_marks_only_the_odd_lines() -> None:
    chunk = b"\n".join([(GOOD % "a").encode(), EDGES[0], (GOOD % "b").encode(), b"", (GOOD % "c").encode()])
    raw, clean, offsets = vector_parse(chunk)
    assert clean.tolist() == [True, False, True, False, True] and offsets.tolist()[-1] == len(chunk)
    assert raw.filter(pa.array(clean))["id"].to_pylist() == ["a", "b", "c"]
    string_time = (GOOD % "s").replace('1136074029', '"1136074029"').encode()
    assert vector_parse(string_time)[1].tolist() == [True]
    assert fast_parse(string_time) is None and fast_parse(string_time, numeric_strings=True) is not None


def test_usual_odd_shapes_stay_on_the_fast_path() -> None:
    # another generator may write integer ids, whole scores as floats or bodies that read as JSON on every line:
    # these are clean (read by DuckDB), not left to the per-line path
    lines = [GOOD % "a", GOOD.replace('"%s"', "42"), (GOOD % "b").replace('"score": 1', '"score": 7.0'),
             (GOOD % "c").replace('"hi"', '"1234"'), (GOOD % "d").replace('"alice"', '"true"')]
    raw, clean, _ = vector_parse("\n".join(lines).encode())
    assert clean.tolist() == [True] * 5
    assert raw["id"].to_pylist()[:2] == ["a", "42"] and raw["score"].to_pylist()[2] == 7
    assert raw["body"].to_pylist()[3] == "1234" and raw["author"].to_pylist()[4] == "true"


def test_lines_not_shaped_like_an_object_are_left_to_the_per_line_path() -> None:
    # blank, cut short, padded, CRLF: only the first and last byte before the newline are looked at
    chunk = b'{"a": 1}\n\n{"b"\n  {"c": 1}\n{"d": 2}\r\n}\n{}'
    assert _unshaped(chunk, split_lines(chunk)).tolist() == [False, True, True, True, False, True, False]
    assert _unshaped(b"\n", split_lines(b"\n")).tolist() == [True]


def test_many_odd_lines_in_one_chunk_keep_their_order(tmp_path: Path) -> None:
    """More odd lines than the splice path takes (> 64 in a chunk): rows are re-ordered by line number."""
    lines = []
    for i in range(300):
        lines.append((GOOD % f"g{i}").encode())
        lines.append(EDGES[(i * 7) % len(EDGES)].replace(b'"id": "', f'"id": "{i}-'.encode(), 1))
    path = tmp_path / "many.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    fast, slow = _read(path), _read(path, fast=False)
    assert fast[0] == slow[0] and fast[1].num_rows > 300
    for a, b in zip(fast[1:], slow[1:], strict=True):
        assert a.equals(b)
    numbers = fast[1]["source_line"].to_pylist()
    assert numbers == sorted(numbers) and numbers[:3] == [1, 3, 4]  # line 2: a trailing comma, rejected


def test_read_chunks_rejoins_exactly(tmp_path: Path) -> None:
    """The chunker (zstd blocks cut at newlines, copied once) returns every byte once, cut after a newline,
    no longer than a chunk plus the longest line; also across zstd frames and with a BOM."""
    import random

    import zstandard

    from permadani.adapters._io import BOM, read_chunks

    rnd = random.Random(7)
    for trial in range(120):
        lines = [b"x" * rnd.choice([0, 1, 50, 1500, 5000]) for _ in range(rnd.randint(0, 30))]
        data = (BOM if trial % 5 == 0 else b"") + b"\n".join(lines) + (b"\n" if trial % 2 else b"")
        path = tmp_path / ("d.zst" if trial % 3 else "d.txt")
        if path.suffix == ".zst":
            frames = [data[: len(data) // 2], data[len(data) // 2:]] if trial % 4 == 1 else [data]
            path.write_bytes(b"".join(zstandard.ZstdCompressor().compress(f) for f in frames))
        else:
            path.write_bytes(data)
        size = rnd.choice([1024, 3000, 1 << 20])
        chunks = list(read_chunks(path, chunk_size=size))
        assert b"".join(chunks) == data.removeprefix(BOM), trial
        longest = max((len(line) for line in lines), default=0)
        assert all(c.endswith(b"\n") and len(c) <= longest + size + 1 for c in chunks[:-1]), trial
