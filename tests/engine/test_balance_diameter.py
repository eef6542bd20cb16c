"""The diameter objective's incremental moves and ejection chains (#17, planar DTDP). Every expected
diameter is computed here with networkx shortest paths, never by the engine."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from balance_cases import grid_with_lengths, plan_on, with_random_lengths

from territory_desktop.engine.balance.anytime import Plan
from territory_desktop.engine.balance.diameter import diameter_descent
from territory_desktop.engine.balance.objectives import Diameter, all_pairs


def _diameters(g, nodes, labels, k) -> list[float]:
    dist = dict(nx.all_pairs_dijkstra_path_length(g, weight="d"))
    out = []
    for t in range(k):
        part = [nodes[i] for i in np.flatnonzero(labels == t)]
        out.append(max(dist[a][b] for a in part for b in part))
    return out


def test_incremental_moves_keep_the_diameters_networkx_computes():
    g, nodes, adj, lengths = grid_with_lengths(6, 6, np.random.default_rng(3))
    labels = np.array([(r // 3) * 2 + c // 3 for r, c in nodes])
    plan = plan_on(adj, labels, np.ones((36, 1)), 0.5, 4)
    obj = Diameter(plan.lab, 4, all_pairs(lengths))
    rng = np.random.default_rng(0)
    moved = 0
    for _ in range(200):
        u = int(rng.integers(36))
        a = plan.labl[u]
        targets = sorted({plan.labl[v] for v in plan.adj[u]} - {a})
        if not targets or not plan.move_ok(u, a, targets[0]):
            continue
        energy, payload = obj.move(plan, u, a, targets[0])
        plan.move(u, a, targets[0])
        obj.apply_move(plan, u, a, targets[0], payload, energy)
        moved += 1
        assert obj.d == pytest.approx(_diameters(g, nodes, plan.lab, 4), rel=1e-6)
        assert energy == pytest.approx(Diameter(plan.lab, 4, obj.D).energy, rel=1e-6)
    assert moved >= 10


def test_descent_keeps_the_plan_balanced_and_connected_and_never_raises_the_largest_diameter():
    g, nodes, adj, lengths = grid_with_lengths(8, 8, np.random.default_rng(7))
    rng = np.random.default_rng(4)
    w = np.c_[np.ones(64), rng.integers(5, 15, size=64).astype(float)]
    labels = np.array([(r // 4) * 2 + c // 4 for r, c in nodes])
    plan = plan_on(adj, labels, w, 0.25, 4)
    assert plan.violation() == 0, "fixture: the quadrants are balanced"
    obj = Diameter(plan.lab, 4, all_pairs(lengths))
    before = max(_diameters(g, nodes, plan.lab, 4))
    kept = diameter_descent(plan, obj, np.random.default_rng(1))
    after = _diameters(g, nodes, plan.lab, 4)
    assert plan.violation() == 0
    loads = np.stack([np.bincount(plan.lab, weights=w[:, j], minlength=4) for j in range(2)], 1)
    assert np.all(np.abs(loads / (w.sum(0) / 4) - 1) <= 0.25 + 1e-9)
    for t in range(4):
        assert nx.is_connected(g.subgraph([nodes[i] for i in np.flatnonzero(plan.lab == t)]))
    assert obj.d == pytest.approx(after, rel=1e-6)
    assert max(after) <= before + 1e-9
    assert kept > 0 and max(after) < before  # the quadrants of this grid are not a local optimum


def _single_moves_blocked(plan: Plan, obj: Diameter) -> bool:
    """No end of the largest territory may move alone to a neighbour within the bounds."""
    a = int(np.argmax(obj.d))
    return not any(plan.move_ok(int(u), a, c) for u in obj.ends(plan, a).tolist()
                   for c in {plan.labl[v] for v in plan.adj[int(u)]} - {a})


def test_when_no_single_move_is_within_the_bounds_a_chain_with_compensating_moves_shrinks_the_largest():
    # a 12-unit ring with random lengths in three arcs of four units, each exactly within the bounds:
    # every single move breaks them, only a rotation of the three arcs (a move and two compensating
    # moves) changes the plan. The chains must shrink the largest diameter on some rings and always
    # leave a balanced, connected plan with the diameters networkx computes.
    blocked = improved = 0
    for seed in range(60):
        g, nodes, adj, lengths = with_random_lengths(nx.cycle_graph(12), np.random.default_rng(seed))
        dist = all_pairs(lengths)
        rng = np.random.default_rng(seed)
        cuts = (np.arange(3) * 4 + rng.integers(4)) % 12
        labels = np.zeros(12, np.int64)
        for t, (s, e) in enumerate(zip(cuts, np.r_[cuts[1:], cuts[0] + 12], strict=True)):
            labels[np.arange(s, e) % 12] = t
        plan = plan_on(adj, labels, np.ones((12, 1)), 0.15, 3)
        obj = Diameter(plan.lab, 3, dist)
        if plan.violation() > 0 or not _single_moves_blocked(plan, obj):
            continue
        blocked += 1
        before = obj.value()
        diameter_descent(plan, obj, np.random.default_rng(0))
        after = _diameters(g, nodes, plan.lab, 3)
        assert plan.violation() == 0 and max(after) <= before
        assert obj.d == pytest.approx(after)
        for t in range(3):
            assert nx.is_connected(g.subgraph([nodes[i] for i in np.flatnonzero(plan.lab == t)]))
        improved += max(after) < before
    assert blocked == 60 and improved >= 5, (blocked, improved)
