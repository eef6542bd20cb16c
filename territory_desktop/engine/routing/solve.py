"""One solver interface for every routing problem: ``solve_vrptw(instance, time_limit, seed, stop)``.

Backends: "pyvrp" (hybrid genetic search; the Solomon benchmark favours it, see README, "Routes and visit plans"),
"ortools" (parallel cheapest insertion + guided local search), "ortools-default". "auto" = pyvrp.
Breaks (lunch): PyVRP models a single vehicle's break as one "lunch" client per location in a required
mutually exclusive group (lunch at a stop); the final schedule then places the break on its best leg
(:func:`best_break_position`). If that fails, PyVRP re-solves with the break's time taken off the shift
end, and failing that OR-Tools (native break intervals, also used for several vehicles) solves it.
"""

from __future__ import annotations

from ...models import InfeasibleError, InvalidInputError, Progress, StopFlag, no_progress
from .instance import RoutingInstance, RoutingResult
from .schedule import best_break_position

BACKENDS = ("auto", "pyvrp", "ortools", "ortools-default")


def _run(backend: str, inst: RoutingInstance, time_limit: float, seed: int,
         stop: StopFlag | None, no_improvement: int | None = None) -> RoutingResult | None:
    if backend in ("auto", "pyvrp"):
        from .pyvrp_backend import solve_pyvrp

        return solve_pyvrp(inst, time_limit, seed, stop, no_improvement)
    from .ortools_backend import solve_ortools

    return solve_ortools(inst, time_limit, seed, stop, tuned=backend == "ortools")


def solve_vrptw(instance: RoutingInstance, time_limit: float = 1.0, seed: int = 0, stop: StopFlag | None = None,
                backend: str = "auto", progress: Progress = no_progress,
                no_improvement: int | None = None) -> RoutingResult:
    """Solve ``instance`` within about ``time_limit`` seconds (more if a break forces a re-solve).

    ``no_improvement``: PyVRP also stops after this many iterations without a better solution
    (small daily routes converge in milliseconds; used for interactive re-planning).

    Raises InfeasibleError when no feasible solution is found (the message names the likely cause),
    CancelledError when ``stop`` is set before a solution exists.
    """
    if backend not in BACKENDS:
        raise InvalidInputError("routing", [f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}"])
    if len(instance.breaks) > 1:
        raise InvalidInputError("routing", [f"{len(instance.breaks)} breaks per route; at most 1 is supported"])
    hopeless = _explain(instance, only_certain=True)
    if hopeless:
        raise InfeasibleError(hopeless)
    progress(0.0, f"solving {instance.num_clients} visits with {backend}")
    res = _run(backend, instance, time_limit, seed, stop, no_improvement)
    if stop is not None:
        stop.check()
    if res is not None and instance.breaks:
        res = _with_breaks(instance, res)
        if res is None and backend in ("auto", "pyvrp"):
            progress(0.3, "break does not fit the route order; re-solving with time reserved for it")
            res = _run(backend, _reserve_break(instance), time_limit, seed, stop, no_improvement)
            res = _with_breaks(instance, res) if res is not None else None
        if res is None and backend in ("auto", "pyvrp"):
            progress(0.5, "break still does not fit; re-solving with OR-Tools (native breaks)")
            res = _run("ortools", instance, time_limit, seed, stop)
            res = _with_breaks(instance, res) if res is not None else None
    if res is None:
        raise InfeasibleError(_explain(instance))
    progress(1.0, f"{len(res.routes)} routes, {len(res.skipped)} skipped")
    return res


def _reserve_break(inst: RoutingInstance) -> RoutingInstance:
    """Copy of ``inst`` without the break but with its duration taken off the shift end."""
    import copy

    dur = inst.breaks[0].duration
    out = copy.copy(inst)
    out.tw_late = inst.tw_late.copy()
    out.tw_late[0] -= dur
    out.breaks = []
    if inst.max_duration is not None:
        out.max_duration = inst.max_duration - dur
    return out


def _with_breaks(inst: RoutingInstance, res: RoutingResult) -> RoutingResult | None:
    positions: list[int | None] = []
    for route in res.routes:
        tl = best_break_position(inst, route)
        if not tl.feasible:
            return None
        positions.append(tl.break_after)
    res.break_after = positions
    return res


def _explain(inst: RoutingInstance, only_certain: bool = False) -> str:
    """Find a reason a person can act on: a visit unreachable within its window or the shift.
    With ``only_certain``, return "" unless a reason proves infeasibility (checked before solving)."""
    reasons = []
    for node in range(1, inst.num_clients + 1):
        if not inst.required[node]:
            continue
        arrive = max(int(inst.tw_early[0]) + int(inst.duration[0, node]), int(inst.tw_early[node]))
        if arrive > inst.tw_late[node]:
            reasons.append(f"visit {node} cannot be reached before its window closes "
                           f"(earliest arrival {arrive}, closes {int(inst.tw_late[node])})")
            continue
        back = arrive + int(inst.service[node]) + int(inst.duration[node, 0])
        if back > inst.tw_late[0]:
            reasons.append(f"visit {node} alone ends the day at {back}, after the shift end {int(inst.tw_late[0])}")
        if inst.capacity is not None and inst.demand is not None and inst.demand[node] > inst.capacity:
            reasons.append(f"visit {node} demand {int(inst.demand[node])} exceeds capacity {inst.capacity}")
    total = int(inst.service[inst.required].sum())
    span = int(inst.tw_late[0] - inst.tw_early[0]) * inst.num_vehicles
    if inst.breaks:
        span -= inst.breaks[0].duration * inst.num_vehicles
    if total > span:
        reasons.append(f"required service time {total} exceeds the available working time {span}")
    if not reasons:
        if only_certain:
            return ""
        reasons.append("the required visits do not fit together in the working time and windows")
    return "no feasible route: " + "; ".join(reasons[:5]) + (f" (and {len(reasons) - 5} more)" if len(reasons) > 5 else "")
