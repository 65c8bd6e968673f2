"""The author reply graph in igraph, built from a reply-edge table.

Nodes are accounts (platform, author_id) in a fixed order (sorted by platform, then author_id), so vertex ids and
every result derived from them are reproducible. The undirected simple graph joins two accounts when either
replied to the other at least once (self-replies excluded, multiple replies collapse into one edge).
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import igraph as ig
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_SEP = "\x1f"


def undirected_pairs(edges: ibis.Table) -> ibis.Table:
    """Distinct unordered account pairs with a non-self reply: ``platform, a, b`` with a < b (deduplicated in the
    engine, so only one row per pair comes back)."""
    e = edges.filter(~edges.is_self & edges.replier.notnull() & edges.target.notnull())
    return e.select(platform=e.platform, a=ibis.least(e.replier, e.target),
                    b=ibis.greatest(e.replier, e.target)).distinct()


@dataclass(frozen=True)
class AuthorGraph:
    """An igraph graph plus the account of each vertex (``nodes``: platform, author_id; row i = vertex i)."""

    graph: ig.Graph
    nodes: pa.Table

    def vertex_ids(self, platform: pa.Array | pa.ChunkedArray, author_id: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Vertex id of each (platform, author_id); −1 when the account is not in the graph."""
        return vertex_ids(self.nodes, platform, author_id)


def vertex_ids(nodes: pa.Table, platform: pa.Array | pa.ChunkedArray, author_id: pa.Array | pa.ChunkedArray
               ) -> np.ndarray:
    """Row of ``nodes`` (the vertex id) of each (platform, author_id); −1 when the account is not a vertex."""
    keys = pc.binary_join_element_wise(platform, author_id, _SEP)
    own = pc.binary_join_element_wise(nodes.column("platform"), nodes.column("author_id"), _SEP)
    idx = pc.index_in(keys, value_set=own)
    return pc.fill_null(idx, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def author_edges(pairs: pa.Table) -> tuple[pa.Table, np.ndarray]:
    """(``nodes``, edges) of the undirected simple graph of executed ``undirected_pairs`` rows: ``nodes`` as in
    ``AuthorGraph``, edges an (E, 2) int64 array of vertex ids (lower id first, sorted, no loops or duplicates)."""
    platform = pairs.column("platform").combine_chunks().cast(pa.string())
    a = pairs.column("a").combine_chunks().cast(pa.string())
    b = pairs.column("b").combine_chunks().cast(pa.string())
    ka = pc.binary_join_element_wise(platform, a, _SEP)
    kb = pc.binary_join_element_wise(platform, b, _SEP)
    keys = pc.unique(pa.concat_arrays([ka, kb]))
    keys = keys.take(pc.sort_indices(keys))
    ia = pc.index_in(ka, value_set=keys).to_numpy(zero_copy_only=False).astype(np.int64)
    ib = pc.index_in(kb, value_set=keys).to_numpy(zero_copy_only=False).astype(np.int64)
    lo, hi = np.minimum(ia, ib), np.maximum(ia, ib)
    keep = lo != hi
    n = max(len(keys), 1)
    codes = np.unique(lo[keep] * n + hi[keep])  # one int64 per pair: sorting it sorts the pairs
    edges = np.stack([codes // n, codes % n], axis=1) if codes.size else np.empty((0, 2), np.int64)
    split = pc.split_pattern(keys, _SEP, max_splits=1)
    nodes = pa.table({"platform": pc.list_element(split, 0), "author_id": pc.list_element(split, 1)})
    return nodes, edges


def author_graph(pairs: pa.Table) -> AuthorGraph:
    """Undirected simple graph from executed ``undirected_pairs`` rows (``platform, a, b``).

    Duplicate pairs and self loops in the input are dropped, so any edge table with those columns works.
    """
    nodes, edges = author_edges(pairs)
    return AuthorGraph(graph=ig.Graph(n=nodes.num_rows, edges=edges.tolist(), directed=False), nodes=nodes)


def edge_array(graph: ig.Graph) -> np.ndarray:
    """The graph's edges as an (E, 2) int64 array."""
    if graph.ecount() == 0:
        return np.empty((0, 2), dtype=np.int64)
    return np.asarray(graph.get_edgelist(), dtype=np.int64)
