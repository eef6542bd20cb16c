"""The route-workload estimator against hand-computed continuous-approximation numbers, and its leg
constant against a solved tour on random points."""

from __future__ import annotations

import math

import numpy as np
import pytest

from territory_desktop.engine.routing.periodic import (
    PeriodicAccount,
    PeriodicDay,
    PeriodicProblem,
    PeriodicRep,
    solve_periodic,
)
from territory_desktop.engine.routing.workload import (
    WorkloadModel,
    estimate_route_workload,
    nearest_neighbour_km,
    usable_day_hours,
)


def test_nearest_neighbour_distance_by_hand():
    pts = np.array([[0, 0], [3, 0], [3, 4], [10, 10]])
    far = math.hypot(7, 6)  # (10, 10) to (3, 4)
    assert nearest_neighbour_km(pts) == pytest.approx((3 + 3 + 4 + far) / 4)
    assert nearest_neighbour_km(pts, np.array([1, 1, 1, 3])) == pytest.approx((3 + 3 + 4 + 3 * far) / 6)
    assert nearest_neighbour_km(pts[:2]) == pytest.approx(3.0)
    assert nearest_neighbour_km(pts[:1]) == 0.0


def test_estimate_matches_the_formula_by_hand():
    # 100 accounts on a 10 x 10 grid 2 km apart (each one's nearest neighbour 2 km away), home at the
    # grid's corner (0, 0); half weekly 30 min, half every 2 weeks 60 min; 40 km/h, circuity 1.25, k 0.8,
    # 8 h days with 0.5 h lunch and 0.5 h admin, fill 0.9: 0.9 x 7 = 6.3 h a day for driving and visits
    g = np.arange(10) * 2.0
    xy = np.array([[x, y] for x in g for y in g])
    v = np.where(np.arange(100) % 2 == 0, 1.0, 0.5)
    svc = np.where(np.arange(100) % 2 == 0, 30.0, 60.0)
    model = WorkloadModel(k=0.8, speed_kmh=40.0, day_hours=8.0, lunch_hours=0.5, admin_hours_per_day=0.5,
                          circuity=1.25, fill=0.9)
    assert usable_day_hours(model) == pytest.approx(6.3)
    w = estimate_route_workload(np.zeros(2), xy, v, svc, model)
    visits = 50 * 1.0 + 50 * 0.5
    leg = 0.8 * 2.0 * 1.25 / 40  # hours of one leg between visits
    trip = 2 * np.hypot(xy[:, 0], xy[:, 1]) * 1.25 / 40  # round trip hours to each account
    room = 6.3 - trip
    days = 0.0  # routes R: V - R legs, so R = sum v (s + leg (1 - R / V)) / room; solved by iteration here
    for _ in range(200):
        days = float((v * (svc / 60 + leg * (1 - days / visits)) / room).sum())
    share = v * (svc / 60 + leg * (1 - days / visits)) / room
    assert w.service_h == pytest.approx((50 * 30 + 50 * 0.5 * 60) / 60)
    assert w.local_h == pytest.approx(leg * (visits - days))
    assert w.days == pytest.approx(days)
    assert w.linehaul_h == pytest.approx((share * trip).sum())
    assert w.admin_h == pytest.approx(0.5 * days)
    assert w.total_h == pytest.approx(days * (6.3 + 0.5))  # every day holds exactly its usable hours + admin


def test_far_accounts_keep_a_quarter_day_for_visits():
    # one account 400 km away at 50 km/h: a 16 h round trip; its visit gets 0.25 x 8 h of room
    w = estimate_route_workload(np.zeros(2), np.array([[400.0, 0.0]]), np.array([1.0]), np.array([60.0]),
                                WorkloadModel(speed_kmh=50.0, day_hours=8.0, circuity=1.0, fill=1.0))
    assert w.days == pytest.approx(1.0 / 2.0)
    assert w.linehaul_h == pytest.approx(0.5 * 16.0)
    assert w.local_h == 0.0  # one account: no leg between visits


def test_legs_follow_the_neighbours_not_the_area():
    # the same 12 accounts 3 km apart in a row, or as two towns of 6 a hundred km apart: the legs between
    # visits of a day are the same 3 km (a hull area would make the towns' legs far longer)
    row = np.column_stack([np.arange(12) * 3.0, np.zeros(12)])
    towns = np.vstack([row[:6], row[:6] + np.array([100.0, 0.0])])
    model = WorkloadModel(k=1.0, speed_kmh=1.0, circuity=1.0, day_hours=1e9)
    a, b = (estimate_route_workload(np.zeros(2), xy, np.ones(12), np.zeros(12), model) for xy in (row, towns))
    assert a.local_h == pytest.approx(b.local_h) and a.local_h == pytest.approx(3.0 * 12, rel=1e-6)


def test_no_visits_no_workload():
    w = estimate_route_workload(np.zeros(2), np.zeros((3, 2)), np.zeros(3), np.full(3, 30.0))
    assert w.total_h == 0.0 and w.days == 0.0


def test_local_travel_is_within_15_percent_of_a_solved_tour():
    # a TSP through n uniform points in a square of area A is about 0.7124 sqrt(n A) (Beardwood-Halton-
    # Hammersley) and the mean nearest-neighbour distance about 0.5 sqrt(A / n), so a tour is about
    # 1.42 x n x the nearest-neighbour distance; with the line haul to a home in the middle negligible,
    # the estimate with k = 1.42 must be close to what the solver plans (one route, no limits)
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 30, size=(120, 2))
    pts = np.vstack([[15.0, 15.0], xy])
    d = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
    accounts = [PeriodicAccount(i + 1, (frozenset({0}),)) for i in range(len(xy))]
    sol = solve_periodic(PeriodicProblem(d, d, accounts, [PeriodicRep(0)], [PeriodicDay()]), time_limit=3.0)
    model = WorkloadModel(k=0.7124 / 0.5, speed_kmh=1.0, circuity=1.0, day_hours=1e9)
    w = estimate_route_workload(np.array([15.0, 15.0]), xy, np.ones(len(xy)), np.zeros(len(xy)), model)
    assert w.local_h == pytest.approx(sol.distance, rel=0.15)
