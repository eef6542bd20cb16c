"""Rep assignment (optimal matching with reasons), account-level balancing and plan scores."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from shapely.geometry import box

from territory_desktop.engine.adjacency import build_adjacency
from territory_desktop.engine.balance import assign_reps, balance_accounts
from territory_desktop.engine.scores import align_labels, polsby_popper, score_plan
from territory_desktop.models import InfeasibleError


def brute_force_cost(dist_km, match, over, sw=1.0, cw=2.0):
    """Minimum total cost over all permutations, computed from the documented formula."""
    scale = np.median(dist_km)
    cost = dist_km / scale + sw * (1 - match) + cw * over
    n = cost.shape[0]
    return min(sum(cost[i, p[i]] for i in range(n)) for p in itertools.permutations(range(n)))


def test_reps_go_to_nearest_territories_with_reasons():
    centres = np.array([[0, 0], [100_000, 0], [0, 100_000], [100_000, 100_000]], float)
    reps = centres[[2, 0, 3, 1]] + 5_000
    m = assign_reps(["a", "b", "c", "d"], reps, np.full(4, 1600.0), [set()] * 4, ["T0", "T1", "T2", "T3"],
                    centres, np.full(4, 1000.0))
    assert {x.rep: x.territory for x in m} == {"a": "T2", "b": "T0", "c": "T3", "d": "T1"}
    assert all("1st closest rep" in x.reason and "capacity 1600" in x.reason for x in m)


def test_reps_matching_is_optimal_against_brute_force():
    rng = np.random.default_rng(4)
    reps, centres = rng.uniform(0, 500_000, (5, 2)), rng.uniform(0, 500_000, (5, 2))
    cap = rng.uniform(800, 2000, 5)
    work = rng.uniform(800, 2000, 5)
    mix = [{"medical": s, "retail": 1 - s} for s in rng.uniform(0, 1, 5)]
    skills = [{"medical"}, {"retail"}, {"medical", "retail"}, set(), {"Retail"}]
    m = assign_reps(list("abcde"), reps, cap, skills, list("VWXYZ"), centres, work, mix)
    dist = np.hypot(reps[:, None, 0] - centres[None, :, 0], reps[:, None, 1] - centres[None, :, 1]) / 1000
    match = np.array([[sum(v for c, v in mix[t].items() if c in {s.lower() for s in skills[i]})
                       for t in range(5)] for i in range(5)])
    over = np.maximum(0, work[None, :] / cap[:, None] - 1)
    assert sum(x.cost for x in m) == pytest.approx(brute_force_cost(dist, match, over))


def test_rep_capacity_steers_big_territory_to_big_capacity():
    centres = np.array([[0, 0], [10_000, 0]], float)
    reps = np.array([[0, 0], [10_000, 0]], float)  # each home on one centre
    m = assign_reps(["small", "big"], reps, np.array([500.0, 3000.0]), [set(), set()], ["A", "B"], centres,
                    np.array([2500.0, 400.0]))
    assert {x.rep: x.territory for x in m} == {"small": "B", "big": "A"}


def test_accounts_balanced_within_tolerance_by_plain_sums():
    rng = np.random.default_rng(0)
    w = np.column_stack([rng.gamma(2, 10, 3000), rng.integers(1, 5, 3000)])
    xy = rng.uniform(0, 1e6, (3000, 2))
    homes = rng.uniform(0, 1e6, (8, 2))
    lab = balance_accounts(w, 8, [0.02, 0.03], ["hours", "visits"], xy, homes)
    for j, tol in enumerate([0.02, 0.03]):
        tot = np.array([w[lab == t, j].sum() for t in range(8)])
        assert np.abs(tot / tot.mean() - 1).max() <= tol


def test_account_heavier_than_target_is_infeasible():
    w = np.ones(10)
    w[3] = 50
    with pytest.raises(InfeasibleError, match="account 3"):
        balance_accounts(w, 4, 0.05, ["hours"])


def test_scores_against_independent_counts():
    cells = [box(i * 1000, j * 1000, (i + 1) * 1000, (j + 1) * 1000) for j in range(4) for i in range(4)]
    adj = build_adjacency(np.array(cells, dtype=object))
    labels = np.array([0 if i % 4 < 2 else 1 for i in range(16)])  # left and right halves
    w = np.arange(16, dtype=float)
    s = score_plan(labels, adj.matrix, w, ["w"], 2, np.array([0.5]), np.array(cells, dtype=object))
    g = nx.from_scipy_sparse_array(adj.matrix)
    assert s.cut_edges == sum(1 for a, b in g.edges() if labels[a] != labels[b]) == 10  # 4 rook + 6 diagonal
    left, right = w[labels == 0].sum(), w[labels == 1].sum()
    assert s.balance["w"].max_over_mean == pytest.approx(max(left, right) / 60)
    assert s.to_json()["balance"]["w"]["max_over_mean"] == s.balance["w"].max_over_mean
    pp = polsby_popper(labels, np.array(cells, dtype=object), 2)
    assert pp == pytest.approx([4 * np.pi * 8e6 / 12000**2] * 2)  # 2 km x 4 km rectangles
    assert s.split_territories == 0
    split = labels.copy()
    split[0] = 1  # a lone cell of territory 1 in the far corner
    assert score_plan(split, adj.matrix, w, ["w"], 2).split_territories == 1


def test_align_labels_recovers_a_permutation():
    cur = np.repeat(np.arange(5), 10)
    perm = np.array([3, 0, 4, 1, 2])
    assert np.array_equal(align_labels(perm[cur], cur), cur)
