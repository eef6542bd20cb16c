"""The diameter objective's compact start (#17): p-centre seeds grown by shortest-path distance. The
loads, connectivity and diameters are checked here with numpy and networkx, not by the engine."""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp

from territory_desktop.engine.balance import BalanceProblem, balance_territories
from territory_desktop.engine.balance.objectives import all_pairs
from territory_desktop.engine.balance.pcenter import compact_start, farthest_seeds


def _grid(rows: int, cols: int):
    g = nx.grid_2d_graph(rows, cols)
    nodes = list(g.nodes)
    adj = sp.csr_matrix(nx.to_scipy_sparse_array(g, nodelist=nodes, format="csr", weight=None))
    lists = [adj.indices[adj.indptr[i]:adj.indptr[i + 1]].tolist() for i in range(adj.shape[0])]
    return g, nodes, adj, lists


def _connected(g, nodes, labels, k) -> bool:
    return all(nx.is_connected(g.subgraph([nodes[i] for i in np.flatnonzero(labels == t)])) for t in range(k))


def _weights(n: int) -> np.ndarray:
    rng = np.random.default_rng(5)
    return np.column_stack([rng.integers(1, 4, n), rng.integers(10, 30, n)]).astype(float)


def test_farthest_seeds_spread_over_the_corners():
    _, nodes, adj, _ = _grid(5, 5)
    dist = all_pairs(adj.astype(float))
    seeds = farthest_seeds(dist, 4, first=nodes.index((2, 2)))
    assert seeds[0] == nodes.index((2, 2))
    assert {nodes[s] for s in seeds[1:]} <= {(0, 0), (0, 4), (4, 0), (4, 4)}  # 4 steps from the centre


def test_compact_start_is_contiguous_deterministic_and_compact_on_a_uniform_grid():
    g, nodes, adj, lists = _grid(8, 8)
    dist = all_pairs(adj.astype(float))
    w = np.ones((64, 2))
    targets = w.sum(0) / 4
    labels = compact_start(lists, dist, w, targets * 0.95, targets * 1.05, np.ones(64), 4)
    assert np.array_equal(labels, compact_start(lists, dist, w, targets * 0.95, targets * 1.05, np.ones(64), 4))
    assert set(labels.tolist()) == {0, 1, 2, 3}
    assert _connected(g, nodes, labels, 4)
    sizes = np.bincount(labels, minlength=4)  # growth stops at 16.8; units left over join a neighbour
    assert sizes.min() >= 14 and sizes.max() <= 18, sizes
    hops = dict(nx.all_pairs_shortest_path_length(g))
    diam = max(hops[nodes[a]][nodes[b]] for t in range(4) for a in np.flatnonzero(labels == t)
               for b in np.flatnonzero(labels == t))
    assert diam <= 10  # the grid's own diameter is 14; 4x4 quadrants would have 6


def test_diameter_build_from_the_compact_start_is_within_both_bounds_and_reproducible():
    g, nodes, adj, _ = _grid(9, 9)
    w = _weights(81)
    tol = np.array([0.08, 0.08])
    p = BalanceProblem(adj, w, ["a", "b"], tol, None, 3, edge_lengths=adj.astype(float))
    runs = [balance_territories(p, seed=2, time_limit=2, strict=False, objective="diameter") for _ in range(2)]
    labels = runs[0].labels
    assert np.array_equal(labels, runs[1].labels)
    assert _connected(g, nodes, labels, 3)
    load = np.stack([np.bincount(labels, weights=w[:, j], minlength=3) for j in range(2)], 1)
    target = w.sum(0) / 3
    assert (np.abs(load / target - 1) <= tol + 1e-9).all()


def test_seed_0_starts_from_the_graph_centre_other_seeds_elsewhere():
    """Searches from several seeds at once must not all begin with one plan: seed 0's first compact
    start is the centre one (``first=None``), seed 1's grows from another unit and is another plan."""
    from territory_desktop.engine.balance import solve

    _g, _nodes, adj, lists = _grid(9, 9)
    w = _weights(81)
    tol = np.array([0.08, 0.08])
    p = BalanceProblem(adj, w, ["a", "b"], tol, None, 3, edge_lengths=adj.astype(float))
    dist = all_pairs(adj.astype(float))
    starts = []
    for seed in (0, 1):
        b, _ = solve._build_setup(p, seed)
        b = solve._with_distances(b, "diameter")
        starts.append(solve._diameter_start(b, 1))
    centre = compact_start(lists, dist, p.weights, p.targets * (1 - p.tolerance), p.targets * (1 + p.tolerance),
                           solve.combined_weight(p), 3, None)
    assert np.array_equal(starts[0], centre)
    assert not np.array_equal(starts[1], centre)
