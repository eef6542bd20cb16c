"""Timelines of routes: arrival, service start, departure, waiting, and where a break fits best."""

from __future__ import annotations

from dataclasses import dataclass

from .instance import RoutingInstance


@dataclass
class Timeline:
    """Times of one route in instance units. ``arrive[k]``, ``start[k]``, ``depart[k]`` for the k-th
    stop (arrive includes a break taken on the way); ``leave_home``/``back_home`` at the depot;
    ``break_start`` None without a break.
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
    """Schedule ``route`` leaving home as late as possible without arriving later anywhere.

    The break is taken on the leg after the ``break_after``-th stop (0 = the leg from home; len(route) =
    the way home): it starts at max(ready to leave, break early), en route or on arrival, and delays
    everything after it by its duration.
    """
    first = _forward(inst, route, break_after, int(inst.tw_early[0]))
    if not first.feasible:
        return first
    lo, hi = 0, max(0, int(inst.tw_late[0]) - first.back_home + first.waiting + _break_idle(inst, first))
    while lo < hi:  # largest delay that keeps the day feasible and the return time unchanged
        mid = (lo + hi + 1) // 2
        tl = _forward(inst, route, break_after, int(inst.tw_early[0]) + mid)
        if tl.feasible and tl.back_home == first.back_home:
            lo = mid
        else:
            hi = mid - 1
    return _forward(inst, route, break_after, int(inst.tw_early[0]) + lo) if lo else first


def _break_idle(inst: RoutingInstance, tl: Timeline) -> int:
    return max(0, inst.breaks[0].early - tl.leave_home) if inst.breaks and tl.break_start is not None else 0


def _forward(inst: RoutingInstance, route: list[int], ba: int | None, leave: int) -> Timeline:
    t = leave
    prev = 0
    arrive, start, depart, late = [], [], [], []
    brk = inst.breaks[0] if inst.breaks else None
    bstart = None
    stops = [*route, 0]
    for pos, node in enumerate(stops):
        travel = int(inst.duration[prev, node])
        if brk is not None and ba == pos:
            bstart = max(t, brk.early)
            if bstart > brk.late:
                late.append(-1)  # -1 marks the break itself
            ready = max(t + travel, bstart) + brk.duration
        else:
            ready = t + travel
        if pos == len(route):
            back = ready
            break
        s = max(ready, int(inst.tw_early[node]))
        if s > inst.tw_late[node]:
            late.append(pos)
        arrive.append(ready)
        start.append(s)
        t = s + int(inst.service[node])
        depart.append(t)
        prev = node
    over = back - int(inst.tw_late[0])
    if brk is not None and bstart is None:
        late.append(-1)
    if inst.max_duration is not None:
        over = max(over, back - leave - int(inst.max_duration))
    return Timeline(route, arrive, start, depart, leave, back, ba, bstart, late, over)


def best_break_position(inst: RoutingInstance, route: list[int]) -> Timeline:
    """Try the break on every leg (home to first stop ... last stop to home); return the feasible
    timeline ending earliest
    (or, if none is feasible, the one with the fewest problems)."""
    best = None
    for ba in range(len(route) + 1):
        tl = _forward(inst, route, ba, int(inst.tw_early[0]))
        key = (not tl.feasible, len(tl.late), max(tl.overtime, 0), tl.back_home)
        if best is None or key < best[0]:
            best = (key, ba)
    assert best is not None
    return timeline(inst, route, best[1])
