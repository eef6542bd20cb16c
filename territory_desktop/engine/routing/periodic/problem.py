"""The periodic visit-planning problem (periodic VRP), stated in full, and its solution.

Days are numbered 0..T-1 over the horizon. A *combination* is the set of days an account is visited on;
an account with frequency f must be visited on exactly one of its allowed combinations (each of size f).
Times are in one unit (minutes for field plans), distances in another (km); matrices are over
*locations* (0..L-1): every account and every rep's home references one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations, pairwise

import numpy as np

from ....models import InvalidInputError

Combination = frozenset[int]
INF = math.inf


@dataclass(frozen=True)
class PeriodicAccount:
    """An account (customer) to visit ``frequency`` times, on one of ``combinations``.

    ``open``/``close``: the daily window in which a visit must start (same clock as the reps' hours);
    ``required=False`` lets the planner skip visits, each costing ``skip_penalty`` (objective units).
    """

    location: int
    combinations: tuple[Combination, ...]
    service: float = 0.0
    demand: float = 0.0
    required: bool = True
    skip_penalty: float = 0.0
    open: float = 0.0
    close: float = INF
    name: str = ""

    @property
    def frequency(self) -> int:
        return len(self.combinations[0]) if self.combinations else 0


@dataclass(frozen=True)
class PeriodicRep:
    """A rep (or a depot's fleet): ``vehicles`` routes a day from ``home``, within [start, end]."""

    home: int
    start: float = 0.0
    end: float = INF
    capacity: float = INF
    vehicles: int = 1
    days_off: frozenset[int] = frozenset()
    name: str = ""


@dataclass(frozen=True)
class PeriodicDay:
    """Limits of one day's routes: ``max_duration`` (travel + service) and ``capacity`` per route."""

    max_duration: float = INF
    capacity: float = INF


@dataclass
class PeriodicProblem:
    """Objective: ``distance_weight`` x distance + ``duration_weight`` x route duration + skip penalties."""

    distance: np.ndarray
    duration: np.ndarray
    accounts: list[PeriodicAccount]
    reps: list[PeriodicRep]
    days: list[PeriodicDay]
    distance_weight: float = 1.0
    duration_weight: float = 0.0
    name: str = ""

    def __post_init__(self) -> None:
        self.distance = np.asarray(self.distance, dtype=float)
        self.duration = np.asarray(self.duration, dtype=float)
        problems = _matrix_problems(self) + _account_problems(self) + _rep_problems(self)
        if not self.days:
            problems.append("the horizon has no days")
        if self.distance_weight < 0 or self.duration_weight < 0 or \
                self.distance_weight + self.duration_weight <= 0:
            problems.append("objective weights must be >= 0 and not both 0")
        if problems:
            raise InvalidInputError(f"periodic plan {self.name}".strip(), problems)

    @property
    def num_days(self) -> int:
        return len(self.days)

    def route_totals(self, rep: int, accounts: list[int]) -> tuple[float, float]:
        """(distance, duration = travel + service) of a route of ``rep`` through ``accounts``."""
        home = self.reps[rep].home
        nodes = [home] + [self.accounts[a].location for a in accounts] + [home]
        dist = float(sum(self.distance[a, b] for a, b in pairwise(nodes)))
        dur = float(sum(self.duration[a, b] for a, b in pairwise(nodes)))
        return dist, dur + sum(self.accounts[a].service for a in accounts)

    def plan_cost(self, routes: list[PeriodicRoute]) -> float:
        """Objective of a plan: weighted distance and duration plus the skip penalties of missed visits."""
        visits: dict[int, int] = {}
        total = 0.0
        for r in routes:
            dist, dur = self.route_totals(r.rep, r.accounts)
            total += self.distance_weight * dist + self.duration_weight * dur
            for a in r.accounts:
                visits[a] = visits.get(a, 0) + 1
        return total + sum(max(a.frequency - visits.get(i, 0), 0) * a.skip_penalty
                           for i, a in enumerate(self.accounts) if not a.required)


@dataclass
class PeriodicRoute:
    """One route: ``rep`` index, its ``vehicle`` number that day, the accounts (indices) in order."""

    day: int
    rep: int
    vehicle: int
    accounts: list[int]


@dataclass
class PeriodicSolution:
    """Routes, the chosen combination per account (None = not visited) and the objective value."""

    routes: list[PeriodicRoute]
    chosen: list[Combination | None]
    cost: float
    distance: float
    duration: float
    skipped_visits: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    iterations: int = 0


def _matrix_problems(p: PeriodicProblem) -> list[str]:
    out = []
    for name in ("distance", "duration"):
        m = getattr(p, name)
        if m.ndim != 2 or m.shape[0] != m.shape[1]:
            out.append(f"{name} matrix must be square, has shape {m.shape}")
        elif (m < 0).any() or not np.isfinite(m).all():
            out.append(f"{name} matrix has negative or missing entries")
    if not out and p.distance.shape != p.duration.shape:
        out.append(f"distance {p.distance.shape} and duration {p.duration.shape} matrices differ")
    return out


def _account_problems(p: PeriodicProblem) -> list[str]:
    out, n_loc, t = [], len(p.distance), len(p.days)
    for i, a in enumerate(p.accounts):
        who = f"account {i + 1} {a.name}".rstrip()
        if not 0 <= a.location < n_loc:
            out.append(f"{who}: location {a.location} outside 0..{n_loc - 1}")
        if not a.combinations:
            out.append(f"{who}: no allowed day combination")
        elif len({len(c) for c in a.combinations}) != 1:
            out.append(f"{who}: combinations of different sizes {sorted(len(c) for c in a.combinations)}")
        elif any(d < 0 or d >= t for c in a.combinations for d in c):
            out.append(f"{who}: a combination uses a day outside 1..{t}")
        if a.service < 0 or a.demand < 0 or a.skip_penalty < 0:
            out.append(f"{who}: service, demand and skip penalty must be >= 0")
        if a.open > a.close:
            out.append(f"{who}: opens at {a.open} after it closes at {a.close}")
    return out


def _rep_problems(p: PeriodicProblem) -> list[str]:
    out = [] if p.reps else ["no rep to plan for"]
    for i, r in enumerate(p.reps):
        who = f"rep {i + 1} {r.name}".rstrip()
        if not 0 <= r.home < len(p.distance):
            out.append(f"{who}: home location {r.home} outside the matrix")
        if r.vehicles < 1 or r.start > r.end or r.capacity < 0:
            out.append(f"{who}: needs vehicles >= 1, start <= end and capacity >= 0")
    return out


def combinations_from_mask(mask: int, num_days: int) -> Combination:
    """Cordeau's integer code: bit (num_days - 1 - d) set = visit on day d (most significant = day 0)."""
    return frozenset(d for d in range(num_days) if (mask >> (num_days - 1 - d)) & 1)


def every_n_weeks(every_weeks: int, weeks: int, weekdays: int = 5,
                  open_days: frozenset[int] | None = None) -> tuple[Combination, ...]:
    """One visit per block of ``every_weeks`` weeks, the same weekday in each block.

    Days are numbered week * weekdays + weekday; ``open_days`` (weekday numbers) restricts the weekday.
    A last partial block gets a visit too, so a 6-week horizon at every 4 weeks has 2 visits.
    """
    if every_weeks < 1 or weeks < 1:
        raise InvalidInputError("visit frequency", [f"every {every_weeks} weeks over {weeks} weeks"])
    allowed = [w for w in range(weekdays) if open_days is None or w in open_days]
    blocks = range(0, weeks, every_weeks)
    combos = []
    for offset in range(every_weeks):
        for wd in allowed:
            days = [(b + offset) * weekdays + wd for b in blocks if b + offset < weeks]
            if len(days) == len(blocks):
                combos.append(frozenset(days))
    return tuple(dict.fromkeys(combos)) or _no_combination(f"every {every_weeks} weeks", weeks)


def times_a_week(times: int, weeks: int, weekdays: int = 5, open_days: frozenset[int] | None = None,
                 consecutive: bool = False) -> tuple[Combination, ...]:
    """``times`` visits every week on the same weekdays (e.g. twice a week, not on consecutive days)."""
    allowed = [w for w in range(weekdays) if open_days is None or w in open_days]
    combos = []
    for pick in combinations(allowed, times):
        if not consecutive and any(b - a == 1 for a, b in pairwise(pick)):
            continue
        combos.append(frozenset(w * weekdays + d for w in range(weeks) for d in pick))
    return tuple(combos) or _no_combination(f"{times} times a week", weeks)


def _no_combination(what: str, weeks: int) -> tuple[Combination, ...]:
    raise InvalidInputError("visit frequency", [f"no allowed day combination for {what} over {weeks} weeks"])
