"""A rep's day: every time recomputed here from the matrices, independently of the engine."""

from __future__ import annotations

import numpy as np
import pytest

from territory_desktop.engine.routing.day import DaySettings, Visit, plan_day
from territory_desktop.engine.travel import GreatCircleProvider
from territory_desktop.models import InfeasibleError


def _matrices(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lon = -87.6 + rng.uniform(-0.1, 0.1, n)
    lat = 41.9 + rng.uniform(-0.07, 0.07, n)
    return GreatCircleProvider().matrices(lon, lat)


def _verify(day, visits, dist, dur, settings) -> None:
    """Recompute the day from the stops: travel, windows, appointments, lunch, totals."""
    by_id = {v.visit_id: v for v in visits}
    t = day.leave_home_min
    prev = 0
    drive = 0.0
    km = 0.0
    busy = []
    assert day.leave_home_min >= settings.start_min - 1e-9
    for s in day.stops:
        v = by_id[s.visit_id]
        drive += dur[prev, v.place] / 60
        km += dist[prev, v.place] / 1000
        assert s.arrive_min >= t + dur[prev, v.place] / 60 - 1e-6
        assert s.start_min >= s.arrive_min - 1e-9
        if v.appointment is not None:
            assert s.start_min == pytest.approx(v.appointment)
        else:
            assert v.open_min - 1e-6 <= s.start_min <= v.close_min + 1e-6
        busy.append((s.start_min, s.start_min + v.service_min))
        t = s.depart_min
        prev = v.place
    drive += dur[prev, 0] / 60
    km += dist[prev, 0] / 1000
    assert day.back_home_min <= settings.end_min + 1e-9
    assert day.drive_min == pytest.approx(drive)
    assert day.drive_km == pytest.approx(km)
    if settings.lunch_early is not None:
        lunch = day.lunch_start_min
        assert lunch is not None and settings.lunch_early - 1e-9 <= lunch <= settings.lunch_late + 1e-9
        for a, b in busy:  # lunch never overlaps a visit
            assert lunch + settings.lunch_minutes <= a + 1e-6 or lunch >= b - 1e-6
    planned = set(day.visit_ids) | {vid for vid, _ in day.skipped}
    assert planned == set(by_id) and len(day.visit_ids) == len(set(day.visit_ids))
    assert all(by_id[vid].required is False for vid, _ in day.skipped)


@pytest.mark.parametrize("backend", ["auto", "ortools"])
def test_day_with_lunch_appointment_windows_and_optional_visits(backend: str) -> None:
    dist, dur = _matrices(13)
    visits = [Visit(f"A{i}", i, 35, open_min=540 if i % 3 else 600, close_min=960) for i in range(1, 7)]
    visits.append(Visit("APPT", 10, 60, appointment=840))
    visits += [Visit("FAR", 11, 45, required=False, skip_minutes=5),
               Visit("NEAR", 12, 20, required=False, skip_minutes=300)]
    settings = DaySettings()
    day = plan_day(dist, dur, visits, settings, time_limit=0.5, backend=backend)
    _verify(day, visits, dist, dur, settings)
    assert "NEAR" in day.visit_ids
    assert [vid for vid, _ in day.skipped] == ["FAR"]
    assert "skip cost" in day.skipped[0][1] or "no room" in day.skipped[0][1]


def test_day_without_lunch_and_max_length() -> None:
    dist, dur = _matrices(8, seed=2)
    visits = [Visit(f"A{i}", i, 30) for i in range(1, 8)]
    settings = DaySettings(lunch_early=None, lunch_late=None, max_day_minutes=420)
    day = plan_day(dist, dur, visits, settings, time_limit=0.3)
    _verify(day, visits, dist, dur, DaySettings(lunch_early=None, lunch_late=None))
    assert day.back_home_min - day.leave_home_min <= 420 + 1e-6


def test_closed_window_skip_reason_says_no_room() -> None:
    dist, dur = _matrices(4)
    visits = [Visit("A1", 1, 30), Visit("LATE", 2, 30, open_min=1100, close_min=1200, required=False,
                                             skip_minutes=600)]
    day = plan_day(dist, dur, visits, DaySettings(), time_limit=0.3)
    assert day.skipped and day.skipped[0][0] == "LATE" and "no room" in day.skipped[0][1]
    # opening 18:20-20:00 lies after the default working day (08:00-17:00): the visit cannot fit even alone
    assert "does not fit the rep's working day 08:00-17:00 even alone (opening hours 18:20-20:00" in day.skipped[0][1]


def test_full_day_skip_reason_names_the_working_day() -> None:
    """Eight 60-minute visits open all day cannot share a 08:00-12:00 working day: the left-out ones are
    refused because the working day is full, not because of their opening hours."""
    dist, dur = _matrices(9)
    visits = [Visit(f"A{i}", i, 60, required=False, skip_minutes=600) for i in range(1, 9)]
    settings = DaySettings(start_min=480, end_min=720, lunch_early=None, lunch_late=None)
    day = plan_day(dist, dur, visits, settings, time_limit=0.3)
    assert day.skipped
    for _vid, reason in day.skipped:
        assert "the rep's working day 08:00-12:00 is full" in reason and "are not the limit" in reason


def test_impossible_must_visit_and_overlapping_appointments_are_named() -> None:
    dist, dur = _matrices(4)
    with pytest.raises(InfeasibleError, match="must-visit LATE"):
        plan_day(dist, dur, [Visit("LATE", 1, 30, open_min=1100, close_min=1200)], DaySettings())
    with pytest.raises(InfeasibleError, match=r"appointments P1 .* and P2"):
        plan_day(dist, dur, [Visit("P1", 1, 60, appointment=600), Visit("P2", 2, 30, appointment=630)],
                 DaySettings())


def test_too_many_must_visits_explained() -> None:
    dist, dur = _matrices(13)
    visits = [Visit(f"A{i}", i, 60) for i in range(1, 13)]
    with pytest.raises(InfeasibleError, match="must-visits"):
        plan_day(dist, dur, visits, DaySettings(), time_limit=0.3)


def test_traffic_scales_each_leg_by_the_hour_it_is_driven() -> None:
    from territory_desktop.engine.travel import TrafficProfile

    n = 4
    dur = np.full((n, n), 1200) - 1200 * np.eye(n, dtype=int)  # 20 min between any two places
    dist = dur * 10
    factors = np.ones((7, 24))
    factors[0, 9] = 2.0  # Monday 09:00-10:00
    factors[0, 14] = 1.5  # Monday 14:00-15:00
    visits = [Visit("A", 1, 30, appointment=600), Visit("B", 2, 30, appointment=780),
              Visit("C", 3, 30, appointment=840)]
    settings = DaySettings(lunch_early=None, lunch_late=None)
    day = plan_day(dist, dur, visits, settings, time_limit=0.4, traffic=TrafficProfile(factors), weekday=0)
    assert day.visit_ids == ["A", "B", "C"]
    # home -> A is driven in the 09:00 hour (x2), A -> B at 10:30 and B -> C at 13:30 (x1),
    # C -> home leaves at 14:30 (x1.5)
    assert [s.drive_min for s in day.stops] == pytest.approx([40, 20, 20])
    assert day.drive_min == pytest.approx(40 + 20 + 20 + 30)
    assert day.leave_home_min == pytest.approx(560) and day.back_home_min == pytest.approx(900)
    # without a profile every leg is the plain 20 minutes
    plain = plan_day(dist, dur, visits, settings, time_limit=0.2)
    assert plain.drive_min == pytest.approx(80)
