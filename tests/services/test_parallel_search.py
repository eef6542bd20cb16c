"""Searches on several cores (services.parallel_search): one here, the others in spawned processes."""

from __future__ import annotations

import multiprocessing
import threading
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from territory_desktop.engine.balance import BalanceProblem
from territory_desktop.models import CancelledError
from territory_desktop.models.progress import StopFlag
from territory_desktop.services.parallel_search import _Others, run_searches

TOL = 0.15


def _grid_problem(seed: int = 0):
    """A 6 x 6 grid with random weights and random edge lengths, k = 3: (graph, weights, problem)."""
    g = nx.convert_node_labels_to_integers(nx.grid_2d_graph(6, 6), ordering="sorted")
    rng = np.random.default_rng(seed)
    for a, b in g.edges:
        g.edges[a, b]["d"] = int(rng.integers(1, 10))
    w = rng.integers(1, 10, size=(36, 2)).astype(float)
    nodes = list(range(36))
    adj = sp.csr_matrix(nx.to_scipy_sparse_array(g, nodelist=nodes, format="csr", weight=None))
    lengths = sp.csr_matrix(nx.to_scipy_sparse_array(g, nodelist=nodes, format="csr", weight="d"))
    return g, w, BalanceProblem(adj, w, ["a", "b"], [TOL, TOL], None, 3, edge_lengths=lengths)


def _check(g: nx.Graph, w: np.ndarray, labels: np.ndarray) -> float:
    """Independently (networkx, plain sums): every territory connected and balanced; the largest diameter."""
    dist = dict(nx.all_pairs_dijkstra_path_length(g, weight="d"))
    target = w.sum(0) / 3
    largest = 0.0
    for t in range(3):
        part = np.flatnonzero(labels == t).tolist()
        assert part and nx.is_connected(g.subgraph(part))
        assert np.all(np.abs(w[part].sum(0) / target - 1) <= TOL + 1e-9)
        largest = max(largest, max(dist[u][v] for u in part for v in part))
    return largest


def test_two_searches_run_at_once_each_for_the_whole_time_limit_and_report_progress():
    g, w, problem = _grid_problem()
    said: list[str] = []
    t0 = time.perf_counter()
    results = run_searches(problem, "diameter", [0, 1], 8.0, 2, progress=lambda f, m: said.append(m))
    took = time.perf_counter() - t0
    assert [r.seed for r in results] == [0, 1]
    # at once: one after the other would take 16 s; the spawned process's imports (1 s here, a few on
    # a slow machine) come on top of its 8 s
    assert 8.0 <= took < 14.0
    for r in results:
        assert r.within_tolerance and r.objective_value == _check(g, w, r.labels)
        assert r.stopped == "optimal" or (r.stopped == "time limit" and r.seconds >= 7.9)  # its own 8 s
    # the other process's progress comes back through the queue and is shown with this one's
    assert any(m.startswith("seed 0: ") and "; seed 1: best largest diameter so far" in m for m in said), said[-3:]
    assert not multiprocessing.active_children()


def test_finish_ends_every_search_with_its_best_plan():
    g, w, problem = _grid_problem(1)
    finish = StopFlag()
    finished_at = []

    def progress(_fraction: float, message: str) -> None:
        if "seed 1: best" in message and not finish.is_set():  # both searches have a balanced plan
            finished_at.append(time.perf_counter())
            finish.set()

    results = run_searches(problem, "diameter", [0, 1, 2, 3], 60.0, 2, progress=progress, finish=finish)
    assert finished_at and time.perf_counter() - finished_at[0] < 3.0
    assert [r.seed for r in results] == [0, 1]  # Finish in the first round: no second round
    assert all(r.within_tolerance and r.objective_value == _check(g, w, r.labels) for r in results)
    assert not multiprocessing.active_children()


def test_stop_cancels_and_ends_the_other_processes():
    _g, _w, problem = _grid_problem(2)
    stop = StopFlag()
    threading.Timer(2.5, stop.set).start()
    t0 = time.perf_counter()
    with pytest.raises(CancelledError):
        run_searches(problem, "diameter", [0, 1], 60.0, 2, stop=stop)
    assert time.perf_counter() - t0 < 8.0
    deadline = time.perf_counter() + 5
    while multiprocessing.active_children() and time.perf_counter() < deadline:
        time.sleep(0.1)
    assert not multiprocessing.active_children()


def test_a_search_whose_process_died_or_failed_is_left_out_with_a_message():
    died, failed, fine = Future(), Future(), Future()
    died.set_exception(BrokenProcessPool("A process in the process pool was terminated abruptly"))
    failed.set_result((False, "MemoryError"))
    fine.set_result((True, "the result"))
    said: list[str] = []
    others = _Others(multiprocessing.get_context("spawn").Queue(), [0, 1, 2, 3])
    kept = others.collect({died: 1, failed: 2, fine: 3}, threading.Event(), lambda f, m: said.append(m), None, None)
    assert kept == ["the result"]
    assert sorted(said) == ["the search from seed 1 failed: BrokenProcessPool: A process in the process pool "
                            "was terminated abruptly", "the search from seed 2 failed: MemoryError"]


def test_a_search_that_proves_its_plan_optimal_ends_the_others():
    """In a spawned process (run here: the same function), a search stopped "optimal" sets the round's
    Event, which every other search's Finish flag watches."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "engine"))
    from test_balance_feasible import _diameter_case

    from territory_desktop.services import parallel_search as ps

    g, w, _dist, best = _diameter_case(0, 3, 0.3)  # case 0 proves its optimum in about a second
    adj = sp.csr_matrix(nx.to_scipy_sparse_array(g, nodelist=range(9), format="csr", weight=None))
    lengths = sp.csr_matrix(nx.to_scipy_sparse_array(g, nodelist=range(9), format="csr", weight="d"))
    problem = BalanceProblem(adj, w, ["a", "b"], [0.3, 0.3], None, 3, edge_lengths=lengths)
    ctx = multiprocessing.get_context("spawn")
    end, messages = ctx.Event(), ctx.Queue()
    watching = ps._AnyFlag(StopFlag(), end)
    ps._child_setup(end, messages)
    try:
        assert not watching.is_set()
        result = ps._child_search(ps.SearchJob(problem, "diameter", 0, 20.0))
        assert result.stopped == "optimal" and result.objective_value == best
        assert end.is_set() and watching.is_set()
    finally:
        ps._child.clear()
        messages.close()
