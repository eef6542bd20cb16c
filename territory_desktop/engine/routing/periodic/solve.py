"""Solve the periodic visit-planning problem: day combinations and routes together.

Method: (1) flexible multi-visit accounts get a starting combination that balances each day's load;
(2) PyVRP's iterated local search routes all days at once, choosing the day of every single-visit
account itself (see encode.py); (3) an outer search changes combinations: every alternative is screened
with removal/insertion estimates on the current routes (moves.py), improving ones are applied, or, when
none improves, a few accounts near a random one are re-combined (ruin and recreate); PyVRP then re-routes
from the edited routes and the result is kept if it beats the best. Runs until ``time_limit``.
"""

from __future__ import annotations

import math
import time

import numpy as np

from ....models import InfeasibleError, Progress, StopFlag, no_progress
from .daysearch import CombinationSearch
from .encode import encode, is_flexible, route_encoded, warm_start
from .moves import DayRoutes
from .problem import Combination, PeriodicProblem, PeriodicRoute, PeriodicSolution


def initial_combinations(problem: PeriodicProblem, rng: np.random.Generator) -> list[Combination | None]:
    """Flexible accounts, heaviest first, take the combination whose days carry the least load so far."""
    t = problem.num_days
    load = np.zeros(t)
    weight = [a.demand + a.service for a in problem.accounts]
    for i, a in enumerate(problem.accounts):
        if not is_flexible(problem, i):
            days = [d for c in a.combinations for d in c]
            np.add.at(load, days, weight[i] * a.frequency / max(len(days), 1))
    chosen: list[Combination | None] = [None] * len(problem.accounts)
    flexible = [i for i in range(len(problem.accounts)) if is_flexible(problem, i)]
    for i in sorted(flexible, key=lambda i: -weight[i]):
        combos = problem.accounts[i].combinations
        scores = [sum(load[d] for d in c) + 1e-6 * rng.random() for c in combos]
        best = combos[int(np.argmin(scores))]
        chosen[i] = best
        load[list(best)] += weight[i]
    return chosen


def _project(problem: PeriodicProblem, routes: list[PeriodicRoute], flexible: list[int],
             chosen: list[Combination | None]) -> tuple[list[Combination | None], list[PeriodicRoute]]:
    """Turn a relaxed plan into a valid one: each flexible account takes the allowed combination that
    keeps most of its planned days (ties: the cheapest by insertion estimate)."""
    state = DayRoutes(problem, routes)
    chosen = list(chosen)
    for i in flexible:
        now = state.days_of(i)
        deltas = {c: state.move_delta(i, now, c) for c in problem.accounts[i].combinations}
        combo = min(deltas, key=lambda c: (not math.isfinite(deltas[c]), -len(c & now), deltas[c]))
        state.apply(i, now, combo)
        chosen[i] = combo
    return chosen, state.routes()


TEMPERATURE = 0.02  # start temperature: this share of an average day's cost
#: fresh starts within the time limit (different seeds, the best plan kept); one long search beat three
#: short ones at 60 s on p08, p10 and p12 (README, Periodic visit planning)
ATTEMPTS = 1


def _start(problem: PeriodicProblem, flexible: list[int], budget: float, seed: int, stop,
           rng: np.random.Generator, deadline: float):
    """First plan: route the relaxed problem, then project it onto allowed combinations. Without a
    feasible plan, PyVRP goes on (twice as long each time) until ``deadline`` (perf_counter)."""
    chosen = initial_combinations(problem, rng)
    init, iters = None, 0
    if flexible:
        relaxed, _, iters = route_encoded(encode(problem, chosen, relaxed=True), 0.6 * budget, seed, stop)
        if relaxed is not None:
            chosen, projected = _project(problem, relaxed, flexible, chosen)
    enc = encode(problem, chosen)
    if flexible and relaxed is not None:
        init = warm_start(enc, projected)
    seconds = 0.4 * budget if flexible else budget
    while True:
        routes, cost, it = route_encoded(enc, seconds, seed, stop, init)
        iters += it
        left = deadline - time.perf_counter()
        if routes is not None or left <= 0.05 or (stop and stop.is_set()):
            return routes, cost, chosen, iters
        if init is not None:  # the projection may overload a day: start over from balanced combinations
            chosen = initial_combinations(problem, rng)
            enc, init = encode(problem, chosen), None
        seconds, seed = min(2 * seconds, left), seed + 1


def solve_periodic(problem: PeriodicProblem, time_limit: float = 10.0, seed: int = 0,
                   progress: Progress = no_progress, stop: StopFlag | None = None) -> PeriodicSolution:
    """Plan days and routes within ``time_limit`` seconds; raise InfeasibleError if nothing feasible.

    With multi-visit choices and ``ATTEMPTS`` > 1, the search starts afresh that many times (different
    seeds, the time shared) and keeps the best plan.
    """
    t0 = time.perf_counter()
    flexible = [i for i in range(len(problem.accounts)) if is_flexible(problem, i)]
    attempts = ATTEMPTS if flexible else 1
    best = None
    for k in range(attempts):
        left = time_limit - (time.perf_counter() - t0)
        if left <= 0.1 or (stop and stop.is_set()):
            break
        found = _attempt(problem, flexible, left / (attempts - k), seed + 7919 * k, progress, stop)
        if found is not None and (best is None or found[1] < best[1]):
            best = found
    if best is None:
        raise InfeasibleError(f"periodic plan {problem.name}: no feasible plan found in {time_limit:g} s "
                              "(check capacities, route-duration limits and vehicles per day)")
    routes, cost, chosen, iters = best
    return _solution(problem, routes, chosen, cost, time.perf_counter() - t0, iters)


def _attempt(problem: PeriodicProblem, flexible: list[int], time_limit: float, seed: int, progress, stop):
    """One start and improvement within ``time_limit``: (routes, cost, chosen, iterations) or None."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    routes, cost, chosen, iters = _start(problem, flexible, time_limit if not flexible else 0.3 * time_limit,
                                         seed, stop, rng, t0 + time_limit)
    if routes is None:
        return None
    if flexible:
        routes, cost, chosen, iters = _improve(problem, routes, chosen, flexible, rng, stop, t0, time_limit,
                                               progress, iters)
    return routes, cost, chosen, iters


def _improve(problem, routes, chosen, flexible, rng, stop, t0: float, time_limit: float, progress, iters):
    """Combination moves with exact day re-routing, and now and then PyVRP on all days together (which
    also moves single-visit accounts between days); stops at ``time_limit``."""
    search = CombinationSearch(problem, routes, chosen, flexible, rng,
                               0.0, stop)
    next_global = time.perf_counter() + 0.15 * time_limit
    start_temp = TEMPERATURE * search.cost / max(problem.num_days, 1)
    while time.perf_counter() - t0 < time_limit - 0.05 and not (stop and stop.is_set()):
        done = (time.perf_counter() - t0) / time_limit
        search.temperature = start_temp * max(0.0, 1.0 - done / 0.9)
        search.step()
        if time.perf_counter() >= next_global:
            enc = encode(problem, search.chosen)
            left = time_limit - (time.perf_counter() - t0)
            found, _, it = route_encoded(enc, min(0.05 * time_limit, left), seed_of(search), stop,
                                         warm_start(enc, search.routes))
            iters += it
            if found is not None and problem.plan_cost(found) < search.cost - 1e-7:
                search.reset(found, search.chosen)
            next_global = time.perf_counter() + 0.15 * time_limit
        progress(done, f"combination move {search.iteration}, cost {search.cost:.2f}, best {search.best_cost:.2f}")
    return search.best_routes, search.best_cost, search.best_chosen, iters + search.iteration


def seed_of(search: CombinationSearch) -> int:
    return 1000 + search.iteration


def _solution(problem, routes, chosen, cost, seconds, iters) -> PeriodicSolution:
    days_of: dict[int, set[int]] = {}
    dist = dur = 0.0
    for r in routes:
        d, t = problem.route_totals(r.rep, r.accounts)
        dist, dur = dist + d, dur + t
        for a in r.accounts:
            days_of.setdefault(a, set()).add(r.day)
    final: list[Combination | None] = []
    skipped = {}
    for i, a in enumerate(problem.accounts):
        days = frozenset(days_of.get(i, ()))
        final.append(days if days else None)
        if len(days) < a.frequency:
            skipped[i] = a.frequency - len(days)
    return PeriodicSolution(routes, final, problem.plan_cost(routes), dist, dur, skipped, seconds, iters)
