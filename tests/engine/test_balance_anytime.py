"""The anytime search (#17): recombination reaches balance on sparse graphs, the exact pair split finds
brute-force optima, objectives on edge lengths, optional coordinates, stall stops. Every expected
number is computed here by brute force or networkx, never by the engine."""

from __future__ import annotations

import itertools
import time
from types import SimpleNamespace

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from territory_desktop.engine.balance import BalanceProblem, balance_territories
from territory_desktop.engine.balance.objectives import Objective


def _arrays(g: nx.Graph):
    nodes = list(g.nodes)
    a = nx.to_scipy_sparse_array(g, nodelist=nodes, format="csr", weight=None)
    return nodes, sp.csr_matrix(a)


def _check_plan(g: nx.Graph, nodes, labels, k, w, tol) -> None:
    for t in range(k):
        part = [nodes[i] for i in np.flatnonzero(labels == t)]
        assert part and nx.is_connected(g.subgraph(part)), f"territory {t} is split"
    loads = np.bincount(labels, weights=w, minlength=k)
    assert np.all(np.abs(loads / (w.sum() / k) - 1) <= tol + 1e-12), loads


def _bipartitions(g: nx.Graph, w: dict, lo: float, hi: float):
    """Every split of g into two connected parts with both loads in [lo, hi] (brute force)."""
    nodes = list(g.nodes)
    first, rest = nodes[0], nodes[1:]
    for r in range(len(rest) + 1):
        for extra in itertools.combinations(rest, r):
            s = {first, *extra}
            t = set(nodes) - s
            ls = sum(w[v] for v in s)
            if not t or not lo <= ls <= hi or not lo <= sum(w[v] for v in t) <= hi:
                continue
            if nx.is_connected(g.subgraph(s)) and nx.is_connected(g.subgraph(t)):
                yield s, t


def _tree_with_few_splits(tol: float) -> tuple[nx.Graph, np.ndarray, int]:
    """A random 15-unit tree and weights for which only one or two of its 14 edge cuts are balanced."""
    g = nx.random_labeled_tree(15, seed=5)
    for seed in range(500):
        w = np.random.default_rng(seed).integers(1_000, 90_000, size=15).astype(float)
        lo, hi = w.sum() / 2 * (1 - tol), w.sum() / 2 * (1 + tol)
        count = len(list(_bipartitions(g, dict(zip(g.nodes, w, strict=True)), lo, hi)))
        if 1 <= count <= 2:
            return g, w, count
    raise AssertionError("no fixture")


def test_tree_graph_reaches_the_balance_found_by_brute_force():
    tol = 0.005
    g, w, _ = _tree_with_few_splits(tol)
    nodes, adj = _arrays(g)
    p = BalanceProblem(adj, w, ["w"], [tol], None, 2)
    r = balance_territories(p, seed=0, time_limit=5, strict=False)
    assert r.within_tolerance
    _check_plan(g, nodes, r.labels, 2, w, tol)


def test_exact_split_reaches_the_brute_force_minimum_cut():
    g = nx.grid_2d_graph(4, 4)
    rng = np.random.default_rng(11)
    nodes, adj = _arrays(g)
    w = rng.integers(10, 100, size=len(nodes)).astype(float)
    tol = 0.03
    lo, hi = w.sum() / 2 * (1 - tol), w.sum() / 2 * (1 + tol)
    best = min(sum(1 for a, b in g.edges if (a in s) != (b in s))
               for s, _ in _bipartitions(g, dict(zip(nodes, w, strict=True)), lo, hi))
    p = BalanceProblem(adj, w, ["w"], [tol], None, 2)
    r = balance_territories(p, seed=1, time_limit=3, strict=False, use_time_limit=True)
    _check_plan(g, nodes, r.labels, 2, w, tol)
    cut = sum(1 for a, b in g.edges if r.labels[nodes.index(a)] != r.labels[nodes.index(b)])
    assert cut == best
    assert r.objective_value == cut and r.stopped == "time limit"


def test_diameter_objective_on_edge_lengths_reaches_the_brute_force_optimum():
    g = nx.grid_2d_graph(3, 5)
    rng = np.random.default_rng(2)
    for a, b in g.edges:
        g.edges[a, b]["d"] = float(rng.integers(1, 9))
    nodes, adj = _arrays(g)
    idx = {v: i for i, v in enumerate(nodes)}
    lengths = sp.lil_matrix((len(nodes), len(nodes)))
    for a, b in g.edges:
        lengths[idx[a], idx[b]] = lengths[idx[b], idx[a]] = g.edges[a, b]["d"]
    w = np.ones(len(nodes))
    dist = dict(nx.all_pairs_dijkstra_path_length(g, weight="d"))

    def diam(part):
        return max(dist[a][b] for a in part for b in part)

    best = min(max(diam(s), diam(t)) for s, t in _bipartitions(g, dict(zip(nodes, w, strict=True)), 7, 8))
    p = BalanceProblem(adj, w, ["w"], [0.07], None, 2, edge_lengths=lengths.tocsr())
    r = balance_territories(p, seed=0, time_limit=3, strict=False, objective="diameter", use_time_limit=True)
    _check_plan(g, nodes, r.labels, 2, w, 0.07)
    got = max(diam([nodes[i] for i in np.flatnonzero(r.labels == t)]) for t in range(2))
    assert got == pytest.approx(best)
    assert r.objective_value == pytest.approx(got)


def test_travel_value_is_the_weighted_path_length_from_each_home():
    g = nx.grid_2d_graph(6, 6)
    nodes, adj = _arrays(g)
    xy = np.array(nodes, float) * 1000.0
    w = np.ones(len(nodes))
    homes = np.array([[0.0, 0.0], [5000.0, 5000.0]])
    p = BalanceProblem(adj, w, ["w"], [0.05], xy, 2, homes=homes)
    r = balance_territories(p, seed=0, time_limit=3, strict=False, objective="travel", use_time_limit=True)
    _check_plan(g, nodes, r.labels, 2, w, 0.05)
    home = [nodes.index((0, 0)), nodes.index((5, 5))]
    assert r.labels[home[0]] == 0 and r.labels[home[1]] == 1
    total = 0.0
    for t, h in enumerate(home):
        d = nx.single_source_shortest_path_length(g, nodes[h])  # unit grid: 1,000 m per edge
        total += sum(1000.0 * d[nodes[i]] for i in np.flatnonzero(r.labels == t))
    assert r.objective_value == pytest.approx(total / (w.sum() / 2))  # weights in shares of the mean load
    # the best split of a 6 x 6 grid between opposite corners is the anti-diagonal: 2 x 18 units,
    # the minimal total of hop distances from the corners is the 18 nearest units of each corner
    hops = sorted(nx.single_source_shortest_path_length(g, (0, 0)).values())[:18]
    assert total == pytest.approx(2 * 1000.0 * sum(hops))


def test_plain_run_stops_when_improvement_stalls():
    g = nx.grid_2d_graph(12, 12)
    nodes, adj = _arrays(g)
    w = np.random.default_rng(0).uniform(1, 3, len(nodes))
    p = BalanceProblem(adj, w, ["w"], [0.05], np.array(nodes, float), 4)
    r = balance_territories(p, seed=0, time_limit=60, strict=False)
    assert r.stopped == "stalled" and r.seconds < 30
    _check_plan(g, nodes, r.labels, 4, w, 0.05)
    cut = sum(1 for a, b in g.edges if r.labels[nodes.index(a)] != r.labels[nodes.index(b)])
    assert r.objective_value == cut
    assert cut <= 2 * 12 + 4  # four quarters cut 24 edges; a staircase costs a few more


def test_finish_ends_the_restarts_of_a_plan_that_cannot_be_balanced():
    """The planner's Finish during the restarts (no balanced plan yet) returns the best plan so far:
    no second attempt. Three units 3, 4, 3 in two territories at +/-10 % cannot be balanced, so
    without Finish a run restarts up to 50 times."""
    from territory_desktop.models.progress import StopFlag

    adj = sp.csr_matrix(nx.to_scipy_sparse_array(nx.path_graph(3), format="csr", weight=None))
    p = BalanceProblem(adj, np.array([[3.0], [4.0], [3.0]]), ["calls"], [0.1], None, 2)
    said: list[str] = []
    plain = balance_territories(p, seed=0, time_limit=2, strict=False, progress=lambda f, m: said.append(m))
    assert "attempt 2: initial territories" in said and not plain.within_tolerance
    finish, said = StopFlag(), []
    finish.set()
    r = balance_territories(p, seed=0, time_limit=600, strict=False, use_time_limit=True, finish=finish,
                            progress=lambda f, m: said.append(m))
    assert not r.within_tolerance and r.stopped == "stopped"
    assert "attempt 1: initial territories" in said and "attempt 2: initial territories" not in said


def test_fresh_starts_keep_the_best_plan_and_tell_each_search_the_best_so_far(monkeypatch):
    """The loop of fresh starts, with scripted searches: it starts again while a search ends "stuck",
    passes the best value so far as ``known``, keeps the better plan (balance first, then value), says
    how the last search ended and counts every search's steps."""
    import territory_desktop.engine.balance.solve as solve
    from territory_desktop.engine.balance.improve import Improvement

    script = [("stuck", 254.0, 10), ("stuck", 260.0, 20), ("stuck", 246.0, 30), ("time limit", 250.0, 40)]
    seen = []

    def scripted(b, s, run, deadline, stop, progress):
        stopped, value, steps = script[len(seen)]
        seen.append(run)
        return f"plan {len(seen)}", Improvement(np.zeros(2, int), True, value, 0.0, steps, steps, stopped, "diameter")

    monkeypatch.setattr(solve, "_anytime", scripted)
    monkeypatch.setattr(solve, "_attempt", lambda *a: "start")
    monkeypatch.setattr(solve, "_balanced", lambda b, s, deadline, stop: (s, True))

    class Build:
        dist = np.zeros((2, 2))
        p = SimpleNamespace(length_unit="m")

    run = solve._Run(use_time_limit=True, objective=Objective.DIAMETER)
    said: list[str] = []
    s, imp = solve._anytime_with_fresh_starts(Build(), "first", run, time.perf_counter() + 60, None,
                                              lambda f, m: said.append(m), 1)
    assert said[0] == "new start plan 2 (best 0.254 km so far)"  # the lengths' unit: metres shown in km
    assert [r.known for r in seen] == [None, 254.0, 254.0, 246.0]
    assert all(r.give_up for r in seen) and [r.fresh for r in seen] == [0, 1, 2, 3]
    assert s == "plan 3" and imp.value == 246.0
    assert imp.stopped == "time limit" and imp.steps == 100 and imp.starts == 4


def test_a_fresh_start_left_off_balance_is_followed_by_the_best_plan(monkeypatch):
    """A fresh start that is not balanced by its ``balance_by`` ends "stuck" (scripted here); the next
    search then goes on from the best plan (no deadline to balance), and the one after that is a fresh
    start again."""
    import territory_desktop.engine.balance.solve as solve
    from territory_desktop.engine.balance.improve import Improvement

    script = [("stuck", 254.0, True), ("stuck", 300.0, False), ("stuck", 254.0, True), ("time limit", 250.0, True)]
    starts, runs = [], []

    def scripted(b, s, run, deadline, stop, progress):
        stopped, value, balanced = script[len(runs)]
        starts.append(s)
        runs.append(run)
        return f"plan {len(runs)}", Improvement(np.zeros(2, int), balanced, value, 0.0, 1, 1, stopped, "diameter")

    monkeypatch.setattr(solve, "_anytime", scripted)
    monkeypatch.setattr(solve, "_attempt", lambda *a: "fresh")
    monkeypatch.setattr(solve, "_balanced", lambda b, s, deadline, stop: (s, False))

    class Build:
        dist = np.zeros((2, 2))
        p = SimpleNamespace(length_unit="m")

    s, imp = solve._anytime_with_fresh_starts(Build(), "first", solve._Run(use_time_limit=True, objective=Objective.DIAMETER),
                                              time.perf_counter() + 60, None, lambda f, m: None, 1)
    assert starts == ["first", "fresh", "plan 1", "fresh"]
    assert [r.balance_by < float("inf") for r in runs] == [False, True, False, True]
    assert s == "plan 4" and imp.value == 250.0 and imp.starts == 3


def test_an_unbalanced_search_past_its_balance_deadline_ends_stuck():
    from balance_cases import plan_on

    from territory_desktop.engine.balance.improve import ImproveSettings, ObjectiveFactory, improve

    g = nx.path_graph(6)
    _, adj = _arrays(g)
    w = np.ones((6, 1))
    plan = plan_on(adj, [0, 0, 0, 0, 0, 1], w, 0.05, 2)  # 5 and 1 against 3 and 3: off balance
    factory = ObjectiveFactory("diameter", adj, None, None, None, w[:, 0])
    settings = ImproveSettings("diameter", time.perf_counter() + 30, until_stall=False,
                               balance_by=time.perf_counter() - 1)
    imp = improve(plan, factory, settings)
    assert imp.stopped == "stuck" and not imp.balanced and imp.steps == 0
