"""Cluster bootstrap of ratios on aggregated counts.

Input: a small table of rows (cluster c, cell j, n = trials, k = successes), e.g. one row per (replier, matrix
cell) with the replies that replier wrote into the cell and how many were answered. Replicate b draws the
C clusters with replacement (multinomial counts w_bc, Σ_c w_bc = C, drawn as the counts of C uniform indices)
and computes, per cell,

    rate_bj = Σ_c w_bc · k_cj / Σ_c w_bc · n_cj

(NaN when the replicate has no trial in the cell). The 95 % interval is the 2.5 % and 97.5 % quantiles
(linear interpolation) of the non-NaN replicate values: the percentile bootstrap. The work is
O(n_boot · (clusters + rows)), independent of the number of posts; numpy's PCG64 seeded with ``seed`` makes it
reproducible, and the input order is fixed by the caller (sorted), so both engines give identical intervals.

With few clusters (an upper tier of ten accounts; one prolific replier) the percentile bootstrap is too
narrow: calibration on synthetic data gave 79 % coverage for the upper → upper cell. ``wilson``/``newcombe``
give the score intervals that assume independent replies; reported intervals are the **union** of both (see
``responsiveness``), so dependence widens them and few clusters cannot make them too narrow.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class Replicates:
    """``rates[b, j]`` for replicate b and cell j (NaN where a replicate has no trial in the cell)."""

    rates: np.ndarray

    def interval(self, values: np.ndarray | None = None, level: float = 0.95
                 ) -> list[tuple[float | None, float | None]]:
        """Percentile interval (low, high) per column of ``values`` (default: the rates)."""
        data = self.rates if values is None else values
        alpha = (1 - level) / 2
        out: list[tuple[float | None, float | None]] = []
        for column in data.T:
            finite = column[~np.isnan(column)]
            if finite.size == 0:
                out.append((None, None))
                continue
            low, high = np.quantile(finite, [alpha, 1 - alpha])
            out.append((float(low), float(high)))
        return out


#: replicates drawn per block; the weights of a block come from one ``integers`` call, so the random stream (and
#: every interval) depends only on ``seed``, never on which summation path below is taken.
_BLOCK = 16
#: Upper bound on the random draws held at once (blocks × clusters): 2²⁴ int64 draws = 128 MiB.
_BLOCK_DRAWS = 2**24
#: clusters × cells up to which the per-cluster counts are held densely and summed by matrix products.
_DENSE_CELLS = 4_000_000


def cluster_weights(n_clusters: int, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """Yield blocks of bootstrap weights: int64 arrays (b, C), row = how often each cluster was drawn when C clusters
    are drawn with replacement (multinomial(C, 1/C)), as counts of ``rng.integers(0, C, C)``."""
    rng = np.random.default_rng(seed)
    done = 0
    # at most ~_BLOCK_DRAWS draws per block: with millions of clusters a block of 16 would need gigabytes
    per_block = max(1, min(_BLOCK, _BLOCK_DRAWS // max(1, n_clusters)))
    while done < n_boot:
        b = min(per_block, n_boot - done)
        draws = rng.integers(0, n_clusters, size=(b, n_clusters), dtype=np.int64)
        draws += (np.arange(b, dtype=np.int64) * n_clusters)[:, None]
        yield np.bincount(draws.ravel(), minlength=b * n_clusters).reshape(b, n_clusters)
        done += b


def cluster_bootstrap(cluster: np.ndarray, cell: np.ndarray, n: np.ndarray, k: np.ndarray, n_cells: int,
                      n_boot: int = 200, seed: int = 0) -> Replicates:
    """Bootstrap replicates of per-cell ratios Σk/Σn, resampling clusters (formula in the module docstring).

    ``cluster``: integer cluster index per row (0..C-1), ``cell``: integer cell index per row (0..n_cells-1),
    ``n``/``k``: trials and successes per row. Cost: O(n_boot · C) random draws plus O(n_boot · rows) sums
    (as matrix products when C · n_cells is small), independent of the number of posts.
    """
    cluster = np.asarray(cluster, dtype=np.int64)
    cell = np.asarray(cell, dtype=np.int64)
    n = np.asarray(n, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    rates = np.full((max(n_boot, 0), n_cells), np.nan)
    if n_boot <= 0 or cluster.size == 0:
        return Replicates(rates)
    n_clusters = int(cluster.max()) + 1
    dense = n_clusters * n_cells <= _DENSE_CELLS
    if dense:
        flat = cluster * n_cells + cell
        size = n_clusters * n_cells
        both = np.column_stack([np.bincount(flat, weights=n, minlength=size).reshape(n_clusters, n_cells),
                                np.bincount(flat, weights=k, minlength=size).reshape(n_clusters, n_cells)])
    else:  # one buffer per row-sized temporary, reused by every replicate (fresh ones cost a page fault per 4 KiB)
        drawn = np.empty(cluster.size, dtype=np.int64)
        weighted = np.empty(cluster.size, dtype=np.float64)
    row = 0
    for weights in cluster_weights(n_clusters, n_boot, seed):
        trials: np.ndarray
        successes: np.ndarray
        if dense:
            sums = weights.astype(np.float64) @ both
            trials, successes = sums[:, :n_cells], sums[:, n_cells:]
        else:
            trials = np.empty((weights.shape[0], n_cells))
            successes = np.empty((weights.shape[0], n_cells))
            for i, w in enumerate(weights):
                np.take(w, cluster, out=drawn)
                trials[i] = np.bincount(cell, weights=np.multiply(drawn, n, out=weighted), minlength=n_cells)
                successes[i] = np.bincount(cell, weights=np.multiply(drawn, k, out=weighted), minlength=n_cells)
        with np.errstate(invalid="ignore", divide="ignore"):
            rates[row:row + weights.shape[0]] = np.where(trials > 0, successes / np.where(trials > 0, trials, 1.0),
                                                         np.nan)
        row += weights.shape[0]
    return Replicates(rates)


def cluster_index(*columns: Any) -> np.ndarray:
    """Integer cluster id per row for the composite key of ``columns`` (Arrow arrays), numbered in order of first
    appearance (so a sorted input gives ids in sort order)."""
    parts = [pc.cast(c, pa.string()) for c in columns]
    key = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "\x1f")
    if isinstance(key, pa.ChunkedArray):
        key = key.combine_chunks()
    encoded = pc.dictionary_encode(pc.fill_null(key, "\x00"))
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)


Z95 = 1.959963984540054


def wilson(k: float, n: float, z: float = Z95) -> tuple[float | None, float | None]:
    """Wilson score interval of k/n: (k + z²/2)/(n + z²) ± z·√(k(n−k)/n + z²/4)/(n + z²); (None, None) if n = 0."""
    if n <= 0:
        return None, None
    centre = (k + z * z / 2) / (n + z * z)
    half = z * float(np.sqrt(k * (n - k) / n + z * z / 4)) / (n + z * z)
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(k1: float, n1: float, k2: float, n2: float, z: float = Z95) -> tuple[float | None, float | None]:
    """Newcombe's hybrid score interval of p₁ − p₂ from the two Wilson intervals (l₁,u₁), (l₂,u₂):
    d − √((p₁−l₁)² + (u₂−p₂)²) … d + √((u₁−p₁)² + (p₂−l₂)²)."""
    l1, u1 = wilson(k1, n1, z)
    l2, u2 = wilson(k2, n2, z)
    if l1 is None or u1 is None or l2 is None or u2 is None:
        return None, None
    p1, p2 = k1 / n1, k2 / n2
    d = p1 - p2
    return d - float(np.hypot(p1 - l1, u2 - p2)), d + float(np.hypot(u1 - p1, p2 - l2))


def union(a: tuple[float | None, float | None], b: tuple[float | None, float | None]
          ) -> tuple[float | None, float | None]:
    """The smallest interval containing both (either may be (None, None))."""
    lows = [v for v in (a[0], b[0]) if v is not None]
    highs = [v for v in (a[1], b[1]) if v is not None]
    return (min(lows) if lows else None, max(highs) if highs else None)
