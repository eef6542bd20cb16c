"""Multi-week visit plans: frequencies, working days, holidays, routes and re-planning, checked here
from the raw inputs (periods, calendars, matrices), not from the planner's own bookkeeping."""

from __future__ import annotations

import math
import time
from collections import Counter
from datetime import date, timedelta

import numpy as np
import pytest

from territory_desktop.engine.routing.day import DaySettings
from territory_desktop.engine.routing.visit_plan import (
    PlanAccount,
    PlanSettings,
    move_visit,
    plan_visits,
    replan_day,
    required_periods,
)
from territory_desktop.engine.travel import GreatCircleProvider
from territory_desktop.models import InfeasibleError, InvalidInputError

MONDAY = date(2027, 3, 1)


def _world(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    lon = -87.7 + rng.uniform(-0.08, 0.08, n + 1)
    lat = 41.9 + rng.uniform(-0.06, 0.06, n + 1)
    dist, dur = GreatCircleProvider().matrices(lon, lat)
    freqs = [1, 2, 3, 4]
    accounts = [PlanAccount(f"A{k:02d}", k, freqs[k % 4], 30.0,
                            *((480.0, 720.0) if k % 5 == 0 else (0.0, 1440.0))) for k in range(1, n + 1)]
    return dist, dur, accounts


def _check_day(route, accounts, dist, dur, ds: DaySettings) -> None:
    by_id = {a.account_id: a for a in accounts}
    t, prev, drive = route.leave_home_min, 0, 0.0
    for s in route.stops:
        a = by_id[s.visit_id]
        drive += dur[prev, a.place] / 60
        assert s.arrive_min >= t + dur[prev, a.place] / 60 - 1e-6
        assert a.open_min - 1e-6 <= s.start_min <= a.close_min + 1e-6
        t, prev = s.start_min + a.service_min, a.place
        if route.lunch_start_min is not None and abs(route.lunch_start_min - s.start_min) < a.service_min:
            assert route.lunch_start_min <= s.start_min - ds.lunch_minutes + 1e-6
        t = max(t, s.depart_min)
    drive += dur[prev, 0] / 60
    if route.stops:
        assert route.drive_min == pytest.approx(drive)
        assert ds.start_min - 1e-6 <= route.leave_home_min and route.back_home_min <= ds.end_min + 1e-6
        assert ds.lunch_early - 1e-6 <= route.lunch_start_min <= ds.lunch_late + 1e-6


def test_required_periods() -> None:
    assert required_periods(1, 4) == [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert required_periods(2, 5) == [(0, 2), (2, 4), (4, 5)]
    assert required_periods(3, 4) == [(0, 3), (3, 4)]
    assert required_periods(4, 4) == [(0, 4)]
    assert required_periods(0, 4) == []


def test_four_week_plan_meets_frequencies_on_working_days() -> None:
    dist, dur, accounts = _world(40)
    holiday = MONDAY + timedelta(9)  # Wednesday of week 2
    settings = PlanSettings(start=MONDAY, weeks=4, holidays=frozenset({holiday}), day_time_limit=0.2)
    plan = plan_visits(dist, dur, accounts, settings, time_limit=10)
    # independent calendar: the days used are Mon-Fri in the horizon, never the holiday
    allowed = {MONDAY + timedelta(d) for d in range(28)} - {holiday}
    allowed = {d for d in allowed if d.weekday() < 5}
    assert set(plan.days) == allowed
    seen: dict[str, list[date]] = {}
    for day, route in plan.days.items():
        _check_day(route, accounts, dist, dur, settings.day)
        for vid in route.visit_ids:
            seen.setdefault(vid, []).append(day)
    for a in accounts:
        dates = seen.get(a.account_id, [])
        need = math.ceil(4 / a.every_weeks)
        assert len(dates) == need, (a.account_id, dates)
        periods = Counter(((d - MONDAY).days // 7) // a.every_weeks for d in dates)
        assert all(c == 1 for c in periods.values())  # one visit per period of every_weeks weeks
    assert plan.required_visits == plan.planned_visits == sum(math.ceil(4 / a.every_weeks) for a in accounts)
    total = sum(r.drive_min for r in plan.days.values())
    assert plan.drive_min == pytest.approx(total)


def test_unplaceable_visits_are_explained() -> None:
    dist, dur, accounts = _world(12, seed=2)
    # week 1 is all holidays: weekly accounts lose their week-1 visit, with the reason
    holidays = frozenset(MONDAY + timedelta(d) for d in range(5))
    settings = PlanSettings(start=MONDAY, weeks=2, holidays=holidays, day_time_limit=0.2)
    plan = plan_visits(dist, dur, accounts, settings, time_limit=5)
    weekly = [c for c in plan.coverage if c.account_id in {a.account_id for a in accounts if a.every_weeks == 1}]
    assert weekly and all(c.required == 2 and c.planned == 1 and "no working day in weeks 1-1" in c.reason
                          for c in weekly)


def test_overloaded_rep_gets_reasons_not_silence() -> None:
    dist, dur, _ = _world(60, seed=3)
    accounts = [PlanAccount(f"B{k:02d}", k, 1, 60.0) for k in range(1, 61)]  # 60 h of weekly visits
    settings = PlanSettings(start=MONDAY, weeks=1, day_time_limit=0.2)
    plan = plan_visits(dist, dur, accounts, settings, time_limit=8)
    assert 0 < plan.planned_visits < plan.required_visits == 60
    routed = sum(len(r.stops) for r in plan.days.values())
    assert routed == plan.planned_visits
    short = [c for c in plan.coverage if c.planned < c.required]
    assert len(short) == 60 - routed and all("are full" in c.reason for c in short)


def test_replan_after_cancellation_is_fast_and_consistent() -> None:
    dist, dur, accounts = _world(40)
    settings = PlanSettings(start=MONDAY, weeks=2, day_time_limit=0.2)
    plan = plan_visits(dist, dur, accounts, settings, time_limit=6)
    day = max(plan.days, key=lambda d: len(plan.days[d].stops))
    cancelled = plan.days[day].visit_ids[0]
    before = plan.planned_visits
    t0 = time.perf_counter()
    route = replan_day(plan, day, dist, dur, remove=(cancelled,))
    assert time.perf_counter() - t0 < 2.0
    assert cancelled not in route.visit_ids and plan.planned_visits == before - 1
    _check_day(route, accounts, dist, dur, settings.day)
    target = next(d for d in plan.days if (d != day and d.weekday() == day.weekday()) or d != day)
    t0 = time.perf_counter()
    a, b = move_visit(plan, route.visit_ids[0], day, target, dist, dur, time_limit=0.5)
    assert time.perf_counter() - t0 < 2.5
    moved = route.visit_ids[0]
    assert moved not in a.visit_ids and moved in b.visit_ids and not b.skipped
    assert plan.planned_visits == before - 1
    with pytest.raises(InvalidInputError):
        replan_day(plan, MONDAY + timedelta(5), dist, dur)  # a Saturday is not in the plan


def test_move_to_a_full_day_is_refused_and_nothing_changes() -> None:
    dist, dur, _ = _world(40, seed=4)
    accounts = [PlanAccount(f"C{k:02d}", k, 1, 80.0) for k in range(1, 41)]  # 53 h: more than a week holds
    settings = PlanSettings(start=MONDAY, weeks=1, day_time_limit=0.2)
    plan = plan_visits(dist, dur, accounts, settings, time_limit=6)
    mon, tue = MONDAY, MONDAY + timedelta(1)
    assert plan.days[mon].stops and plan.days[tue].stops
    before = {d: list(r.visit_ids) for d, r in plan.days.items()}
    planned = plan.planned_visits
    with pytest.raises(InfeasibleError, match="does not fit"):
        move_visit(plan, plan.days[mon].visit_ids[0], mon, tue, dist, dur, time_limit=0.3)
    assert {d: list(r.visit_ids) for d, r in plan.days.items()} == before
    assert plan.planned_visits == planned


def test_tiny_and_empty_plans() -> None:
    empty = np.zeros((1, 1), dtype=np.int64)
    plan = plan_visits(empty, empty, [], PlanSettings(start=MONDAY, weeks=1), time_limit=2)
    assert plan.required_visits == 0 and len(plan.days) == 5
    d = np.array([[0, 600, 700], [600, 0, 300], [700, 300, 0]])
    two = [PlanAccount("x", 1, 1, 30.0), PlanAccount("y", 2, 2, 30.0)]
    plan = plan_visits(d, d, two, PlanSettings(start=MONDAY, weeks=2), time_limit=3)
    assert plan.required_visits == plan.planned_visits == 3
    with pytest.raises(InvalidInputError, match="no working day"):
        plan_visits(d, d, two, PlanSettings(start=MONDAY, weeks=2, weekdays=()), time_limit=2)
    with pytest.raises(InvalidInputError, match="1 to 5 weeks"):
        plan_visits(d, d, two, PlanSettings(start=MONDAY, weeks=6), time_limit=2)
