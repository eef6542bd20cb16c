"""Combination moves with exact re-routing of the affected days.

A move gives one flexible account another allowed combination. Every candidate is screened with
removal/insertion estimates on the current routes (moves.DayRoutes); the most promising one is applied
and only the days it touches are re-routed by PyVRP, warm-started from the edited routes, so a move is
judged on real route costs. Rejected moves are tabu for a while; when nothing promising is left, a few
neighbouring accounts are ruined (all visits removed) and recreated with their best combinations.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ....models import StopFlag
from .encode import descend_encoded, encode, route_encoded, warm_start
from .moves import DayRoutes
from .problem import Combination, PeriodicProblem, PeriodicRoute

RUIN_SHARE = 0.1  # share of steps that ruin and recreate
RUIN_MAX = 6  # at most this many neighbouring accounts ruined
SWAP_SHARE = 0.15  # share of steps that swap two accounts' combinations
SWAP_PARTNERS = 6  # nearest candidates screened for a swap
PENALISED_LOAD = True  # the current plan may go over capacity at a price (adapted); the best is always within
PENALTY_WINDOW = 50  # steps between penalty updates


def route_cost(problem: PeriodicProblem, r: PeriodicRoute) -> float:
    """Weighted distance and duration (travel + service) of one route."""
    dist, dur = problem.route_totals(r.rep, r.accounts)
    return problem.distance_weight * dist + problem.duration_weight * dur


def reroute_days(problem: PeriodicProblem, days: list[int], routes: list[PeriodicRoute], seconds: float,
                 seed: int, stop: StopFlag | None, load_penalty: float | None = None) -> list[PeriodicRoute] | None:
    """Re-route the visits on ``days`` together with PyVRP, warm-started from ``routes`` (those days).

    Multi-visit accounts keep their days; a single-visit account may move to any other of these days
    that it allows, so the days can rebalance. None if PyVRP found no feasible routes. With
    ``load_penalty`` and ``seconds`` 0, routes may end over capacity (see ``descend_encoded``).
    """
    days = sorted(days)
    pos = {d: k for k, d in enumerate(days)}
    accounts = sorted({a for r in routes for a in r.accounts})
    if not accounts:
        return []
    index = {a: k for k, a in enumerate(accounts)}
    here = {a: frozenset(pos[r.day] for r in routes if a in r.accounts) for a in accounts}
    sub_accounts = [replace(problem.accounts[a], required=True,
                            combinations=_sub_combinations(problem.accounts[a], here[a], pos))
                    for a in accounts]
    reps = [replace(rep, days_off=frozenset(pos[d] for d in rep.days_off if d in pos)) for rep in problem.reps]
    sub = PeriodicProblem(problem.distance, problem.duration, sub_accounts, reps,
                          [problem.days[d] for d in days], problem.distance_weight, problem.duration_weight,
                          problem.name)
    enc = encode(sub, [None] * len(accounts))
    init = warm_start(enc, [PeriodicRoute(pos[r.day], r.rep, r.vehicle, [index[a] for a in r.accounts])
                            for r in routes])
    if seconds <= 0:
        found, _ = descend_encoded(enc, init, seed, load_penalty)
    else:
        found, _, _ = route_encoded(enc, seconds, seed, stop, init)
    if found is None:
        return None
    return [PeriodicRoute(days[r.day], r.rep, r.vehicle, [accounts[a] for a in r.accounts]) for r in found]


def _sub_combinations(account, here: frozenset[int], pos: dict[int, int]) -> tuple[frozenset[int], ...]:
    if account.frequency == 1:
        return tuple(frozenset({pos[d]}) for c in account.combinations for d in c if d in pos)
    return (here,)


def excess_load(problem: PeriodicProblem, r: PeriodicRoute) -> float:
    """Load of a route over its capacity (0 when it fits)."""
    cap = min(problem.reps[r.rep].capacity, problem.days[r.day].capacity)
    return max(0.0, sum(problem.accounts[a].demand for a in r.accounts) - cap)


def _excess_penalty(problem: PeriodicProblem) -> float:
    """Objective units per unit of excess load or duration in move estimates: a typical detour's cost
    per unit of a typical visit's demand (time)."""
    homes = [r.home for r in problem.reps]
    locs = [a.location for a in problem.accounts]
    reach = float(np.mean(problem.distance[np.ix_(homes, locs)])) if locs else 1.0
    size = float(np.mean([a.demand + a.service for a in problem.accounts])) if locs else 1.0
    return (problem.distance_weight + problem.duration_weight) * reach / max(size, 1e-9)


class CombinationSearch:
    """Current routes and combinations; ``step()`` tries one move and keeps it if the plan got cheaper
    (or, with ``temperature`` > 0, sometimes when it got a little dearer). ``best_*``: the best seen."""

    def __init__(self, problem: PeriodicProblem, routes: list[PeriodicRoute], chosen: list[Combination | None],
                 flexible: list[int], rng: np.random.Generator, day_seconds: float,
                 stop: StopFlag | None = None) -> None:
        self.p, self.flexible, self.rng, self.day_seconds, self.stop = problem, flexible, rng, day_seconds, stop
        self.tabu: dict[tuple[int, Combination], int] = {}
        self.penalty = _excess_penalty(problem)
        self.load_penalty = self.penalty  # price of a unit of load over capacity in the current plan
        self._within = 0  # steps of the current window that ended within capacity
        self.iteration = 0
        self.accepted = 0
        self.temperature = 0.0  # simulated annealing: a worse plan is kept with probability exp(-delta / T)
        self.reset(routes, chosen)

    def reset(self, routes: list[PeriodicRoute], chosen: list[Combination | None]) -> None:
        self.routes, self.chosen = list(routes), list(chosen)
        self._moves: list[tuple[float, int, Combination]] | None = None
        self.excess = sum(excess_load(self.p, r) for r in self.routes)
        self.cost = self.p.plan_cost(self.routes) + self.load_penalty * self.excess
        if self.excess <= 1e-9 and self.cost < getattr(self, "best_cost", math.inf) - 1e-7:
            self.best_routes, self.best_chosen, self.best_cost = list(self.routes), list(self.chosen), self.cost

    def _penalised(self, routes: list[PeriodicRoute]) -> float:
        return sum(route_cost(self.p, r) + self.load_penalty * excess_load(self.p, r) for r in routes)

    def _adapt(self) -> None:
        """Penalty control as in hybrid genetic search: about half of the steps should end within
        capacity; the price of excess load rises when fewer do and falls when more do."""
        self._within += self.excess <= 1e-9
        if self.iteration % PENALTY_WINDOW:
            return
        share, self._within = self._within / PENALTY_WINDOW, 0
        factor = 1.3 if share < 0.4 else 1 / 1.3 if share > 0.6 else 1.0
        self.load_penalty = min(max(self.load_penalty * factor, 0.05 * self.penalty), 50 * self.penalty)
        self.cost = self.p.plan_cost(self.routes) + self.load_penalty * self.excess

    def _combo(self, i: int) -> Combination:
        """The chosen combination of flexible account ``i`` (None is kept only for fixed accounts)."""
        combo = self.chosen[i]
        if combo is None:
            raise ValueError(f"flexible account {i} has no chosen combination")
        return combo

    def _candidates(self, state: DayRoutes) -> list[tuple[float, int, Combination]]:
        out = []
        for i in self.flexible:
            for combo in self.p.accounts[i].combinations:
                if combo != self.chosen[i] and self.tabu.get((i, combo), -1) < self.iteration:
                    delta = state.move_delta(i, self._combo(i), combo)
                    if math.isfinite(delta):
                        out.append((delta, i, combo))
        out.sort(key=lambda m: m[0])
        return out

    def step(self) -> bool:
        """One move (or a ruin-and-recreate); True if it was accepted."""
        self.iteration += 1
        if PENALISED_LOAD:
            self._adapt()
        state = DayRoutes(self.p, self.routes, self.penalty)
        if self._moves is None:  # estimates only change when the routes do
            self._moves = self._candidates(state)
        moves = [m for m in self._moves if self.tabu.get((m[1], m[2]), -1) < self.iteration]
        r = self.rng.random()
        if not moves or r < RUIN_SHARE:
            return self._ruin_recreate(state)
        if r < RUIN_SHARE + SWAP_SHARE:
            return self._swap(state)
        pick = 0 if self.rng.random() < 0.5 else int(self.rng.integers(min(8, len(moves))))
        _, i, combo = moves[pick]
        old = self._combo(i)
        state.apply(i, old, combo)
        ok = self._try(state, old ^ combo, {i: combo})
        if not ok:
            self.tabu[(i, combo)] = self.iteration + max(5, len(moves) // 2)
        return ok

    def _swap(self, state: DayRoutes) -> bool:
        """Two nearby accounts trade combinations (day loads stay balanced where capacity is tight)."""
        a = int(self.rng.choice(self.flexible))
        pa, ca = self.p.accounts[a], self._combo(a)
        loc = pa.location
        partners = [b for b in self.flexible if self.chosen[b] != ca and self.chosen[b] in pa.combinations
                    and ca in self.p.accounts[b].combinations]
        partners.sort(key=lambda b: self.p.distance[loc, self.p.accounts[b].location])
        if not partners:
            return False
        scored = [(state.move_delta(a, ca, self._combo(b)) + state.move_delta(b, self._combo(b), ca), b)
                  for b in partners[:SWAP_PARTNERS]]
        _, b = min(scored)
        cb = self._combo(b)
        state.apply(a, ca, cb)
        state.apply(b, cb, ca)
        return self._try(state, ca ^ cb, {a: cb, b: ca})

    def _ruin_recreate(self, state: DayRoutes) -> bool:
        seed = int(self.rng.choice(self.flexible))
        loc = self.p.accounts[seed].location
        near = sorted(self.flexible, key=lambda i: self.p.distance[loc, self.p.accounts[i].location])
        group = near[:int(self.rng.integers(1, min(RUIN_MAX, len(self.flexible)) + 1))]
        for i in group:
            state.apply(i, self._combo(i), frozenset())
        changes, days = {}, set()
        for i in self.rng.permutation(group):
            combos = self.p.accounts[i].combinations
            deltas = [state.move_delta(int(i), frozenset(), c) for c in combos]
            combo = combos[int(np.argmin(deltas))]
            state.apply(int(i), frozenset(), combo)
            changes[int(i)] = combo
            days |= self._combo(int(i)) ^ combo
        return bool(days) and self._try(state, days, changes)

    def _try(self, state: DayRoutes, days: set[int] | frozenset[int], changes: dict[int, Combination]) -> bool:
        edited = state.routes()
        old_cost = self._penalised([r for r in self.routes if r.day in days])
        new_routes = reroute_days(self.p, sorted(days), [r for r in edited if r.day in days],
                                  self.day_seconds * len(days), self.iteration, self.stop,
                                  self.load_penalty if PENALISED_LOAD else None)
        if new_routes is None:
            return False
        delta = self._penalised(new_routes) - old_cost
        if delta >= -1e-7 and not (self.temperature > 0 and self.rng.random() < math.exp(-delta / self.temperature)):
            return False
        routes = [r for r in self.routes if r.day not in days] + new_routes
        chosen = list(self.chosen)
        for i, combo in changes.items():
            chosen[i] = combo
        self.reset(routes, chosen)
        self.accepted += 1
        return True
