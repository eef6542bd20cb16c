"""The route-workload estimator against hand-computed continuous-approximation numbers, and its
calibration against a solved tour on random points."""

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
from territory_desktop.engine.routing.workload import WorkloadModel, estimate_route_workload, region_area_km2


def test_region_area_is_the_hull_with_a_floor():
    square = np.array([[0, 0], [20, 0], [20, 20], [0, 20], [10, 10]])
    assert region_area_km2(square) == pytest.approx(400.0)
    assert region_area_km2(np.array([[0, 0], [1, 0]])) == pytest.approx(2 * math.pi)


def test_estimate_matches_the_formula_by_hand():
    # 100 accounts on a 10 x 10 grid 2 km apart (hull 18 x 18 km), home at the grid's corner (0, 0);
    # half weekly 30 min, half every 2 weeks 60 min; 40 km/h, circuity 1.25, k 0.8, 8 h days, 0.5 h admin
    g = np.arange(10) * 2.0
    xy = np.array([[x, y] for x in g for y in g])
    v = np.where(np.arange(100) % 2 == 0, 1.0, 0.5)
    svc = np.where(np.arange(100) % 2 == 0, 30.0, 60.0)
    model = WorkloadModel(k=0.8, speed_kmh=40.0, day_hours=8.0, admin_hours_per_day=0.5, circuity=1.25)
    w = estimate_route_workload(np.zeros(2), xy, v, svc, model)
    visits = 50 * 1.0 + 50 * 0.5
    service = (50 * 30 + 50 * 0.5 * 60) / 60
    local = 0.8 * math.sqrt(18 * 18 * visits) * 1.25 / 40
    trip = 2 * np.hypot(xy[:, 0], xy[:, 1]) * 1.25 / 40  # round trip hours to each account
    on_site = v * (svc / 60 + local / visits)
    day_share = on_site / (8.0 - 0.5 - trip)
    assert w.service_h == pytest.approx(service)
    assert w.local_h == pytest.approx(local)
    assert w.days == pytest.approx(day_share.sum())
    assert w.linehaul_h == pytest.approx((day_share * trip).sum())
    assert w.total_h == pytest.approx(service + local + (day_share * trip).sum() + 0.5 * day_share.sum())
    assert w.total_h == pytest.approx(w.days * 8.0)  # the days are exactly full


def test_far_accounts_keep_a_quarter_day_for_visits():
    # one account 400 km away at 50 km/h: a 16 h round trip; its visit gets 0.25 x 8 h of room
    w = estimate_route_workload(np.zeros(2), np.array([[400.0, 0.0]]), np.array([1.0]), np.array([60.0]),
                                WorkloadModel(k=0.0, speed_kmh=50.0, day_hours=8.0, circuity=1.0))
    assert w.days == pytest.approx(1.0 / 2.0)
    assert w.linehaul_h == pytest.approx(0.5 * 16.0)


def test_no_visits_no_workload():
    w = estimate_route_workload(np.zeros(2), np.zeros((3, 2)), np.zeros(3), np.full(3, 30.0))
    assert w.total_h == 0.0 and w.days == 0.0


def test_local_travel_is_within_15_percent_of_a_solved_tour():
    # BHH: a TSP through n uniform points in a square of area A is about 0.71 sqrt(n A) for large n;
    # with the tour's line haul to a home in the middle negligible, the estimate with k = 0.75 must be
    # close to what the solver plans (one route, no limits)
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 30, size=(120, 2))
    pts = np.vstack([[15.0, 15.0], xy])
    d = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
    accounts = [PeriodicAccount(i + 1, (frozenset({0}),)) for i in range(len(xy))]
    sol = solve_periodic(PeriodicProblem(d, d, accounts, [PeriodicRep(0)], [PeriodicDay()]), time_limit=3.0)
    model = WorkloadModel(k=0.75, speed_kmh=1.0, circuity=1.0, day_hours=1e9)
    w = estimate_route_workload(np.array([15.0, 15.0]), xy, np.ones(len(xy)), np.zeros(len(xy)), model)
    assert w.local_h == pytest.approx(sol.distance, rel=0.15)
