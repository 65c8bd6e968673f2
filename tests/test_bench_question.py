"""The benchmark's plain-Python question (``bench/_question.py``, used by the ConvoKit and networkx baselines)
must give permadani's tier matrix, also on a messy dump: numeric-string times and scores, float scores,
submissions mixed in, duplicates, malformed and mistyped lines, invalid UTF-8, blank lines.
"""

from __future__ import annotations

import json
import random
import sys
from collections import defaultdict
from pathlib import Path

import zstandard

from permadani import audit, ingest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from _question import TIERS, WINDOW_S, assign_tiers, empty_matrix, known, records

AUTHORS = [f"u{i}" for i in range(60)] + ["[deleted]", "[removed]", "AutoModerator"]


def _messy_dump(path: Path, n: int = 3000) -> int:
    """Write a Pushshift-style dump with odd lines; return how many records permadani should keep."""
    rnd = random.Random(5)
    lines: list[bytes] = []
    recent: list[tuple[str, str, str | None]] = []  # (prefixed id, author, the author it replied to)
    kept = 0
    for i in range(n):
        t = 1_650_000_000 + 37 * i
        author = rnd.choice(AUTHORS[:12]) if rnd.random() < 0.5 else rnd.choice(AUTHORS)
        if i % 40 == 0 or not recent:
            rec: dict[str, object] = {"id": f"s{i}", "title": f"thread {i}", "selftext": "", "author": author,
                                      "subreddit": "a", "created_utc": t, "score": rnd.randint(0, 50)}
            recent.append((f"t3_s{i}", author, None))
        else:
            parent, parent_author, _ = recent[-rnd.randint(1, min(len(recent), 6))]
            replies = [r for r in recent[-6:] if r[2] is not None]
            if replies and rnd.random() < 0.4:  # the author replied to answers a recent reply
                parent, parent_author, author = replies[-1]
            score: object = rnd.randint(-3, 40)
            if i % 9 == 0:
                score = str(score)
            elif i % 11 == 0:
                score = float(score)
            rec = {"id": f"c{i}", "author": author, "body": f"reply {i} caf\u00e9", "parent_id": parent,
                   "link_id": "t3_s0", "subreddit": "a", "created_utc": str(t) if i % 5 == 0 else t, "score": score}
            recent.append((f"t1_c{i}", author, parent_author))
        lines.append(json.dumps(rec, ensure_ascii=i % 2 == 0).encode())
        kept += 1
        if i % 97 == 0:
            lines.append(lines[-1])  # a duplicate: dropped
        if i % 301 == 0:
            lines += [b'{"id": "cut', b"", b'{"id":"x%d","author":7,"body":"b","created_utc":1}' % i,
                      b'{"id":"y%d","body":"caf\xe9","created_utc":1}' % i,
                      b'{"id":"z%d","body":"b","created_utc":"soon"}' % i,
                      b'{"id":"w%d","body":"b","created_utc":1,"score":1.5}' % i]
    path.write_bytes(zstandard.ZstdCompressor().compress(b"\n".join(lines) + b"\n"))
    return kept


def _plain_matrix(path: Path) -> dict[str, list[int]]:
    """The question answered record by record with ``_question``'s rules (what the baselines compute)."""
    by_id = {r.id: r for r in records(path)}
    status: dict[str, float] = defaultdict(float)
    children: dict[str, list[str]] = defaultdict(list)
    for r in by_id.values():
        if known(r.author):
            status[r.author] += r.score  # type: ignore[index]
        if r.parent is not None:
            children[r.parent].append(r.id)
    tiers = assign_tiers(status)
    matrix = empty_matrix()
    for r in by_id.values():
        q = by_id.get(r.parent) if r.parent is not None else None
        if q is None or not (known(r.author) and known(q.author)) or r.author == q.author:
            continue
        answered = any(by_id[c].author == q.author and by_id[c].t - r.t <= WINDOW_S for c in children[r.id])
        cell = matrix[f"{tiers[r.author]}->{tiers[q.author]}"]  # type: ignore[index]
        cell[0] += 1
        cell[1] += int(answered)
    return matrix


def test_bench_question_matches_permadani_on_a_messy_dump(tmp_path: Path) -> None:
    dump = tmp_path / "RC_messy.zst"
    kept = _messy_dump(dump)
    assert sum(1 for _ in records(dump)) == kept
    ds = ingest([dump], tmp_path / "ds")
    assert ds.info()["posts"] == kept
    result = audit(ds, sections=("tiers", "responsiveness"), n_boot=0)
    ours = empty_matrix()
    for row in result.summary["sections"]["responsiveness"]["matrix"]:
        if row["from"] in TIERS:
            ours[f"{row['from']}->{row['to']}"] = [row["replies"], row["answered"]]
    plain = _plain_matrix(dump)
    assert ours == plain
    assert sum(v[0] for v in ours.values()) > 1500 and sum(v[1] for v in ours.values()) > 300
