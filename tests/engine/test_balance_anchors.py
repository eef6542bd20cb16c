"""Hard anchors of a from-scratch build on rep homes: every home unit ends in its own territory.

Checked independently: contiguity with networkx, loads by plain sums, home units by index.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
from test_balance import check_plan, grid_problem

from territory_desktop.engine.balance import balance_territories
from territory_desktop.engine.balance.anchored import anchored_start, graph_distances
from territory_desktop.engine.balance.solve import _build_setup, _join_homes, adjacency_lists, combined_weight


def _cell(i: int, j: int, nx_: int = 12) -> int:
    return j * nx_ + i


def _homes_problem(cells: list[tuple[int, int]], tol: float = 0.05):
    p, adj = grid_problem(k=len(cells), tol=tol)
    p.home_units = np.array([_cell(i, j) for i, j in cells])
    p.homes = p.xy[p.home_units].copy()
    return p, adj


# two homes close together in one corner: a bisection holds at most one of them per region
CROWDED = [(0, 0), (2, 1), (11, 0), (0, 11), (11, 11), (6, 6)]


def test_build_keeps_every_home_unit_in_its_territory_and_balances():
    p, adj = _homes_problem(CROWDED)
    r = balance_territories(p, seed=0, time_limit=20)
    assert [int(r.labels[h]) for h in p.home_units] == list(range(len(CROWDED)))
    assert r.within_tolerance
    check_plan(r.labels, adj, p.weights, len(CROWDED), 0.05)


def test_anchored_start_is_one_piece_per_home_and_near_balance():
    p, adj = _homes_problem(CROWDED)
    fixed = np.full(p.n, -1)
    fixed[p.home_units] = np.arange(p.k)
    labels = anchored_start(p.weights, p.tolerance, combined_weight(p), p.adjacency, p.xy, fixed, p.home_units)
    assert labels is not None
    assert [int(labels[h]) for h in p.home_units] == list(range(p.k))
    g = nx.from_scipy_sparse_array(adj.matrix)
    for t in range(p.k):
        assert nx.is_connected(g.subgraph(np.flatnonzero(labels == t).tolist())), t
    loads = np.array([p.weights[labels == t, 0].sum() for t in range(p.k)])
    assert np.abs(loads / loads.mean() - 1).max() < 0.25  # a start: the search finishes the balance


def test_graph_distances_follow_the_grid():
    p, _ = grid_problem()
    d = graph_distances(p.adjacency, p.xy, np.array([_cell(0, 0)]))
    # queen neighbours (+1 mm per edge): to (3, 4) three diagonal steps and one straight, not 5 km straight
    assert abs(d[0, _cell(3, 4)] - (3 * np.sqrt(2) * 1000 + 1000 + 0.004)) < 1e-6


def test_join_homes_brings_a_home_in_with_a_chain_of_units():
    p, adj = grid_problem(k=2)
    labels = (p.xy[:, 0] > 6000).astype(np.int64)  # left half 0, right half 1
    homes = np.array([_cell(1, 5), _cell(2, 5)])  # both in the left half: territory 1's home is outside
    joined = _join_homes(labels, adjacency_lists(p), homes, np.zeros(p.n, bool))
    assert joined[homes[0]] == 0 and joined[homes[1]] == 1
    chain = np.flatnonzero(joined != labels)
    assert len(chain) == 4  # cells (2..5, 5): the shortest way from the home to the right half
    g = nx.from_scipy_sparse_array(adj.matrix)
    assert nx.is_connected(g.subgraph(np.flatnonzero(joined == 1).tolist()))


def test_setup_pins_each_home_unit_to_its_territory():
    p, _ = _homes_problem(CROWDED)
    b, seeds = _build_setup(p, 0)
    assert seeds.tolist() == p.home_units.tolist()
    assert b.pin[p.home_units].all() and b.pin_to[p.home_units].tolist() == list(range(p.k))
