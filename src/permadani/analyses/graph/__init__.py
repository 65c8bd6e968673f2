"""Graph computations on the author reply graph (python-igraph): the graph builder and the rich-club analysis."""

from __future__ import annotations

from .authors import AuthorGraph, author_graph, undirected_pairs

__all__ = ["AuthorGraph", "author_graph", "undirected_pairs"]
