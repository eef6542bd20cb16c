"""Timelines of routes: arrival, service start, departure, waiting, and where a break fits best."""

from __future__ import annotations

from dataclasses import dataclass

from .instance import RoutingInstance


@dataclass
class Timeline:
    """Times of one route in instance units. ``arrive[k]``, ``start[k]``, ``depart[k]`` for the k-th
    stop; ``leave_home``/``back_home`` at the depot; ``break_start`` None without a break.
    ``late`` lists stops (route positions) whose window was missed (empty when feasible)."""

    route: list[int]
    arrive: list[int]
    start: list[int]
    depart: list[int]
    leave_home: int
    back_home: int
    break_after: int | None
    break_start: int | None
    late: list[int]
    overtime: int

    @property
    def feasible(self) -> bool:
        return not self.late and self.overtime <= 0

    @property
    def waiting(self) -> int:
        return sum(s - a for s, a in zip(self.start, self.arrive, strict=True))


def timeline(inst: RoutingInstance, route: list[int], break_after: int | None = None) -> Timeline:
    """Schedule ``route`` leaving home as late as possible without adding lateness (less waiting)."""
    first = _forward(inst, route, break_after, int(inst.tw_early[0]))
    # how far can we delay leaving home? each event tolerates (late - start + waiting so far)
    delay = _max_delay(inst, first)
    if delay > 0:
        return _forward(inst, route, break_after, int(inst.tw_early[0]) + delay)
    return first


def _forward(inst: RoutingInstance, route: list[int], ba: int | None, leave: int) -> Timeline:
    t = leave
    prev = 0
    arrive, start, depart, late = [], [], [], []
    brk = inst.breaks[0] if inst.breaks else None
    bstart = None
    if brk is not None and ba == 0:
        bstart = max(t, brk.early)
        t = bstart + brk.duration
    for pos, node in enumerate(route, start=1):
        a = t + int(inst.duration[prev, node])
        s = max(a, int(inst.tw_early[node]))
        if s > inst.tw_late[node]:
            late.append(pos - 1)
        arrive.append(a)
        start.append(s)
        t = s + int(inst.service[node])
        depart.append(t)
        if brk is not None and ba == pos:
            bstart = max(t, brk.early)
            t = bstart + brk.duration
            depart[-1] = t
        prev = node
    back = t + int(inst.duration[prev, 0])
    over = back - int(inst.tw_late[0])
    if brk is not None and (bstart is None or bstart > brk.late):
        over = max(over, 1) if bstart is None else over
        if bstart is not None:
            late.append(-1)  # -1 marks the break itself
    if inst.max_duration is not None:
        over = max(over, back - leave - int(inst.max_duration))
    return Timeline(route, arrive, start, depart, leave, back, ba, bstart, late, over)


def _max_delay(inst: RoutingInstance, tl: Timeline) -> int:
    waited = 0
    slack = None
    events = []
    if tl.break_after == 0 and tl.break_start is not None:
        b = inst.breaks[0]
        events.append((tl.leave_home, tl.break_start, b.late))
    for k, node in enumerate(tl.route):
        events.append((tl.arrive[k], tl.start[k], int(inst.tw_late[node])))
        if tl.break_after == k + 1 and tl.break_start is not None:
            b = inst.breaks[0]
            end_service = tl.start[k] + int(inst.service[node])
            events.append((end_service, tl.break_start, b.late))
    for arrive, start, late in events:
        waited += start - arrive
        s = late - start + waited
        slack = s if slack is None else min(slack, s)
    s = int(inst.tw_late[0]) - tl.back_home + waited
    slack = s if slack is None else min(slack, s)
    return max(0, min(waited, slack))


def best_break_position(inst: RoutingInstance, route: list[int]) -> Timeline:
    """Try the break at home and after every stop; return the feasible timeline ending earliest
    (or, if none is feasible, the one with the fewest problems)."""
    best = None
    for ba in range(len(route) + 1):
        tl = timeline(inst, route, ba)
        key = (not tl.feasible, len(tl.late), max(tl.overtime, 0), tl.back_home - tl.leave_home)
        if best is None or key < best[0]:
            best = (key, tl)
    assert best is not None
    return best[1]
