"""Route workload per territory (service + travel + admin hours a year) and team sizing.

Shared by the CLI (``territory-desktop size``, ``balance --weight route_workload``) and the GUI. The
estimate is the continuous approximation of ``engine.routing.workload`` on each territory's accounts
and its rep's home, with the congestion the field planner drives in (:data:`ROUTE_MODEL`);
:func:`unit_route_workload` spreads it over units so the balancer can sum it.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..engine.geometry import point_xy
from ..engine.metrics import WEEKS_PER_YEAR, positions
from ..engine.routing.day import DaySettings
from ..engine.routing.workload import (
    DEFAULT_MODEL,
    RouteWorkload,
    WorkloadModel,
    estimate_route_workload,
    usable_day_hours,
    visit_hours,
)
from ..engine.travel import GreatCircleProvider, TrafficProfile, haversine_km
from ..models import InvalidInputError, Progress, Project, StopFlag, no_progress
from .metrics import account_owners

if TYPE_CHECKING:
    from .scenario_balance import Proposal

EARTH_KM = 6371.0088


def planner_model(traffic: TrafficProfile | None = None, start_minute: int = 480, end_minute: int = 1020,
                  base: WorkloadModel = DEFAULT_MODEL, lunch_minutes: float | None = None) -> WorkloadModel:
    """``base`` with the working day, lunch break and congestion of the field planner (``route``'s
    defaults: 8:00-17:00, a 30-minute lunch, the weekday/hour traffic profile).

    A planned day is as long as its work: it starts at ``start_minute`` and ends after the lunch and
    ``usable_day_hours`` of driving and visits (the model's ``fill`` of the day). The drive out leaves
    in the first hour and the drive back sets off in the last hour of that day, so the line haul is
    timed at the mean of those two hours' factors; the legs between visits at the mean factor of the
    hours in between (Monday to Friday)."""
    t = traffic or TrafficProfile()
    lunch = DaySettings().lunch_minutes if lunch_minutes is None else lunch_minutes
    day = replace(base, day_hours=(end_minute - start_minute) / 60.0, lunch_hours=lunch / 60.0)
    end_used = start_minute + lunch + 60.0 * usable_day_hours(day)
    days = range(5)
    local = float(np.mean([t.day_factor(d, start_minute + 60, max(end_used - 60, start_minute + 61)) for d in days]))
    haul = float(np.mean([(t.factor(d, start_minute) + t.factor(d, max(end_used - 60, start_minute))) / 2
                          for d in days]))
    return replace(day, local_traffic=local, haul_traffic=haul)


#: the route workload of the app (size, balance, territory table, map): what the planner's plans take
ROUTE_MODEL = planner_model()


def local_km(lon: np.ndarray, lat: np.ndarray, lon0: float, lat0: float) -> np.ndarray:
    """Equirectangular km around (lon0, lat0): accurate to a few per cent over a territory."""
    x = np.radians(np.asarray(lon, dtype=float) - lon0) * EARTH_KM * math.cos(math.radians(lat0))
    y = np.radians(np.asarray(lat, dtype=float) - lat0) * EARTH_KM
    return np.column_stack([x, y])


def _visits_per_week(freq_weeks: np.ndarray) -> np.ndarray:
    f = np.asarray(freq_weeks, dtype=float)
    return np.divide(1.0, f, out=np.zeros_like(f), where=f > 0)


#: (home, the accounts' positions, frequencies and service times, model) -> RouteWorkload: a table refresh
#: after an edit re-estimates only the territories whose accounts or rep changed
_CACHE: dict[tuple, RouteWorkload] = {}
_CACHE_SIZE = 4096


AccountArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def account_arrays(project: Project) -> AccountArrays:
    """lon, lat, visits per week, service minutes and has-a-location of every account (what the route
    workload reads of them; the live table keeps them between edits of the plan)."""
    acc = project.accounts
    points = acc.geometry.to_numpy()
    lon, lat = point_xy(points)  # NaN: none or empty
    located = np.isfinite(lon) & np.isfinite(lat)
    visits = _visits_per_week(acc["visit_frequency_weeks"].fillna(0).to_numpy())
    return lon, lat, visits, acc["service_minutes"].fillna(0).to_numpy(float), located


def _rep_homes(project: Project) -> dict[str, tuple[float, float]]:
    reps = project.reps
    points = reps.geometry.to_numpy()
    x, y = point_xy(points)  # NaN: no home or an empty point
    ok = np.isfinite(x) & np.isfinite(y)
    return {str(r): (float(a), float(b)) for r, a, b in zip(reps["rep_id"].to_numpy()[ok], x[ok], y[ok], strict=True)}


def territory_workloads(project: Project, scenario_id: str | None = None,
                        model: WorkloadModel = ROUTE_MODEL, owners: pd.Series | np.ndarray | None = None,
                        only: set[str] | None = None, accounts: AccountArrays | None = None
                        ) -> dict[str, RouteWorkload]:
    """Route workload (per week) of every territory that has a rep with a home and accounts.
    ``owners``: the scenario's :func:`account_owners` when the caller has them already; ``only``: the
    territory ids to estimate (default: all; the live table re-estimates the ones an edit touched);
    ``accounts``: the project's :func:`account_arrays` when the caller keeps them."""
    sid = scenario_id or project.active_scenario
    owned = np.asarray(account_owners(project, sid) if owners is None else owners)
    lon, lat, visits, service, located = account_arrays(project) if accounts is None else accounts
    homes = _rep_homes(project)
    terr = project.scenario_territories(sid)
    tids = terr["territory_id"].astype(str).tolist()
    row = positions(tids, owned)  # -1: no territory of the scenario owns the account
    row[~located] = -1
    members = _members_by_row(row, len(tids), None if only is None else
                              [k for k, t in enumerate(tids) if t in only])
    rep_ids = terr["rep_id"].tolist()
    out = {}
    for k, idx in members.items():
        rep_id = rep_ids[k]
        home = homes.get(str(rep_id)) if isinstance(rep_id, str) else None
        if home is not None:
            out[tids[k]] = home_route_workload(home, lon[idx], lat[idx], visits[idx], service[idx], model)
    return out


def _members_by_row(row: np.ndarray, n: int, wanted: list[int] | None) -> dict[int, np.ndarray]:
    """Positions of the accounts with each ``row`` value: for the rows ``wanted`` (one scan each), or for
    all ``n`` rows (one sort)."""
    if wanted is not None:
        return {k: np.flatnonzero(row == k) for k in wanted}
    # a stable radix sort on 16-bit codes: a fifth of the time of the 64-bit one
    order = np.argsort(row.astype(np.int16) if n < 32767 else row, kind="stable")
    starts = np.searchsorted(row[order], np.arange(n + 1))
    return {k: order[starts[k]:starts[k + 1]] for k in range(n)}


def home_route_workload(home: tuple[float, float], lon: np.ndarray, lat: np.ndarray, visits_per_week: np.ndarray,
                        service_min: np.ndarray, model: WorkloadModel = ROUTE_MODEL) -> RouteWorkload:
    """Route workload (per week) of a rep living at ``home`` (lon, lat) who visits these accounts (lon, lat
    in degrees, visits per week, minutes per visit): the estimate every territory gets, cached."""
    data = np.concatenate([lon, lat, visits_per_week, service_min])
    key = (home, hash(data.tobytes()), len(lon), model)
    found = _CACHE.get(key)  # read once: a worker thread may clear the cache meanwhile
    if found is None:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        xy = local_km(lon, lat, *home)
        found = estimate_route_workload(np.zeros(2), xy, visits_per_week, service_min, model,
                                        GreatCircleProvider().hours)
        _CACHE[key] = found
    return found


def unit_route_workload(project: Project, scenario_id: str | None = None,
                        model: WorkloadModel = ROUTE_MODEL) -> pd.Series:
    """Route hours a year per unit (index unit_id), additive so the balancer can sum it: each account's
    visits x the hours a visit costs (``engine.routing.workload.visit_hours``) with the line haul from
    the *nearest* rep's home (where compact territories around homes put it) and the local travel per
    visit of its current territory (the median territory's where it has none)."""
    sid = scenario_id or project.active_scenario
    local = {t: w.local_h / w.visits / model.local_traffic  # free-flowing, as visit_hours takes it
             for t, w in territory_workloads(project, sid, model).items() if w.visits > 0}
    acc = project.accounts
    fallback = float(np.median(list(local.values()))) if local else 0.0
    owners = account_owners(project, sid).to_numpy()
    local_h = np.array([local.get(t, fallback) for t in owners])
    homes = project.reps[project.reps.geometry.notna() & ~project.reps.geometry.is_empty]
    lon, lat = acc.geometry.x.to_numpy(), acc.geometry.y.to_numpy()
    reach = haversine_km(lon[:, None], lat[:, None], homes.geometry.x.to_numpy()[None, :],
                         homes.geometry.y.to_numpy()[None, :]).min(axis=1) if len(homes) else np.zeros(len(acc))
    per_visit, _, _ = visit_hours(acc["service_minutes"].fillna(0).to_numpy(float), local_h, reach, model,
                                  GreatCircleProvider().hours)
    visits_year = _visits_per_week(acc["visit_frequency_weeks"].fillna(0).to_numpy()) * WEEKS_PER_YEAR
    hours = np.nan_to_num(visits_year * per_visit)
    per_unit = pd.Series(hours, index=acc["unit_id"].to_numpy()).groupby(level=0).sum()
    return per_unit.reindex(project.units["unit_id"].to_numpy()).fillna(0.0).rename("route_workload")


ROUTE_COLUMNS = ["territory_id", "rep_id", "route_workload_hours", "service_hours", "travel_hours", "days_per_week",
                 "capacity_hours", "load_pct"]


def territory_route_rows(project: Project, scenario_id: str | None = None, coverage: float = 1.0,
                         model: WorkloadModel = ROUTE_MODEL, owners: pd.Series | np.ndarray | None = None,
                         only: set[str] | None = None, accounts: AccountArrays | None = None) -> list[dict]:
    """The rows of :func:`territory_route_table` as dicts (``ROUTE_COLUMNS``), without building a frame
    (the live table refresh reads two of the columns). ``owners``, ``only`` and ``accounts``: as for
    :func:`territory_workloads`."""
    sid = scenario_id or project.active_scenario
    terr = project.scenario_territories(sid)
    rep_of = dict(zip(terr["territory_id"].astype(str), terr["rep_id"], strict=True))
    reps = project.reps
    caps = dict(zip(reps["rep_id"], reps["capacity_hours"].astype(float), strict=True))
    rows = []
    for tid, w in territory_workloads(project, sid, model, owners, only, accounts).items():
        rep_id = rep_of[tid]
        cap = float(caps.get(rep_id, np.nan))
        hours = w.hours_per_year
        rows.append({"territory_id": tid, "rep_id": rep_id, "route_workload_hours": round(hours, 1),
                     "service_hours": round(w.service_h * WEEKS_PER_YEAR, 1),
                     "travel_hours": round(w.travel_h * WEEKS_PER_YEAR, 1), "days_per_week": round(w.days, 2),
                     "capacity_hours": cap,
                     "load_pct": round(100 * coverage * hours / cap, 1) if cap and np.isfinite(cap) else None})
    return rows


def territory_route_table(project: Project, scenario_id: str | None = None, coverage: float = 1.0,
                          model: WorkloadModel = ROUTE_MODEL, owners: pd.Series | None = None) -> pd.DataFrame:
    """Per territory with a rep (home) and accounts: ``route_workload_hours``, ``service_hours``,
    ``travel_hours`` (a year), ``days_per_week``, ``capacity_hours`` (the rep's) and ``load_pct``
    (coverage x route workload / capacity, %). Indexed by territory_id; the territory table, the map's
    route-load colours and ``size`` all read it. ``owners``: the scenario's :func:`account_owners` when
    the caller has them already."""
    rows = territory_route_rows(project, scenario_id, coverage, model, owners)
    return pd.DataFrame(rows, columns=ROUTE_COLUMNS).set_index("territory_id")


def unit_route_load(project: Project, scenario_id: str | None = None,
                    model: WorkloadModel = ROUTE_MODEL) -> pd.Series:
    """Per unit (index unit_id, ``project.units`` order): the route load (% of its rep's capacity) of the
    territory the unit is in; NaN where that territory has no rep, home or accounts."""
    sid = scenario_id or project.active_scenario
    load = territory_route_table(project, sid, 1.0, model)["load_pct"].astype(float)
    plan = project.plans[sid].as_dict()
    ids = project.units["unit_id"].to_numpy()
    return pd.Series([load.get(plan.get(u), np.nan) for u in ids], index=ids, dtype=float, name="route_load_pct")


def size_team(project: Project, coverage: float = 0.95, scenario_id: str | None = None,
              model: WorkloadModel = ROUTE_MODEL) -> dict:
    """How many reps the route workload needs at ``coverage`` (share of visits made), and per territory
    its route workload and its rep's capacity (hours a year)."""
    if not 0 < coverage <= 1:
        raise InvalidInputError("size", [f"--coverage must be in (0, 1], got {coverage}"])
    sid = scenario_id or project.active_scenario
    table = territory_route_table(project, sid, coverage, model)
    if not len(table):
        raise InvalidInputError("size", ["no territory has a rep with a home location and accounts"])
    rows = [dict(r, load_pct=None if pd.isna(r["load_pct"]) else r["load_pct"])
            for r in table.reset_index().to_dict("records")]
    capacity = float(np.nanmedian(table["capacity_hours"].to_numpy(float)))
    total = float(table["route_workload_hours"].sum())
    return {"scenario": sid, "coverage": coverage, "total_route_workload_hours": round(total, 1),
            "capacity_hours_per_rep": capacity, "reps_now": len(rows),
            "reps_needed": math.ceil(coverage * total / capacity - 1e-9),
            "territories_over_capacity": sum(1 for r in rows if (r["load_pct"] or 0) > 100),
            "territories": rows}


def add_route_columns(project: Project, frame: pd.DataFrame, scenario_id: str | None = None,
                      model: WorkloadModel = ROUTE_MODEL, owners: pd.Series | np.ndarray | None = None,
                      only: set[str] | None = None, accounts: AccountArrays | None = None) -> pd.DataFrame:
    """``frame`` (rows with a ``territory_id``, e.g. ``metrics.territory_totals``) with
    ``route_workload_hours`` (h/yr) and ``route_load_pct`` (% of the rep's capacity) from
    :func:`territory_route_table`; NaN for territories without a rep home or accounts. ``owners`` and
    ``accounts``: as for :func:`territory_workloads`; ``only``: recompute the rows of these territory ids
    and keep the others' numbers (``frame`` has both columns already: the live table after an edit)."""
    rows = {r["territory_id"]: r for r in territory_route_rows(project, scenario_id, 1.0, model, owners, only, accounts)}
    ids = frame["territory_id"].astype(str).tolist()
    redo = np.ones(len(ids), dtype=bool) if only is None else np.array([t in only for t in ids], dtype=bool)
    found = [rows.get(t) for t in ids]
    hours = np.array([np.nan if r is None else r["route_workload_hours"] for r in found], dtype=float)
    load = np.array([np.nan if r is None or r["load_pct"] is None else r["load_pct"] for r in found], dtype=float)
    if only is not None:
        hours = np.where(redo, hours, frame["route_workload_hours"].to_numpy(float))
        load = np.where(redo, load, frame["route_load_pct"].to_numpy(float))
    frame["route_workload_hours"], frame["route_load_pct"] = hours, load
    return frame


def propose_sized_territories(project: Project, territories: int, scenario_id: str | None = None,
                              tolerance: float = 0.10, time_limit: float = 60.0, seed: int = 0,
                              progress: Progress = no_progress, stop: StopFlag | None = None) -> tuple[str, Proposal]:
    """Build ``territories`` contiguous territories balanced on the per-unit route workload (the
    project balancer, ``balance --weight route_workload``) from the scenario (default: the active one)
    and add them to the project as a new scenario (not saved). Returns (new scenario id, proposal);
    territories beyond the scenario's get new ids and no rep."""
    from .balancing import BalanceOptions
    from .scenario_balance import apply_as_new_scenario, propose_project_balance

    if territories < 1:
        raise InvalidInputError("size", [f"cannot propose {territories} territories"])
    opts = BalanceOptions(["route_workload"], k=territories, tolerance=tolerance, time_limit=time_limit, seed=seed)
    proposal = propose_project_balance(project, opts, scenario_id, progress, stop)
    sid = apply_as_new_scenario(project, proposal, f"Sized: {territories} territories by route workload")
    return sid, proposal
