"""Data of one vehicle-routing problem with time windows (VRPTW), as integer arrays.

Node 0 is the depot (a rep's home or office); nodes 1..n are visits. All times share one integer unit
(seconds for daily routes, 0.1 time units for DIMACS Solomon) and all distances another (metres, or 0.1
units). Integers keep both solver backends (PyVRP, OR-Tools) exact and identical.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...models import InvalidInputError

BIG = 2**40  # "no limit" for time windows and durations


@dataclass(frozen=True)
class Break:
    """A break of ``duration`` that must start within [``early``, ``late``] (e.g. lunch).

    It is taken on one leg of the route (en route, or on arrival before the next visit), starting at
    max(ready to leave, early); everything after it moves by ``duration``.
    """

    early: int
    late: int
    duration: int


@dataclass
class RoutingInstance:
    """A VRPTW instance; arrays have length n+1 (index 0 = depot) unless stated.

    ``distance``/``duration``: (n+1, n+1) int matrices. ``tw_early``/``tw_late``: service must *start*
    inside the window (waiting allowed); at the depot they bound the shift (leave >= early, back <= late).
    ``required``: False = optional visit that may be skipped at ``skip_cost`` (in objective units);
    left out (empty), every visit is required and ``skip_cost`` is 0.
    ``objective``: "distance" or "duration" (drive time + waiting counts as duration).
    """

    distance: np.ndarray
    duration: np.ndarray
    service: np.ndarray
    tw_early: np.ndarray
    tw_late: np.ndarray
    demand: np.ndarray | None = None
    capacity: int | None = None
    num_vehicles: int = 1
    required: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    skip_cost: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    max_duration: int | None = None
    breaks: list[Break] = field(default_factory=list)
    objective: str = "distance"
    name: str = ""

    def __post_init__(self) -> None:
        n1 = len(self.service)
        self.distance = np.asarray(self.distance, dtype=np.int64)
        self.duration = np.asarray(self.duration, dtype=np.int64)
        self.service = np.asarray(self.service, dtype=np.int64)
        self.tw_early = np.asarray(self.tw_early, dtype=np.int64)
        self.tw_late = np.asarray(self.tw_late, dtype=np.int64)
        if self.demand is not None:
            self.demand = np.asarray(self.demand, dtype=np.int64)
        self.required = np.asarray(self.required, dtype=bool) if len(self.required) else np.ones(n1, dtype=bool)
        self.skip_cost = (np.asarray(self.skip_cost, dtype=np.int64) if len(self.skip_cost)
                          else np.zeros(n1, dtype=np.int64))
        problems = []
        for name in ("distance", "duration"):
            m = getattr(self, name)
            if m.shape != (n1, n1):
                problems.append(f"{name} matrix has shape {m.shape}, expected {(n1, n1)}")
            elif (m < 0).any():
                problems.append(f"{name} matrix has {(m < 0).sum()} negative entries")
        for name in ("tw_early", "tw_late", "required", "skip_cost"):
            if len(getattr(self, name)) != n1:
                problems.append(f"{name} has length {len(getattr(self, name))}, expected {n1}")
        if self.demand is not None and len(self.demand) != n1:
            problems.append(f"demand has length {len(self.demand)}, expected {n1}")
        if not problems:
            bad = np.flatnonzero(self.tw_early > self.tw_late)
            problems += [f"node {i}: time window opens at {self.tw_early[i]} after it closes at "
                         f"{self.tw_late[i]}" for i in bad]
        if self.objective not in ("distance", "duration"):
            problems.append(f"objective must be 'distance' or 'duration', not {self.objective!r}")
        if self.num_vehicles < 1:
            problems.append(f"num_vehicles must be at least 1, got {self.num_vehicles}")
        if problems:
            raise InvalidInputError(f"routing instance {self.name}".strip(), problems)

    @property
    def num_clients(self) -> int:
        return len(self.service) - 1


@dataclass
class RoutingResult:
    """Routes as lists of node indices (1..n, depot omitted), one per used vehicle.

    ``distance``/``duration``: totals in instance units (duration = return time minus departure time,
    summed over routes); ``skipped``: optional nodes left out. ``break_after[r]``: the leg of route r on
    which the break is taken (0 = depot to first stop, len(route) = last stop to depot); empty without.
    """

    routes: list[list[int]]
    skipped: list[int]
    distance: int
    duration: int
    seconds: float
    backend: str
    break_after: list[int | None] = field(default_factory=list)


def dimacs_instance(coords: np.ndarray, demand: np.ndarray, capacity: int, tw: np.ndarray,
                    service: np.ndarray | float, num_vehicles: int, name: str = "") -> RoutingInstance:
    """Solomon/VRPLIB data under the DIMACS convention: every distance is floor(10 * euclid) / 10.

    Values are stored times 10 as integers, so distances are exact; divide costs by 10 to report them.
    """
    coords = np.asarray(coords, dtype=float)
    diff = coords[:, None, :] - coords[None, :, :]
    d10 = np.floor(10 * np.sqrt((diff**2).sum(-1)) + 1e-9).astype(np.int64)
    n1 = len(coords)
    svc = np.broadcast_to(np.asarray(service, dtype=float), (n1,)).copy()
    svc[0] = 0
    tw = np.asarray(tw, dtype=float)
    return RoutingInstance(distance=d10, duration=d10, service=np.round(10 * svc).astype(np.int64),
                           tw_early=np.round(10 * tw[:, 0]).astype(np.int64),
                           tw_late=np.round(10 * tw[:, 1]).astype(np.int64),
                           demand=np.asarray(demand, dtype=np.int64), capacity=int(capacity),
                           num_vehicles=int(num_vehicles), objective="distance", name=name)
