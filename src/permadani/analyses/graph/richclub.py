"""Rich club: do the best-connected (or highest-status) accounts reply to each other more than chance?

On the undirected simple author reply graph (self-replies excluded), for a club C of N_C accounts with E_C
edges among them:  φ(C) = 2·E_C / (N_C·(N_C − 1)).

- by degree: C_k = accounts with degree > k  (φ(k), the classic rich-club coefficient);
- by status: C_r = the ⌈r·N⌉ accounts of highest status (ties by vertex order; accounts without a status rank last).

Normalisation: S degree-preserving rewirings of the graph (igraph ``Graph.rewire``, mode "simple", seeded through
``random.Random(seed)``) give φ_null,i(C) on the same clubs (degrees, hence C_k, and statuses do not move).
ρ(C) = φ(C) / mean_i φ_null,i(C); band = 2.5 %–97.5 % percentiles of φ(C)/φ_null,i(C) over samples with
φ_null,i > 0; p = (1 + #{i: φ_null,i ≥ φ}) / (1 + S) (one-sided, "denser than chance").
ρ > 1 with the band above 1 means a rich club; a configuration-model graph gives ρ ≈ 1.

Practicality on big graphs: degree thresholds are at most ``max_k`` values evenly spaced over the distinct degrees
whose club still has ≥ ``min_club`` members; each null sample gets ``rewire_factor``·|E| trials, the total trials
are capped by ``trial_budget`` (10⁷: fewer samples first, never fewer than ``min_nulls``, then fewer trials per
sample); the summary records samples, trials per sample and trials per edge (below 10 on big graphs: a sample
then keeps ≈ e^(−2·trials/edge) of the observed edges, which pulls ρ towards 1, i.e. errs on the side of "no
rich club"). The observed curves are numpy on the edge list; when the null needs more than
``background_trials`` trials, the audit runs it in one spawned worker process while the other sections run
(``start``), and the summary says so. Same seed, same samples, wherever they ran.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import igraph as ig
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..structure import clean, sort_table
from .authors import author_edges, edge_array, undirected_pairs, vertex_ids

if TYPE_CHECKING:  # pragma: no cover
    from ..context import AuditContext

HEADLINE_CLUB = 10
FRACTIONS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)

COLUMNS = ("platform", "by", "threshold", "nodes", "edges", "phi", "phi_null", "rho", "rho_low", "rho_high",
           "p_value")


@dataclass(frozen=True)
class RichClubOptions:
    """Knobs of the rich-club computation (defaults suit graphs up to a few million edges)."""

    nulls: int = 20
    seed: int = 0
    max_k: int = 30
    min_club: int = 3
    rewire_factor: float = 10.0
    trial_budget: int = 10_000_000
    min_nulls: int = 3
    background_trials: int = 2_000_000
    fractions: tuple[float, ...] = field(default=FRACTIONS)


def degree_thresholds(degrees: np.ndarray, max_k: int = 30, min_club: int = 3) -> np.ndarray:
    """Thresholds k (club = degree > k): 0 and the distinct degrees with ≥ min_club nodes above, ≤ max_k of them."""
    degrees = np.asarray(degrees, dtype=np.int64)
    if degrees.size == 0:
        return np.empty(0, dtype=np.int64)
    srt = np.sort(degrees)
    cand = np.unique(np.concatenate([[0], srt]))
    above = srt.size - np.searchsorted(srt, cand, side="right")
    cand = cand[above >= min_club]
    if cand.size > max_k:
        cand = np.unique(cand[np.round(np.linspace(0, cand.size - 1, max_k)).astype(np.int64)])
    return cand


def phi_by_degree(degrees: np.ndarray, edges: np.ndarray, ks: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                                    np.ndarray]:
    """(N_{>k}, E_{>k}, φ(k)) for each k: an edge is in the club when the smaller end degree exceeds k."""
    srt = np.sort(degrees)
    n_above = srt.size - np.searchsorted(srt, ks, side="right")
    mins = np.sort(np.minimum(degrees[edges[:, 0]], degrees[edges[:, 1]])) if len(edges) else np.empty(0)
    e_above = mins.size - np.searchsorted(mins, ks, side="right")
    return n_above, e_above, _phi(n_above, e_above)


def status_rank(status: np.ndarray) -> np.ndarray:
    """Rank of each vertex by status, 0 = highest; NaN statuses last; ties by vertex id (stable sort)."""
    s = np.asarray(status, dtype=float)
    key = np.where(np.isnan(s), np.inf, -s)
    order = np.argsort(key, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank


def club_sizes(n_nodes: int, fractions: tuple[float, ...], min_club: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(fractions, sizes): m = ⌈r·N⌉ for each r, keeping sizes ≥ min_club and the first r of each size."""
    fr, sizes = [], []
    for r in sorted(fractions):
        m = min(n_nodes, math.ceil(r * n_nodes))
        if m >= max(min_club, 2) and m not in sizes:
            fr.append(r)
            sizes.append(m)
    return np.asarray(fr, dtype=float), np.asarray(sizes, dtype=np.int64)


def phi_by_rank(rank: np.ndarray, edges: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(E_m, φ) for clubs of the m top-ranked vertices: an edge is in the club when its worse rank is < m."""
    worst = np.sort(np.maximum(rank[edges[:, 0]], rank[edges[:, 1]])) if len(edges) else np.empty(0)
    e_in = np.searchsorted(worst, sizes, side="left")
    return e_in, _phi(sizes, e_in)


def _phi(n: np.ndarray, e: np.ndarray) -> np.ndarray:
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n >= 2, 2.0 * np.asarray(e, dtype=float) / (n * (n - 1)), np.nan)


def null_plan(n_edges: int, opts: RichClubOptions) -> tuple[int, int]:
    """(samples, trials per sample) under the trial budget (see module docstring)."""
    if n_edges < 2 or opts.nulls <= 0:
        return 0, 0
    trials = max(1, int(opts.rewire_factor * n_edges))
    samples = min(opts.nulls, max(opts.min_nulls, opts.trial_budget // trials))
    if samples * trials > opts.trial_budget:
        trials = max(1, opts.trial_budget // samples)
    return samples, trials


def _band(phi: np.ndarray, nulls: np.ndarray) -> dict[str, np.ndarray]:
    """ρ, band and p-value from observed φ (K,) and null samples (S, K)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = nulls.mean(axis=0) if nulls.size else np.full(phi.shape, np.nan)
        rho = np.where(mean > 0, phi / mean, np.nan)
        ratios = np.where(nulls > 0, phi[None, :] / nulls, np.nan) if nulls.size else np.full((1, *phi.shape),
                                                                                               np.nan)
    low = np.full(phi.shape, np.nan)
    high = np.full(phi.shape, np.nan)
    for j in range(phi.size):
        col = ratios[:, j]
        col = col[np.isfinite(col)]
        if col.size:
            low[j], high[j] = np.percentile(col, [2.5, 97.5])
    s = nulls.shape[0] if nulls.size else 0
    p = (1 + (nulls >= phi[None, :]).sum(axis=0)) / (1 + s) if s else np.full(phi.shape, np.nan)
    return {"phi_null": mean, "rho": rho, "rho_low": low, "rho_high": high, "p_value": p}


def null_phis(edges: np.ndarray, n_vertices: int, ks: np.ndarray, rank: np.ndarray | None, sizes: np.ndarray,
              samples: int, trials: int, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """φ of the degree clubs ``ks`` (and of the status clubs of ``sizes`` when ``rank`` is given) in ``samples``
    independent rewirings of the graph (each: a fresh copy, ``trials`` igraph ``rewire`` trials, mode "simple"),
    igraph's random numbers drawn from ``random.Random(seed)``. Returns arrays (samples, len(ks)) and
    (samples, len(sizes)) | None. Top-level and picklable: the audit may run it in a worker process."""
    graph = ig.Graph(n=n_vertices, edges=edges.tolist(), directed=False)
    degrees = np.asarray(graph.degree(), dtype=np.int64)
    null_k = np.empty((samples, ks.size))
    null_m = np.empty((samples, sizes.size)) if rank is not None else None
    rng = random.Random(seed)
    try:
        ig.set_random_number_generator(rng)
        for i in range(samples):
            h = graph.copy()
            h.rewire(n=trials, allowed_edge_types="simple")
            he = edge_array(h)
            null_k[i] = phi_by_degree(degrees, he, ks)[2]
            if null_m is not None and rank is not None:
                null_m[i] = phi_by_rank(rank, he, sizes)[1]
    finally:
        ig.set_random_number_generator(random)
    return null_k, null_m


@dataclass
class _Prepared:
    """One graph's observed curves and its null plan; ``nulls`` is a Future while a worker computes them."""

    curves: dict[str, dict[str, np.ndarray]]
    info: dict[str, Any]
    args: tuple[Any, ...]
    nulls: Any = None


def _prepare(edges: np.ndarray, n_vertices: int, status: np.ndarray | None, opts: RichClubOptions) -> _Prepared:
    degrees = np.bincount(edges.ravel(), minlength=n_vertices).astype(np.int64) if len(edges) else \
        np.zeros(n_vertices, np.int64)
    ks = degree_thresholds(degrees, opts.max_k, opts.min_club)
    n_k, e_k, phi_k = phi_by_degree(degrees, edges, ks)
    curves: dict[str, dict[str, np.ndarray]] = {
        "degree": {"threshold": ks.astype(float), "nodes": n_k, "edges": e_k, "phi": phi_k}}
    rank = None
    sizes = np.empty(0, np.int64)
    if status is not None:
        rank = status_rank(status)
        fr, sizes = club_sizes(n_vertices, opts.fractions, opts.min_club)
        e_m, phi_m = phi_by_rank(rank, edges, sizes)
        curves["status"] = {"threshold": fr, "nodes": sizes, "edges": e_m, "phi": phi_m}
    samples, trials = null_plan(len(edges), opts)
    info = {"nodes": n_vertices, "edges": len(edges), "max_degree": int(degrees.max()) if degrees.size else 0,
            "k_values": int(ks.size), "null_samples": samples, "null_samples_requested": opts.nulls,
            "trials_per_sample": trials, "trials_per_edge": trials / len(edges) if len(edges) else 0.0,
            "trial_budget": opts.trial_budget, "seed": opts.seed}
    return _Prepared(curves, info, (edges, n_vertices, ks, rank, sizes, samples, trials, opts.seed))


def _finish(prep: _Prepared) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, Any]]:
    nulls = prep.nulls
    if nulls is None:
        null_k, null_m = null_phis(*prep.args)
    else:
        null_k, null_m = nulls.result()
        prep.info["null_ran_in"] = nulls.where
    curves = prep.curves
    curves["degree"].update(_band(curves["degree"]["phi"], null_k))
    if null_m is not None and "status" in curves:
        curves["status"].update(_band(curves["status"]["phi"], null_m))
    return curves, prep.info


def rich_club(graph: ig.Graph, status: np.ndarray | None = None,
              opts: RichClubOptions | None = None) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, Any]]:
    """Rich-club curves of one graph: ``({"degree": {...}, "status": {...}}, info)``.

    Each curve maps ``threshold`` (k, or fraction r), ``nodes``, ``edges``, ``phi`` and the ``_band`` columns to
    arrays. ``status`` (one float per vertex, NaN unknown) enables the status curve.
    """
    return _finish(_prepare(edge_array(graph), graph.vcount(), status, opts or RichClubOptions()))


def _node_status(nodes: pa.Table, platform: str, status: pa.Table | None) -> np.ndarray | None:
    if status is None:
        return None
    st = status.filter(pc.equal(status.column("platform"), platform))
    ids = vertex_ids(nodes, st.column("platform"), st.column("author_id"))
    node_status = np.full(nodes.num_rows, np.nan)
    vals = st.column("status").to_numpy(zero_copy_only=False).astype(float)
    node_status[ids[ids >= 0]] = vals[ids >= 0]
    return node_status if np.isfinite(node_status).any() else None


def prepare(pairs: pa.Table, status: pa.Table | None = None, opts: RichClubOptions | None = None,
            submit: Any = None) -> dict[str, _Prepared]:
    """Observed curves per platform; ``submit(fn, *args)`` (returning an object with ``result()`` and ``where``,
    e.g. ``nullworker.Background``) runs the null samples of graphs needing more than ``opts.background_trials``
    rewiring trials elsewhere while the caller goes on."""
    opts = opts or RichClubOptions()
    out: dict[str, _Prepared] = {}
    platforms = sorted(set(pairs.column("platform").to_pylist())) if pairs.num_rows else []
    for platform in platforms:
        nodes, edges = author_edges(pairs.filter(pc.equal(pairs.column("platform"), platform)))
        node_status = _node_status(nodes, platform, status)
        prep = _prepare(edges, nodes.num_rows, node_status, opts)
        if node_status is not None:
            prep.info["accounts_with_status"] = int(np.isfinite(node_status).sum())
        samples, trials = prep.args[5], prep.args[6]
        prep.info["null_ran_in"] = "this process"
        if submit is not None and samples * trials > opts.background_trials:
            prep.nulls = submit(null_phis, *prep.args)
        out[platform] = prep
    return out


def finish(prepared: dict[str, _Prepared]) -> tuple[pa.Table, dict[str, Any]]:
    """Rich-club table (columns ``COLUMNS``) and ``{platform: info}`` from ``prepare`` output (waits for nulls)."""
    parts, infos = [], {}
    for platform, prep in prepared.items():
        curves, info = _finish(prep)
        infos[platform] = info
        for by, c in curves.items():
            n = len(c["threshold"])
            cols = {"platform": pa.array([platform] * n, pa.string()), "by": pa.array([by] * n, pa.string())}
            for name in COLUMNS[2:]:
                arr = np.asarray(c[name])
                if name in ("nodes", "edges"):
                    cols[name] = pa.array(arr.astype(np.int64))
                else:
                    arr = arr.astype(float)
                    cols[name] = pa.array(arr, pa.float64(), mask=~np.isfinite(arr))
            parts.append(pa.table(cols))
    table = pa.concat_tables(parts) if parts else pa.table(
        {c: pa.array([], pa.string() if c in ("platform", "by") else
                     (pa.int64() if c in ("nodes", "edges") else pa.float64())) for c in COLUMNS})
    return sort_table(table, ["platform", "by", "threshold"]), infos


def compute(pairs: pa.Table, status: pa.Table | None = None,
            opts: RichClubOptions | None = None) -> tuple[pa.Table, dict[str, Any]]:
    """Rich-club table per platform from executed ``undirected_pairs`` and an optional status table
    (``platform, author_id, status``). Returns ``(table, {platform: info})`` with table columns ``COLUMNS``."""
    return finish(prepare(pairs, status, opts))


def summarise(table: pa.Table, infos: dict[str, Any], upper: float = 0.01) -> dict[str, Any]:
    """Per platform: graph size, what the null did, ρ at the highest degree threshold whose club still has
    ``HEADLINE_CLUB`` members, the peak ρ by degree, and ρ for the top-``upper`` status club."""
    out: dict[str, Any] = {}
    for platform, info in infos.items():
        rows = [r for r in table.to_pylist() if r["platform"] == platform]
        deg = [r for r in rows if r["by"] == "degree"]
        sta = [r for r in rows if r["by"] == "status"]
        big = [r for r in deg if r["nodes"] >= HEADLINE_CLUB]
        top = big[-1] if big else (deg[-1] if deg else None)
        club = min(sta, key=lambda r: (abs(r["threshold"] - upper), r["threshold"])) if sta else None
        # k = 0 is the whole graph: rewiring keeps its density, so ρ(0) = 1 always and is no candidate
        peak = max((r for r in deg if r["rho"] is not None and r["threshold"] > 0),
                   key=lambda r: (r["rho"], -r["threshold"]), default=None)
        out[platform] = {**info,
                         "rho_top_degree": _brief(top), "rho_peak_degree": _brief(peak),
                         "rho_upper_status": _brief(club)}
    return clean({"graph": "undirected simple author reply graph, self-replies excluded",
                  "null": "degree-preserving rewiring (igraph Graph.rewire, simple)", "platforms": out})


def _brief(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {k: row[k] for k in ("threshold", "nodes", "edges", "phi", "rho", "rho_low", "rho_high", "p_value")}


def _options(ctx: AuditContext) -> RichClubOptions:
    params = ctx.params
    return RichClubOptions(nulls=int(getattr(params, "rich_club_nulls", 20)), seed=int(getattr(params, "seed", 0)))


def start(ctx: AuditContext) -> None:
    """Fetch the graph, compute the observed curves and start big null models in a worker process
    (``nullworker``, joined by ``run`` or stopped by the audit's clean-up), so rewiring overlaps the other sections."""
    if "rich_club_prepared" in ctx.shared:
        return
    from .nullworker import Background

    pairs = ctx.execute(undirected_pairs(ctx.edges))
    status = ctx.execute(ctx.tiers.select("platform", "author_id", "status"))

    def submit(fn: Any, *args: Any) -> Background:
        job = Background(args)
        ctx.cleanups.append(job.close)
        return job

    ctx.shared["rich_club_prepared"] = prepare(pairs, status, _options(ctx), submit)


def run(ctx: AuditContext) -> Any:
    """Section ``rich_club``: table ``rich_club`` (by degree and by status), per-platform summary."""
    from ..context import SectionResult

    prepared = ctx.shared.pop("rich_club_prepared", None)
    if prepared is None:
        pairs = ctx.execute(undirected_pairs(ctx.edges))
        status = ctx.execute(ctx.tiers.select("platform", "author_id", "status"))
        prepared = prepare(pairs, status, _options(ctx))
    table, infos = finish(prepared)
    return SectionResult(tables={"rich_club": table},
                         summary=summarise(table, infos, upper=float(getattr(ctx.params, "upper", 0.01))))
