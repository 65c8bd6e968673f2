"""The benchmark question, in plain Python (stdlib only, so it runs in the ConvoKit venv too).

"Who answers whom, by tier": permadani's definitions (``analyses/tiers.py``, ``analyses/responsiveness.py``),
restated for row-at-a-time baselines:

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
from collections.abc import Iterator
from pathlib import Path

ANONYMOUS = frozenset(("[deleted]", "[removed]", "", "null", "None", "deleted", "anonymous"))
TIERS = ("upper", "middle", "lower")
WINDOW_S = 7 * 86_400


def read_comments(path: str | Path) -> Iterator[dict]:
    """Decoded records of a Pushshift ``.zst`` (2 GiB window), one at a time, as a Python user would read it."""
    import zstandard

    with open(path, "rb") as fh:
        reader = zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(fh, read_size=8 << 20)
        for line in io.TextIOWrapper(reader, encoding="utf-8"):
            if line.strip():
                yield json.loads(line)


def known(author: str | None) -> bool:
    return author is not None and author not in ANONYMOUS


def strip(link: str | None) -> str | None:
    """``t1_abc`` → ``abc`` (None stays None)."""
    return link[3:] if link and link[2:3] == "_" else link


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
