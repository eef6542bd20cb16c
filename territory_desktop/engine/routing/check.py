"""Independent feasibility checker: recomputes every route from the raw arrays, trusting no solver.

Written with plain loops on purpose (no shared code with the solver backends or the day planner), so
tests and benchmarks can use it as the referee.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .instance import RoutingInstance


@dataclass
class CheckReport:
    """``problems`` empty means feasible. Totals in instance units; ``duration`` is the shortest
    possible working time (return minus departure, departure delayed as far as waiting allows)."""

    problems: list[str] = field(default_factory=list)
    distance: int = 0
    duration: int = 0

    @property
    def feasible(self) -> bool:
        return not self.problems


def check_solution(inst: RoutingInstance, routes: list[list[int]], skipped: list[int] | None = None,
                   break_after: list[int | None] | None = None) -> CheckReport:
    """Check capacity, time windows, shift, max duration, breaks, and that each visit appears once."""
    rep = CheckReport()
    n = inst.num_clients
    count = [0] * (n + 1)
    for route in routes:
        for node in route:
            if not 1 <= node <= n:
                rep.problems.append(f"route visits node {node}, which is not a client (1..{n})")
                continue
            count[node] += 1
    for node in skipped or []:
        if 1 <= node <= n:
            count[node] += 1
            if inst.required[node]:
                rep.problems.append(f"required node {node} is skipped")
    for node in range(1, n + 1):
        if count[node] == 0:
            rep.problems.append(f"node {node} is neither visited nor listed as skipped")
        elif count[node] > 1:
            rep.problems.append(f"node {node} appears {count[node]} times")
    used = [r for r in routes if r]
    if len(used) > inst.num_vehicles:
        rep.problems.append(f"{len(used)} routes but only {inst.num_vehicles} vehicles")
    for r, route in enumerate(routes):
        if not route:
            continue
        ba = break_after[r] if break_after and r < len(break_after) else None
        _check_route(inst, r, route, ba, rep)
    return rep


def _check_route(inst: RoutingInstance, r: int, route: list[int], ba: int | None, rep: CheckReport) -> None:
    if inst.capacity is not None and inst.demand is not None:
        load = sum(int(inst.demand[i]) for i in route)
        if load > inst.capacity:
            rep.problems.append(f"route {r}: load {load} exceeds capacity {inst.capacity}")
    if inst.breaks and ba is None:
        rep.problems.append(f"route {r}: no break taken")
    if ba is not None and not 0 <= ba <= len(route):
        rep.problems.append(f"route {r}: break on leg {ba}, but the route has legs 0..{len(route)}")
        return
    prev = 0
    for node in [*route, 0]:
        rep.distance += int(inst.distance[prev][node])
        prev = node
    depart = int(inst.tw_early[0])
    issues, back = _simulate(inst, route, ba, depart)
    rep.problems += [f"route {r}: {p}" for p in issues]
    if issues:
        return
    # shortest working time: leave home later while nothing else moves (checked by simulation)
    delay = 0
    step = 1 << 20
    while step:
        trial_issues, trial_back = _simulate(inst, route, ba, depart + delay + step)
        if not trial_issues and trial_back == back:
            delay += step
        step //= 2
    shortest = back - depart - delay
    rep.duration += shortest
    if inst.max_duration is not None and shortest > inst.max_duration:
        rep.problems.append(f"route {r}: lasts {shortest}, more than the maximum {inst.max_duration}")


def _simulate(inst: RoutingInstance, route: list[int], ba: int | None, depart: int) -> tuple[list[str], int]:
    """Walk the route leaving home at ``depart``; return the problems and the time back home.
    The break (if any) is taken on leg ``ba`` (0 = home to first stop), starting at
    max(ready to leave, break early), en route or on arrival."""
    issues = []
    t = depart
    prev = 0
    for leg, node in enumerate([*route, 0]):
        ready = t + int(inst.duration[prev][node])
        if ba == leg and inst.breaks:
            b = inst.breaks[0]
            b_start = max(t, b.early)
            if b_start > b.late:
                issues.append(f"break starts at {b_start}, after its latest start {b.late}")
            ready = max(ready, b_start) + b.duration
        if leg == len(route):
            t = ready
            break
        start = max(ready, int(inst.tw_early[node]))
        if start > inst.tw_late[node]:
            issues.append(f"node {node} starts at {start}, after its window closes at {int(inst.tw_late[node])}")
        t = start + int(inst.service[node])
        prev = node
    if t > inst.tw_late[0]:
        issues.append(f"returns at {t}, after the shift ends at {int(inst.tw_late[0])}")
    return issues, t
