"""Route workload of a territory: service + travel (+ admin) hours, by a continuous approximation.

The week's travel has two parts, the two a day's route has:

- **legs between visits**: a route of m visits drives m - 1 legs inside the day's cluster, each about
  ``k`` x the mean distance from an account to its nearest neighbour (a length the planner can reach by
  putting neighbours on the same day; unlike an area formula it does not care whether the book is a
  disc, a corridor or a few towns far apart). V visits on R routes drive V - R such legs;
- **the drive out and back**: a visit at road distance r sits on a day whose round trip takes 2 h(r),
  leaving ``fill x (day - lunch - admin) - 2 h(r)`` hours of the day for visits (at least MIN_ROOM of
  it: beyond that a rep would stay overnight). The visit uses (service + its share of the legs) /
  room of a day and brings that share of the day's round trip. ``fill`` is the share of the working
  day that plans really fill (whole visits, opening hours).

The routes R are the sum of those day shares, and the legs per visit depend on R: R solves
``R = sum_i v_i (s_i + L (1 - R / V)) / room_i`` in closed form. ``k`` and ``fill`` are calibrated
over every demo territory against full plans (benchmarks/route_workload.py --fit, README).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..metrics import WEEKS_PER_YEAR


@dataclass(frozen=True)
class WorkloadModel:
    """``k``: a leg between two visits of a day, in straight-line km per km from an account to its
    nearest neighbour; ``fill``: share of the working day (after lunch and admin) that plans fill;
    ``speed_kmh``: road speed when no ``drive_hours`` function is given; ``admin_hours_per_day``: office
    time per working day; ``lunch_hours``: the day's break (not workload, but not room for visits);
    ``day_hours``: a working day; ``circuity``: road km per straight-line km; ``local_traffic`` and
    ``haul_traffic``: congestion (travel-time multipliers) of the legs between visits and of the drive
    from home and back; 1 = none."""

    k: float = 1.25  # fitted with fill over the 40 demo territories x 2 kinds of plan (README, Route workload)
    speed_kmh: float = 45.0
    day_hours: float = 9.0
    circuity: float = 1.3
    admin_hours_per_day: float = 0.0
    local_traffic: float = 1.0
    haul_traffic: float = 1.0
    fill: float = 0.94
    lunch_hours: float = 0.0


DEFAULT_MODEL = WorkloadModel()
MIN_ROOM = 0.25  # share of a day's usable hours left for visits however far the area is


@dataclass(frozen=True)
class RouteWorkload:
    """Hours per week: service, travel (local + line haul), admin; ``days``: working days (routes) needed."""

    service_h: float
    local_h: float
    linehaul_h: float
    admin_h: float
    days: float
    visits: float

    @property
    def travel_h(self) -> float:
        return self.local_h + self.linehaul_h

    @property
    def total_h(self) -> float:
        return self.service_h + self.travel_h + self.admin_h

    @property
    def hours_per_year(self) -> float:
        return self.total_h * WEEKS_PER_YEAR


def nearest_neighbour_km(xy_km: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Mean distance (km) from each account to its nearest other account, weighted by ``weights`` (e.g.
    visits); for two accounts their distance, for one or none 0."""
    xy_km = np.asarray(xy_km, dtype=float).reshape(-1, 2)
    if len(xy_km) < 2:
        return 0.0
    from scipy.spatial import cKDTree  # scipy.spatial takes 0.3 s to import: not on the GUI's start-up path

    dist, _ = cKDTree(xy_km).query(xy_km, k=2)
    w = None if weights is None else np.asarray(weights, dtype=float)
    return float(np.average(dist[:, 1], weights=w))


def usable_day_hours(model: WorkloadModel = DEFAULT_MODEL) -> float:
    """Hours of a working day that plans fill with driving and visits: fill x (day - lunch - admin)."""
    return model.fill * max(model.day_hours - model.lunch_hours - model.admin_hours_per_day, 0.0)


def visit_hours(service_min: np.ndarray, local_h: float | np.ndarray, reach_km: np.ndarray,
                model: WorkloadModel = DEFAULT_MODEL,
                drive_hours: Callable[[np.ndarray], np.ndarray] | None = None):
    """Hours one visit costs, per account: (total, share of a working day, round-trip hours of its day).

    On site = service + ``local_h`` (legs between visits per visit, free-flowing, times
    ``local_traffic``); the visit's day drives 2 h(r) (times ``haul_traffic``) to the account's area and
    back (r = ``reach_km`` straight-line x circuity), leaving :func:`usable_day_hours` minus that (at
    least MIN_ROOM of it) for visits; the visit takes on-site / room of that day and the same share of
    its round trip and admin.
    """
    congested, room = _haul_and_room(reach_km, model, drive_hours)
    on_site = np.asarray(service_min, dtype=float) / 60.0 + np.asarray(local_h, dtype=float) * model.local_traffic
    share = on_site / room
    return on_site + share * (congested + model.admin_hours_per_day), share, congested


def _haul_and_room(reach_km: np.ndarray, model: WorkloadModel,
                   drive_hours: Callable[[np.ndarray], np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    """Per account: the congested round trip from home (hours) and the hours its day leaves for visits."""
    hours = drive_hours or (lambda km: np.asarray(km, dtype=float) / model.speed_kmh)
    haul = 2.0 * np.asarray(hours(np.asarray(reach_km, dtype=float) * model.circuity), dtype=float)
    congested = haul * model.haul_traffic
    usable = usable_day_hours(model)
    return congested, np.maximum(usable - congested, MIN_ROOM * usable)


def estimate_route_workload(home_xy_km: np.ndarray, xy_km: np.ndarray, visits_per_week: np.ndarray,
                            service_min: np.ndarray, model: WorkloadModel = DEFAULT_MODEL,
                            drive_hours: Callable[[np.ndarray], np.ndarray] | None = None) -> RouteWorkload:
    """Weekly route workload of one territory (module docstring).

    ``xy_km``: (n, 2) account positions in a local metric projection (km); ``home_xy_km``: (2,) the rep's
    home; ``visits_per_week``: (n,) e.g. 0.25 for every 4 weeks; ``service_min``: (n,) minutes per visit.
    Straight-line km times the model's circuity are road km; ``drive_hours(road_km)`` gives hours for a
    leg (e.g. ``GreatCircleProvider.hours``, faster on long legs), else road km / ``speed_kmh``.
    """
    hours = drive_hours or (lambda km: np.asarray(km, dtype=float) / model.speed_kmh)
    xy_km = np.asarray(xy_km, dtype=float).reshape(-1, 2)
    v = np.asarray(visits_per_week, dtype=float)
    service_min = np.asarray(service_min, dtype=float)
    visits = float(v.sum())
    if visits <= 0:
        return RouteWorkload(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    due = v > 0
    leg_km = model.k * nearest_neighbour_km(xy_km[due], v[due]) * model.circuity
    leg_h = float(hours(np.array([leg_km]))[0])  # free-flowing
    reach = np.hypot(*(xy_km - np.asarray(home_xy_km, dtype=float)).T)
    haul, room = _haul_and_room(reach, model, hours)
    # the routes R: each visit's share of a day, with the legs per visit L (1 - R / V) (module docstring)
    service_h, per_room = service_min / 60.0, v / room
    s_part, l_part = float((per_room * service_h).sum()), leg_h * model.local_traffic * float(per_room.sum())
    days = (s_part + l_part) / (1.0 + l_part / visits)
    local_per_visit = leg_h * max(1.0 - days / visits, 0.0)
    share = per_room * (service_h + local_per_visit * model.local_traffic)
    days = float(share.sum())
    return RouteWorkload(float((v * service_h).sum()), local_per_visit * visits * model.local_traffic,
                         float((share * haul).sum()), model.admin_hours_per_day * days, days, visits)
