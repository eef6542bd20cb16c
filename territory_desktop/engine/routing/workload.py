"""Route workload of a territory: service + travel (+ admin) hours, by a continuous approximation.

Travel is estimated the Beardwood-Halton-Hammersley / Daganzo way: a week's stops in a region of area
A (km^2) need ``k * sqrt(A * V)`` road km of local travel (V = visits per week), plus a line haul from
home to the day's area and back on each working day. A visit at road distance r sits on a day whose
round trip takes 2 h(r), leaving ``day_hours - admin - 2 h(r)`` for visits (at least MIN_ROOM of a
day: beyond that a rep would stay overnight), so the visit uses (service + local travel) / room of a
day and brings that share of the day's line haul. ``k`` is calibrated against full plans
(benchmarks/route_workload.py --fit).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely

from ..metrics import WEEKS_PER_YEAR


@dataclass(frozen=True)
class WorkloadModel:
    """``k``: tour constant (road km per sqrt(km^2 x stops)); ``speed_kmh``: road speed when no
    ``drive_hours`` function is given; ``admin_hours_per_day``: office time per working day;
    ``day_hours``: a working day; ``circuity``: road km per straight-line km; ``local_traffic`` and
    ``haul_traffic``: congestion (travel-time multipliers) of the legs between visits and of the drive from
    home and back (which falls in the rush hours at the day's start and end); 1 = none."""

    k: float = 0.31  # fitted on 8 demo territories against 4-week plans (README, Route workload)
    speed_kmh: float = 45.0
    day_hours: float = 9.0
    circuity: float = 1.3
    admin_hours_per_day: float = 0.0
    local_traffic: float = 1.0
    haul_traffic: float = 1.0


DEFAULT_MODEL = WorkloadModel()
MIN_ROOM = 0.25  # share of a day left for visits however far the area is


@dataclass(frozen=True)
class RouteWorkload:
    """Hours per week: service, travel (local + line haul), admin; ``days``: working days needed."""

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


def region_area_km2(xy_km: np.ndarray) -> float:
    """Area of the accounts' convex hull (km^2), at least that of a 1 km disc per account."""
    xy_km = np.asarray(xy_km, dtype=float).reshape(-1, 2)
    hull = shapely.convex_hull(shapely.multipoints(xy_km)).area if len(xy_km) >= 3 else 0.0
    return max(float(hull), np.pi * len(xy_km))


def visit_hours(service_min: np.ndarray, local_h: float | np.ndarray, reach_km: np.ndarray,
                model: WorkloadModel = DEFAULT_MODEL,
                drive_hours: Callable[[np.ndarray], np.ndarray] | None = None):
    """Hours one visit costs, per account: (total, share of a working day, round-trip hours of its day).

    On site = service + ``local_h`` (local travel per visit, free-flowing); the visit's day drives 2 h(r)
    to the account's area and back (r = ``reach_km`` straight-line x circuity), leaving ``day_hours -
    admin - 2 h(r)`` (at least MIN_ROOM of a day) for visits; the visit takes on-site / room of that day
    and the same share of its line haul and admin. Congestion (``local_traffic``, ``haul_traffic``)
    lengthens the hours driven, not the day's split (the tour constant was fitted without it).
    """
    hours = drive_hours or (lambda km: np.asarray(km, dtype=float) / model.speed_kmh)
    haul = 2.0 * np.asarray(hours(np.asarray(reach_km, dtype=float) * model.circuity), dtype=float)
    room = np.maximum(model.day_hours - model.admin_hours_per_day - haul, MIN_ROOM * model.day_hours)
    service_h = np.asarray(service_min, dtype=float) / 60.0
    share = (service_h + local_h) / room
    congested = haul * model.haul_traffic
    total = service_h + np.asarray(local_h, dtype=float) * model.local_traffic
    return total + share * (congested + model.admin_hours_per_day), share, congested


def estimate_route_workload(home_xy_km: np.ndarray, xy_km: np.ndarray, visits_per_week: np.ndarray,
                            service_min: np.ndarray, model: WorkloadModel = DEFAULT_MODEL,
                            drive_hours: Callable[[np.ndarray], np.ndarray] | None = None) -> RouteWorkload:
    """Weekly route workload of one territory.

    ``xy_km``: (n, 2) account positions in a local metric projection (km); ``home_xy_km``: (2,) the rep's
    home; ``visits_per_week``: (n,) e.g. 0.25 for every 4 weeks; ``service_min``: (n,) minutes per visit.
    Straight-line km times the model's circuity are road km; ``drive_hours(road_km)`` gives hours for a
    leg (e.g. ``GreatCircleProvider.hours``, faster on long legs), else road km / ``speed_kmh``.
    """
    hours = drive_hours or (lambda km: np.asarray(km, dtype=float) / model.speed_kmh)
    circuity = model.circuity
    xy_km = np.asarray(xy_km, dtype=float).reshape(-1, 2)
    v = np.asarray(visits_per_week, dtype=float)
    visits = float(v.sum())
    service_h = float((v * np.asarray(service_min, dtype=float)).sum()) / 60.0
    if visits <= 0:
        return RouteWorkload(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    area = region_area_km2(xy_km[v > 0])
    local_km = model.k * np.sqrt(area * visits) * circuity
    local_h = float(hours(np.array([local_km / visits]))[0]) * visits  # legs of the typical length
    reach = np.hypot(*(xy_km - np.asarray(home_xy_km, dtype=float)).T)
    _, share, haul = visit_hours(np.asarray(service_min, dtype=float), local_h / visits, reach, model, hours)
    days = float((v * share).sum())
    haul_h = float((v * share * haul).sum())
    return RouteWorkload(service_h, local_h * model.local_traffic, haul_h, model.admin_hours_per_day * days, days,
                         visits)
