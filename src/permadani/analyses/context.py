"""What every audit section receives: the parameters, the engine and the shared Ibis tables.

``AuditContext.build`` prepares (lazily, inside the engine) the posts, accounts, reply edges, the established
(non-newcomer) posts, the accounts' activity per period and overall, status scores and tiers; all but the scores
are materialised once in the engine because every section reuses them. Sections only build expressions and call
``ctx.execute``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from ..dataset import Dataset
from ..engine import Engine
from ..errors import UsageError
from .replies import reply_edges
from .status import MEASURES, active_from_periods, default_measure, status_scores
from .structure import account_periods_expr
from .tiers import assign_tiers, established_posts
from .timekeys import seconds


@dataclass(frozen=True)
class AuditParams:
    """Audit settings. ``status`` None → the platform default (``status.default_measure``)."""

    status: str | None = None
    window_days: float = 7
    upper: float = 0.01
    middle: float = 0.09
    newcomer_days: int = 30
    newcomer_posts: int = 5
    n_boot: int = 200
    seed: int = 0
    period: str = "month"
    rich_club_nulls: int = 20
    k_periods: int = 3

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in MEASURES:
            raise UsageError(f"unknown status measure {self.status!r}; choose one of: {', '.join(MEASURES)}")
        if self.window_days <= 0:
            raise UsageError(f"--window-days must be positive (got {self.window_days})")
        if not (self.upper > 0 and self.middle >= 0 and self.upper + self.middle <= 1):
            raise UsageError(f"tier shares must satisfy 0 < upper, 0 <= middle, upper + middle <= 1 "
                             f"(got upper={self.upper}, middle={self.middle})")
        if self.n_boot < 0:
            raise UsageError(f"--n-boot must be >= 0 (got {self.n_boot})")
        if self.newcomer_days < 0 or self.newcomer_posts < 0:
            raise UsageError("newcomer thresholds must be >= 0")

    def replace(self, **changes: Any) -> AuditParams:
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class SectionResult:
    """What a section returns: named tables (written as ``<name>.parquet``) and headline numbers.

    A table is Arrow, or an Ibis expression for one too large to hold in memory (a row per account): the runner
    has the engine write such a table straight to the results folder, or executes it when there is none.
    """

    tables: dict[str, pa.Table | ir.Table] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


def keep_lean(engine: Engine, expr: ir.Table, platform: str | None) -> ir.Table:
    """``expr`` materialised in ``engine``. With ``platform`` (every post of the dataset has it,
    ``Dataset.platform``) the stored table leaves that constant column out and it comes back as a literal: at
    100M comments the reply-edge table took 53 – 55 instead of 65 – 66 s and spilled 10 instead of 11.5 GB
    (bench/README.md, round 10)."""
    if platform is None or "platform" not in expr.columns:
        return engine.materialize(expr)
    stored = engine.materialize(expr.drop("platform"))
    return stored.mutate(platform=ibis.literal(platform, "string")).select(*expr.columns)


@dataclass
class AuditContext:
    """Shared inputs of every section (Ibis tables are lazy; ``execute`` runs them on ``engine``).

    ``posts``/``accounts``: canonical tables; ``edges``: ``replies.reply_edges(posts)``; ``established``:
    ``platform, post_id`` of the posts with a known author that are not newcomer posts (``tiers``);
    ``activity``: ``structure.account_periods_expr`` (a row per account and period: posts, first post, score
    sum); ``active``: ``status.active_authors(posts)`` (a row per account, regrouped from ``activity``);
    ``scores``: ``platform, author_id, status``; ``tiers``: ``platform, author_id, status, percentile, tier``;
    ``measure``: the status measure used; ``one_platform``: every post has the same platform
    (``Dataset.one_platform``), so the big joins match on ids alone (``replies.join_on``).
    """

    dataset: Dataset
    engine: Engine
    params: AuditParams
    posts: ir.Table
    accounts: ir.Table
    edges: ir.Table
    established: ir.Table
    activity: ir.Table
    active: ir.Table
    scores: ir.Table
    tiers: ir.Table
    measure: str
    shared: dict[str, Any] = field(default_factory=dict)
    cleanups: list[Callable[[], Any]] = field(default_factory=list)
    scratch_tables: list[ir.Table] = field(default_factory=list)

    @classmethod
    def build(cls, dataset: Dataset | str | Path, engine: Engine, params: AuditParams | None = None
              ) -> AuditContext:
        ds = dataset if isinstance(dataset, Dataset) else Dataset.open(dataset)
        params = params or AuditParams()
        measure = params.status or default_measure(sorted(ds.manifest.get("platforms", {})) or ["generic"])
        posts = engine.posts(ds)
        accounts = engine.accounts(ds)
        edges = keep_lean(engine, reply_edges(posts, ds.one_platform), ds.platform)
        activity = engine.materialize(account_periods_expr(posts, params.period))
        active = engine.materialize(active_from_periods(activity))
        since_s = engine.execute(active.aggregate(s=seconds(active.first_at.min()))).column("s")[0].as_py()
        established = engine.materialize(established_posts(posts, params.newcomer_days, params.newcomer_posts,
                                                           since_s=since_s))
        scores = status_scores(posts, accounts, edges, measure, engine, active=active)
        tiers = engine.materialize(assign_tiers(scores, params.upper, params.middle))
        return cls(dataset=ds, engine=engine, params=params, posts=posts, accounts=accounts, edges=edges,
                   established=established, activity=activity, active=active, scores=scores, tiers=tiers,
                   measure=measure)

    @property
    def one_platform(self) -> bool:
        """Every post has the same platform (``Dataset.one_platform``)."""
        return self.dataset.one_platform

    def keep(self, expr: ir.Table) -> ir.Table:
        """``expr`` materialised for the whole audit (``keep_lean``: without a constant platform column)."""
        return keep_lean(self.engine, expr, self.dataset.platform)

    def execute(self, expr: ir.Table) -> pa.Table:
        """Run ``expr`` on the context's engine (Arrow out)."""
        return self.engine.execute(expr)

    def scratch(self, expr: ir.Table) -> ir.Table:
        """Materialise ``expr`` for the running section only: the runner drops it once the section's tables are
        written, so it no longer takes engine memory (or spill) from the sections after it."""
        table = self.engine.materialize(expr)
        self.scratch_tables.append(table)
        return table

    def release_scratch(self) -> None:
        """Drop the running section's scratch tables (see ``scratch``)."""
        while self.scratch_tables:
            self.engine.release(self.scratch_tables.pop())

    def close(self) -> None:
        """Run the clean-ups sections registered (e.g. join a worker process), last first."""
        while self.cleanups:
            self.cleanups.pop()()
