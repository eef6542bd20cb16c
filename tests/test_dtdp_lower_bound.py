"""The lower bound on the largest district diameter that ``benchmarks/dtdp.py --lower-bound`` reports
(#17): never above the optimum of any balanced plan with connected districts, found here by trying
every assignment of the nodes of small random sparse graphs."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))

import dtdp


def _graph(seed: int, n: int = 9) -> nx.Graph:
    rng = np.random.default_rng(seed)
    g = nx.random_labeled_tree(n, seed=seed)
    for _ in range(int(rng.integers(0, 3))):
        a, b = rng.choice(n, 2, replace=False).tolist()
        g.add_edge(a, b)
    for a, b in g.edges:
        g.edges[a, b]["distance"] = int(rng.integers(5, 13))
    for v in g:
        for m in dtdp.MEASURES:
            g.nodes[v][m] = int(rng.integers(1, 10))
    return g


def _optimum(g: nx.Graph, dist: dict) -> float | None:
    """The smallest largest diameter over every balanced plan with connected districts (None: no plan)."""
    lo, hi = dtdp.bounds(g)
    nodes = list(g)
    best = None
    for labels in itertools.product(range(dtdp.K), repeat=len(nodes)):
        if labels[0] != 0 or len(set(labels)) < dtdp.K:
            continue
        parts = [[v for v, t in zip(nodes, labels, strict=True) if t == d] for d in range(dtdp.K)]
        if any(not lo[m] - 1e-9 <= sum(g.nodes[v][m] for v in p) <= hi[m] + 1e-9
               for p in parts for m in dtdp.MEASURES):
            continue
        if not all(nx.is_connected(g.subgraph(p)) for p in parts):
            continue
        worst = max(dist[a][b] for p in parts for a in p for b in p)
        best = worst if best is None else min(best, worst)
    return best


def test_the_lower_bound_never_exceeds_the_optimum(monkeypatch):
    monkeypatch.setattr(dtdp, "K", 3)
    monkeypatch.setattr(dtdp, "TOLERANCE", 0.35)
    checked = tight = 0
    for seed in range(40):
        g = _graph(seed)
        dist = dict(nx.all_pairs_dijkstra_path_length(g, weight="distance"))
        optimum = _optimum(g, dist)
        if optimum is None:
            continue
        bound = dtdp.diameter_lower_bound(g, dist)
        assert 0 < bound <= optimum, (seed, bound, optimum)
        checked += 1
        tight += bound == optimum
    assert checked >= 15
    assert tight >= 3  # the bound is met on some graphs, so it says something


def test_a_heavy_tied_branch_bounds_the_diameter(monkeypatch):
    """A path a-b-c with a light leaf d on c: removing c leaves {d} below the lower bound, so d shares
    c's district, and that district must reach b or beyond to be heavy enough."""
    monkeypatch.setattr(dtdp, "K", 2)
    monkeypatch.setattr(dtdp, "TOLERANCE", 0.1)
    g = nx.Graph()
    g.add_edge("a", "b", distance=5)
    g.add_edge("b", "c", distance=7)
    g.add_edge("c", "d", distance=9)
    weights = {"a": 5, "b": 5, "c": 4, "d": 6}  # total 20: each district 9 to 11
    for v, x in weights.items():
        for m in dtdp.MEASURES:
            g.nodes[v][m] = x
    dist = dict(nx.all_pairs_dijkstra_path_length(g, weight="distance"))
    # {c, d} weighs 10 and has diameter 9; {a, b} 10 and 5: the optimum is 9, and so is the bound
    assert _optimum(g, dist) == 9
    assert dtdp.diameter_lower_bound(g, dist) == 9
