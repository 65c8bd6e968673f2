"""Synthetic communities with known, planted effects (for tests, calibration and the demo).

The generator draws a community whose answer behaviour is set by parameters, then writes it through the same
ingest machinery as real sources (staging, de-duplication, manifest), with the parameters and the **realised
truth** recorded in the manifest ``parameters``.

Model (one platform ``synthetic``, ``communities`` communities, every account has one home community):

- accounts: planted reputation R_i = round(100·exp(1.6·z_i)), z_i ~ N(0, 1) (heavy-tailed, lognormal), spread
  over the account's posts as post scores, so the audit's ``reputation`` measure (no platform reputation → sum of
  post scores) recovers R_i exactly. Every account posts at least once, so all are *active* and the audit's tiers
  (reputation desc, ties by author_id; upper = first ⌈u·n⌉, middle = next up to ⌈(u+m)·n⌉) are known here.
- joins: 40 % of accounts were present at the start, the rest join uniformly over the months; each account's
  first post is at its join time (its debut thread).
- threads: per month, roots by authors ∝ exp(1.2·s_i) (s_i = current standing, = z_i unless ``mobility`` redraws
  it: each month, with probability ``mobility``, s_i ← N(0, 1)); replies per thread ~ ⌊exp(N(1.3, 0.9))⌋;
  an organic reply answers the root (p = ½) or a random earlier post, written by an account ∝ exp(0.9·s_i + 0.5·ε_i)
  that has joined, is not the parent's author (except ``self_reply_share`` self-replies) nor the grandparent's
  author; ``deleted_share`` of replies have no author.
- answers: every reply r by X to a post by A ≠ X (organic replies, and answers themselves, recursively) is answered
  by A within W with probability p = P[tier(X) → tier(A)] + gap_trend·month(r) [lower → upper only]
  − newcomer_penalty·[r is a newcomer post], clipped to [0, 1]; latency ~ lognormal (median 4 h), < W.
  Unanswered replies get a *late* answer after W with probability ``late_share`` (it must not count).

**Truth**: for each matrix cell (X → Y, X also ``newcomer``), truth = mean of p over the replies the audit puts
in that cell — the exact expected reply-back rate given the realised replies — computed with the audit's
definitions (tiers as above, newcomer = first ``newcomer_posts`` posts or first ``newcomer_days`` days in the
community) by an independent numpy implementation. Per-month truths are recorded for trend tests.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import schema
from .dataset import Dataset
from .errors import UsageError

TIERS = ("upper", "middle", "lower")
FROM = ("upper", "middle", "lower", "newcomer")
DEFAULT_REPLY_BACK: dict[str, float] = {
    "upper:upper": 0.60, "upper:middle": 0.65, "upper:lower": 0.70,
    "middle:upper": 0.40, "middle:middle": 0.50, "middle:lower": 0.55,
    "lower:upper": 0.20, "lower:middle": 0.40, "lower:lower": 0.50,
}
PLATFORM = "synthetic"
_DAY = 86400
_MONTH = 30 * _DAY


@dataclass(frozen=True)
class SynthParams:
    """Generator parameters (see the module docstring); ``reply_back`` keys are ``"from:to"`` tier pairs."""

    seed: int = 0
    accounts: int = 1500
    threads: int = 1200
    months: int = 6
    start: str = "2024-01-01"
    communities: int = 2
    reply_back: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_REPLY_BACK))
    newcomer_penalty: float = 0.10
    gap_trend: float = 0.0
    mobility: float = 0.0
    late_share: float = 0.05
    self_reply_share: float = 0.03
    deleted_share: float = 0.01
    window_days: float = 7
    upper: float = 0.01
    middle: float = 0.09
    newcomer_days: int = 30
    newcomer_posts: int = 5

    def __post_init__(self) -> None:
        merged = dict(DEFAULT_REPLY_BACK)
        for key, value in dict(self.reply_back).items():
            if key not in DEFAULT_REPLY_BACK:
                raise UsageError(f"reply-back key {key!r} is not a tier pair like 'lower:upper'")
            if not 0 <= float(value) <= 1:
                raise UsageError(f"reply-back probability {key}={value} is not in [0, 1]")
            merged[key] = float(value)
        object.__setattr__(self, "reply_back", merged)
        if self.accounts < 20 or self.threads < 1 or self.months < 1 or self.communities < 1:
            raise UsageError("synth needs at least 20 accounts, 1 thread, 1 month and 1 community")
        try:
            _start_seconds(self.start)
        except ValueError as exc:
            raise UsageError(f"start {self.start!r} is not an ISO date like 2024-01-01") from exc

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "reply_back": dict(self.reply_back)}


def parse_reply_back(text: str) -> dict[str, float]:
    """``"upper:upper=0.6,lower:upper=0.2"`` → ``{"upper:upper": 0.6, "lower:upper": 0.2}``."""
    out: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise UsageError(f"--reply-back expects from:to=probability items, got {item!r}")
    return out


@dataclass
class SynthData:
    """A generated community: canonical ``posts`` and the ``parameters`` (with truth)."""

    posts: pa.Table
    parameters: dict[str, Any]


def _start_seconds(start: str) -> int:
    return int(datetime.fromisoformat(start).replace(tzinfo=UTC).timestamp())


class _Posts:
    """Columnar post store of the generator (numpy-friendly lists, one entry per post)."""

    def __init__(self) -> None:
        self.author: list[int] = []  # -1 = deleted
        self.time: list[int] = []
        self.parent: list[int] = []  # -1 = root
        self.thread: list[int] = []
        self.community: list[int] = []
        self.p: list[float] = []  # planted answer probability (nan when not a reply to someone else)
        self.kind: list[str] = []

    def add(self, author: int, time: int, parent: int, thread: int, community: int, kind: str) -> int:
        self.author.append(author)
        self.time.append(time)
        self.parent.append(parent)
        self.thread.append(thread if thread >= 0 else len(self.author) - 1)
        self.community.append(community)
        self.p.append(float("nan"))
        self.kind.append(kind)
        return len(self.author) - 1


def generate(params: SynthParams) -> SynthData:
    """Draw a community from ``params`` (deterministic for a seed); nothing is written."""
    rng = np.random.default_rng(params.seed)
    n = params.accounts
    start = _start_seconds(params.start)
    end = start + params.months * _MONTH
    ids = [f"u{i:05d}" for i in range(n)]
    z = rng.standard_normal(n)
    reputation = np.round(100 * np.exp(1.6 * z)).astype(np.int64)
    tier = _tiers(reputation, ids, params.upper, params.middle)
    home = rng.integers(0, params.communities, n)
    join = np.where(rng.random(n) < 0.4, start + rng.integers(0, 3 * _DAY, n),
                    start + rng.integers(0, params.months * _MONTH, n))
    eps = rng.standard_normal(n)
    standing = np.tile(z, (params.months, 1))
    for m in range(1, params.months):
        redraw = rng.random(n) < params.mobility
        standing[m] = np.where(redraw, rng.standard_normal(n), standing[m - 1])

    posts = _Posts()
    first_time = join.copy()
    counts = np.zeros(n, np.int64)
    for i in np.argsort(join, kind="stable"):  # debut threads: every account posts at its join time
        posts.add(int(i), int(join[i]), -1, -1, int(home[i]), "post")
        counts[i] += 1
    per_month = np.full(params.months, params.threads // params.months)
    per_month[: params.threads % params.months] += 1
    for m in range(params.months):
        root_w = np.exp(1.2 * standing[m])
        reply_w = np.exp(0.9 * standing[m] + 0.5 * eps)
        for _ in range(int(per_month[m])):
            t0 = start + m * _MONTH + int(rng.integers(0, _MONTH))
            author = _pick(rng, root_w, join <= t0)
            if author < 0:
                continue
            root = posts.add(author, t0, -1, -1, int(home[author]), "post")
            thread_posts = [root]
            for _ in range(int(np.exp(rng.normal(1.3, 0.9)))):
                parent = root if rng.random() < 0.5 else thread_posts[int(rng.integers(0, len(thread_posts)))]
                t = posts.time[parent] + 60 + int(rng.exponential(6 * 3600))
                if t >= end:
                    continue
                pa_author = posts.author[parent]
                if pa_author >= 0 and rng.random() < params.self_reply_share:
                    writer = pa_author
                elif rng.random() < params.deleted_share:
                    writer = -1
                else:
                    gp = posts.parent[parent]
                    banned = {pa_author, posts.author[gp] if gp >= 0 else -1}
                    writer = _pick(rng, reply_w, (join <= t) & (home == home[author]), banned)
                    if writer < 0:
                        continue
                thread_posts.append(posts.add(writer, t, parent, root, int(home[author]), "comment"))
    _answer_all(posts, params, rng, tier, first_time, start)
    truth = _truth(posts, params, tier, ids, start)
    parameters = {"generator": "permadani.synth", **params.as_dict(), "truth": truth,
                  "tier_counts": {t: int((tier == TIERS.index(t)).sum()) for t in TIERS}}
    scores = _split_scores(rng, np.array(posts.author), reputation)
    return SynthData(_posts_table(posts, ids, params, scores), parameters)


def _pick(rng: np.random.Generator, weights: np.ndarray, allowed: np.ndarray, banned: set[int] | None = None) -> int:
    """An index drawn ∝ weights among allowed, not banned; -1 when none is possible."""
    w = np.where(allowed, weights, 0.0)
    for b in banned or ():
        if b >= 0:
            w[b] = 0.0
    total = w.sum()
    if total <= 0:
        return -1
    return int(np.searchsorted(np.cumsum(w), rng.random() * total, side="right").clip(0, len(w) - 1))


def _tiers(status: np.ndarray, ids: list[str], upper: float, middle: float) -> np.ndarray:
    """0 upper, 1 middle, 2 lower by status desc, ties by id asc; upper when position < u·n (as the audit)."""
    n = len(ids)
    order = sorted(range(n), key=lambda i: (-int(status[i]), ids[i]))
    tier = np.full(n, 2, np.int64)
    for position, i in enumerate(order):
        if position < n * upper - 1e-9:
            tier[i] = 0
        elif position < n * (upper + middle) - 1e-9:
            tier[i] = 1
    return tier


def _answer_all(posts: _Posts, params: SynthParams, rng: np.random.Generator, tier: np.ndarray,
                first_time: np.ndarray, start: int) -> None:
    """Plant answers: process every reply to someone else, in creation order, answers included (recursive)."""
    window = int(params.window_days * _DAY)
    rb = params.reply_back
    # generator-side newcomer estimate: first days in the community, or one of the first posts seen so far
    seen: dict[int, int] = {}
    queue = 0
    while queue < len(posts.author):
        r = queue
        queue += 1
        x = posts.author[r]
        seen[x] = seen.get(x, 0) + 1
        q = posts.parent[r]
        if q < 0 or x < 0:
            continue
        a = posts.author[q]
        if a < 0 or a == x:
            continue
        t = posts.time[r]
        month = min((t - start) // _MONTH, params.months - 1)
        key = f"{TIERS[tier[x]]}:{TIERS[tier[a]]}"
        p = rb[key] + (params.gap_trend * month if key == "lower:upper" else 0.0)
        newcomer = (t - first_time[x] < params.newcomer_days * _DAY) or seen[x] <= params.newcomer_posts
        if newcomer:
            p -= params.newcomer_penalty
        p = float(min(1.0, max(0.0, p)))
        posts.p[r] = p
        if rng.random() < p:
            latency = min(int(np.exp(rng.normal(np.log(4 * 3600), 1.2))) + 1, window - 60)
        elif rng.random() < params.late_share:
            latency = window + 3600 + int(rng.integers(0, 10 * _DAY))
        else:
            continue
        posts.add(a, t + latency, r, posts.thread[r], posts.community[r], "comment")


def _truth(posts: _Posts, params: SynthParams, tier: np.ndarray, ids: list[str], start: int) -> dict[str, Any]:
    """Mean planted probability per audit cell (and per month for the two gap cells); see module docstring."""
    author = np.array(posts.author)
    time = np.array(posts.time)
    parent = np.array(posts.parent)
    community = np.array(posts.community)
    p = np.array(posts.p)
    n_posts = len(author)
    order = sorted(range(n_posts), key=lambda i: (community[i], author[i], time[i], f"p{i:07d}"))
    newcomer = np.zeros(n_posts, bool)
    prev_key: tuple[int, int] | None = None
    rank, first = 0, 0
    for i in order:
        key = (int(community[i]), int(author[i]))
        if key != prev_key:
            prev_key, rank, first = key, 0, int(time[i])
        newcomer[i] = rank < params.newcomer_posts or time[i] - first < params.newcomer_days * _DAY
        rank += 1
    has_parent = parent >= 0
    target = np.where(has_parent, author[np.where(has_parent, parent, 0)], -1)
    is_reply = has_parent & (author >= 0) & (target >= 0) & (author != target)
    if np.isnan(p[is_reply]).any():
        raise AssertionError("a reply without a planted probability")  # generator invariant
    month = np.minimum((time - start) // _MONTH, params.months - 1)
    cells: dict[str, float | None] = {}
    replies: dict[str, int] = {}
    by_month: list[dict[str, Any]] = []
    for f in FROM:
        chosen_from = newcomer if f == "newcomer" else tier[np.where(author >= 0, author, 0)] == FROM.index(f)
        for t_index, t in enumerate(TIERS):
            mask = is_reply & chosen_from & (tier[np.where(target >= 0, target, 0)] == t_index)
            replies[f"{f}->{t}"] = int(mask.sum())
            cells[f"{f}->{t}"] = float(p[mask].mean()) if mask.any() else None
    for m in range(params.months):
        row: dict[str, Any] = {"month": m}
        for f in ("upper", "lower", "newcomer"):
            chosen_from = newcomer if f == "newcomer" else tier[np.where(author >= 0, author, 0)] == FROM.index(f)
            mask = is_reply & chosen_from & (tier[np.where(target >= 0, target, 0)] == 0) & (month == m)
            row[f"{f}->upper"] = float(p[mask].mean()) if mask.any() else None
            row[f"{f}->upper_replies"] = int(mask.sum())
        uu, lu = row["upper->upper"], row["lower->upper"]
        row["gap_upper_vs_lower"] = None if uu is None or lu is None else uu - lu
        by_month.append(row)

    def gap(a: str, b: str) -> float | None:
        va, vb = cells[a], cells[b]
        return None if va is None or vb is None else va - vb

    return {"matrix": cells, "replies": replies,
            "gaps": {"upper_vs_lower": gap("upper->upper", "lower->upper"),
                     "upper_vs_newcomer": gap("upper->upper", "newcomer->upper")},
            "by_month": by_month}


def _split_scores(rng: np.random.Generator, author: np.ndarray, reputation: np.ndarray) -> np.ndarray:
    """Post scores that sum to each author's planted reputation (random shares; remainder on the first post)."""
    known = author >= 0
    share = np.where(known, rng.exponential(1.0, author.size), 0.0)
    totals = np.bincount(author[known], weights=share[known], minlength=reputation.size)
    idx = np.where(known, author, 0)
    scores = np.where(known, np.floor(reputation[idx] * share / np.where(known, totals[idx], 1.0)), 0).astype(
        np.int64)
    remainder = reputation - np.bincount(author[known], weights=scores[known], minlength=reputation.size).astype(
        np.int64)
    first = {}
    for i in range(author.size):
        if author[i] >= 0 and author[i] not in first:
            first[int(author[i])] = i
    for a, i in first.items():
        scores[i] += remainder[a]
    return scores


def _posts_table(posts: _Posts, ids: list[str], params: SynthParams, scores: np.ndarray) -> pa.Table:
    n = len(posts.author)
    order = np.lexsort((np.arange(n), np.array(posts.time)))
    post_ids = np.array([f"p{i:07d}" for i in range(n)], dtype=object)
    author = np.array(posts.author)
    parent = np.array(posts.parent)
    thread = np.array(posts.thread)
    authors = np.array([ids[a] if a >= 0 else None for a in author], dtype=object)
    times = pa.array(np.array(posts.time, dtype="datetime64[s]").astype("datetime64[us]"))
    table = pa.table({
        "post_id": post_ids,
        "platform": pa.array([PLATFORM] * n),
        "community": pa.array([f"c{c}" for c in posts.community]),
        "thread_id": post_ids[thread],
        "parent_id": pa.array([post_ids[q] if q >= 0 else None for q in parent], pa.string()),
        "author_id": pa.array(authors, pa.string()),
        "created_at": times.cast(schema.TIMESTAMP),
        "kind": pa.array(posts.kind),
        "text": pa.array([None] * n, pa.string()),
        "score": pa.array(scores, pa.int64()),
        "source_file": pa.array([f"synth:seed={params.seed}"] * n),
        "source_line": pa.array(np.arange(1, n + 1), pa.int64()),
    })
    return schema.conform(table.take(order), schema.POSTS)


def write(data: SynthData, output: str | Path) -> Dataset:
    """Write generated posts through the public ingest path (generic ``table`` adapter), never by hand."""
    from .ingest import ingest

    with tempfile.TemporaryDirectory(prefix="permadani-synth-") as folder:
        path = Path(folder) / f"synth-seed{data.parameters.get('seed', 0)}.parquet"
        pq.write_table(data.posts.drop_columns(["source_file", "source_line"]), path)
        return ingest([path], output, format="table", options={"platform": PLATFORM}, parameters=data.parameters)


def synthesize(output: str | Path, params: SynthParams | None = None) -> Dataset:
    """Generate a community from ``params`` and write it as a dataset at ``output``."""
    return write(generate(params or SynthParams()), output)


def synth(output: str | Path, seed: int = 0, **params: Any) -> Dataset:
    """``permadani.synth(output, seed=1, accounts=2000, reply_back={"lower:upper": 0.1}, ...)``: a dataset with
    planted effects (fields of ``SynthParams``); the truth is in ``Dataset.parameters["truth"]``."""
    try:
        chosen = SynthParams(seed=seed, **params)
    except TypeError as exc:
        raise UsageError(f"bad synth parameter: {exc}") from exc
    return synthesize(output, chosen)
