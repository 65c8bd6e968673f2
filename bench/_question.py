"""The benchmark question, in plain Python (stdlib only, so it runs in the ConvoKit venv too).

"Who answers whom, by tier": permadani's definitions (``analyses/tiers.py``, ``analyses/responsiveness.py``),
restated for row-at-a-time baselines:

- a record is read as permadani's Pushshift adapter reads it (``records``): lines that are not JSON objects, or
  lack a non-empty string ``id`` or a numeric ``created_utc`` (number or numeric string), or carry a score that
  is not a whole number (or numeric string), are skipped (permadani rejects them); a repeated ``id`` keeps its
  first record (permadani drops later ones as duplicates); a record with a ``title`` is a submission, any other
  a comment whose parent is ``parent_id`` without its ``t1_``/``t3_`` prefix;
- an author is known unless null or one of ``ANONYMOUS`` (``[deleted]``...);
- status = reputation = sum of the author's post scores (Reddit comments carry no karma);
- tiers: order known authors by status descending, author id ascending; position p = 0, 1, ...;
  upper when p < 0.01·n, middle when p < 0.10·n, else lower;
- a reply is a post r whose parent q is in the data, both authors known and different;
- r is answered when author(q) wrote a direct reply to r at most 7 days (604,800 s) after r;
- matrix[X→Y] = (replies, answered) over replies written by tier-X authors to tier-Y authors.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

ANONYMOUS = frozenset(("[deleted]", "[removed]", "", "null", "None", "deleted", "anonymous"))
TIERS = ("upper", "middle", "lower")
WINDOW_S = 7 * 86_400
MAX_EPOCH = 253_402_300_800.0
_STRINGS = ("subreddit", "author", "body", "parent_id", "link_id", "title", "selftext", "crosspost_parent")
_NUMBER = re.compile(r"^\s*-?\d+(\.\d*)?([eE][-+]?\d+)?\s*$")
_INT = re.compile(r"^\s*-?\d+\s*$")


def read_comments(path: str | Path) -> Iterator[dict]:
    """Decoded lines of a Pushshift ``.zst`` (2 GiB window), one at a time, as a Python user would read them
    (lines that are not valid JSON are skipped)."""
    import zstandard

    with open(path, "rb") as fh:
        reader = zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(fh, read_size=8 << 20)
        for line in io.TextIOWrapper(reader, encoding="utf-8", errors="surrogateescape"):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError:
                    continue


class Record(NamedTuple):
    """The fields the question needs, normalised: ``t`` in whole epoch seconds (microseconds rounded, then
    truncated, as permadani stores and compares times), ``parent`` without prefix."""

    id: str
    author: str | None
    parent: str | None
    link: str | None
    t: int
    score: int
    text: str
    subreddit: str | None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and _NUMBER.match(value):
        return float(value)
    return None


def _score(value: object) -> int | None:
    """The score as permadani keeps it (0 when absent); None when permadani would reject the record."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and _INT.match(value):
        return int(value)
    return None


def _string_ok(value: object) -> bool:
    """Null or a string of valid UTF-8 (permadani rejects other values in the fields it reads)."""
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def records(path: str | Path) -> Iterator[Record]:
    """The records of a dump that permadani keeps (rules in the module docstring), first occurrence of an id."""
    seen: set[str] = set()
    for rec in read_comments(path):
        if not isinstance(rec, dict):
            continue
        post_id = rec.get("id")
        if isinstance(post_id, int) and not isinstance(post_id, bool):
            post_id = str(post_id)
        t = _number(rec.get("created_utc"))
        score = _score(rec.get("score"))
        if not isinstance(post_id, str) or not post_id or t is None or not 0 <= t < MAX_EPOCH or score is None:
            continue
        if not all(_string_ok(rec.get(f)) for f in _STRINGS):
            continue
        if post_id in seen:
            continue
        seen.add(post_id)
        submission = rec.get("title") is not None or (
            rec.get("body") is None and rec.get("parent_id") is None and rec.get("link_id") is None)
        parent = None if submission else strip(rec.get("parent_id"))
        text = (rec.get("title") if submission else rec.get("body")) or ""
        yield Record(post_id, rec.get("author"), parent, strip(rec.get("link_id")), round(t * 1e6) // 1_000_000,
                     score, text, rec.get("subreddit"))


def known(author: str | None) -> bool:
    return author is not None and author not in ANONYMOUS


def strip(link: object) -> str | None:
    """``t1_abc``/``t3_abc`` → ``abc``; other strings unchanged; None (or a non-string) → None."""
    if not isinstance(link, str):
        return None
    return link[3:] if link.startswith(("t1_", "t3_")) else link


def assign_tiers(status: dict[str, float], upper: float = 0.01, middle: float = 0.09) -> dict[str, str]:
    """Tier of each author from its status (see module docstring)."""
    ranked = sorted(status.items(), key=lambda kv: (-kv[1], kv[0]))
    n = len(ranked)
    eps = 1e-9
    tiers = {}
    for position, (author, _) in enumerate(ranked):
        if position < n * upper - eps:
            tiers[author] = "upper"
        elif position < n * (upper + middle) - eps:
            tiers[author] = "middle"
        else:
            tiers[author] = "lower"
    return tiers


def empty_matrix() -> dict[str, list[int]]:
    return {f"{a}->{b}": [0, 0] for a in TIERS for b in TIERS}


def result(matrix: dict[str, list[int]], **extra: object) -> str:
    """The JSON line every implementation prints: the matrix with rates, plus timings."""
    cells = {k: {"replies": v[0], "answered": v[1], "rate": (v[1] / v[0]) if v[0] else None}
             for k, v in matrix.items()}
    return json.dumps({"matrix": cells, **extra})
