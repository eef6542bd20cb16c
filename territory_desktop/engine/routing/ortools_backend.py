"""OR-Tools routing backend: tuned (parallel cheapest insertion + guided local search) or default."""

from __future__ import annotations

import time

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from ...models import StopFlag
from .instance import BIG, RoutingInstance, RoutingResult


def solve_ortools(inst: RoutingInstance, time_limit: float, seed: int = 0, stop: StopFlag | None = None,
                  tuned: bool = True) -> RoutingResult | None:
    """Solve with OR-Tools for up to ``time_limit`` s; None if it found no feasible solution.

    ``tuned=False`` keeps OR-Tools' default search (the benchmark's "default settings" peer).
    ``seed`` is unused (OR-Tools' search here is deterministic).
    """
    del seed
    t0 = time.perf_counter()
    manager = pywrapcp.RoutingIndexManager(inst.num_clients + 1, inst.num_vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    cost_m = inst.distance if inst.objective == "distance" else inst.duration
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(cost_m.tolist()))
    tdim = _time_dimension(inst, manager, routing)
    _add_load_breaks_and_skips(inst, manager, routing, tdim)
    params = pywrapcp.DefaultRoutingSearchParameters()
    if tuned:
        params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
        params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(1, int(1000 * time_limit)))
    if stop is not None:
        routing.AddAtSolutionCallback(lambda: routing.solver().FinishCurrentSearch() if stop.is_set() else None)
    sol = routing.SolveWithParameters(params)
    if sol is None:
        return None
    return _result(inst, manager, routing, tdim, sol, time.perf_counter() - t0, tuned)


def _time_dimension(inst: RoutingInstance, manager, routing):
    """The time dimension: travel + service, time windows, depot hours, optional route-duration limit."""
    time_m = inst.duration + inst.service[:, None]
    time_cb = routing.RegisterTransitMatrix(time_m.tolist())
    horizon = int(min(inst.tw_late.max(), BIG))
    routing.AddDimension(time_cb, horizon, horizon, False, "time")
    tdim = routing.GetDimensionOrDie("time")
    for node in range(1, inst.num_clients + 1):
        tdim.CumulVar(manager.NodeToIndex(node)).SetRange(int(inst.tw_early[node]), int(inst.tw_late[node]))
    for v in range(inst.num_vehicles):
        tdim.CumulVar(routing.Start(v)).SetRange(int(inst.tw_early[0]), int(inst.tw_late[0]))
        tdim.CumulVar(routing.End(v)).SetRange(int(inst.tw_early[0]), int(inst.tw_late[0]))
        routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(routing.Start(v)))
        routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(routing.End(v)))
        if inst.max_duration is not None:
            tdim.SetSpanUpperBoundForVehicle(int(inst.max_duration), v)
    if inst.objective == "duration":
        tdim.SetSpanCostCoefficientForAllVehicles(1)
    return tdim


def _add_load_breaks_and_skips(inst: RoutingInstance, manager, routing, tdim) -> None:
    """Vehicle capacity, breaks (lunch) and the penalties of optional visits."""
    if inst.capacity is not None and inst.demand is not None:
        dem = inst.demand.tolist()
        dem_cb = routing.RegisterUnaryTransitCallback(lambda i: dem[manager.IndexToNode(i)])
        routing.AddDimensionWithVehicleCapacity(dem_cb, 0, [int(inst.capacity)] * inst.num_vehicles, True, "load")
    if inst.breaks:
        visit = [int(inst.service[manager.IndexToNode(i)]) for i in range(routing.Size())]
        solver = routing.solver()
        for v in range(inst.num_vehicles):
            ivs = [solver.FixedDurationIntervalVar(b.early, b.late, b.duration, False, f"break{v}_{k}")
                   for k, b in enumerate(inst.breaks)]
            tdim.SetBreakIntervalsOfVehicle(ivs, v, visit)
    for node in range(1, inst.num_clients + 1):
        if not inst.required[node]:
            routing.AddDisjunction([manager.NodeToIndex(node)], int(inst.skip_cost[node]))


def _result(inst: RoutingInstance, manager, routing, tdim, sol, seconds: float, tuned: bool) -> RoutingResult:
    """The routes of a solution, the skipped clients, and the recomputed distance and duration."""
    routes = []
    for v in range(inst.num_vehicles):
        idx = sol.Value(routing.NextVar(routing.Start(v)))
        route = []
        while not routing.IsEnd(idx):
            route.append(manager.IndexToNode(idx))
            idx = sol.Value(routing.NextVar(idx))
        if route:
            routes.append(route)
    visited = {v for r in routes for v in r}
    skipped = [i for i in range(1, inst.num_clients + 1) if i not in visited]
    dist = sum(int(inst.distance[a, b]) for r in routes for a, b in zip([0, *r], [*r, 0], strict=True))
    dur = sum(sol.Value(tdim.CumulVar(routing.End(v))) - sol.Value(tdim.CumulVar(routing.Start(v)))
              for v in range(inst.num_vehicles) if not routing.IsEnd(sol.Value(routing.NextVar(routing.Start(v)))))
    return RoutingResult(routes=routes, skipped=skipped, distance=dist, duration=int(dur), seconds=seconds,
                         backend="ortools" if tuned else "ortools-default")
