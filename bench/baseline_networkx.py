"""Baseline: the benchmark question (``_question.py``) in plain Python + networkx.

Reads the Pushshift ``.zst`` line by line with ``json.loads``, builds a ``networkx.DiGraph`` whose nodes are
comments (author, time, score) and whose edges go from a reply to its parent, then answers the question by
walking the graph (``predecessors`` of a reply are the replies to it). Run it with any Python that has networkx
and zstandard (the ConvoKit venv has both after ``pip install networkx``)::

    bench/.venv-convokit/bin/python bench/baseline_networkx.py bench/data/RC_synth_500k.zst

Prints one JSON line: the tier matrix, ``rows``, ``seconds_read`` (parse + graph), ``seconds_question``.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _question import WINDOW_S, assign_tiers, empty_matrix, known, records, result


def main(path: str) -> None:
    import networkx as nx

    began = time.perf_counter()
    graph = nx.DiGraph()
    parents: list[tuple[str, str]] = []
    for rec in records(path):
        graph.add_node(rec.id, author=rec.author, t=rec.t, score=rec.score)
        if rec.parent is not None:
            parents.append((rec.id, rec.parent))
    graph.add_edges_from((child, parent) for child, parent in parents if parent in graph)
    del parents
    read_done = time.perf_counter()

    status: dict[str, float] = defaultdict(float)
    for _, data in graph.nodes(data=True):
        if known(data["author"]):
            status[data["author"]] += data["score"]
    tiers = assign_tiers(status)
    matrix = empty_matrix()
    nodes = graph.nodes
    for reply, parent in graph.edges():
        replier, target = nodes[reply]["author"], nodes[parent]["author"]
        if not (known(replier) and known(target)) or replier == target:
            continue
        t = nodes[reply]["t"]
        answered = any(nodes[c]["author"] == target and nodes[c]["t"] - t <= WINDOW_S
                       for c in graph.predecessors(reply))
        cell = matrix[f"{tiers[replier]}->{tiers[target]}"]
        cell[0] += 1
        cell[1] += int(answered)
    done = time.perf_counter()
    print(result(matrix, tool="networkx", rows=graph.number_of_nodes(), seconds_read=round(read_done - began, 2),
                 seconds_question=round(done - read_done, 2)))


if __name__ == "__main__":
    main(sys.argv[1])
