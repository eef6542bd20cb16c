"""PyVRP backend (hybrid genetic search). Breaks are not modelled here; ``solve.py`` places them."""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
from pyvrp import Client, ClientGroup, Depot, Location, ProblemData, VehicleType
from pyvrp import solve as pyvrp_solve
from pyvrp.stop import MaxRuntime, MultipleCriteria, NoImprovement, StoppingCriterion

from ...models import StopFlag
from .instance import BIG, RoutingInstance, RoutingResult


class _StopFlagCriterion:
    """PyVRP stopping criterion that fires when the user's StopFlag is set."""

    def __init__(self, stop: StopFlag | None) -> None:
        self.stop = stop

    def __call__(self, best_cost: float) -> bool:
        return self.stop is not None and self.stop.is_set()


def pyvrp_matrix(m: np.ndarray) -> Any:
    """``m`` as the contiguous int64 matrix PyVRP takes; typed Any because PyVRP's stubs spell it
    ``np.ndarray[int]``, which is not a numpy shape type that mypy can match."""
    return np.ascontiguousarray(m, dtype=np.int64)


def to_problem_data(inst: RoutingInstance) -> ProblemData:
    """Translate our instance into PyVRP's ProblemData (location i = node i).

    A break (single vehicle only) becomes n+1 "lunch" clients, one at each location (home and every
    visit), in a required mutually exclusive group: exactly one is visited, so lunch is taken at a
    stop (or at home) with exact travel times. Their client indices follow the n visits.
    """
    n1 = inst.num_clients + 1
    locations = [Location(x=0, y=0) for _ in range(n1)]
    cap = [] if inst.capacity is None else [int(inst.capacity)]
    if inst.capacity is not None and inst.demand is not None:
        loads = [[int(d)] for d in inst.demand]
    else:
        loads = [[0] if cap else [] for _ in range(n1)]
    clients = [Client(location=i, delivery=loads[i], service_duration=int(inst.service[i]),
                      tw_early=int(inst.tw_early[i]), tw_late=int(min(inst.tw_late[i], BIG)),
                      required=bool(inst.required[i]),
                      prize=0 if inst.required[i] else int(inst.skip_cost[i]))
               for i in range(1, n1)]
    groups = []
    if inst.breaks:
        b = inst.breaks[0]
        lunch = [Client(location=i, delivery=[0] if cap else [], service_duration=int(b.duration),
                        tw_early=int(b.early), tw_late=int(b.late), required=False, group=0)
                 for i in range(n1)]
        groups = [ClientGroup(list(range(n1 - 1, 2 * n1 - 1)), required=True)]
        clients += lunch
    depots = [Depot(location=0, tw_early=int(inst.tw_early[0]), tw_late=int(min(inst.tw_late[0], BIG)))]
    by_distance = inst.objective == "distance"
    vt = VehicleType(num_available=inst.num_vehicles, capacity=cap,
                     tw_early=int(inst.tw_early[0]), tw_late=int(min(inst.tw_late[0], BIG)),
                     shift_duration=int(inst.max_duration) if inst.max_duration is not None else BIG,
                     unit_distance_cost=1 if by_distance else 0, unit_duration_cost=0 if by_distance else 1)
    return ProblemData(locations=locations, clients=clients, depots=depots, vehicle_types=[vt],
                       distance_matrices=[pyvrp_matrix(inst.distance)],
                       duration_matrices=[pyvrp_matrix(inst.duration)], groups=groups)


def solve_pyvrp(inst: RoutingInstance, time_limit: float, seed: int = 0, stop: StopFlag | None = None,
                no_improvement: int | None = None) -> RoutingResult | None:
    """Solve with PyVRP for ``time_limit`` seconds (or until ``no_improvement`` iterations brought
    nothing better); None if no feasible solution was found."""
    t0 = time.perf_counter()
    if len(inst.breaks) > 0 and inst.num_vehicles > 1:
        return None  # breaks for several vehicles: the OR-Tools backend models them
    data = to_problem_data(inst)
    criteria: list[StoppingCriterion] = [MaxRuntime(time_limit), _StopFlagCriterion(stop)]
    if no_improvement is not None:
        criteria.append(NoImprovement(no_improvement))
    crit = MultipleCriteria(criteria)
    with warnings.catch_warnings():  # PyVRP warns when penalties saturate on infeasible inputs
        warnings.simplefilter("ignore")
        res = pyvrp_solve(data, stop=crit, seed=seed, collect_stats=False, display=False)
    best = res.best
    if not best.is_feasible():
        return None
    n = inst.num_clients
    routes = [[int(a.idx) + 1 for a in route if a.is_client() and a.idx < n] for route in best.routes()]
    visited = {v for r in routes for v in r}
    skipped = [i for i in range(1, inst.num_clients + 1) if i not in visited]
    dist = sum(int(inst.distance[a, b]) for r in routes for a, b in zip([0, *r], [*r, 0], strict=True))
    return RoutingResult(routes=routes, skipped=skipped, distance=dist,
                         duration=int(best.duration()), seconds=time.perf_counter() - t0, backend="pyvrp")
