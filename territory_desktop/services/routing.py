"""Routing use-cases on a Project: a rep's accounts, travel matrices, multi-week plans, day re-planning.

Shared by the CLI (``territory-desktop route``) and the GUI (route layer, calendar, drag a visit):
:func:`plan_rep_visits` builds a :class:`RepPlan`; :func:`replan_day` and :func:`move_visit` re-route
one or two days in about a second; :func:`plan_rows` flattens a plan into one row per stop.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ..engine.routing.day import DayRoute, DaySettings
from ..engine.routing.visit_plan import PlanAccount, PlanSettings, VisitPlan, plan_visits, required_periods
from ..engine.routing.visit_plan import move_visit as _move_visit
from ..engine.routing.visit_plan import replan_day as _replan_day
from ..engine.travel import GraphProvider, GreatCircleProvider, TrafficProfile, TravelProvider, haversine_km
from ..models import InvalidInputError, Progress, Project, StopFlag, no_progress
from ..storage.osrm import osrm_table
from ..storage.roads import read_osm_roads
from .ownership import account_reps


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


def rep_accounts(project: Project, rep_id: str, tables: PlanningTables | None = None) -> pd.DataFrame:
    """Accounts owned by ``rep_id`` in the active scenario: those whose owning territory
    (:func:`.ownership.account_owners`: override, rule territory, else the unit's) has this rep.
    ``tables``: :func:`planning_tables`, when the caller looks up many reps."""
    if rep_id not in set(project.reps["rep_id"]):
        known = ", ".join(sorted(map(str, project.reps["rep_id"]))[:10])
        raise InvalidInputError("route", [f"rep {rep_id!r} is not in the project (reps: {known} ...)"])
    if tables is not None:
        return project.accounts.iloc[tables.rows_of.get(rep_id, np.zeros(0, dtype=int))]
    return project.accounts[account_reps(project).to_numpy() == rep_id]


@dataclass
class PlanningTables:
    """What planning many reps looks up in the whole project, computed once (:func:`planning_tables`):
    the positions of each rep's accounts in ``project.accounts`` and each account's last visit date."""

    rows_of: dict[str, np.ndarray]
    last: dict[str, date]


def planning_tables(project: Project) -> PlanningTables:
    """:class:`PlanningTables` of the project: a batch's per-rep preparation then costs the rep's
    accounts only, not the whole account and visit tables each time."""
    owners = pd.Series(account_reps(project).to_numpy())
    rows_of = {str(r): np.asarray(k, dtype=int) for r, k in owners.groupby(owners, sort=False).indices.items()}
    return PlanningTables(rows_of, last_visits(project, list(project.accounts["account_id"])))


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


@dataclass
class RepPlanInput:
    """Everything the planner needs for one rep, with no project: travel matrices (place 0 = home), the
    accounts due and the settings. Small and picklable, so a batch can solve it in another process or on a
    cluster worker (:mod:`.route_batch`)."""

    rep_id: str
    dist_m: np.ndarray
    dur_s: np.ndarray
    accounts: list[PlanAccount]
    settings: PlanSettings
    places: pd.DataFrame
    provider: str
    not_due: list[str]


def due_accounts(project: Project, rep_id: str, start: date, weeks: int, tables: PlanningTables | None = None
                 ) -> tuple[pd.Series, pd.DataFrame, list[str]]:
    """The rep's record, the accounts due in ``weeks`` weeks from ``start`` and the ids of those not due.

    Accounts seen less often than the horizon (e.g. every 8 weeks in a 4-week plan) are only due when
    never visited, or when last visit + frequency falls inside the horizon. ``tables``: see
    :func:`planning_tables`."""
    reps = project.reps.set_index("rep_id")
    rep = reps.loc[rep_id] if rep_id in reps.index else None
    acc = rep_accounts(project, rep_id, tables)
    if rep is None or rep.geometry is None or rep.geometry.is_empty:
        raise InvalidInputError("route", [f"rep {rep_id!r} has no home location"])
    acc = acc[acc["visit_frequency_weeks"].fillna(0).astype(int) > 0]
    acc = acc[~acc.geometry.is_empty & acc.geometry.notna()]
    horizon_end = start + timedelta(7 * weeks)
    last = tables.last if tables is not None else last_visits(project, list(acc["account_id"]))
    due, not_due = [], []
    for a, f in zip(acc["account_id"], acc["visit_frequency_weeks"].astype(int), strict=True):
        if f > weeks and a in last and last[a] + timedelta(7 * f) >= horizon_end:
            not_due.append(a)
        else:
            due.append(a)
    return rep, acc[acc["account_id"].isin(set(due))], not_due


def required_visit_count(project: Project, rep_id: str, start: date, weeks: int,
                         tables: PlanningTables | None = None) -> int:
    """Visits a plan of ``weeks`` weeks from ``start`` requires for the rep (the plan's
    ``required_visits``), without planning: one per :func:`required_periods` of each due account."""
    _, acc, _ = due_accounts(project, rep_id, start, weeks, tables)
    return sum(len(required_periods(int(f), weeks)) for f in acc["visit_frequency_weeks"])


def day_settings(rep: pd.Series, lunch: tuple[float, float, float] | None) -> DaySettings:
    """A rep's working day (``work_start_minute``/``work_end_minute`` of the rep's record, default 8:00-17:00)
    with ``lunch`` = (earliest start, latest start, minutes) or None for no lunch."""
    return DaySettings(start_min=float(rep.get("work_start_minute", 480)),
                       end_min=float(rep.get("work_end_minute", 1020)),
                       lunch_early=lunch[0] if lunch else None, lunch_late=lunch[1] if lunch else None,
                       lunch_minutes=lunch[2] if lunch else 0.0)


def rep_plan_input(project: Project, rep_id: str, start: date, weeks: int = 4,
                   holidays: frozenset[date] = frozenset(), weekdays: tuple[int, ...] = (0, 1, 2, 3, 4),
                   day: DaySettings | None = None, provider: TravelProvider | None = None,
                   traffic: TrafficProfile | None = None, progress: Progress = no_progress,
                   matrix_cache: dict | None = None, tables: PlanningTables | None = None) -> RepPlanInput:
    """The planner's input for ``rep_id`` (see :func:`plan_rep_visits` for the arguments;
    ``tables``: :func:`planning_tables`, when preparing many reps)."""
    rep, acc, not_due = due_accounts(project, rep_id, start, weeks, tables)
    day = day or DaySettings(start_min=float(rep.get("work_start_minute", 480)),
                             end_min=float(rep.get("work_end_minute", 1020)))
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
    places = pd.DataFrame({"account_id": ["HOME"] + [a.account_id for a in accounts],
                           "name": ["home", *acc["name"].astype(str)], "lon": lon, "lat": lat})
    return RepPlanInput(rep_id, dist_m, dur_s, accounts, settings, places, provider.name, not_due)


def solve_rep_plan(inp: RepPlanInput, time_limit: float = 30.0, seed: int = 0, progress: Progress = no_progress,
                   stop: StopFlag | None = None) -> RepPlan:
    """Plan the visits of :func:`rep_plan_input`'s result (no project needed: runs in any process)."""
    plan = plan_visits(inp.dist_m, inp.dur_s, inp.accounts, inp.settings, time_limit=time_limit, seed=seed,
                       stop=stop, progress=lambda f, m: progress(0.05 + 0.95 * f, m))
    home = (float(inp.places["lon"].iloc[0]), float(inp.places["lat"].iloc[0]))
    return RepPlan(inp.rep_id, plan, inp.dist_m, inp.dur_s, inp.places, home, inp.provider, inp.not_due)


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
    inp = rep_plan_input(project, rep_id, start, weeks, holidays, weekdays, day, provider, traffic, progress,
                         matrix_cache)
    return solve_rep_plan(inp, time_limit, seed, progress, stop)


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


def export_plan_rows(rep_plan: RepPlan, path) -> int:
    """Write :func:`plan_rows` to ``path`` (.csv or .xlsx, formula-safe); returns the number of rows."""
    from ..storage.export import write_table

    rows = plan_rows(rep_plan)
    write_table(rows, path, sheet="Routes")
    return len(rows)


def planned_visit_rows(rep_plan: RepPlan, status: str = "planned") -> pd.DataFrame:
    """The plan as rows of ``Project.planned_visits`` (``PLANNED_VISIT_COLUMNS``): one per stop, ``date``
    ISO, ``sequence`` from 1 within the day, arrival and departure in whole minutes after midnight."""
    from ..models.project import PLANNED_VISIT_COLUMNS

    rows = [{"rep_id": rep_plan.rep_id, "account_id": s.visit_id, "date": d.isoformat(), "sequence": k,
             "arrive_minute": round(s.arrive_min), "depart_minute": round(s.depart_min), "status": status}
            for d, route in sorted(rep_plan.plan.days.items()) for k, s in enumerate(route.stops, 1)]
    return pd.DataFrame(rows, columns=PLANNED_VISIT_COLUMNS)


def store_visit_plan(project: Project, rep_plan: RepPlan) -> int:
    """Keep ``rep_plan`` in ``project.planned_visits``: the rep's earlier rows are replaced, other reps'
    rows kept; marks the table dirty so the next save writes it. Returns the rows stored for the rep."""
    return store_rep_rows(project, rep_plan.rep_id, planned_visit_rows(rep_plan))


def store_rep_rows(project: Project, rep_id: str, rows: pd.DataFrame) -> int:
    """Replace ``rep_id``'s rows of ``project.planned_visits`` by ``rows`` (:func:`planned_visit_rows`),
    other reps' rows kept; marks the table dirty. Returns the number of rows stored."""
    return store_reps_rows(project, {rep_id: rows})


def store_reps_rows(project: Project, rows_by_rep: dict[str, pd.DataFrame]) -> int:
    """:func:`store_rep_rows` for several reps at once (one pass over the table)."""
    pv = project.planned_visits
    kept = pv[~pv["rep_id"].astype(str).isin({str(r) for r in rows_by_rep})]
    parts = [kept, *rows_by_rep.values()] if len(kept) else list(rows_by_rep.values())
    project.planned_visits = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    project.mark_dirty("planned_visits")
    return sum(len(r) for r in rows_by_rep.values())


@dataclass(frozen=True)
class DaySummary:
    """One planned day: stops, leave/back/lunch times (HH:MM), driving and waiting, accounts in order."""

    date: str
    stops: int
    leave: str
    back: str | None
    lunch: str | None
    drive_min: float
    drive_km: float
    wait_min: float
    accounts: list[str]


@dataclass(frozen=True)
class Shortfall:
    """An account with fewer planned visits than required, and why."""

    account_id: str
    required: int
    planned: int
    reason: str


@dataclass(frozen=True)
class RouteSummary:
    """Totals of a rep's visit plan, per-day figures and every visit that could not be planned;
    ``to_json()`` is the JSON ``territory-desktop route --json`` prints."""

    rep_id: str
    start: str
    weeks: int
    travel: str
    accounts: int
    not_due_accounts: int
    required_visits: int
    planned_visits: int
    coverage_pct: float
    drive_hours: float
    drive_km: float
    days: list[DaySummary]
    unplanned: list[Shortfall]

    def to_json(self) -> dict:
        return asdict(self)


def plan_summary(rep_plan: RepPlan) -> RouteSummary:
    """The summary of a rep's plan (see :class:`RouteSummary`)."""
    p = rep_plan.plan
    days = [DaySummary(d.isoformat(), len(r.stops), _clock(r.leave_home_min),
                       _clock(r.back_home_min) if r.stops else None,
                       _clock(r.lunch_start_min) if r.lunch_start_min is not None else None,
                       round(r.drive_min, 1), round(r.drive_km, 1), round(r.wait_min, 1), r.visit_ids)
            for d, r in p.days.items()]
    short = [Shortfall(c.account_id, c.required, c.planned, c.reason) for c in p.coverage if c.planned < c.required]
    coverage = round(100 * p.planned_visits / p.required_visits, 1) if p.required_visits else 100.0
    return RouteSummary(rep_plan.rep_id, p.settings.start.isoformat(), p.settings.weeks, rep_plan.provider,
                        len(p.coverage), len(rep_plan.not_due), p.required_visits, p.planned_visits, coverage,
                        round(p.drive_min / 60, 2), round(p.drive_km, 1), days, short)


@dataclass
class OSRMProvider:
    """Online travel matrices from an OSRM server's table service (off by default; needs network).

    ``url``: e.g. "http://localhost:5000"; ``profile``: "driving". Raises InvalidInputError when the
    server cannot be reached or answers with an error (:func:`storage.osrm.osrm_table`).
    """

    url: str
    profile: str = "driving"
    timeout: float = 30.0
    name: str = "osrm"

    def matrices(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return osrm_table(self.url, lon, lat, self.profile, self.timeout)


def load_osm_graph(path: str, access_kmh: float = 20.0) -> GraphProvider:
    """Drivable road graph from an OpenStreetMap extract (.osm.pbf / .osm), for :class:`GraphProvider`:
    the roads of :func:`storage.roads.read_osm_roads`, each segment its great-circle length at its speed.
    Raises InvalidInputError when the file has no drivable roads."""
    net = read_osm_roads(path)
    metres = haversine_km(net.lon[net.src], net.lat[net.src], net.lon[net.dst], net.lat[net.dst]) * 1000
    return GraphProvider(net.lon, net.lat, net.src, net.dst, metres, metres / net.speed_mps,
                         access_kmh=access_kmh, name="osm-roads")
