"""Fast estimates for changing an account's day combination on fixed routes.

Removal gain and cheapest feasible insertion (capacity, route duration) per day, on the routes of the
current solution; used to screen combination moves before PyVRP re-routes the days exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .problem import Combination, PeriodicProblem, PeriodicRoute


@dataclass
class _Route:
    day: int
    rep: int
    accounts: list[int]
    load: float
    work: float  # travel + service
    nodes: np.ndarray  # home, the accounts' locations, home


class DayRoutes:
    """The current routes per day, editable by removing and inserting single visits."""

    def __init__(self, problem: PeriodicProblem, routes: list[PeriodicRoute], penalty: float = 0.0) -> None:
        self.p = problem
        self.penalty = penalty
        self.loc = np.array([a.location for a in problem.accounts], dtype=int)
        self.by_day: dict[int, list[_Route]] = {d: [] for d in range(problem.num_days)}
        for r in routes:
            seen = {a for q in self.by_day[r.day] for a in q.accounts}
            accounts = [a for a in dict.fromkeys(r.accounts) if a not in seen]  # a relaxed plan may repeat
            self.by_day[r.day].append(self._make(r.day, r.rep, accounts))
        for d in range(problem.num_days):
            for rep_i, rep in enumerate(problem.reps):
                if d in rep.days_off:
                    continue
                used = sum(1 for r in self.by_day[d] if r.rep == rep_i)
                self.by_day[d] += [self._make(d, rep_i, []) for _ in range(rep.vehicles - used)]

    def _make(self, day: int, rep: int, accounts: list[int]) -> _Route:
        nodes = self._nodes(rep, accounts)
        travel = float(self.p.duration[nodes[:-1], nodes[1:]].sum())
        svc = sum(self.p.accounts[a].service for a in accounts)
        return _Route(day, rep, accounts, sum(self.p.accounts[a].demand for a in accounts), travel + svc, nodes)

    def _nodes(self, rep: int, accounts: list[int]) -> np.ndarray:
        home = self.p.reps[rep].home
        return np.concatenate([[home], self.loc[accounts], [home]]).astype(int)

    def _limits(self, r: _Route) -> tuple[float, float]:
        rep, day = self.p.reps[r.rep], self.p.days[r.day]
        return min(rep.capacity, day.capacity), min(day.max_duration, rep.end - rep.start)

    def removal(self, acc: int, day: int) -> tuple[float, _Route | None, int]:
        """Objective saved by removing acc's visit on ``day`` (its route and position)."""
        for r in self.by_day[day]:
            if acc in r.accounts:
                k = r.accounts.index(acc)
                nodes = r.nodes
                a, b, c = nodes[k], nodes[k + 1], nodes[k + 2]
                gain = self._edge_cost(a, b) + self._edge_cost(b, c) - self._edge_cost(a, c)
                return gain + self.p.duration_weight * self.p.accounts[acc].service, r, k
        return 0.0, None, -1

    def insertion(self, acc: int, day: int) -> tuple[float, _Route | None, int]:
        """Cheapest insertion of acc on ``day``: (added cost, route, position), or (inf, None, -1) if the
        day has no route. With ``self.penalty`` > 0, excess load and duration cost that much per unit
        (re-routing the day may absorb them), otherwise positions that exceed a limit are excluded."""
        best: tuple[float, _Route | None, int] = (math.inf, None, -1)
        a = self.p.accounts[acc]
        x = a.location
        for r in self.by_day[day]:
            cap, limit = self._limits(r)
            excess_load = max(0.0, r.load + a.demand - cap)
            if excess_load > 1e-9 and not self.penalty:
                continue
            i, j = r.nodes[:-1], r.nodes[1:]
            dt = self.p.duration[i, x] + self.p.duration[x, j] - self.p.duration[i, j]
            dd = self.p.distance[i, x] + self.p.distance[x, j] - self.p.distance[i, j]
            cost = self.p.distance_weight * dd + self.p.duration_weight * (dt + a.service)
            over = np.maximum(r.work + dt + a.service - limit, 0.0)
            if self.penalty:
                cost = cost + self.penalty * (excess_load + over)
            else:
                cost[over > 1e-9] = math.inf
            k = int(np.argmin(cost))
            if cost[k] < best[0]:
                best = (float(cost[k]), r, k)
        return best

    def _edge_cost(self, a: int, b: int) -> float:
        return self.p.distance_weight * self.p.distance[a, b] + self.p.duration_weight * self.p.duration[a, b]

    def move_delta(self, acc: int, old: Combination, new: Combination) -> float:
        """Estimated objective change of visiting acc on ``new`` instead of ``old`` (inf if infeasible)."""
        delta = -sum(self.removal(acc, d)[0] for d in old - new)
        for d in new - old:
            delta += self.insertion(acc, d)[0]
        return delta

    def apply(self, acc: int, old: Combination, new: Combination) -> None:
        for d in old - new:
            _, r, k = self.removal(acc, d)
            if r is not None:
                r.accounts.pop(k)
                self._refresh(r)
        for d in new - old:
            _, r, k = self.insertion(acc, d)
            if r is None:  # no feasible position: the cheapest infeasible one, PyVRP repairs it
                r = min(self.by_day[d], key=lambda q: q.load)
                k = len(r.accounts)
            r.accounts.insert(k, acc)
            self._refresh(r)

    def _refresh(self, r: _Route) -> None:
        fresh = self._make(r.day, r.rep, r.accounts)
        r.load, r.work, r.nodes = fresh.load, fresh.work, fresh.nodes

    def days_of(self, acc: int) -> frozenset[int]:
        return frozenset(d for d, rs in self.by_day.items() for r in rs if acc in r.accounts)

    def routes(self) -> list[PeriodicRoute]:
        out: list[PeriodicRoute] = []
        count: dict[tuple[int, int], int] = {}
        for d in sorted(self.by_day):
            for r in self.by_day[d]:
                if r.accounts:
                    k = count.get((d, r.rep), 0)
                    count[(d, r.rep)] = k + 1
                    out.append(PeriodicRoute(d, r.rep, k, list(r.accounts)))
        return out
