"""Routing use-cases on a Project: a rep's accounts, travel matrices, multi-week plans, day re-planning.

Shared by the CLI (``territory-desktop route``) and the GUI (route layer, calendar, drag a visit):
:func:`plan_rep_visits` builds a :class:`RepPlan`; :func:`replan_day` and :func:`move_visit` re-route
one or two days in about a second; :func:`plan_rows` flattens a plan into one row per stop.
"""

from __future__ import annotations

import itertools
import json
import urllib.request
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ..engine.routing.day import DayRoute, DaySettings
from ..engine.routing.visit_plan import PlanAccount, PlanSettings, VisitPlan, plan_visits
from ..engine.routing.visit_plan import move_visit as _move_visit
from ..engine.routing.visit_plan import replan_day as _replan_day
from ..engine.travel import GraphProvider, GreatCircleProvider, TrafficProfile, TravelProvider, haversine_km
from ..models import InvalidInputError, Progress, Project, StopFlag, no_progress


@dataclass
class RepPlan:
    """A rep's visit plan plus what re-planning needs: travel matrices (place 0 = home) and the accounts
    table rows in place order (``places``: account_id, name, lon, lat)."""

    rep_id: str
    plan: VisitPlan
    dist_m: np.ndarray
    dur_s: np.ndarray
    places: pd.DataFrame
    home: tuple[float, float]
    provider: str
    not_due: list[str]


def rep_accounts(project: Project, rep_id: str) -> pd.DataFrame:
    """Accounts owned by ``rep_id`` in the active scenario: those whose territory (account override, else
    the territory of their unit) has this rep."""
    if rep_id not in set(project.reps["rep_id"]):
        known = ", ".join(sorted(map(str, project.reps["rep_id"]))[:10])
        raise InvalidInputError("route", [f"rep {rep_id!r} is not in the project (reps: {known} ...)"])
    terr = project.scenario_territories()
    mine = set(terr.loc[terr["rep_id"] == rep_id, "territory_id"])
    plan = project.plan
    overrides = plan.account_overrides()
    acc = project.accounts
    owner = [overrides.get(a) or (plan.territory_of(u) if isinstance(u, str) else None)
             for a, u in zip(acc["account_id"], acc["unit_id"], strict=True)]
    return acc[[t in mine for t in owner]]


def last_visits(project: Project, account_ids: list[str]) -> dict[str, date]:
    """Most recent visit date per account from the project's visit history."""
    from .project import ensure_history

    ensure_history(project)  # a project the GUI opened map-first reads its history now if still pending
    v = project.visits
    if v is None or not len(v):
        return {}
    v = v[v["account_id"].isin(set(account_ids))]
    dates = pd.to_datetime(v["date"], errors="coerce")
    last = dates.groupby(v["account_id"]).max().dropna()
    return {a: d.date() for a, d in last.items()}


def plan_rep_visits(project: Project, rep_id: str, start: date, weeks: int = 4,
                    holidays: frozenset[date] = frozenset(), weekdays: tuple[int, ...] = (0, 1, 2, 3, 4),
                    day: DaySettings | None = None, provider: TravelProvider | None = None,
                    traffic: TrafficProfile | None = None, time_limit: float = 30.0, seed: int = 0,
                    progress: Progress = no_progress, stop: StopFlag | None = None,
                    matrix_cache: dict | None = None) -> RepPlan:
    """Plan ``rep_id``'s visits for ``weeks`` weeks from ``start`` (working hours from the rep's record).

    Accounts seen less often than the horizon (e.g. every 8 weeks in a 4-week plan) are only required
    when due: never visited, or last visit + frequency falls inside the horizon.
    ``matrix_cache``: optional dict reused across calls (key: provider name and place coordinates), so
    re-planning the same rep skips the matrix build; the project file does not store it yet.
    """
    reps = project.reps.set_index("rep_id")
    rep = reps.loc[rep_id] if rep_id in reps.index else None
    acc = rep_accounts(project, rep_id)
    if rep is None or rep.geometry is None or rep.geometry.is_empty:
        raise InvalidInputError("route", [f"rep {rep_id!r} has no home location"])
    day = day or DaySettings(start_min=float(rep.get("work_start_minute", 480)),
                             end_min=float(rep.get("work_end_minute", 1020)))
    acc = acc[acc["visit_frequency_weeks"].fillna(0).astype(int) > 0]
    acc = acc[~acc.geometry.is_empty & acc.geometry.notna()]
    horizon_end = start + timedelta(7 * weeks)
    last = last_visits(project, list(acc["account_id"]))
    due, not_due = [], []
    for a, f in zip(acc["account_id"], acc["visit_frequency_weeks"].astype(int), strict=True):
        if f > weeks and a in last and last[a] + timedelta(7 * f) >= horizon_end:
            not_due.append(a)
        else:
            due.append(a)
    acc = acc[acc["account_id"].isin(set(due))]
    progress(0.02, f"{len(acc)} accounts due for rep {rep_id} ({len(not_due)} not due in this horizon)")
    lon = np.r_[rep.geometry.x, acc.geometry.x.to_numpy()]
    lat = np.r_[rep.geometry.y, acc.geometry.y.to_numpy()]
    provider = provider or GreatCircleProvider()
    ident = repr(provider) if isinstance(provider, GreatCircleProvider) else f"{provider.name}@{id(provider)}"
    key = (ident, lon.tobytes(), lat.tobytes())
    if matrix_cache is not None and key in matrix_cache:
        dist_m, dur_s = matrix_cache[key]
    else:
        dist_m, dur_s = provider.matrices(lon, lat)
        if matrix_cache is not None:
            matrix_cache[key] = (dist_m, dur_s)
    accounts = [PlanAccount(str(r.account_id), k, int(r.visit_frequency_weeks), float(r.service_minutes),
                            float(r.open_minute), float(r.close_minute))
                for k, r in enumerate(acc.itertuples(), start=1)]
    settings = PlanSettings(start=start, weeks=weeks, weekdays=weekdays, holidays=holidays, day=day,
                            traffic=traffic)
    plan = plan_visits(dist_m, dur_s, accounts, settings, time_limit=time_limit, seed=seed, stop=stop,
                       progress=lambda f, m: progress(0.05 + 0.95 * f, m))
    places = pd.DataFrame({"account_id": ["HOME"] + [a.account_id for a in accounts],
                           "name": ["home"] + list(acc["name"].astype(str)), "lon": lon, "lat": lat})
    return RepPlan(rep_id, plan, dist_m, dur_s, places, (float(lon[0]), float(lat[0])), provider.name, not_due)


def replan_day(rep_plan: RepPlan, day: date, remove: tuple[str, ...] = (), add: tuple[str, ...] = (),
               time_limit: float = 1.0, stop: StopFlag | None = None) -> DayRoute:
    """Re-route one day after a cancellation (``remove``) or an added visit (under 2 s)."""
    return _replan_day(rep_plan.plan, day, rep_plan.dist_m, rep_plan.dur_s, remove, add, time_limit, stop)


def move_visit(rep_plan: RepPlan, account_id: str, from_day: date, to_day: date,
               time_limit: float = 0.8) -> tuple[DayRoute, DayRoute]:
    """Move one visit to another day and re-route both days (the GUI's drag and drop)."""
    return _move_visit(rep_plan.plan, account_id, from_day, to_day, rep_plan.dist_m, rep_plan.dur_s, time_limit)


def _clock(minutes: float) -> str:
    m = round(minutes)
    return f"{m // 60:02d}:{m % 60:02d}"


def plan_rows(rep_plan: RepPlan) -> pd.DataFrame:
    """One row per stop: date, seq, account, times (HH:MM), waiting/drive minutes, drive km, lon/lat."""
    where = rep_plan.places.set_index("account_id")
    rows = []
    for d, route in rep_plan.plan.days.items():
        for k, s in enumerate(route.stops, 1):
            rows.append({"rep_id": rep_plan.rep_id, "date": d.isoformat(), "seq": k, "account_id": s.visit_id,
                         "name": where.at[s.visit_id, "name"], "arrive": _clock(s.arrive_min),
                         "start": _clock(s.start_min), "depart": _clock(s.depart_min),
                         "wait_min": round(s.wait_min, 1), "drive_min": round(s.drive_min, 1),
                         "drive_km": round(s.drive_km, 2), "lon": where.at[s.visit_id, "lon"],
                         "lat": where.at[s.visit_id, "lat"],
                         "lunch": _clock(route.lunch_start_min) if route.lunch_start_min is not None
                         and s.depart_min > route.lunch_start_min >= s.start_min else ""})
    return pd.DataFrame(rows, columns=["rep_id", "date", "seq", "account_id", "name", "arrive", "start", "depart",
                                       "wait_min", "drive_min", "drive_km", "lon", "lat", "lunch"])


def route_layers(rep_plan: RepPlan, day: date | None = None):
    """Map layers for the GUI: (stops, lines) GeoDataFrames in EPSG:4326. ``stops``: one point per stop
    with ``date, seq, account_id, name, start``; ``lines``: one LineString per day, home -> stops -> home
    (straight legs), with ``date, stops, drive_min, drive_km``. ``day`` limits both to one day."""
    import geopandas as gpd
    import shapely

    from ..models import CRS

    rows = plan_rows(rep_plan)
    if day is not None:
        rows = rows[rows["date"] == day.isoformat()]
    stops = gpd.GeoDataFrame(rows[["date", "seq", "account_id", "name", "start"]].copy(),
                             geometry=gpd.points_from_xy(rows["lon"], rows["lat"]), crs=CRS)
    hx, hy = rep_plan.home
    lines = []
    for d, route in rep_plan.plan.days.items():
        if (day is not None and d != day) or not route.stops:
            continue
        sel = rows[rows["date"] == d.isoformat()].sort_values("seq")
        xy = [(hx, hy), *zip(sel["lon"], sel["lat"], strict=True), (hx, hy)]
        lines.append({"date": d.isoformat(), "stops": len(sel), "drive_min": round(route.drive_min, 1),
                      "drive_km": round(route.drive_km, 1), "geometry": shapely.LineString(xy)})
    line_frame = gpd.GeoDataFrame(pd.DataFrame(lines, columns=["date", "stops", "drive_min", "drive_km", "geometry"]),
                                  geometry="geometry", crs=CRS)
    return stops, line_frame


def plan_summary(rep_plan: RepPlan) -> dict:
    """JSON-ready summary: totals, per-day figures and every visit that could not be planned, with why."""
    p = rep_plan.plan
    days = []
    for d, r in p.days.items():
        days.append({"date": d.isoformat(), "stops": len(r.stops), "leave": _clock(r.leave_home_min),
                     "back": _clock(r.back_home_min) if r.stops else None,
                     "lunch": _clock(r.lunch_start_min) if r.lunch_start_min is not None else None,
                     "drive_min": round(r.drive_min, 1), "drive_km": round(r.drive_km, 1),
                     "wait_min": round(r.wait_min, 1), "accounts": r.visit_ids})
    short = [{"account_id": c.account_id, "required": c.required, "planned": c.planned, "reason": c.reason}
             for c in p.coverage if c.planned < c.required]
    return {"rep_id": rep_plan.rep_id, "start": p.settings.start.isoformat(), "weeks": p.settings.weeks,
            "travel": rep_plan.provider, "accounts": len(p.coverage), "not_due_accounts": len(rep_plan.not_due),
            "required_visits": p.required_visits, "planned_visits": p.planned_visits,
            "coverage_pct": round(100 * p.planned_visits / p.required_visits, 1) if p.required_visits else 100.0,
            "drive_hours": round(p.drive_min / 60, 2), "drive_km": round(p.drive_km, 1), "days": days,
            "unplanned": short}


@dataclass
class OSRMProvider:
    """Online travel matrices from an OSRM server's table service (off by default; needs network).

    ``url``: e.g. "http://localhost:5000"; ``profile``: "driving". Raises InvalidInputError when the
    server cannot be reached or answers with an error.
    """

    url: str
    profile: str = "driving"
    timeout: float = 30.0
    name: str = "osrm"

    def matrices(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        coords = ";".join(f"{x:.6f},{y:.6f}" for x, y in zip(lon, lat, strict=True))
        req = f"{self.url.rstrip('/')}/table/v1/{self.profile}/{coords}?annotations=distance,duration"
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as fh:
                body = json.load(fh)
        except OSError as exc:
            raise InvalidInputError("OSRM", [f"cannot reach {self.url}: {exc}"]) from exc
        if body.get("code") != "Ok":
            raise InvalidInputError("OSRM", [f"server answered {body.get('code')}: {body.get('message', '')}"])
        dist = np.array(body["distances"], dtype=float)
        dur = np.array(body["durations"], dtype=float)
        if not (np.isfinite(dist).all() and np.isfinite(dur).all()):
            raise InvalidInputError("OSRM", ["some points cannot be reached from each other"])
        return np.round(dist).astype(np.int64), np.round(dur).astype(np.int64)


#: default speeds (km/h) by OSM highway class when a way has no usable maxspeed tag
ROAD_SPEEDS = {"motorway": 105, "motorway_link": 60, "trunk": 85, "trunk_link": 50, "primary": 65,
               "primary_link": 45, "secondary": 55, "secondary_link": 40, "tertiary": 45, "tertiary_link": 35,
               "unclassified": 40, "residential": 30, "living_street": 10, "service": 20, "road": 40}


def _speed_kmh(tags: dict[str, str], highway: str) -> float:
    raw = tags.get("maxspeed", "").strip().lower()
    try:
        if raw.endswith("mph"):
            return float(raw[:-3]) * 1.609344
        if raw:
            return float(raw.split()[0])
    except ValueError:
        pass
    return float(ROAD_SPEEDS[highway])


def load_osm_graph(path: str, access_kmh: float = 20.0) -> GraphProvider:
    """Drivable road graph from an OpenStreetMap extract (.osm.pbf / .osm), for :class:`GraphProvider`.

    Uses ways tagged ``highway`` of the classes in ``ROAD_SPEEDS``; speed from ``maxspeed`` (km/h or
    mph) or the class default; ``oneway`` (yes/1/true/-1, motorways, roundabouts) respected. Needs the
    ``osmium`` package. Raises InvalidInputError when the file has no drivable roads.
    """
    try:
        import osmium
    except ImportError as exc:
        raise InvalidInputError("road network", [("reading .osm.pbf files needs the 'osmium' package "
                                                 "(pip install osmium)")]) from exc

    index: dict[int, int] = {}
    lon: list[float] = []
    lat: list[float] = []
    edges: list[tuple[int, int, float, float]] = []

    def node_index(ref) -> int:
        k = index.get(ref.ref)
        if k is None:
            k = index[ref.ref] = len(lon)
            lon.append(ref.location.lon)
            lat.append(ref.location.lat)
        return k

    class Roads(osmium.SimpleHandler):
        def way(self, w) -> None:
            highway = w.tags.get("highway")
            if highway not in ROAD_SPEEDS or w.tags.get("access") in ("no", "private"):
                return
            tags = {t.k: t.v for t in w.tags}
            speed = _speed_kmh(tags, highway) / 3.6  # metres per second
            oneway = tags.get("oneway", "").lower()
            forward = oneway != "-1"
            backward = oneway not in ("yes", "1", "true", "-1") and highway != "motorway" \
                and tags.get("junction") != "roundabout" or oneway == "-1"
            refs = [r for r in w.nodes if r.location.valid()]
            for a, b in itertools.pairwise(refs):
                ia, ib = node_index(a), node_index(b)
                metres = float(haversine_km(lon[ia], lat[ia], lon[ib], lat[ib])) * 1000
                if forward:
                    edges.append((ia, ib, metres, metres / speed))
                if backward:
                    edges.append((ib, ia, metres, metres / speed))

    try:
        Roads().apply_file(str(path), locations=True)
    except RuntimeError as exc:
        raise InvalidInputError("road network", [f"{path}: cannot read as OpenStreetMap data ({exc})"]) from exc
    if not edges:
        raise InvalidInputError("road network", [f"{path}: no drivable roads (highway=...) found"])
    e = np.array(edges)
    return GraphProvider(np.array(lon), np.array(lat), e[:, 0].astype(int), e[:, 1].astype(int), e[:, 2], e[:, 3],
                         access_kmh=access_kmh, name="osm-roads")
