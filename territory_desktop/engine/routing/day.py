"""One rep's day: visits with opening hours, appointments, priorities and a lunch break -> a route.

Times in minutes after midnight (floats accepted), durations of visits in minutes. Travel comes as
matrices over "places": row/column 0 is the rep's home (start and end), each visit names its place.
Internally everything is in seconds and metres (integers) and solved by :func:`solve_vrptw`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from ...models import InfeasibleError, InvalidInputError, StopFlag
from ..travel import TrafficProfile
from .check import check_solution
from .instance import Break, RoutingInstance
from .schedule import Timeline, best_break_position
from .solve import solve_vrptw


@dataclass
class Visit:
    """A visit to make. ``place``: row in the travel matrices (>= 1). ``appointment``: fixed start minute
    (the window collapses to it). Optional visits (``required=False``) are skipped when they would add
    more than ``skip_minutes`` to the working day (drive + visit + waiting); must-visits never are."""

    visit_id: str
    place: int
    service_min: float = 45.0
    open_min: float = 0.0
    close_min: float = 24 * 60.0
    appointment: float | None = None
    required: bool = True
    skip_minutes: float = 120.0


@dataclass
class DaySettings:
    """Working day: start/end at home in minutes after midnight, optional lunch that must start within
    [lunch_early, lunch_late] and last lunch_minutes, optional maximum day length in minutes."""

    start_min: float = 480.0
    end_min: float = 1020.0
    lunch_early: float | None = 690.0
    lunch_late: float | None = 810.0
    lunch_minutes: float = 30.0
    max_day_minutes: float | None = None


@dataclass
class Stop:
    visit_id: str
    place: int
    arrive_min: float
    start_min: float
    depart_min: float
    wait_min: float
    drive_min: float  # from the previous stop (or home)
    drive_km: float


@dataclass
class DayRoute:
    """The planned day. Totals: drive (incl. the way home), waiting; ``skipped``: (visit_id, reason)."""

    stops: list[Stop]
    leave_home_min: float
    back_home_min: float
    lunch_start_min: float | None
    drive_min: float
    drive_km: float
    wait_min: float
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def visit_ids(self) -> list[str]:
        return [s.visit_id for s in self.stops]


def _hhmm(minutes: float) -> str:
    m = round(minutes)
    return f"{m // 60:02d}:{m % 60:02d}"


def build_day_instance(dist_m: np.ndarray, dur_s: np.ndarray, visits: list[Visit],
                       settings: DaySettings) -> RoutingInstance:
    """Instance with node k = visits[k-1]; seconds and metres; objective = working time home to home."""
    problems = []
    places = np.array([0] + [v.place for v in visits], dtype=int)
    m = len(dist_m)
    for v in visits:
        if not 1 <= v.place < m:
            problems.append(f"visit {v.visit_id}: place {v.place} is not a row of the {m}x{m} travel matrix")
        if v.appointment is None and v.open_min > v.close_min:
            problems.append(f"visit {v.visit_id}: opens {_hhmm(v.open_min)} after it closes {_hhmm(v.close_min)}")
        if v.service_min < 0:
            problems.append(f"visit {v.visit_id}: negative visit duration {v.service_min}")
    if settings.start_min >= settings.end_min:
        problems.append(f"day starts {_hhmm(settings.start_min)}, not before it ends {_hhmm(settings.end_min)}")
    if problems:
        raise InvalidInputError("day route", problems)

    def sec(minutes: float) -> int:
        return round(60 * minutes)

    early = [sec(settings.start_min)]
    late = [sec(settings.end_min)]
    for v in visits:
        if v.appointment is not None:
            early.append(sec(v.appointment))
            late.append(sec(v.appointment))
        else:
            early.append(sec(v.open_min))
            late.append(sec(v.close_min))
    breaks = []
    if settings.lunch_early is not None and settings.lunch_late is not None and settings.lunch_minutes > 0:
        breaks.append(Break(sec(settings.lunch_early), sec(settings.lunch_late), sec(settings.lunch_minutes)))
    return RoutingInstance(
        distance=np.asarray(dist_m)[np.ix_(places, places)], duration=np.asarray(dur_s)[np.ix_(places, places)],
        service=np.array([0] + [sec(v.service_min) for v in visits]), tw_early=np.array(early),
        tw_late=np.array(late), required=np.array([True] + [v.required for v in visits]),
        skip_cost=np.array([0] + [sec(v.skip_minutes) for v in visits]),
        max_duration=sec(settings.max_day_minutes) if settings.max_day_minutes else None,
        breaks=breaks, objective="duration", name="day")


def _precheck(inst: RoutingInstance, visits: list[Visit], settings: DaySettings) -> list[str]:
    """Reasons a must-visit cannot be made at all (alone in the day); empty if none found."""
    out = []
    day_end = int(inst.tw_late[0])
    for k, v in enumerate(visits, 1):
        if not v.required:
            continue
        arrive = max(int(inst.tw_early[0]) + int(inst.duration[0, k]), int(inst.tw_early[k]))
        back = arrive + int(inst.service[k]) + int(inst.duration[k, 0])
        if arrive > inst.tw_late[k]:
            out.append(f"must-visit {v.visit_id}: earliest arrival {_hhmm(arrive / 60)} is after its latest start "
                       f"{_hhmm(inst.tw_late[k] / 60)}")
        elif back > day_end:
            out.append(f"must-visit {v.visit_id}: alone it ends the day at {_hhmm(back / 60)}, after "
                       f"{_hhmm(settings.end_min)}")
    appts = sorted((v.appointment, v) for v in visits if v.appointment is not None and v.required)
    for (t1, a), (t2, b) in itertools.pairwise(appts):
        if t1 + a.service_min > t2:
            out.append(f"appointments {a.visit_id} ({_hhmm(t1)}, {a.service_min:.0f} min) and {b.visit_id} "
                       f"({_hhmm(t2)}) overlap")
    return out


def plan_day(dist_m: np.ndarray, dur_s: np.ndarray, visits: list[Visit], settings: DaySettings | None = None,
             time_limit: float = 1.0, seed: int = 0, stop: StopFlag | None = None,
             backend: str = "auto", no_improvement: int = 3000, traffic: TrafficProfile | None = None,
             weekday: int = 0) -> DayRoute:
    """Order one day's visits. ``dist_m``/``dur_s``: (m, m) metres / seconds, place 0 = home.

    The search stops after ``time_limit`` s or ``no_improvement`` PyVRP iterations without a better route.
    With a ``traffic`` profile, a first pass uses the day's mean congestion factor; the second pass
    scales each leg by the factor of the hour the rep leaves its origin in the first pass (rush hours
    count where they are driven), and its route is returned.

    Raises InfeasibleError naming the must-visits that cannot be made, InvalidInputError for bad input.
    """
    settings = settings or DaySettings()
    if not visits:
        return DayRoute([], settings.start_min, settings.start_min, None, 0.0, 0.0, 0.0)
    if traffic is None:
        return _plan_once(dist_m, dur_s, visits, settings, time_limit, seed, stop, backend, no_improvement)
    base = np.asarray(dur_s, dtype=float)
    mean = traffic.day_factor(weekday, settings.start_min, settings.end_min)
    first = _plan_once(dist_m, np.round(base * mean).astype(np.int64), visits, settings, time_limit / 2, seed,
                       stop, backend, no_improvement)
    factor = np.full(len(base), mean)
    factor[0] = traffic.factor(weekday, first.leave_home_min)
    for s in first.stops:
        factor[s.place] = traffic.factor(weekday, s.depart_min)
    return _plan_once(dist_m, np.round(base * factor[:, None]).astype(np.int64), visits, settings, time_limit / 2,
                      seed, stop, backend, no_improvement)


def _plan_once(dist_m: np.ndarray, dur_s: np.ndarray, visits: list[Visit], settings: DaySettings,
               time_limit: float, seed: int, stop: StopFlag | None, backend: str, no_improvement: int) -> DayRoute:
    inst = build_day_instance(dist_m, dur_s, visits, settings)
    reasons = _precheck(inst, visits, settings)
    if reasons:
        raise InfeasibleError("day route: " + "; ".join(reasons))
    try:
        res = solve_vrptw(inst, time_limit, seed, stop, backend=backend, no_improvement=no_improvement)
    except InfeasibleError as exc:
        must = [v.visit_id for v in visits if v.required]
        raise InfeasibleError(f"day route: the {len(must)} must-visits ({', '.join(must[:10])}) do not fit "
                              f"between {_hhmm(settings.start_min)} and {_hhmm(settings.end_min)} with lunch "
                              f"and opening hours; make some optional or move them to another day") from exc
    route = res.routes[0] if res.routes else []
    tl = best_break_position(inst, route) if inst.breaks else _plain_timeline(inst, route)
    report = check_solution(inst, [route] if route else [], res.skipped, [tl.break_after] if route else None)
    if not report.feasible:  # never hand out a route the independent checker rejects
        raise InfeasibleError("day route: solver returned an infeasible route: " + "; ".join(report.problems[:3]))
    return _to_day_route(inst, visits, tl, res.skipped)


def _plain_timeline(inst: RoutingInstance, route: list[int]) -> Timeline:
    from .schedule import timeline

    return timeline(inst, route, None)


def _to_day_route(inst: RoutingInstance, visits: list[Visit], tl: Timeline, skipped: list[int]) -> DayRoute:
    stops = []
    prev = 0
    drive_s = 0
    drive_m = 0
    for k, node in enumerate(tl.route):
        d_s, d_m = int(inst.duration[prev, node]), int(inst.distance[prev, node])
        drive_s += d_s
        drive_m += d_m
        stops.append(Stop(visits[node - 1].visit_id, visits[node - 1].place, tl.arrive[k] / 60, tl.start[k] / 60,
                          tl.depart[k] / 60, (tl.start[k] - tl.arrive[k]) / 60, d_s / 60, d_m / 1000))
        prev = node
    drive_s += int(inst.duration[prev, 0])
    drive_m += int(inst.distance[prev, 0])
    lunch = tl.break_start / 60 if tl.break_start is not None else None
    day = DayRoute(stops, tl.leave_home / 60, tl.back_home / 60, lunch, drive_s / 60, drive_m / 1000,
                   tl.waiting / 60)
    day.skipped = [(visits[n - 1].visit_id, _skip_reason(inst, tl.route, n)) for n in skipped]
    return day


def _skip_reason(inst: RoutingInstance, route: list[int], node: int) -> str:
    """Why an optional visit was left out: no feasible slot, or its detour costs more than skipping."""
    base = _cost(inst, route)
    best = None
    for pos in range(len(route) + 1):
        trial = [*route[:pos], node, *route[pos:]]
        tl = best_break_position(inst, trial) if inst.breaks else _plain_timeline(inst, trial)
        if tl.feasible:
            extra = _cost(inst, trial) - base
            best = extra if best is None else min(best, extra)
    if best is None:
        return _no_room_reason(inst, route, node)
    return (f"optional: fits, but adds {best / 60:.0f} min to the day, more than its skip cost "
            f"{inst.skip_cost[node] / 60:.0f} min")


def _no_room_reason(inst: RoutingInstance, route: list[int], node: int) -> str:
    """Name the real limit of a visit with no feasible slot: the visit alone does not fit the rep's
    working day (its opening hours, the drive, the visit length), or the working day is already full."""
    day = f"{_hhmm(inst.tw_early[0] / 60)}-{_hhmm(inst.tw_late[0] / 60)}"
    opening = f"{_hhmm(inst.tw_early[node] / 60)}-{_hhmm(inst.tw_late[node] / 60)}"
    minutes = f"{inst.service[node] / 60:.0f} min"
    alone = best_break_position(inst, [node]) if inst.breaks else _plain_timeline(inst, [node])
    if not alone.feasible:
        return (f"no room: the {minutes} visit does not fit the rep's working day {day} even alone "
                f"(opening hours {opening}, plus the drive from home and back)")
    return (f"no room: the rep's working day {day} is full: the {len(route)} visit(s) already planned leave "
            f"no {minutes} slot (opening hours {opening} are not the limit)")


def _cost(inst: RoutingInstance, route: list[int]) -> int:
    """Working seconds of a route (home to home: drive, visits, waiting), the day objective."""
    if not route:
        return 0
    tl = best_break_position(inst, route) if inst.breaks else _plain_timeline(inst, route)
    return tl.back_home - tl.leave_home
