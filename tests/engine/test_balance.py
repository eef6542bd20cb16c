"""Balancing engine on small real geometries; every check is computed here (networkx, plain sums)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from shapely.geometry import box

from territory_desktop.engine.adjacency import build_adjacency
from territory_desktop.engine.balance import (
    BalanceProblem,
    assign_orphans,
    balance_territories,
    rebalance_plan,
)
from territory_desktop.models import CancelledError, InfeasibleError, StopFlag


def grid_problem(nx_=12, ny=12, k=6, tol=0.05, seed=3, measures=1, extra=(), **kw):
    geoms = [box(i * 1000, j * 1000, (i + 1) * 1000, (j + 1) * 1000) for j in range(ny) for i in range(nx_)]
    geoms += list(extra)
    adj = build_adjacency(np.array(geoms, dtype=object))
    rng = np.random.default_rng(seed)
    w = rng.integers(1, 20, size=(len(geoms), measures)).astype(float)
    xy = np.array([[g.centroid.x, g.centroid.y] for g in geoms])
    names = [f"m{j}" for j in range(measures)]
    p = BalanceProblem(adj.matrix, w, names, [tol] * measures, xy, k, [f"u{i}" for i in range(len(geoms))], **kw)
    return p, adj


def check_plan(labels, adj, w, k, tol):
    """Independent: contiguity by networkx, totals by plain sums."""
    g = nx.from_scipy_sparse_array(adj.matrix)
    for t in range(k):
        members = [i for i in range(len(labels)) if labels[i] == t]
        assert members, f"territory {t} is empty"
        assert nx.is_connected(g.subgraph(members)), f"territory {t} is split"
    w = np.asarray(w).reshape(len(labels), -1)
    for j in range(w.shape[1]):
        mean = w[:, j].sum() / k
        for t in range(k):
            total = sum(w[i, j] for i in range(len(labels)) if labels[i] == t)
            assert abs(total / mean - 1) <= np.broadcast_to(tol, (w.shape[1],))[j] + 1e-9, (t, j, total, mean)


def test_build_contiguous_and_within_tolerance():
    p, adj = grid_problem()
    r = balance_territories(p, seed=0, time_limit=20)
    assert r.within_tolerance
    check_plan(r.labels, adj, p.weights, 6, 0.05)


def test_two_measures_each_with_own_tolerance():
    p, adj = grid_problem(k=4, measures=2, tol=0.05)
    p.tolerance[:] = [0.03, 0.08]
    r = balance_territories(p, seed=1, time_limit=20)
    check_plan(r.labels, adj, p.weights, 4, np.array([0.03, 0.08]))


def test_same_seed_same_plan_and_alternatives_differ():
    p, _ = grid_problem()
    a = balance_territories(p, seed=5, time_limit=20).labels
    b = balance_territories(p, seed=5, time_limit=20).labels
    assert np.array_equal(a, b)
    alts = [balance_territories(p, seed=s, time_limit=20) for s in (0, 1, 2)]
    assert [r.seed for r in alts] == [0, 1, 2]
    assert all(r.within_tolerance and r.failure is None for r in alts)
    assert len({r.labels.tobytes() for r in alts}) > 1  # other seeds, other plans


def test_locked_units_keep_their_territory():
    p, adj = grid_problem(k=4)
    current = np.full(p.n, -1)
    locked = np.zeros(p.n, bool)
    for u, t in [(0, 2), (1, 2), (143, 0), (60, 1)]:
        current[u], locked[u] = t, True
    p.current, p.locked = current, locked
    r = balance_territories(p, seed=0, time_limit=20)
    assert [r.labels[u] for u in (0, 1, 143, 60)] == [2, 2, 0, 1]
    check_plan(r.labels, adj, p.weights, 4, 0.05)


def test_island_and_peninsula_units_are_assigned_contiguously():
    island = box(14000, 5000, 15000, 6000)
    peninsula = [box(12000 + i * 1000, 0, 13000 + i * 1000, 1000) for i in range(4)]
    p, adj = grid_problem(k=5, extra=[island, *peninsula])
    assert len(adj.bridges) == 1
    r = balance_territories(p, seed=2, time_limit=20)
    check_plan(r.labels, adj, p.weights, 5, 0.05)


def test_unit_heavier_than_target_is_named():
    p, _ = grid_problem(k=6)
    p.weights[17, 0] = p.weights.sum() / 3
    with pytest.raises(InfeasibleError, match=r"unit u17 .*more than a whole territory"):
        balance_territories(p)


def test_tolerance_tighter_than_unit_steps():
    p, _ = grid_problem(nx_=5, ny=5, k=4, tol=0.01)
    p.weights[:] = 10.0  # 250 / 4 = 62.5; only multiples of 10 exist, none within 61.9-63.1
    with pytest.raises(InfeasibleError, match="steps of 10"):
        balance_territories(p)


def test_locked_units_over_target():
    p, _ = grid_problem(nx_=6, ny=6, k=4)
    current = np.full(p.n, -1)
    locked = np.zeros(p.n, bool)
    current[:18], locked[:18] = 1, True  # half the units locked into one of four territories
    p.current, p.locked = current, locked
    with pytest.raises(InfeasibleError, match="locked units of territory 1"):
        balance_territories(p)


def test_locked_units_separated_by_other_locks():
    p, _ = grid_problem(nx_=6, ny=6, k=3, tol=0.5)
    current = np.full(p.n, -1)
    locked = np.zeros(p.n, bool)
    current[[0, 5]], locked[[0, 5]] = 0, True
    wall = [2 + 6 * j for j in range(6)]  # a full column locked to territory 1 between them
    current[wall], locked[wall] = 1, True
    p.current, p.locked = current, locked
    with pytest.raises(InfeasibleError, match="cannot be in one contiguous territory"):
        balance_territories(p)


def test_rebalance_respects_disruption_cap_and_fixes_balance():
    p, adj = grid_problem(k=6)
    base = balance_territories(p, seed=0, time_limit=20).labels
    w2 = p.weights.copy()
    w2[base == 2] *= 1.15
    p2, _ = grid_problem(k=6)
    p2.weights = w2
    p2.current = base
    r = rebalance_plan(p2, max_moved=0.1, time_limit=20)
    moved = int((r.labels != base).sum())
    assert moved <= 0.1 * p2.n
    check_plan(r.labels, adj, w2, 6, 0.05)


def test_rebalance_cap_counted_in_a_measure():
    p, adj = grid_problem(k=6)
    base = balance_territories(p, seed=0, time_limit=20).labels
    p.weights[base == 0] *= 1.1
    p.current = base
    r = rebalance_plan(p, max_moved=0.05, moved_measure=0, time_limit=20)
    moved_w = p.weights[r.labels != base, 0].sum()
    assert moved_w <= 0.05 * p.weights[:, 0].sum() + 1e-9
    check_plan(r.labels, adj, p.weights, 6, 0.05)


def test_rebalance_with_zero_cap_reports_cause():
    p, _ = grid_problem(k=6)
    base = balance_territories(p, seed=0, time_limit=20).labels
    p.weights[base == 1] *= 1.5
    p.current = base
    with pytest.raises(InfeasibleError, match="moving at most 0% of units") as info:
        rebalance_plan(p, max_moved=0.0, time_limit=5)
    assert np.array_equal(info.value.result.labels, base)


def test_orphans_only_changes_nothing_else():
    p, adj = grid_problem(k=4)
    base = balance_territories(p, seed=0, time_limit=20).labels
    current = base.copy()
    orphans = [5, 6, 77, 140]
    current[orphans] = -1
    p.current = current
    r = assign_orphans(p)
    keep = current >= 0
    assert np.array_equal(r.labels[keep], base[keep])
    assert (r.labels >= 0).all()
    g = nx.from_scipy_sparse_array(adj.matrix)
    for t in range(4):
        assert nx.is_connected(g.subgraph(np.flatnonzero(r.labels == t).tolist()))


def test_max_distance_from_rep_homes():
    p, adj = grid_problem(k=4, tol=0.1)
    p.homes = np.array([[3000, 3000], [9000, 3000], [3000, 9000], [9000, 9000]], float)
    p.max_distance = 8000.0
    r = balance_territories(p, seed=0, time_limit=20)
    d = np.hypot(*(p.xy - p.homes[r.labels]).T)
    assert d.max() <= 8000.0
    check_plan(r.labels, adj, p.weights, 4, 0.1)


def test_max_distance_impossible_names_unit():
    p, _ = grid_problem(k=2, tol=0.5)
    p.homes = np.array([[500, 500], [1500, 500]], float)
    p.max_distance = 3000.0
    with pytest.raises(InfeasibleError, match="beyond the maximum distance"):
        balance_territories(p)


def test_cancel_raises():
    p, _ = grid_problem()
    stop = StopFlag()
    stop.set()
    with pytest.raises(CancelledError):
        balance_territories(p, stop=stop)


def test_progress_reported():
    p, _ = grid_problem()
    seen = []
    balance_territories(p, progress=lambda f, m: seen.append(f))
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)


def test_max_distance_too_tight_for_balance_is_reported():
    p, _ = grid_problem(k=2, tol=0.05)
    p.weights[:] = np.where(p.xy[:, :1] < 6000, 10.0, 1.0)  # the west is ten times heavier
    p.homes = np.array([[3000, 6000], [9000, 6000]], float)
    p.max_distance = 6100.0
    # independently: the east home reaches too little weight within 6.1 km to get within 5 % of the target
    reach = np.hypot(*(p.xy - p.homes[1]).T) <= 6100.0
    target = p.weights[:, 0].sum() / 2
    assert p.weights[reach, 0].sum() < 0.95 * target
    with pytest.raises(InfeasibleError) as info:
        balance_territories(p, time_limit=2)
    r = info.value.result
    assert not r.within_tolerance and r.failure == str(info.value)
    d = np.hypot(*(p.xy - p.homes[r.labels]).T)
    tot = np.array([p.weights[r.labels == t, 0].sum() for t in range(2)])
    message = str(info.value)
    if np.abs(tot / target - 1).max() > 0.05:  # the balance is what failed: the message gives its numbers
        t = int(np.argmax(np.abs(tot / target - 1)))
        dev = tot[t] / target - 1
        assert f"territory {t} ends at {tot[t]:,.0f} m0, {dev * 100:+.1f} % " in message
        assert f"the target {target:,.0f}" in message
    else:  # balanced, so the distance failed: the message names a unit that is too far, and how far
        assert (d > 6100).any()
        far = int(np.argmax(d))
        assert f"unit u{far} is {d[far] / 1000:.1f} km from the home of territory {r.labels[far]}" in message
        assert "beyond the maximum of 6.1 km" in message


def test_real_counties_with_islands_washington_state():
    """Washington's 39 counties (San Juan is islands only) in EPSG:5070, k=4, population-like weights."""
    from pathlib import Path

    import geopandas as gpd

    shp = Path(__import__("_plotly_geo").__file__).parent / "package_data" / "cb_2016_us_county_500k.shp"
    wa = gpd.read_file(shp, where="STATEFP = '53'").set_crs(4269, allow_override=True).to_crs(5070)
    adj = build_adjacency(wa.geometry.values)
    g = nx.from_scipy_sparse_array(adj.matrix)
    assert nx.is_connected(g) and len(adj.bridges) >= 1
    san_juan = int(np.flatnonzero(wa["NAME"].to_numpy() == "San Juan")[0])
    assert any(san_juan in b for b in adj.bridges)
    w = np.log1p(wa["ALAND"].to_numpy(float) / 1e6)  # a smooth positive measure per county
    xy = np.column_stack([wa.geometry.centroid.x, wa.geometry.centroid.y])
    p = BalanceProblem(adj.matrix, w, ["m"], [0.05], xy, 4, wa["GEOID"].tolist())
    r = balance_territories(p, seed=0, time_limit=20)
    check_plan(r.labels, adj, w, 4, 0.05)


def test_orphan_that_connected_a_territory_rejoins_it():
    cells = [box(c * 1000, r * 1000, (c + 1) * 1000, (r + 1) * 1000) for r in range(2) for c in range(3)]
    adj = build_adjacency(np.array(cells, dtype=object))
    xy = np.array([[g.centroid.x, g.centroid.y] for g in cells])
    current = np.array([0, -1, 0, 1, 1, 1])  # top row is territory 0; its middle cell is an orphan
    w = np.array([5.0, 1.0, 5.0, 1.0, 1.0, 1.0])  # territory 0 holds 10, territory 1 holds 3
    p = BalanceProblem(adj.matrix, w, ["w"], [0.5], xy, 2, current=current)
    r = assign_orphans(p)
    assert r.labels[1] == 0  # territory 1 is lighter here, but only territory 0 needs the cell to be whole
    g = nx.from_scipy_sparse_array(adj.matrix)
    assert nx.is_connected(g.subgraph([0, 1, 2]))
