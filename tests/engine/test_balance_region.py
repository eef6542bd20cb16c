"""Solver recombination of three territories for cut edges (#17): against every plan of a small grid,
enumerated by brute force."""

from __future__ import annotations

import functools
import itertools

import networkx as nx
import numpy as np
import scipy.sparse as sp
from balance_cases import plan_on

from territory_desktop.engine.balance.region import recombine_region

TOL = 0.4


def _grid():
    g = nx.grid_2d_graph(3, 3)
    nodes = list(g.nodes)
    adj = sp.csr_matrix(nx.to_scipy_sparse_array(g, nodelist=nodes, format="csr", weight=None))
    w = np.random.default_rng(4).integers(10, 60, size=(len(nodes), 2)).astype(float)
    return g, nodes, adj, w


def _parts_connected(g: nx.Graph, nodes: list, lab) -> bool:
    return all(nx.is_connected(g.subgraph([nodes[i] for i in range(len(nodes)) if lab[i] == t])) for t in range(3))


@functools.cache
def _plans() -> list[tuple[np.ndarray, int, float]]:
    """Every labelling of the grid into 3 connected territories (unit 0 in territory 0):
    (labels, cut edges, excess beyond the bounds in tolerances), by brute force."""
    g, nodes, _, w = _grid()
    target = w.sum(0) / 3
    lo, hi = target * (1 - TOL), target * (1 + TOL)
    edges = [(nodes.index(a), nodes.index(b)) for a, b in g.edges]
    out = []
    for rest in itertools.product(range(3), repeat=len(nodes) - 1):
        lab = (0, *rest)
        if len(set(lab)) < 3 or not _parts_connected(g, nodes, lab):
            continue
        arr = np.array(lab)
        loads = np.stack([w[arr == t].sum(0) for t in range(3)])
        excess = float(((np.maximum(loads - hi, 0) + np.maximum(lo - loads, 0)) / (target * TOL)).sum())
        out.append((arr, sum(1 for a, b in edges if lab[a] != lab[b]), excess))
    return out


def _connected(g, nodes, labels) -> bool:
    return _parts_connected(g, nodes, labels.tolist())


def test_cut_mode_reaches_the_brute_force_minimum_from_the_worst_balanced_plan():
    g, nodes, adj, w = _grid()
    plans = _plans()
    balanced = [(lab, cut) for lab, cut, excess in plans if excess == 0]
    worst = max(balanced, key=lambda x: x[1])
    best = min(cut for _, cut in balanced)
    assert worst[1] > best
    plan = plan_on(adj, worst[0], w, TOL, 3)
    assert recombine_region(plan, [0, 1, 2], 5.0)
    assert _connected(g, nodes, plan.lab) and plan.violation() == 0
    assert sum(1 for a, b in g.edges if plan.lab[nodes.index(a)] != plan.lab[nodes.index(b)]) == best
