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
import warnings

import numpy as np
from pyvrp import solve as pyvrp_solve
from pyvrp.stop import MaxRuntime, MultipleCriteria

from ....models import InfeasibleError, Progress, StopFlag, no_progress
from .encode import Encoding, decode, encode, is_flexible, warm_start
from .moves import DayRoutes
from .problem import Combination, PeriodicProblem, PeriodicRoute, PeriodicSolution


class _Stop:
    def __init__(self, stop: StopFlag | None) -> None:
        self.stop = stop

    def __call__(self, best_cost: float) -> bool:
        return self.stop is not None and self.stop.is_set()


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
        chosen[i] = combos[int(np.argmin(scores))]
        load[list(chosen[i])] += weight[i]
    return chosen


def _route_solution(problem: PeriodicProblem, enc: Encoding, seconds: float, seed: int,
                    stop: StopFlag | None, init=None):
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


def _propose(problem: PeriodicProblem, routes: list[PeriodicRoute], chosen: list[Combination | None],
             flexible: list[int], rng: np.random.Generator) -> tuple[list[Combination | None], list[PeriodicRoute]]:
    """Apply improving combination moves (best first, re-screened after each); if none, ruin-recreate."""
    state = DayRoutes(problem, routes)
    chosen = list(chosen)
    applied = 0
    for _ in range(max(3, len(flexible) // 10)):
        move = _best_move(problem, state, chosen, flexible)
        if move is None or move[0] >= -1e-9:
            break
        _, i, combo = move
        state.apply(i, chosen[i], combo)
        chosen[i] = combo
        applied += 1
    if applied:
        return chosen, state.routes()
    return _ruin_recreate(problem, state, chosen, flexible, rng)


def _best_move(problem, state: DayRoutes, chosen, flexible) -> tuple[float, int, Combination] | None:
    best = None
    for i in flexible:
        for combo in problem.accounts[i].combinations:
            if combo == chosen[i]:
                continue
            delta = state.move_delta(i, chosen[i], combo)
            if best is None or delta < best[0]:
                best = (delta, i, combo)
    return best


def _ruin_recreate(problem, state: DayRoutes, chosen, flexible, rng):
    """Re-combine a few flexible accounts near a random one, each to its best other combination."""
    seed = int(rng.choice(flexible))
    loc = problem.accounts[seed].location
    near = sorted(flexible, key=lambda i: problem.distance[loc, problem.accounts[i].location])
    size = int(rng.integers(1, min(4, len(flexible)) + 1))
    for i in near[:size]:
        others = [c for c in problem.accounts[i].combinations if c != chosen[i]]
        deltas = [state.move_delta(i, chosen[i], c) for c in others]
        if rng.random() < 0.3:
            combo = others[int(rng.integers(len(others)))]
        else:
            combo = others[int(np.argmin(deltas))]
        state.apply(i, chosen[i], combo)
        chosen[i] = combo
    return chosen, state.routes()


def solve_periodic(problem: PeriodicProblem, time_limit: float = 10.0, seed: int = 0,
                   progress: Progress = no_progress, stop: StopFlag | None = None) -> PeriodicSolution:
    """Plan days and routes within ``time_limit`` seconds; raise InfeasibleError if nothing feasible."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    flexible = [i for i in range(len(problem.accounts)) if is_flexible(problem, i)]
    chosen = initial_combinations(problem, rng)
    first = time_limit if not flexible else 0.35 * time_limit
    enc = encode(problem, chosen)
    routes, cost, iters = _route_solution(problem, enc, first, seed, stop)
    slice_s = max(0.2, time_limit / 40)
    rounds = 0
    while flexible and time.perf_counter() - t0 < time_limit - 0.05 and not (stop and stop.is_set()):
        progress((time.perf_counter() - t0) / time_limit, f"combination round {rounds + 1}, cost {cost:.2f}")
        base_routes = routes if routes is not None else []
        new_chosen, new_routes = _propose(problem, base_routes, chosen, flexible, rng)
        new_enc = encode(problem, new_chosen)
        left = time_limit - (time.perf_counter() - t0)
        cand, cand_cost, it = _route_solution(problem, new_enc, min(slice_s, left), seed + rounds + 1, stop,
                                              warm_start(new_enc, new_routes))
        iters += it
        rounds += 1
        if cand_cost < cost - 1e-9:
            routes, cost, chosen, enc = cand, cand_cost, new_chosen, new_enc
    if routes is None:
        raise InfeasibleError(f"periodic plan {problem.name}: no feasible plan found in {time_limit:g} s "
                              "(check capacities, route-duration limits and vehicles per day)")
    return _solution(problem, routes, chosen, cost, time.perf_counter() - t0, iters)


def _solution(problem, routes, chosen, cost, seconds, iters) -> PeriodicSolution:
    days_of: dict[int, set[int]] = {}
    dist = dur = 0.0
    for r in routes:
        home = problem.reps[r.rep].home
        nodes = [home] + [problem.accounts[a].location for a in r.accounts] + [home]
        dist += float(sum(problem.distance[a, b] for a, b in zip(nodes[:-1], nodes[1:], strict=True)))
        dur += float(sum(problem.duration[a, b] for a, b in zip(nodes[:-1], nodes[1:], strict=True)))
        dur += sum(problem.accounts[a].service for a in r.accounts)
        for a in r.accounts:
            days_of.setdefault(a, set()).add(r.day)
    final: list[Combination | None] = []
    skipped = {}
    for i, a in enumerate(problem.accounts):
        days = frozenset(days_of.get(i, ()))
        final.append(days if days else None)
        if len(days) < a.frequency:
            skipped[i] = a.frequency - len(days)
    return PeriodicSolution(routes, final, cost, dist, dur, skipped, seconds, iters)
