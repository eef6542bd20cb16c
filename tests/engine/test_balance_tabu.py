"""The violation tabu search (#17): balanced plans reached on small graphs, with a branch moved along
with its articulation unit; checked with networkx and plain sums, never the engine's own numbers."""

from __future__ import annotations

import networkx as nx
import numpy as np
from balance_cases import plan_of_graph

from territory_desktop.engine.balance.tabu import ViolationTabu


def _balanced(g: nx.Graph, labels: np.ndarray, w: np.ndarray, k: int, tol: float) -> bool:
    for t in range(k):
        part = np.flatnonzero(labels == t).tolist()
        if not part or not nx.is_connected(g.subgraph(part)):
            return False
    target = w.sum(0) / k
    loads = np.array([w[labels == t].sum(0) for t in range(k)])
    return bool((np.abs(loads / target - 1) <= tol + 1e-9).all())


def _grid_case():
    """A 4 x 4 grid, two measures: a unit count and values whose left and right halves sum alike."""
    g = nx.convert_node_labels_to_integers(nx.grid_2d_graph(4, 4), ordering="sorted")  # node = 4 * row + col
    second = np.array([5, 1, 7, 3, 2, 6, 2, 4, 4, 3, 5, 5, 1, 2, 6, 4], float)
    w = np.column_stack([np.ones(16), second])
    left = [u for u in range(16) if u // 4 < 2]  # rows 0-1: 8 units
    assert second[left].sum() == second.sum() / 2  # a balanced split exists
    start = [0 if u // 4 == 0 else 1 for u in range(16)]  # 4 units against 12
    return g, w, start


def test_tabu_balances_a_grid_on_two_measures_and_is_reproducible():
    g, w, start = _grid_case()
    runs = []
    for _ in range(2):
        plan = plan_of_graph(g, w, 0.0, 2, start)
        assert plan.violation() > 0
        ok = ViolationTabu(plan, np.random.default_rng(3)).run(2000, float("inf"))
        assert ok and _balanced(g, plan.lab, w, 2, 0.0)
        runs.append(plan.lab.copy())
    assert np.array_equal(runs[0], runs[1])


def test_pinned_units_stay():
    g, w, start = _grid_case()
    pin = np.full(16, -1)
    pin[[0, 15]] = [0, 1]
    plan = plan_of_graph(g, w, 0.0, 2, start, pin)
    ViolationTabu(plan, np.random.default_rng(0)).run(2000, float("inf"))
    assert plan.lab[0] == 0 and plan.lab[15] == 1


def test_an_articulation_unit_leaves_with_its_branch():
    """x - c, c - l1, c - l2, c - h1 - h2: only c touches x's territory and c holds the other one
    together, so no single unit can move; the only balanced plan is {h1, h2} against the rest."""
    g = nx.Graph([(0, 1), (1, 2), (1, 3), (1, 4), (4, 5)])  # 0 = x, 1 = c, 2 = l1, 3 = l2, 4-5 = h1-h2
    w = np.array([[1.0], [1.0], [1.0], [1.0], [2.5], [2.5]])  # total 9, target 4.5
    plan = plan_of_graph(g, w, 0.15, 2, [1, 0, 0, 0, 0, 0])
    assert ViolationTabu(plan, np.random.default_rng(0)).run(50, float("inf"))
    assert _balanced(g, plan.lab, w, 2, 0.15)
    assert plan.lab[4] == plan.lab[5] != plan.lab[1]
