"""Independent checker of periodic plans: recomputes everything from the problem's raw data.

It shares no code with the solver (plain loops over the routes), so tests and the benchmark use it as
the referee: frequencies and allowed combinations, vehicles per day, capacity, route duration, working
hours and opening windows, and the objective recomputed in double precision.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .problem import PeriodicProblem, PeriodicRoute


@dataclass
class PeriodicCheck:
    """``problems`` empty = feasible. ``cost`` = weighted distance and duration plus skip penalties."""

    problems: list[str] = field(default_factory=list)
    cost: float = 0.0
    distance: float = 0.0
    duration: float = 0.0
    skipped_visits: int = 0

    @property
    def feasible(self) -> bool:
        return not self.problems


def check_periodic(problem: PeriodicProblem, routes: list[PeriodicRoute], tol: float = 1e-6) -> PeriodicCheck:
    rep_ = PeriodicCheck()
    days_of: dict[int, list[int]] = {}
    per_vehicle: dict[tuple[int, int], set[int]] = {}
    for k, r in enumerate(routes):
        where = f"route {k + 1} (day {r.day + 1}, rep {r.rep + 1}, vehicle {r.vehicle + 1})"
        if not (0 <= r.day < problem.num_days and 0 <= r.rep < len(problem.reps)):
            rep_.problems.append(f"{where}: no such day or rep")
            continue
        used = per_vehicle.setdefault((r.day, r.rep), set())
        if r.vehicle in used:
            rep_.problems.append(f"{where}: vehicle used twice that day")
        used.add(r.vehicle)
        _check_route(problem, r, where, rep_, tol)
        for a in r.accounts:
            if 0 <= a < len(problem.accounts):
                days_of.setdefault(a, []).append(r.day)
    for (d, ri), used in per_vehicle.items():
        rep = problem.reps[ri]
        if len(used) > rep.vehicles or d in rep.days_off:
            rep_.problems.append(f"day {d + 1}, rep {ri + 1}: {len(used)} routes, {0 if d in rep.days_off else rep.vehicles} allowed")
    _check_frequencies(problem, days_of, rep_)
    rep_.cost += problem.distance_weight * rep_.distance + problem.duration_weight * rep_.duration
    return rep_


def _check_route(problem: PeriodicProblem, r: PeriodicRoute, where: str, out: PeriodicCheck, tol: float) -> None:
    rep, day = problem.reps[r.rep], problem.days[r.day]
    load = 0.0
    prev = rep.home
    first = problem.accounts[r.accounts[0]] if r.accounts and 0 <= r.accounts[0] < len(problem.accounts) else None
    depart = rep.start if first is None else max(rep.start, first.open - problem.duration[rep.home, first.location])
    clock = depart
    for a in r.accounts:
        if not 0 <= a < len(problem.accounts):
            out.problems.append(f"{where}: no account {a + 1}")
            continue
        acc = problem.accounts[a]
        out.distance += problem.distance[prev, acc.location]
        clock += problem.duration[prev, acc.location]
        clock = max(clock, acc.open)
        if clock > acc.close + tol:
            out.problems.append(f"{where}: account {a + 1} reached at {clock:.2f}, closes at {acc.close:.2f}")
        clock += acc.service
        load += acc.demand
        prev = acc.location
    out.distance += problem.distance[prev, rep.home]
    clock += problem.duration[prev, rep.home]
    out.duration += clock - depart
    if len(set(r.accounts)) < len(r.accounts):
        out.problems.append(f"{where}: an account is visited twice")
    cap = min(rep.capacity, day.capacity)
    if load > cap + tol:
        out.problems.append(f"{where}: load {load:g} over capacity {cap:g}")
    if clock - depart > day.max_duration + tol:
        out.problems.append(f"{where}: duration {clock - depart:.4f} over the limit {day.max_duration:g}")
    if clock > rep.end + tol:
        out.problems.append(f"{where}: back home at {clock:.2f}, the working day ends at {rep.end:.2f}")


def _check_frequencies(problem: PeriodicProblem, days_of: dict[int, list[int]], out: PeriodicCheck) -> None:
    for i, acc in enumerate(problem.accounts):
        days = days_of.get(i, [])
        visited = frozenset(days)
        who = f"account {i + 1}" + (f" ({acc.name})" if acc.name else "")
        if len(visited) < len(days):
            out.problems.append(f"{who}: visited twice on one day")
        if acc.required:
            if visited not in acc.combinations:
                out.problems.append(f"{who}: visited on days {sorted(d + 1 for d in visited)}, "
                                    f"not one of its {len(acc.combinations)} allowed combinations")
            continue
        if visited and not any(visited <= c for c in acc.combinations):
            out.problems.append(f"{who}: days {sorted(d + 1 for d in visited)} fit no allowed combination")
        missed = acc.frequency - len(visited)
        out.skipped_visits += max(missed, 0)
        out.cost += max(missed, 0) * acc.skip_penalty
