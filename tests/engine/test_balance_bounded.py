"""The bounded (decision-version) diameter search (#17, planar DTDP). The optimum it must reach is found
here by brute force over every partition into connected territories, with networkx shortest paths."""

from __future__ import annotations

import time
from itertools import combinations

import networkx as nx
import numpy as np
import scipy.sparse as sp
from balance_cases import grid_with_lengths, plan_on

from territory_desktop.engine.balance.bounded import BoundedSearch
from territory_desktop.engine.balance.objectives import all_pairs


def _instance(rows: int, cols: int, seed: int):
    rng = np.random.default_rng(seed)
    g, nodes, adj, lengths = grid_with_lengths(rows, cols, rng)
    # two measures: units (exact: tolerance 0) and a random demand (+/-25 %)
    w = np.column_stack([np.ones(len(nodes)), rng.integers(1, 4, len(nodes)).astype(float)])
    return g, nodes, adj, lengths, w


def _brute_force(g, nodes, w, k, tol) -> float:
    """The smallest largest diameter over all partitions into k connected territories within the bounds."""
    dist = dict(nx.all_pairs_dijkstra_path_length(g, weight="d"))
    n = len(nodes)
    size = n // k
    target = w.sum(0) / k
    lo, hi = target * (1 - tol) - 1e-9, target * (1 + tol) + 1e-9
    parts = []
    for comb in combinations(range(n), size):
        load = w[list(comb)].sum(0)
        if (load < lo).any() or (load > hi).any() or not nx.is_connected(g.subgraph([nodes[i] for i in comb])):
            continue
        diam = max(dist[nodes[a]][nodes[b]] for a in comb for b in comb)
        parts.append((diam, frozenset(comb)))
    parts.sort(key=lambda x: x[0])
    by_first: dict[int, list] = {}
    for diam, s in parts:
        by_first.setdefault(min(s), []).append((diam, s))
    best = [np.inf]

    def cover(free: frozenset, worst: float) -> None:
        if not free:
            best[0] = min(best[0], worst)
            return
        first = min(free)
        for diam, s in by_first.get(first, []):
            if max(worst, diam) >= best[0]:
                break  # sorted by diameter: no later part does better
            if s <= free:
                cover(free - s, max(worst, diam))

    cover(frozenset(range(n)), 0.0)
    return best[0]


def _check(g, nodes, labels, w, k, tol) -> float:
    """Contiguity and bounds checked independently; returns the largest diameter (networkx)."""
    dist = dict(nx.all_pairs_dijkstra_path_length(g, weight="d"))
    target = w.sum(0) / k
    worst = 0.0
    for t in range(k):
        members = np.flatnonzero(labels == t)
        part = [nodes[i] for i in members]
        assert part and nx.is_connected(g.subgraph(part))
        load = w[members].sum(0)
        assert (load >= target * (1 - tol) - 1e-9).all() and (load <= target * (1 + tol) + 1e-9).all()
        worst = max(worst, max(dist[a][b] for a in part for b in part))
    return worst


def test_bounded_search_reaches_the_brute_force_optimum():
    tol = np.array([0.0, 0.25])
    checked = 0
    for seed in (1, 2, 3, 4):
        g, nodes, adj, lengths, w = _instance(4, 4, seed)
        optimum = _brute_force(g, nodes, w, 4, tol)
        start = np.array([r for r, c in nodes])  # four rows: balanced on units; demand may be off
        plan = plan_on(adj, start, w, tol, 4)
        if plan.violation() > 0:
            start = np.array([c for r, c in nodes])
            plan = plan_on(adj, start, w, tol, 4)
        if plan.violation() > 0:
            continue  # neither start is balanced on this seed
        before = _check(g, nodes, start, w, 4, tol)
        search = BoundedSearch(plan, all_pairs(lengths), np.random.default_rng(seed))
        res = search.run(time.perf_counter() + 0.5)
        got = _check(g, nodes, res.labels, w, 4, tol)
        assert abs(got - res.value) < 1e-4  # the value it reports is the plan's largest diameter
        assert got <= before + 1e-9  # never worse than its start
        assert abs(got - optimum) < 1e-4, (seed, before, got, optimum)
        assert np.array_equal(plan.lab, res.labels)  # the plan ends at the best plan found
        checked += 1
    assert checked >= 2


def test_bounded_search_counts_conflicts_as_the_pairs_farther_than_the_bound():
    _, nodes, adj, lengths, w = _instance(4, 4, 5)
    dist = all_pairs(lengths)
    plan = plan_on(adj, np.array([r for r, c in nodes]), w, np.array([0.0, 1.0]), 4)
    search = BoundedSearch(plan, dist, np.random.default_rng(0))
    search.set_bound(10.0)
    rng = np.random.default_rng(0)
    for _ in range(60):  # random moves: the O(1) counts must match a recount
        u = int(rng.integers(16))
        a = plan.labl[u]
        targets = sorted({plan.labl[v] for v in plan.adj[u]} - {a})
        if targets and plan.size[a] > 1:  # contiguity does not matter to the counts
            search.move(u, a, targets[0])
        pairs = sum(1 for i in range(16) for j in range(i + 1, 16)
                    if plan.lab[i] == plan.lab[j] and dist[i, j] > 10.0)
        assert search.conf == pairs


def test_a_diameter_build_with_a_time_limit_reaches_the_brute_force_optimum():
    from territory_desktop.engine.balance import BalanceProblem
    from territory_desktop.engine.balance.solve import balance_territories

    tol = np.array([0.0, 0.25])
    g, nodes, adj, lengths, w = _instance(4, 4, 3)
    optimum = _brute_force(g, nodes, w, 4, tol)
    p = BalanceProblem(adj, w, ["units", "demand"], list(tol), None, 4, edge_lengths=lengths)
    res = balance_territories(p, seed=0, time_limit=2.0, objective="diameter", use_time_limit=True)
    got = _check(g, nodes, res.labels, w, 4, tol)
    assert abs(got - optimum) < 1e-4
    assert abs(res.objective_value - got) < 1e-4


def test_bounded_search_moves_an_articulation_unit_with_its_branch():
    """A caterpillar (a path s0-s5, a leaf on each): no unit can leave its territory alone (a spine
    unit would cut off its leaf, a leaf touches only its own spine unit), so only moving s3 with its
    leaf shortens the wider territory. The optimum comes from every split into two connected parts."""
    g = nx.Graph()
    for i in range(6):
        g.add_edge(f"s{i}", f"l{i}", d=1.0)
        if i:
            g.add_edge(f"s{i - 1}", f"s{i}", d=1.0)
    nodes = [f"s{i}" for i in range(6)] + [f"l{i}" for i in range(6)]
    n = len(nodes)
    adj = sp.csr_matrix(nx.to_scipy_sparse_array(g, nodelist=nodes, format="csr", weight=None))
    lengths = sp.csr_matrix(nx.to_scipy_sparse_array(g, nodelist=nodes, format="csr", weight="d"))
    w = np.ones((n, 1))
    tol = np.array([1 / 3])  # 4 to 8 units a territory
    dist = dict(nx.all_pairs_dijkstra_path_length(g, weight="d"))
    optimum = np.inf
    for mask in range(1, 1 << (n - 1)):  # unit 0 (s0) in the first part
        first = [nodes[0]] + [nodes[i] for i in range(1, n) if mask >> (i - 1) & 1]
        second = [v for v in nodes if v not in first]
        if not 4 <= len(first) <= 8 or not nx.is_connected(g.subgraph(first)) or \
                not nx.is_connected(g.subgraph(second)):
            continue
        optimum = min(optimum, max(max(dist[a][b] for a in part for b in part) for part in (first, second)))
    start = np.array([0, 0, 0, 0, 1, 1] * 2)  # s0-s3 with their leaves (8 units, diameter 5), the rest
    plan = plan_on(adj, start, w, tol, 2)
    res = BoundedSearch(plan, all_pairs(lengths), np.random.default_rng(0)).run(time.perf_counter() + 0.5)
    got = _check(g, nodes, res.labels, w, 2, tol)
    assert _check(g, nodes, start, w, 2, tol) == 5.0 and optimum == 4.0
    assert abs(got - optimum) < 1e-9 and abs(res.value - got) < 1e-9
    assert res.labels[3] == res.labels[9] == 1  # s3 went over with its leaf
