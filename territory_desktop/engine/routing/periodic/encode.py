"""Encode a periodic problem as one PyVRP problem (all days at once) and decode PyVRP's solutions.

Each day d is a time slice [d*H, (d+1)*H) of one clock; each (day, rep) pair is a vehicle type whose
shift lies in its slice. A visit that may happen on any day of a run of consecutive days is ONE client
whose time window spans the run, so PyVRP's ordinary moves between routes change its day; a choice
between non-consecutive runs is a mutually exclusive client group. Visits of accounts with a fixed (or
chosen) combination are clients pinned to their day. Values are scaled to integers: times and distances
rounded to 1/SCALE (durations and loads rounded up, limits down, so a feasible encoding is feasible).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from pyvrp import (
    Client,
    ClientGroup,
    CostEvaluator,
    Depot,
    Location,
    ProblemData,
    RandomNumberGenerator,
    Route,
    Solution,
    VehicleType,
)
from pyvrp import solve as pyvrp_solve
from pyvrp.search import OPERATORS, LocalSearch, PerturbationManager, PerturbationParams, compute_neighbours
from pyvrp.stop import MaxRuntime, MultipleCriteria

from ....models import StopFlag
from ..pyvrp_backend import pyvrp_matrix
from .problem import Combination, PeriodicProblem, PeriodicRoute

SCALE = 1000


@dataclass
class Encoding:
    """PyVRP data plus the maps back: client -> (account, days), vehicle type -> (day, rep)."""

    data: ProblemData
    client_account: list[int]
    client_days: list[frozenset[int]]
    vehicle_day_rep: list[tuple[int, int]]
    cost_scale: float
    load_scale: int = 1


def is_flexible(problem: PeriodicProblem, i: int) -> bool:
    """A multi-visit account with a choice of combinations (the outer search picks it)."""
    a = problem.accounts[i]
    return a.frequency > 1 and len(a.combinations) > 1


def _runs(days: list[int]) -> list[tuple[int, int]]:
    runs: list[list[int]] = []
    for d in sorted(days):
        if runs and runs[-1][1] == d - 1:
            runs[-1][1] = d
        else:
            runs.append([d, d])
    return [(a, b) for a, b in runs]


def _day_span(problem: PeriodicProblem) -> int:
    ends = [r.end for r in problem.reps if math.isfinite(r.end)]
    if len(ends) == len(problem.reps):
        return math.ceil(max(ends) * SCALE) + 1
    visits = sum(a.frequency for a in problem.accounts)
    bound = problem.duration.max() * (visits + 2) + sum(a.service * a.frequency for a in problem.accounts)
    return math.ceil(max(bound, max(ends, default=0)) * SCALE) + 1


def _weights(problem: PeriodicProblem) -> tuple[int, int, int]:
    ws = 1 if float(problem.distance_weight).is_integer() and float(problem.duration_weight).is_integer() \
        else 1000
    return round(problem.distance_weight * ws), round(problem.duration_weight * ws), ws


def _load_scale(problem: PeriodicProblem) -> int:
    return 1 if all(float(a.demand).is_integer() for a in problem.accounts) else 1000


def _client_slots(problem: PeriodicProblem, i: int, chosen: Combination | None,
                  relaxed: bool) -> list[list[tuple[int, int]]]:
    """The client windows (first day, last day) of account i: one list per visit; >1 entries = a group.

    ``relaxed``: a flexible account's k-th visit may take the k-th day of any of its combinations
    (a relaxation: the days picked need not form one allowed combination).
    """
    a = problem.accounts[i]
    if (a.frequency == 1 and len(a.combinations) > 1) or (relaxed and is_flexible(problem, i)):
        narrow = a.open > min(r.start for r in problem.reps) or a.close < max(r.end for r in problem.reps)
        slots = []
        for k in range(a.frequency):
            days = sorted({sorted(c)[k] for c in a.combinations})
            slots.append([(d, d) for d in days] if narrow else _runs(days))
        return slots
    combo = chosen if chosen is not None else a.combinations[0]
    return [[(d, d)] for d in sorted(combo)]


def encode(problem: PeriodicProblem, chosen: list[Combination | None], relaxed: bool = False) -> Encoding:
    """PyVRP data for ``problem`` with flexible accounts pinned to ``chosen`` combinations (or relaxed)."""
    h = _day_span(problem)
    ud, uu, ws = _weights(problem)
    ls = _load_scale(problem)
    clients: list[Client] = []
    groups: list[ClientGroup] = []
    owner: list[int] = []
    owner_days: list[frozenset[int]] = []
    for i, a in enumerate(problem.accounts):
        for slots in _client_slots(problem, i, chosen[i], relaxed):
            grouped = len(slots) > 1
            ids = []
            for first, last in slots:
                ids.append(len(clients))
                owner.append(i)
                owner_days.append(frozenset(range(first, last + 1)))
                clients.append(_client(a, first, last, h, ls, ws * SCALE, grouped, len(groups)))
            if grouped:
                groups.append(ClientGroup(ids, required=a.required))
    homes = sorted({r.home for r in problem.reps})
    depots = [Depot(location=loc) for loc in homes]
    vtypes, vmap = [], []
    for d, day in enumerate(problem.days):
        for r, rep in enumerate(problem.reps):
            if d in rep.days_off:
                continue
            vmap.append((d, r))
            vtypes.append(_vehicle(rep, day, d, h, ls, ud, uu, homes.index(rep.home), f"d{d}r{r}"))
    locations = [Location(x=0, y=0) for _ in range(len(problem.distance))]
    dist = np.round(problem.distance * SCALE).astype(np.int64)
    dur = np.ceil(problem.duration * SCALE - 1e-6).astype(np.int64)
    data = ProblemData(locations=locations, clients=clients, depots=depots, vehicle_types=vtypes,
                       distance_matrices=[pyvrp_matrix(dist)], duration_matrices=[pyvrp_matrix(dur)],
                       groups=groups)
    return Encoding(data, owner, owner_days, vmap, float(SCALE * ws), ls)


def _client(a, first: int, last: int, h: int, ls: int, prize_scale: float, grouped: bool, group: int) -> Client:
    early = first * h + (math.ceil(a.open * SCALE) if a.open > 0 else 0)
    late = last * h + (min(int(a.close * SCALE), h - 1) if math.isfinite(a.close) else h - 1)
    prize = 0 if a.required else round(a.skip_penalty * prize_scale)
    return Client(location=a.location, delivery=[math.ceil(a.demand * ls - 1e-9)],
                  service_duration=math.ceil(a.service * SCALE - 1e-9), tw_early=early, tw_late=late,
                  required=a.required and not grouped, prize=prize, group=group if grouped else None,
                  name=a.name)


def _vehicle(rep, day, d: int, h: int, ls: int, ud: int, uu: int, depot: int, name: str) -> VehicleType:
    cap = min(rep.capacity, day.capacity)
    cap_int = math.floor(cap * ls + 1e-9) if math.isfinite(cap) else 2**40
    start = math.ceil(rep.start * SCALE) if rep.start > 0 else 0
    end = min(int(rep.end * SCALE), h - 1) if math.isfinite(rep.end) else h - 1
    shift = math.floor(day.max_duration * SCALE + 1e-6) if math.isfinite(day.max_duration) else end - start
    return VehicleType(num_available=rep.vehicles, capacity=[cap_int], start_depot=depot, end_depot=depot,
                       tw_early=d * h + start, tw_late=d * h + end, shift_duration=min(shift, end - start),
                       unit_distance_cost=ud, unit_duration_cost=uu, name=name)


def decode(enc: Encoding, solution: Solution) -> list[PeriodicRoute]:
    """PyVRP routes as (day, rep, vehicle number, account indices)."""
    out: list[PeriodicRoute] = []
    count: dict[tuple[int, int], int] = {}
    for route in solution.routes():
        day, rep = enc.vehicle_day_rep[route.vehicle_type()]
        k = count.get((day, rep), 0)
        count[(day, rep)] = k + 1
        out.append(PeriodicRoute(day, rep, k, [enc.client_account[a.idx] for a in route if a.is_client()]))
    return out


def warm_start(enc: Encoding, routes: list[PeriodicRoute]) -> Solution:
    """A PyVRP solution with the given routes (accounts mapped to the client serving that day)."""
    lookup = {}
    for c, (acc, days) in enumerate(zip(enc.client_account, enc.client_days, strict=True)):
        for d in days:
            lookup[(acc, d)] = c
    vt = {dr: k for k, dr in enumerate(enc.vehicle_day_rep)}
    pyroutes, used = [], set()
    for r in routes:
        visits = [lookup[(a, r.day)] for a in r.accounts if (a, r.day) in lookup]
        visits = [c for c in dict.fromkeys(visits) if c not in used]
        used.update(visits)
        if visits:
            pyroutes.append(Route(enc.data, visits, vt[(r.day, r.rep)]))
    return Solution(enc.data, pyroutes)


class _Stop:
    def __init__(self, stop: StopFlag | None) -> None:
        self.stop = stop

    def __call__(self, best_cost: float) -> bool:
        return self.stop is not None and self.stop.is_set()


def route_encoded(enc: Encoding, seconds: float, seed: int,
                    stop: StopFlag | None, init=None):
    """Run PyVRP on ``enc`` (warm-started from ``init``): (routes, objective, iterations); None/inf if
    no feasible plan was found."""
    crit = MultipleCriteria([MaxRuntime(max(seconds, 0.01)), _Stop(stop)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = pyvrp_solve(enc.data, stop=crit, seed=seed, collect_stats=False, display=False,
                          initial_solution=init)
    best = res.best
    if not best.is_feasible():
        return None, math.inf, res.num_iterations
    cost = best.distance_cost() + best.duration_cost() + best.uncollected_prizes()
    return decode(enc, best), cost / enc.cost_scale, res.num_iterations


def descend_encoded(enc: Encoding, init: Solution, seed: int = 0,
                    load_penalty: float | None = None) -> tuple[list[PeriodicRoute] | None, float]:
    """PyVRP's local search only (no perturbation) from ``init`` down to a local optimum: milliseconds,
    deterministic for a seed. (routes, objective), or (None, inf) if the optimum is infeasible.

    With ``load_penalty`` (objective units per unit of load over a route's capacity) the search may end
    over capacity and such routes are returned; time windows, days and route durations stay strict."""
    rng = RandomNumberGenerator(seed=seed)
    ls = LocalSearch(enc.data, rng, compute_neighbours(enc.data), PerturbationManager(PerturbationParams(0, 0)))
    for op in OPERATORS:
        if op.supports(enc.data):
            ls.add_operator(op(enc.data))
    big = 1000.0 * enc.cost_scale
    load = big if load_penalty is None else load_penalty * enc.cost_scale / enc.load_scale
    best = ls(init, CostEvaluator([load], big, 0.0), exhaustive=True)
    strict_ok = best.is_complete() and not best.has_time_warp() and not best.has_excess_distance()
    if not strict_ok or (load_penalty is None and not best.is_feasible()):
        return None, math.inf
    cost = best.distance_cost() + best.duration_cost() + best.uncollected_prizes()
    return decode(enc, best), cost / enc.cost_scale
