"""Multi-week visit plans: choose each visit's day (frequencies, working days, holidays), route every
day, improve, and report coverage. Also fast single-day re-planning for interactive edits.

Method: (1) each account's required visits are one per period of ``every_weeks`` weeks; (2) greedy
pattern assignment, hardest accounts first, puts each visit on the day where its cheapest insertion into
that day's tour is smallest, subject to the day's working minutes and a balance penalty; (3) relocation
passes on the estimated tours; (4) every day is routed by :func:`plan_day` (lunch, opening hours);
visits a day cannot fit are moved to another allowed day with room, else reported with the reason.
Times in minutes, matrices in metres/seconds over places (place 0 = the rep's home).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import scipy.linalg
from threadpoolctl import threadpool_limits

from ...models import InfeasibleError, InvalidInputError, Progress, StopFlag, no_progress
from ..travel import TrafficProfile
from .day import DayRoute, DaySettings, Visit, plan_day


@dataclass
class PlanAccount:
    """An account to visit every ``every_weeks`` weeks (1 weekly, 2, 4 or any custom N; 0 = never)."""

    account_id: str
    place: int
    every_weeks: int = 4
    service_min: float = 30.0
    open_min: float = 0.0
    close_min: float = 24 * 60.0


@dataclass
class PlanSettings:
    """Horizon of ``weeks`` (1..5) from ``start``; ``weekdays`` worked (0 = Monday); ``holidays`` off."""

    start: date
    weeks: int = 4
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    holidays: frozenset[date] = frozenset()
    day: DaySettings = field(default_factory=DaySettings)
    traffic: TrafficProfile | None = None
    fill: float = 0.92  # fraction of the working minutes the day assignment may plan for
    day_time_limit: float = 0.5  # seconds per day route
    no_improvement: int = 1000  # PyVRP iterations without improvement that end a day's search
    day_assignment: str = "periodic"  # "periodic": re-choose every visit's day with the periodic solver; "greedy": not


@dataclass
class Coverage:
    account_id: str
    required: int
    planned: int
    reason: str = ""  # why planned < required


@dataclass
class VisitPlan:
    """Routed days (date -> DayRoute) plus coverage per account and totals (minutes, km)."""

    days: dict[date, DayRoute]
    coverage: list[Coverage]
    settings: PlanSettings
    accounts: dict[str, PlanAccount] = field(default_factory=dict)

    @property
    def required_visits(self) -> int:
        return sum(c.required for c in self.coverage)

    @property
    def planned_visits(self) -> int:
        return sum(c.planned for c in self.coverage)

    @property
    def drive_min(self) -> float:
        return sum(d.drive_min for d in self.days.values())

    @property
    def drive_km(self) -> float:
        return sum(d.drive_km for d in self.days.values())

    def day_minutes(self) -> dict[date, float]:
        """Working minutes per day, home to home (0 for empty days)."""
        return {d: (r.back_home_min - r.leave_home_min) if r.stops else 0.0 for d, r in self.days.items()}


def working_days(settings: PlanSettings) -> list[date]:
    if not 1 <= settings.weeks <= 5:
        raise InvalidInputError("visit plan", [f"horizon must be 1 to 5 weeks, got {settings.weeks}"])
    days = [settings.start + timedelta(d) for d in range(7 * settings.weeks)]
    return [d for d in days if d.weekday() in settings.weekdays and d not in settings.holidays]


def required_periods(every_weeks: int, weeks: int) -> list[tuple[int, int]]:
    """Week ranges [first, last) in which one visit each is required: ceil(weeks / every_weeks) of them."""
    if every_weeks <= 0:
        return []
    return [(k, min(k + every_weeks, weeks)) for k in range(0, weeks, every_weeks)]


class _Days:
    """Estimated tours per day (cheapest insertion) with loads in seconds."""

    def __init__(self, dur: list[np.ndarray], service_s: np.ndarray, capacity_s: float) -> None:
        self.dur = dur  # per day: (m, m) seconds (traffic-scaled)
        self.service = service_s
        self.capacity = capacity_s
        self.tours: list[list[int]] = [[] for _ in dur]
        self.base: np.ndarray = dur[0] if dur else np.zeros((1, 1))  # unscaled seconds (set by the planner)
        self.load = np.zeros(len(dur))

    def insertion(self, day: int, place: int) -> tuple[float, int]:
        tour, d = self.tours[day], self.dur[day]
        seq = [0, *tour, 0]
        best, pos = math.inf, 0
        for i in range(len(seq) - 1):
            a, b = seq[i], seq[i + 1]
            c = d[a, place] + d[place, b] - d[a, b]
            if c < best:
                best, pos = c, i
        return float(best), pos

    def add(self, day: int, place: int) -> None:
        cost, pos = self.insertion(day, place)
        self.tours[day].insert(pos, place)
        self.load[day] += cost + self.service[place]

    def remove(self, day: int, place: int) -> None:
        tour, d = self.tours[day], self.dur[day]
        i = tour.index(place)
        seq = [0, *tour, 0]
        a, b = seq[i], seq[i + 2]
        self.load[day] -= d[a, place] + d[place, b] - d[a, b] + self.service[place]
        tour.pop(i)


def plan_visits(dist_m: np.ndarray, dur_s: np.ndarray, accounts: list[PlanAccount], settings: PlanSettings,
                time_limit: float = 30.0, seed: int = 0, stop: StopFlag | None = None,
                progress: Progress = no_progress) -> VisitPlan:
    """Plan every required visit over the horizon; ``time_limit`` seconds bounds the whole run."""
    t0 = time.perf_counter()
    days = working_days(settings)
    _validate(dist_m, accounts, days)
    capacity = _day_capacity(settings)
    week_of = [(d - settings.start).days // 7 for d in days]
    est = _estimator(dur_s, accounts, settings, days, capacity)
    visits, coverage = _required_visits(accounts, settings, week_of)
    rng = np.random.default_rng(seed)
    theta = _angles(dur_s, [a.place for a in accounts])
    preferred = _preferred_days(accounts, visits, theta, days, week_of, settings)
    order = sorted(range(len(visits)), key=lambda v: (len(visits[v][1]) > 5, dur_s[0, accounts[visits[v][0]].place],
                                                      rng.random()))
    siblings: dict[int, list[int]] = {}
    for v, (ai, _) in enumerate(visits):
        siblings.setdefault(ai, []).append(v)
    ctx = _Ctx(visits, accounts, [d.toordinal() for d in days], siblings, preferred)
    far = 0.35 * capacity  # visits whose round trip alone takes this much wait until nearer ones are placed
    target = sum(60 * a.service_min * len(required_periods(a.every_weeks, settings.weeks)) for a in accounts)
    target = 1.25 * target / max(1, len(days))
    placed = _assign_days(est, ctx, order, dur_s, far, target, t0 + 0.3 * time_limit, stop, progress)
    placed = _periodic_days(dist_m, est, accounts, visits, placed, settings, 0.3 * time_limit, seed, stop)
    progress(0.4, "routing each day")
    routed = _route_days(dist_m, days, ctx, placed, settings, est, stop, t0 + time_limit, progress)
    _explain_coverage(coverage, ctx, placed, dur_s, far, week_of)
    progress(1.0, "plan ready")
    return VisitPlan(routed, list(coverage.values()), settings, {a.account_id: a for a in accounts})


def _day_capacity(settings: PlanSettings) -> float:
    """Seconds of work a day holds: the working day less lunch (and the day cap), times the fill factor."""
    ds = settings.day
    lunch = ds.lunch_minutes if ds.lunch_early is not None else 0.0
    capacity = 60 * (ds.end_min - ds.start_min - lunch) * settings.fill
    if ds.max_day_minutes:
        capacity = min(capacity, 60 * (ds.max_day_minutes - lunch) * settings.fill)
    return capacity


def _estimator(dur_s: np.ndarray, accounts: list[PlanAccount], settings: PlanSettings, days: list[date],
               capacity: float) -> _Days:
    """The per-day insertion estimator, with each day's traffic-scaled travel times."""
    ds = settings.day
    mats = [_scaled(dur_s, settings.traffic, d.weekday(), ds) for d in days]
    service = np.zeros(len(dur_s))
    for a in accounts:
        service[a.place] = 60 * a.service_min
    est = _Days(mats, service, capacity)
    est.base = dur_s
    return est


def _required_visits(accounts: list[PlanAccount], settings: PlanSettings, week_of: list[int]
                     ) -> tuple[list[tuple[int, list[int]]], dict[str, Coverage]]:
    """Every required visit as (account index, candidate day indices), and each account's coverage."""
    visits = []
    coverage = {a.account_id: Coverage(a.account_id, 0, 0) for a in accounts}
    for ai, a in enumerate(accounts):
        for lo, hi in required_periods(a.every_weeks, settings.weeks):
            coverage[a.account_id].required += 1
            cands = [i for i, w in enumerate(week_of) if lo <= w < hi]
            if cands:
                visits.append((ai, cands))
            else:
                coverage[a.account_id].reason = f"no working day in weeks {lo + 1}-{hi} (holidays?)"
    return visits, coverage


def _assign_days(est: _Days, ctx: _Ctx, order: list[int], dur_s: np.ndarray, far: float, target: float,
                 deadline: float, stop: StopFlag | None, progress: Progress) -> dict[int, int]:
    """Greedy day for each visit (far ones wait), relocation, then a second pass for those left over;
    ``target`` is the day load the greedy pass aims at (seconds)."""
    accounts, visits = ctx.accounts, ctx.visits
    placed: dict[int, int] = {}
    for v in order:
        ai, cands = visits[v]
        if dur_s[0, accounts[ai].place] + dur_s[accounts[ai].place, 0] > far:
            continue
        day = _best_day(est, accounts[ai].place, cands, target, placed, v, ctx)
        if day is not None:
            est.add(day, accounts[ai].place)
            placed[v] = day
    progress(0.2, f"{len(placed)} of {len(visits)} visits assigned to days")
    _relocate(est, ctx, placed, target, deadline, stop)
    for v in order:  # relocation may have freed room for visits that found none at first
        if v not in placed:
            day = _best_day(est, accounts[visits[v][0]].place, visits[v][1], math.inf, placed, v, ctx)
            if day is not None:
                est.add(day, accounts[visits[v][0]].place)
                placed[v] = day
    return placed


def _explain_coverage(coverage: dict[str, Coverage], ctx: _Ctx, placed: dict[int, int], dur_s: np.ndarray,
                      far: float, week_of: list[int]) -> None:
    """Count planned visits per account and give every unplanned one its reason."""
    accounts = ctx.accounts
    for v, (ai, cands) in enumerate(ctx.visits):
        c = coverage[accounts[ai].account_id]
        round_trip = dur_s[0, accounts[ai].place] + dur_s[accounts[ai].place, 0]
        if v in placed:
            c.planned += 1
        elif not c.reason and round_trip > far:
            c.reason = (f"far from home ({round_trip / 3600:.1f} h round trip); nearer visits filled the allowed "
                        "days first")
        elif not c.reason:
            weeks = sorted({week_of[d] + 1 for d in cands})
            c.reason = (f"all {len(cands)} allowed days (week {weeks[0]}" + (f"-{weeks[-1]}" if len(weeks) > 1 else "")
                        + ") are full: working hours, opening hours and lunch leave no room")


def _periodic_days(dist_m: np.ndarray, est: _Days, accounts: list[PlanAccount], visits: list,
                   placed: dict[int, int], settings: PlanSettings, seconds: float, seed: int,
                   stop: StopFlag | None) -> dict[int, int]:
    """Re-choose every visit's day with the periodic solver (engine.routing.periodic): each visit is a
    single-visit account allowed on its period's days, optional at a penalty worth ten longest round
    trips, each day limited to the planner's fill of the working time. Kept when it places at least as
    many visits as the greedy assignment; ``est`` is updated to match. Only with
    ``settings.day_assignment == "periodic"``."""
    if settings.day_assignment != "periodic" or not visits:
        return placed
    from .periodic import PeriodicAccount, PeriodicDay, PeriodicProblem, PeriodicRep, solve_periodic

    dur = est.base.astype(float)
    penalty = 10.0 * float((dur[0] + dur[:, 0]).max())
    accs = [PeriodicAccount(accounts[ai].place, tuple(frozenset({d}) for d in cands),
                            service=float(est.service[accounts[ai].place]), required=False, skip_penalty=penalty)
            for ai, cands in visits]
    problem = PeriodicProblem(np.asarray(dist_m, dtype=float), dur, accs, [PeriodicRep(0, 0.0, est.capacity)],
                              [PeriodicDay()] * len(est.tours), distance_weight=0.0, duration_weight=1.0)
    try:
        sol = solve_periodic(problem, time_limit=max(seconds, 0.5), seed=seed, stop=stop)
    except InfeasibleError:
        return placed
    found = {v: r.day for r in sol.routes for v in r.accounts}
    if len(found) < len(placed):
        return placed
    for v, day in placed.items():
        est.remove(day, accounts[visits[v][0]].place)
    for r in sol.routes:
        for v in r.accounts:
            est.add(r.day, accounts[visits[v][0]].place)
    return found


def _angles(dur_s: np.ndarray, places: list[int]) -> np.ndarray:
    """Polar angle of each place around home in a 2-d classical MDS embedding of the (symmetrised)
    travel-time matrix, so sectors work with any travel provider (no coordinates needed)."""
    idx = np.r_[0, np.asarray(places, dtype=int)].astype(int)
    if len(idx) < 3:
        return np.zeros(len(places))
    d = np.asarray(dur_s, dtype=float)[np.ix_(idx, idx)]
    d = (d + d.T) / 2
    n = len(idx)
    # one BLAS thread: for a few hundred places threads only add overhead, and on a busy machine
    # OpenBLAS's spinning threads made this 10-100x slower (seconds per rep in export-package --all)
    with threadpool_limits(1):
        j = np.eye(n) - 1.0 / n
        b = -0.5 * j @ (d**2) @ j
        # only the two largest eigenpairs: scipy's subset driver is 2-3x faster than a full np.linalg.eigh
        vals, vecs = scipy.linalg.eigh(b, subset_by_index=[n - 2, n - 1])
    xy = vecs * np.sqrt(np.clip(vals, 0, None))
    rel = xy[1:] - xy[0]
    return np.arctan2(rel[:, 1], rel[:, 0])


def _preferred_days(accounts: list[PlanAccount], visits: list, theta: np.ndarray, days: list[date],
                    week_of: list[int], settings: PlanSettings) -> list[int | None]:
    """Sector pattern: angular sectors of equal workload -> weekdays; within a sector, accounts seen every
    N weeks are split by angle into N groups -> week offset. Returns each visit's preferred day index."""
    weekdays = sorted(settings.weekdays)
    if not accounts or not weekdays:
        return [None] * len(visits)
    per_week = np.array([a.service_min / max(a.every_weeks, 1) if a.every_weeks else 0.0 for a in accounts])
    order = np.argsort(theta, kind="stable")
    # start the sweep at the widest angular gap so no sector straddles it
    gaps = np.diff(np.r_[theta[order], theta[order][0] + 2 * np.pi])
    order = np.roll(order, -(int(np.argmax(gaps)) + 1))
    cum = np.cumsum(per_week[order]) / max(per_week.sum(), 1e-9)
    sector = np.empty(len(accounts), dtype=int)
    sector[order] = np.minimum((cum * len(weekdays) - 1e-9).astype(int), len(weekdays) - 1)
    offset = np.zeros(len(accounts), dtype=int)
    for s in range(len(weekdays)):
        for n in {a.every_weeks for a in accounts if a.every_weeks > 1}:
            members = [i for i in order if sector[i] == s and accounts[i].every_weeks == n]
            for rank, i in enumerate(members):
                offset[i] = rank * n // max(len(members), 1)
    lookup = {(w, d.weekday()): i for i, (w, d) in enumerate(zip(week_of, days, strict=True))}
    out: list[int | None] = []
    for ai, cands in visits:
        first_week = min(week_of[c] for c in cands)
        want = lookup.get((first_week + offset[ai], weekdays[sector[ai]]))
        out.append(want if want in cands else None)
    return out


def _validate(dist_m: np.ndarray, accounts: list[PlanAccount], days: list[date]) -> None:
    problems = []
    m = len(dist_m)
    seen = set()
    for i, a in enumerate(accounts, 1):
        if a.account_id in seen:
            problems.append(f"account {a.account_id} is listed twice")
        seen.add(a.account_id)
        if not 1 <= a.place < m:
            problems.append(f"account {a.account_id} (row {i}): place {a.place} is not a row of the travel matrix")
        if a.every_weeks < 0:
            problems.append(f"account {a.account_id}: visit frequency {a.every_weeks} weeks is negative")
    if not days:
        problems.append("no working day in the horizon (check weekdays and holidays)")
    if problems:
        raise InvalidInputError("visit plan", problems)


def _scaled(dur_s: np.ndarray, traffic: TrafficProfile | None, weekday: int, ds: DaySettings) -> np.ndarray:
    if traffic is None:
        return dur_s
    return np.round(dur_s * traffic.day_factor(weekday, ds.start_min, ds.end_min)).astype(np.int64)


def _best_day(est: _Days, place: int, cands: list[int], target: float, placed: dict[int, int], v: int,
              ctx: _Ctx) -> int | None:
    """Cheapest allowed day with room: insertion detour + balance penalty + spacing penalty."""
    best, best_day = math.inf, None
    for day in cands:
        cost, _ = est.insertion(day, place)
        load = est.load[day] + cost + est.service[place]
        if load > est.capacity:
            continue
        cost += 0.5 * max(0.0, load - target)  # balance: past the mean day, extra minutes cost half again
        cost += ctx.spacing_cost(v, day, placed)
        if cost < best:
            best, best_day = cost, day
    return best_day


@dataclass
class _Ctx:
    """Which visits belong to which account, to keep an account's visits ``every_weeks`` apart."""

    visits: list
    accounts: list[PlanAccount]
    ordinal: list[int]  # calendar day number of each working day
    siblings: dict[int, list[int]]
    preferred: list[int | None]  # the visit's day in the sector pattern
    per_day_off: float = 600.0  # seconds of penalty per calendar day away from the ideal spacing
    off_pattern: float = 900.0  # seconds of penalty for leaving the sector pattern

    def spacing_cost(self, v: int, day: int, placed: dict[int, int]) -> float:
        ai = self.visits[v][0]
        gap = 7 * self.accounts[ai].every_weeks
        cost = 0.0 if self.preferred[v] in (None, day) else self.off_pattern
        for w in self.siblings[ai]:
            if w != v and w in placed:
                k = abs(self.siblings[ai].index(w) - self.siblings[ai].index(v))
                if k == 1:
                    cost += self.per_day_off * abs(abs(self.ordinal[placed[w]] - self.ordinal[day]) - gap)
        return cost


def _relocate(est: _Days, ctx: _Ctx, placed: dict[int, int], target: float,
              deadline: float, stop: StopFlag | None) -> None:
    """Move single visits to another allowed day while the estimated drive time drops."""
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        for v, day in list(placed.items()):
            if stop is not None and stop.is_set():
                return
            ai, cands = ctx.visits[v]
            place = ctx.accounts[ai].place
            est.remove(day, place)
            saving, _ = est.insertion(day, place)
            del placed[v]
            penalty_here = 0.5 * max(0.0, est.load[day] + saving + est.service[place] - target) \
                + ctx.spacing_cost(v, day, placed)
            new = _best_day(est, place, cands, target, placed, v, ctx)
            if new is not None and new != day:
                c_new, _ = est.insertion(new, place)
                pen_new = 0.5 * max(0.0, est.load[new] + c_new + est.service[place] - target) \
                    + ctx.spacing_cost(v, new, placed)
                if c_new + pen_new < saving + penalty_here - 1.0:
                    day, improved = new, True
            est.add(day, place)
            placed[v] = day


def _route_days(dist_m, days, ctx, placed, settings, est, stop, deadline, progress):
    """Route each day; visits a day cannot fit move to another allowed day with room, or stay unplaced."""
    visits, accounts = ctx.visits, ctx.accounts
    routed: dict[date, DayRoute] = {}
    by_day: dict[int, list[int]] = {i: [] for i in range(len(days))}
    for v, day in placed.items():
        by_day[day].append(v)
    pending = list(range(len(days)))
    budget_each = settings.day_time_limit
    while pending:
        i = pending.pop(0)
        if stop is not None:
            stop.check()
        left = deadline - time.perf_counter()
        limit = max(0.05, min(budget_each, left / max(1, len(pending) + 1)))
        route = _route(dist_m, est, i, days[i], _day_visits(ctx, by_day[i]), settings, limit, stop)
        for vid, _reason in route.skipped:
            v = int(vid)
            by_day[i].remove(v)
            est.remove(i, accounts[visits[v][0]].place)
            del placed[v]
            others = [d for d in visits[v][1] if d != i and days[d] not in routed]
            new = _best_day(est, accounts[visits[v][0]].place, others, math.inf, placed, v, ctx)
            if new is not None:
                est.add(new, accounts[visits[v][0]].place)
                placed[v] = new
                by_day[new].append(v)
        routed[days[i]] = route
        progress(0.4 + 0.5 * len(routed) / len(days), f"routed {days[i].isoformat()}")
    _repair(dist_m, days, ctx, placed, by_day, routed, settings, est, stop, deadline)
    for route in routed.values():
        _relabel(route, visits, accounts)
    return dict(sorted(routed.items()))


def _route(dist_m: np.ndarray, est: _Days, i: int, day: date, visits: list[Visit], settings: PlanSettings,
           limit: float, stop: StopFlag | None) -> DayRoute:
    """Route day ``i``: with a traffic profile, legs are scaled by their hour (two passes)."""
    if settings.traffic is None:
        return plan_day(dist_m, est.dur[i], visits, settings.day, time_limit=limit, stop=stop,
                        no_improvement=settings.no_improvement)
    return plan_day(dist_m, est.base, visits, settings.day, time_limit=limit, stop=stop,
                    no_improvement=settings.no_improvement, traffic=settings.traffic, weekday=day.weekday())


def _day_visits(ctx: _Ctx, vs: list[int]) -> list[Visit]:
    acc = ctx.accounts
    return [Visit(f"{v}", acc[ctx.visits[v][0]].place, acc[ctx.visits[v][0]].service_min,
                  acc[ctx.visits[v][0]].open_min, acc[ctx.visits[v][0]].close_min,
                  required=False, skip_minutes=24 * 60) for v in vs]


def _repair(dist_m, days, ctx, placed, by_day, routed, settings, est, stop, deadline) -> None:
    """Try each unplaced visit on its allowed days (cheapest estimated insertion first), re-routing the
    day; keep the new route only if every visit of the day still fits."""
    unplaced = [v for v in range(len(ctx.visits)) if v not in placed and ctx.visits[v][1]]
    for v in unplaced:
        place = ctx.accounts[ctx.visits[v][0]].place
        tries = sorted(ctx.visits[v][1], key=lambda d: est.insertion(d, place)[0])[:5]
        for d in tries:
            if time.perf_counter() > deadline - 0.3 or (stop is not None and stop.is_set()):
                return
            if routed[days[d]].back_home_min - routed[days[d]].leave_home_min + ctx.accounts[ctx.visits[v][0]] \
                    .service_min > settings.day.end_min - settings.day.start_min:
                continue
            trial = _route(dist_m, est, d, days[d], _day_visits(ctx, by_day[d] + [v]), settings,
                           min(0.3, settings.day_time_limit), stop)
            if not trial.skipped:
                routed[days[d]] = trial
                by_day[d].append(v)
                placed[v] = d
                est.add(d, place)
                break


def _relabel(route: DayRoute, visits: list, accounts: list[PlanAccount]) -> DayRoute:
    for s in route.stops:
        s.visit_id = accounts[visits[int(s.visit_id)][0]].account_id
    route.skipped = []
    return route


def replan_day(plan: VisitPlan, day: date, dist_m: np.ndarray, dur_s: np.ndarray, remove: tuple[str, ...] = (),
               add: tuple[str, ...] = (), time_limit: float = 1.0, stop: StopFlag | None = None) -> DayRoute:
    """Re-route one day after cancellations (``remove``) or additions (``add``, account ids); fast enough
    for interactive use (about ``time_limit`` s). Visits that no longer fit are returned in ``skipped``
    with reasons and dropped from the day; the plan's day and coverage are updated in place."""
    if day not in plan.days:
        raise InvalidInputError("re-plan", [f"{day.isoformat()} is not a working day of this plan"])
    unknown = [a for a in add if a not in plan.accounts]
    if unknown:
        raise InvalidInputError("re-plan", [f"account {a} is not in this plan" for a in unknown])
    keep = [v for v in plan.days[day].visit_ids if v not in set(remove)] + [a for a in add]
    visits = [Visit(a, plan.accounts[a].place, plan.accounts[a].service_min, plan.accounts[a].open_min,
                    plan.accounts[a].close_min, required=False, skip_minutes=24 * 60) for a in keep]
    ds = plan.settings.day
    route = plan_day(dist_m, dur_s, visits, ds, time_limit=time_limit, stop=stop, traffic=plan.settings.traffic,
                     weekday=day.weekday())
    before = plan.days[day].visit_ids
    plan.days[day] = route
    delta: dict[str, int] = {}
    for a in before:
        delta[a] = delta.get(a, 0) - 1
    for a in route.visit_ids:
        delta[a] = delta.get(a, 0) + 1
    for c in plan.coverage:
        c.planned += delta.get(c.account_id, 0)
    return route


def move_visit(plan: VisitPlan, account_id: str, from_day: date, to_day: date, dist_m: np.ndarray,
               dur_s: np.ndarray, time_limit: float = 0.8) -> tuple[DayRoute, DayRoute]:
    """Drag a visit to another day: re-route both days (about 2 x ``time_limit`` s). All or nothing:
    if the visit (or a visit already there) would not fit ``to_day``, both days stay as they were and
    InfeasibleError says why."""
    if account_id not in plan.days.get(from_day, DayRoute([], 0, 0, None, 0, 0, 0)).visit_ids:
        raise InvalidInputError("move visit", [f"account {account_id} has no visit on {from_day.isoformat()}"])
    if to_day not in plan.days:
        raise InvalidInputError("move visit", [f"{to_day.isoformat()} is not a working day of this plan"])
    if to_day == from_day:
        return plan.days[from_day], plan.days[to_day]
    saved = {from_day: plan.days[from_day], to_day: plan.days[to_day]}
    saved_cov = [(c, c.planned) for c in plan.coverage]
    b = replan_day(plan, to_day, dist_m, dur_s, add=(account_id,), time_limit=time_limit)
    if b.skipped:
        plan.days.update(saved)
        for c, n in saved_cov:
            c.planned = n
        why = "; ".join(f"{vid}: {reason}" for vid, reason in b.skipped)
        raise InfeasibleError(f"moving {account_id} to {to_day.isoformat()} does not fit: {why}")
    a = replan_day(plan, from_day, dist_m, dur_s, remove=(account_id,), time_limit=time_limit)
    return a, b
