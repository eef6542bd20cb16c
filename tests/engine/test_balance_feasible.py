"""Exact balance with contiguity (#17, :mod:`territory_desktop.engine.balance.feasible`): the implied ties,
forced territories and infeasibility proofs against a brute-force enumeration of every plan of small
sparse graphs (networkx and plain sums), and the CP-SAT repair on a graph where no single-unit move or
tabu burst reaches balance although a balanced contiguous plan exists."""

from __future__ import annotations

import itertools
import time

import networkx as nx
import numpy as np
import scipy.sparse as sp
from balance_cases import plan_of_graph

from territory_desktop.engine.balance.feasible import (
    FeasibilityModel,
    _cut_pieces,
    _two_cut_pieces,
    diameter_bound_proof,
    infeasibility_proof,
    integer_measures,
    piece_feasible,
    presolve,
    repair,
    tie_groups,
)


def _balanced_plans(g: nx.Graph, w: np.ndarray, k: int, tol: float) -> list[tuple[int, ...]]:
    """Every balanced contiguous plan (labels in order of first use), by enumeration."""
    n = g.number_of_nodes()
    target = w.sum(0) / k
    lo, hi = np.ceil(target * (1 - tol) - 1e-9), np.floor(target * (1 + tol) + 1e-9)
    out = []
    for lab in itertools.product(range(k), repeat=n - 1):
        lab = (0, *lab)
        if len(set(lab)) != k or any(lab.index(t) > lab.index(t + 1) for t in range(k - 1)):
            continue
        arr = np.array(lab)
        loads = np.array([w[arr == t].sum(0) for t in range(k)])
        if not ((loads >= lo).all() and (loads <= hi).all()):
            continue
        if all(nx.is_connected(g.subgraph(np.flatnonzero(arr == t).tolist())) for t in range(k)):
            out.append(lab)
    return out


def _random_case(seed: int):
    rng = np.random.default_rng(seed)
    n = 9
    g = nx.random_labeled_tree(n, seed=seed) if hasattr(nx, "random_labeled_tree") else nx.random_tree(n, seed=seed)
    for _ in range(int(rng.integers(0, 3))):
        u, v = rng.choice(n, 2, replace=False).tolist()
        g.add_edge(u, v)
    w = rng.integers(1, 12, size=(n, 2)).astype(float)
    return g, w


def test_ties_forced_territories_and_proofs_agree_with_enumeration():
    k, tol = 3, 0.2
    proved = feasible = tied = 0
    for seed in range(60):
        g, w = _random_case(seed)
        plans = _balanced_plans(g, w, k, tol)
        plan = plan_of_graph(g, w, tol, k, [0] * 9)
        pre = presolve(plan)
        if pre.infeasible:
            proved += 1
            assert not plans, seed  # a proof never rejects a feasible instance
            continue
        units = list(range(9))
        wi, lo, hi = integer_measures(plan, units)
        for grp in tie_groups(plan.adj, units, np.ones(9, bool), wi, lo):
            tied += len(grp) > 1
            for lab in plans:
                assert len({lab[u] for u in grp}) == 1, seed
        for d in pre.districts:
            for lab in plans:
                assert sorted(u for u in units if lab[u] == lab[d[0]]) == sorted(d), seed
        ties = [grp for grp in tie_groups(plan.adj, units, np.ones(9, bool), wi, lo) if len(grp) > 1]
        for v, piece in _cut_pieces(plan.adj, units, np.ones(9, bool)):
            st = piece_feasible(plan.adj, piece, [v], np.vstack([wi[piece], wi[v]]), lo, hi, 10.0, ties=ties)
            if st == "INFEASIBLE":
                proved += 1
                assert not plans, seed
        for piece, boundary in _two_cut_pieces(plan.adj, 9, 9, float("inf")):
            assert len(boundary) == 2 and not set(piece) & set(boundary)
            st = piece_feasible(plan.adj, piece, boundary, np.vstack([wi[piece], wi[boundary]]), lo, hi, 10.0,
                                ties=ties)
            if st == "INFEASIBLE":
                proved += 1
                assert not plans, seed
        out = FeasibilityModel(plan).solve(10.0)
        assert (out.labels is not None) == bool(plans), seed
        if out.labels is not None:
            feasible += 1
            canon = {t: i for i, t in enumerate(dict.fromkeys(out.labels.tolist()))}
            assert tuple(canon[t] for t in out.labels.tolist()) in plans
    # the cases exercise every branch: some infeasible, some feasible, some ties
    assert proved >= 3 and feasible >= 3 and tied >= 3, (proved, feasible, tied)



def _diameter_case(seed: int, k: int, tol: float):
    """(graph with random lengths ``d``, weights, networkx shortest paths, the smallest largest diameter of
    a balanced plan by enumeration) on the random case of ``seed``, or None when it has no balanced plan."""
    g, w = _random_case(seed)
    plans = _balanced_plans(g, w, k, tol)
    if not plans:
        return None
    rng = np.random.default_rng(1000 + seed)
    for a, b in g.edges:
        g.edges[a, b]["d"] = int(rng.integers(1, 10))
    dist = dict(nx.all_pairs_dijkstra_path_length(g, weight="d"))
    best = min(max(dist[u][v] for u in range(9) for v in range(9) if lab[u] == lab[v]) for lab in plans)
    return g, w, dist, best


def test_a_diameter_search_stops_when_it_proves_its_plan_optimal():
    """With a time limit the diameter search stops ("optimal") once a diameter bound proof shows that no
    balanced plan has a smaller largest diameter; the value is then the enumeration's optimum."""
    from territory_desktop.engine.balance import BalanceProblem
    from territory_desktop.engine.balance.solve import balance_territories

    proved = 0
    for seed in (0, 3, 7, 53):  # 53: no piece proves its optimum
        g, w, _, best = _diameter_case(seed, 3, 0.3)
        adj = sp.csr_matrix(nx.to_scipy_sparse_array(g, nodelist=range(9), format="csr", weight=None))
        lengths = sp.csr_matrix(nx.to_scipy_sparse_array(g, nodelist=range(9), format="csr", weight="d"))
        p = BalanceProblem(adj, w, ["a", "b"], [0.3, 0.3], None, 3, edge_lengths=lengths)
        res = balance_territories(p, seed=0, time_limit=8.0, objective="diameter", use_time_limit=True, strict=False)
        assert res.within_tolerance
        if res.stopped == "optimal":
            assert res.objective_value == best, seed  # never claimed for a plan that is not optimal
            proved += 1
    assert proved >= 3


def test_piece_proofs_with_a_diameter_bound_agree_with_enumeration():
    """With the pairs farther apart than D kept in different territories, a piece model may prove that
    no balanced plan has every diameter <= D: never at the optimum D* of the enumeration (networkx
    shortest paths on random lengths), and on some cases just below it."""
    k, tol = 3, 0.3
    checked = below = 0
    for seed in range(60):
        case = _diameter_case(seed, k, tol)
        if case is None:
            continue
        g, w, dist, best = case
        plan = plan_of_graph(g, w, tol, k, [0] * 9)
        units = list(range(9))
        wi, lo, hi = integer_measures(plan, units)
        ties = [grp for grp in tie_groups(plan.adj, units, np.ones(9, bool), wi, lo) if len(grp) > 1]
        pieces = [(piece, [v]) for v, piece in _cut_pieces(plan.adj, units, np.ones(9, bool))]
        pieces += _two_cut_pieces(plan.adj, 9, 9, float("inf"))
        proof_below = False
        for piece, boundary in pieces:
            for bound in (best, best - 1):
                apart = [(u, v) for u in range(9) for v in range(u + 1, 9) if dist[u][v] > bound]
                st = piece_feasible(plan.adj, piece, boundary, np.vstack([wi[piece], wi[boundary]]), lo, hi,
                                    10.0, ties=ties, apart=apart)
                assert st != "UNKNOWN"
                if bound == best:
                    assert st != "INFEASIBLE", (seed, piece, boundary)  # a plan meets D*: no proof
                else:
                    proof_below |= st == "INFEASIBLE"
        matrix = np.array([[dist[u][v] for v in range(9)] for u in range(9)], float)
        assert diameter_bound_proof(plan, matrix, best, float("inf"), max_units=9) is None
        found = diameter_bound_proof(plan, matrix, best - 1, float("inf"), max_units=9, name=lambda u: f"u{u}")
        assert (found is not None) == proof_below, seed  # the same pieces in the engine's own search
        assert found is None or f"farther apart than {best - 1:g}" in found
        assert found is None or "cut off by one unit (u" in found or "cut off by two units (u" in found
        checked += 1
        below += proof_below
    assert checked >= 15 and below >= 10, (checked, below)


def test_a_piece_cut_off_by_two_units_proves_what_one_unit_cannot():
    """A ring of 10 units (no cut unit, so no tie and no one-unit piece), two measures, +/-20 %, k = 3
    (found by a random search): the 7 units that units 3 and 5 cut off cannot hold whole territories
    plus the parts of those two units' territories, and indeed no balanced plan exists."""
    g = nx.cycle_graph(10)
    w = np.array([[9, 10], [2, 1], [5, 5], [8, 10], [7, 5], [8, 7], [5, 4], [6, 1], [10, 8], [2, 5]], float)
    k, tol = 3, 0.2
    assert not _balanced_plans(g, w, k, tol)
    plan = plan_of_graph(g, w, tol, k, [0] * 10)
    assert presolve(plan).infeasible is None and not _cut_pieces(plan.adj, list(range(10)), np.ones(10, bool))
    wi, lo, hi = integer_measures(plan, list(range(10)))
    pieces = {(frozenset(p), frozenset(b)) for p, b in _two_cut_pieces(plan.adj, 10, 10, float("inf"))}
    assert (frozenset({0, 1, 2, 9, 8, 7, 6}), frozenset({3, 5})) in pieces
    assert len(pieces) == 10 * 7  # every arc of 1-7 units, cut off by its two neighbours (not adjacent)
    assert piece_feasible(plan.adj, [0, 1, 2, 6, 7, 8, 9], [3, 5], wi[[0, 1, 2, 6, 7, 8, 9, 3, 5]], lo, hi,
                          10.0) == "INFEASIBLE"
    why = infeasibility_proof(plan, time.perf_counter() + 30, max_units=10)
    assert why is not None and "cut off by two units" in why
    # a Stop or Finish of the planner (halt) ends the proof at once, without a verdict: asked once
    # more after it is set (the 70 pieces would ask at least 70 times)
    asked = []
    assert infeasibility_proof(plan, time.perf_counter() + 30, max_units=10,
                               halt=lambda: asked.append(1) or len(asked) >= 3) is None
    assert len(asked) == 4


def _blocked_case():
    """A 14-unit tree, three measures, +/-5 %, k = 2 (found by a random search): its only balanced plan
    cuts one edge; the start (unit 13 alone) is off balance and no single-unit transfer that keeps the
    donor connected lowers the violation."""
    g = nx.Graph([(0, 1), (0, 12), (1, 2), (1, 10), (2, 11), (2, 13), (3, 6), (4, 9), (4, 10), (5, 6), (6, 8),
                  (6, 9), (7, 12)])
    w = np.array([[16, 2, 15], [2, 10, 19], [8, 10, 2], [19, 3, 14], [11, 19, 14], [18, 19, 13], [14, 8, 13],
                  [11, 10, 5], [2, 13, 5], [9, 1, 14], [6, 3, 8], [13, 8, 2], [9, 17, 9], [10, 3, 7]], float)
    return g, w, [0] * 13 + [1]


def _violation(g: nx.Graph, w: np.ndarray, lab: list[int], k: int, tol: float) -> float:
    target = w.sum(0) / k
    loads = np.array([w[np.array(lab) == t].sum(0) for t in range(k)])
    return float((np.maximum(np.abs(loads / target - 1) - tol, 0)).sum())


def test_repair_balances_where_single_unit_moves_are_blocked():
    g, w, start = _blocked_case()
    k, tol = 2, 0.05
    plans = _balanced_plans(g, w, k, tol)
    assert plans  # independently: a balanced contiguous plan exists
    v0 = _violation(g, w, start, k, tol)
    assert v0 > 0
    for u in range(14):  # every single-unit transfer keeping both territories connected is no better
        lab = list(start)
        lab[u] = 1 - lab[u]
        parts = [[x for x in range(14) if lab[x] == t] for t in range(k)]
        if all(parts) and all(nx.is_connected(g.subgraph(p)) for p in parts):
            assert _violation(g, w, lab, k, tol) >= v0 - 1e-12
    plan = plan_of_graph(g, w, tol, k, start)
    assert repair(plan, None, 10.0)
    lab = tuple(plan.lab.tolist())
    canon = {t: i for i, t in enumerate(dict.fromkeys(lab))}
    assert tuple(canon[t] for t in lab) in plans


def _networkx_ties(g: nx.Graph, w: np.ndarray, lo: np.ndarray) -> set[frozenset[int]]:
    """The tie groups re-derived with networkx: every piece of every articulation point below ``lo``
    on some measure joins that point."""
    ties = nx.Graph()
    ties.add_nodes_from(g)
    for v in nx.articulation_points(g):
        for comp in nx.connected_components(g.subgraph(set(g) - {v})):
            if (w[sorted(comp)].sum(0) < lo).any():
                ties.add_edges_from((v, u) for u in comp)
    return {frozenset(c) for c in nx.connected_components(ties)}


def test_ties_examine_every_piece_of_a_cut_unit():
    """A cut unit with two split-off subtrees and a light rest: the rest is tied (it was missed when
    only the union of the other pieces was compared with the bound), on random sparse graphs too."""
    # 0 - 1 - 2, with 2 the centre of two heavy arms (3-4 and 5-6); unit 0-1 is the light rest
    g = nx.Graph([(0, 1), (1, 2), (2, 3), (3, 4), (2, 5), (5, 6)])
    w = np.array([[1], [1], [1], [5], [5], [5], [5]])
    lo = np.array([4])
    for root in range(7):  # whatever unit the DFS starts from
        units = [root, *[u for u in range(7) if u != root]]
        adj = [sorted(g.neighbors(u)) for u in range(7)]
        groups = {frozenset(grp) for grp in tie_groups(adj, units, np.ones(7, bool), w[units], lo)}
        assert groups == _networkx_ties(g, w, lo) == {frozenset({0, 1, 2}), frozenset({3}), frozenset({4}),
                                                      frozenset({5}), frozenset({6})}
    rng = np.random.default_rng(5)
    for seed in range(40):
        n = int(rng.integers(8, 40))
        g = nx.random_labeled_tree(n, seed=seed) if hasattr(nx, "random_labeled_tree") else nx.random_tree(n, seed=seed)
        for _ in range(int(rng.integers(0, 6))):
            u, v = rng.choice(n, 2, replace=False).tolist()
            g.add_edge(u, v)
        w = rng.integers(1, 12, size=(n, 2))
        lo = (w.sum(0) / int(rng.integers(2, 6)) * 0.9).astype(np.int64)
        adj = [sorted(g.neighbors(u)) for u in range(n)]
        units = rng.permutation(n).tolist()
        groups = {frozenset(grp) for grp in tie_groups(adj, units, np.ones(n, bool), w[units], lo)}
        assert groups == _networkx_ties(g, w, lo), seed


def test_the_engine_names_the_units_behind_a_proof():
    """A path north - centre - south, k = 2, weights 3, 4, 3 (+/-10 %: 4.5 to 5.5): each end alone is too
    light for a territory, so both share centre's, which is then too heavy: no balanced plan. The
    result says so with the planner's unit names; a proof on a piece names the cut unit."""
    from territory_desktop.engine.balance import BalanceProblem
    from territory_desktop.engine.balance.solve import balance_territories

    adj = sp.csr_matrix(nx.to_scipy_sparse_array(nx.path_graph(3), format="csr", weight=None))
    p = BalanceProblem(adj, np.array([[3.0], [4.0], [3.0]]), ["calls"], [0.1], None, 2,
                       unit_names=["north", "centre", "south"])
    res = balance_territories(p, seed=0, time_limit=1.0, strict=False)
    assert not res.within_tolerance
    assert res.infeasible == ("3 units that must share one territory (units north, centre, south) exceed an "
                              "upper bound")
    g = nx.cycle_graph(10)  # the ring of the test above: the piece that units 3 and 5 cut off
    w = np.array([[9, 10], [2, 1], [5, 5], [8, 10], [7, 5], [8, 7], [5, 4], [6, 1], [10, 8], [2, 5]], float)
    why = infeasibility_proof(plan_of_graph(g, w, 0.2, 3, [0] * 10), time.perf_counter() + 30, max_units=10,
                              name=lambda u: f"Z{u}")
    assert why is not None and "cut off by two units (Z" in why


def test_a_stuck_diameter_search_starts_again_from_new_plans_and_keeps_the_best():
    """Case 53 has no piece that proves its optimum, so the search from the first plan ends "stuck"
    (bounded phases keep failing) and starts again from new compact starts while time is left; the
    plan returned is balanced, connected and at the enumeration's optimum (networkx diameters)."""
    from territory_desktop.engine.balance import BalanceProblem
    from territory_desktop.engine.balance.solve import balance_territories

    g, w, dist, best = _diameter_case(53, 3, 0.3)
    adj = sp.csr_matrix(nx.to_scipy_sparse_array(g, nodelist=range(9), format="csr", weight=None))
    lengths = sp.csr_matrix(nx.to_scipy_sparse_array(g, nodelist=range(9), format="csr", weight="d"))
    p = BalanceProblem(adj, w, ["a", "b"], [0.3, 0.3], None, 3, edge_lengths=lengths)
    said: list[str] = []
    # stuck after three failed phases (0.9 s alone, 1.8 s at a third of a core: bounded.patience_for
    # 9 units); a fresh start needs FRESH_START_SECONDS left
    res = balance_territories(p, seed=0, time_limit=10.0, objective="diameter", use_time_limit=True, strict=False,
                              progress=lambda f, m: said.append(m))
    assert any(m.startswith(f"new start plan 2 (best {best:g} so far)") for m in said), said[-5:]
    assert res.within_tolerance and res.stopped == "time limit"
    assert res.starts == 1 + sum(m.startswith("new start plan") for m in set(said))
    lab = res.labels
    assert all(nx.is_connected(g.subgraph([u for u in range(9) if lab[u] == t])) for t in range(3))
    got = max(dist[u][v] for u in range(9) for v in range(9) if lab[u] == lab[v])
    assert got == best and res.objective_value == got


def test_the_total_diameter_search_reaches_the_enumerated_optimum():
    """``total-diameter`` minimises the sum of the territory diameters: on small random graphs the plan
    returned is balanced and connected, its value is the sum networkx computes for it, and it is the
    smallest sum over every balanced connected plan (enumeration). On case 40 a plan at the smallest
    largest diameter has a larger sum, so a search minimising the largest diameter could end there."""
    from territory_desktop.engine.balance import BalanceProblem
    from territory_desktop.engine.balance.solve import balance_territories

    differ = 0
    for seed in (0, 3, 7, 40, 53):
        g, w, dist, best_max = _diameter_case(seed, 3, 0.3)
        plans = _balanced_plans(g, w, 3, 0.3)

        def diameters(lab, dist=dist) -> list[float]:
            return [max(dist[u][v] for u in range(9) for v in range(9) if lab[u] == lab[v] == t) for t in range(3)]

        best_total = min(sum(diameters(lab)) for lab in plans)
        differ += any(max(diameters(lab)) == best_max and sum(diameters(lab)) > best_total for lab in plans)
        adj = sp.csr_matrix(nx.to_scipy_sparse_array(g, nodelist=range(9), format="csr", weight=None))
        lengths = sp.csr_matrix(nx.to_scipy_sparse_array(g, nodelist=range(9), format="csr", weight="d"))
        p = BalanceProblem(adj, w, ["a", "b"], [0.3, 0.3], None, 3, edge_lengths=lengths)
        res = balance_territories(p, seed=0, time_limit=1.5, objective="total-diameter", use_time_limit=True,
                                  strict=False)
        lab = res.labels.tolist()
        assert res.within_tolerance and res.stopped == "time limit", seed  # no bounded search, no proof here
        assert all(nx.is_connected(g.subgraph([u for u in range(9) if lab[u] == t])) for t in range(3))
        assert res.objective_value == sum(diameters(lab)) == best_total, seed
    assert differ >= 1  # the two objectives disagree somewhere, so the test tells them apart
