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
    # events: (travel time to reach it, window early, window late, time spent there, label)
    events = []
    prev = 0
    if ba == 0:
        for b in inst.breaks:
            events.append((0, b.early, b.late, b.duration, "break"))
    for pos, node in enumerate(route, start=1):
        rep.distance += int(inst.distance[prev][node])
        events.append((int(inst.duration[prev][node]), int(inst.tw_early[node]), int(inst.tw_late[node]),
                       int(inst.service[node]), f"node {node}"))
        if ba == pos:
            for b in inst.breaks:
                events.append((0, b.early, b.late, b.duration, "break"))
        prev = node
    rep.distance += int(inst.distance[prev][0])
    depart = int(inst.tw_early[0])
    t = depart
    waited = 0
    max_delay = None  # how far the departure may be delayed without breaking a window
    for travel, early, late, stay, label in events:
        arrive = t + travel
        start = max(arrive, early)
        waited += start - arrive
        if start > late:
            rep.problems.append(f"route {r}: {label} starts at {start}, after its window closes at {late}")
        slack = late - start + waited
        max_delay = slack if max_delay is None else min(max_delay, slack)
        t = start + stay
    back = t + int(inst.duration[prev][0])
    if back > inst.tw_late[0]:
        rep.problems.append(f"route {r}: returns at {back}, after the shift ends at {int(inst.tw_late[0])}")
    slack = int(inst.tw_late[0]) - back + waited
    max_delay = slack if max_delay is None else min(max_delay, slack)
    shortest = back - depart - max(0, min(waited, max_delay))
    rep.duration += shortest
    if inst.max_duration is not None and shortest > inst.max_duration:
        rep.problems.append(f"route {r}: lasts {shortest}, more than the maximum {inst.max_duration}")
