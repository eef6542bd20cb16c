"""Balancing use-cases for the CLI and the GUI: from a units layer or a project to a plan with scores.

- :func:`balance_layer`: a GeoDataFrame of units (any CRS) -> plan table ``<id>, territory`` + scores.
- :func:`propose_project_balance`: a Project scenario -> a :class:`Proposal` (changed units, table of
  changes per territory, scores); the GUI runs it in a worker with ``progress`` and a ``StopFlag``.
- :func:`apply_as_new_scenario`: writes a proposal into the project as a new scenario.

Geometry is projected for the engine: US data to EPSG:5070 (Albers, metres), other data to its UTM zone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..engine.adjacency import build_adjacency
from ..engine.balance import BalanceProblem, alternatives, assign_orphans, balance_territories, rebalance_plan
from ..engine.scores import align_labels, score_plan
from ..models import InvalidInputError, Plan, Project
from ..models.progress import Progress, StopFlag, no_progress

US_ALBERS = "EPSG:5070"


@dataclass
class BalanceOptions:
    """What to balance and how. ``tolerance_for`` maps a measure name to its own tolerance."""

    measures: list[str]
    k: int | None = None
    tolerance: float = 0.02
    tolerance_for: dict[str, float] = field(default_factory=dict)
    mode: str = "build"  # build | rebalance | orphans
    max_moved: float = 0.1
    moved_measure: str | None = None  # None = count units
    seed: int = 0
    time_limit: float = 30.0
    alternatives: int = 1
    max_distance_km: float | None = None
    use_rep_homes: bool = False


@dataclass
class LayerOutcome:
    plan: pd.DataFrame  # columns <id>, territory
    scores: dict
    alternatives: list[dict] = field(default_factory=list)


@dataclass
class Proposal:
    """A balancing result for a project scenario, not yet applied."""

    scenario_id: str
    assignment: dict[str, str]  # unit_id -> territory_id, every unit
    changes: dict[str, tuple[str | None, str]]  # unit_id -> (old, new), moved units only
    table: pd.DataFrame  # per territory: units_in, units_out, <measure>_before, <measure>_after
    scores: dict
    seed: int


def is_project_file(path: str) -> bool:
    """True for a Territory Desktop project (a GeoPackage with units and assignments tables)."""
    import pyogrio

    if not str(path).lower().endswith(".gpkg"):
        return False
    try:
        names = {str(n) for n in pyogrio.list_layers(path)[:, 0]}
    except Exception:  # noqa: BLE001 - not a readable GeoPackage means not a project
        return False
    return {"units", "assignments", "scenarios"} <= names


def read_units_layer(path: str, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector file (any format GDAL reads); raises InvalidInputError with the reason."""
    from pathlib import Path

    if not Path(path).exists():
        raise InvalidInputError(str(path), ["file not found"])
    try:
        units = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:  # noqa: BLE001 - GDAL's message says what is wrong with the file
        raise InvalidInputError(str(path), [f"cannot read it as a vector layer: {exc}"]) from None
    if len(units) == 0:
        raise InvalidInputError(str(path), ["the layer has no features"])
    kinds = set(units.geometry.geom_type.dropna())
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise InvalidInputError(str(path), [f"units must be polygons, found {sorted(kinds)}"])
    return units


def project_units(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Units in a metric CRS: EPSG:5070 for data in the conterminous US, else the UTM zone."""
    if units.crs is None:
        x0, y0, x1, y1 = units.total_bounds
        if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
            raise InvalidInputError("units", ["the layer has no CRS and its coordinates are not longitude/latitude"])
        units = units.set_crs("EPSG:4326")
    if units.crs.is_projected:
        return units
    x0, y0, x1, y1 = units.to_crs("EPSG:4326").total_bounds
    if x0 >= -130 and x1 <= -60 and y0 >= 20 and y1 <= 55:
        return units.to_crs(US_ALBERS)
    return units.to_crs(units.estimate_utm_crs())


def _tolerances(opts: BalanceOptions) -> np.ndarray:
    unknown = [m for m in opts.tolerance_for if m not in opts.measures]
    if unknown:
        raise InvalidInputError("--tolerance-for", [f"'{m}' is not one of the weights {opts.measures}" for m in unknown])
    return np.array([opts.tolerance_for.get(m, opts.tolerance) for m in opts.measures], float)


def build_problem(units: gpd.GeoDataFrame, weights: pd.DataFrame, opts: BalanceOptions, ids: list[str],
                  current: np.ndarray | None = None, locked: np.ndarray | None = None,
                  homes: np.ndarray | None = None, k: int | None = None) -> tuple[BalanceProblem, object, np.ndarray]:
    """Engine problem from projected units; returns (problem, adjacency, geometry array)."""
    geoms = units.geometry.to_numpy()
    bad = [i for i, g in enumerate(geoms) if g is None or g.is_empty]
    if bad:
        raise InvalidInputError("units", [f"row {i + 1} ({ids[i]}): no geometry" for i in bad])
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():  # self-intersections and the like: repair rather than fail in GEOS
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    adj = build_adjacency(geoms)
    cent = shapely.point_on_surface(geoms)
    xy = np.column_stack([shapely.get_x(cent), shapely.get_y(cent)])
    p = BalanceProblem(adj.matrix, weights.to_numpy(float), list(weights.columns), _tolerances(opts), xy,
                       int(k if k is not None else opts.k or 0), ids, locked, current, homes,
                       None if opts.max_distance_km is None else opts.max_distance_km * 1000)
    return p, adj, geoms


def _run(p: BalanceProblem, opts: BalanceOptions, progress: Progress, stop: StopFlag | None):
    """Run the engine in the mode asked; returns a list of results (best first)."""
    moved_j = None if opts.moved_measure is None else p.measure_names.index(opts.moved_measure)
    if opts.mode == "orphans":
        return [assign_orphans(p, progress)]
    if opts.mode == "rebalance":
        return [rebalance_plan(p, opts.max_moved, moved_j, opts.seed, opts.time_limit, progress, stop)]
    if opts.alternatives > 1:
        res = alternatives(p, opts.alternatives, opts.seed, opts.time_limit, progress, stop)
        if not res[0].within_tolerance:  # report the cause as a strict run would
            balance_territories(p, opts.seed, opts.time_limit, no_progress, stop, strict=True)
        return res
    return [balance_territories(p, opts.seed, opts.time_limit, progress, stop)]


def balance_layer(units: gpd.GeoDataFrame, id_col: str, opts: BalanceOptions, current_col: str | None = None,
                  locked_col: str | None = None, progress: Progress = no_progress,
                  stop: StopFlag | None = None) -> LayerOutcome:
    """Balance a units layer; territories are 1..k, or the current plan's names when rebalancing."""
    problems = [f"no column '{c}'" for c in [id_col, *opts.measures, current_col, locked_col]
                if c is not None and c not in units.columns]
    if problems:
        raise InvalidInputError("units", problems + [f"columns are: {', '.join(map(str, units.columns))}"])
    ids = units[id_col].astype(str).tolist()
    dup = pd.Series(ids)[pd.Series(ids).duplicated()].unique().tolist()
    if dup:
        raise InvalidInputError("units", [f"id '{d}' appears more than once in '{id_col}'" for d in dup[:20]])
    weights = pd.DataFrame({m: pd.to_numeric(units[m], errors="coerce").fillna(np.nan) for m in opts.measures})
    nan = [(i, m) for m in opts.measures for i in np.flatnonzero(weights[m].isna().to_numpy())]
    if nan:
        raise InvalidInputError("units", [f"row {i + 1} ({ids[i]}), column '{m}': not a number" for i, m in nan])
    names: list[str] | None = None
    current = None
    if current_col is not None:
        cur = units[current_col]
        valid = cur.notna() & (cur.astype(str).str.strip() != "")
        names = sorted(cur[valid].astype(str).unique().tolist())
        index = {n: i for i, n in enumerate(names)}
        current = np.array([index[str(v)] if ok else -1 for v, ok in zip(cur, valid)], dtype=np.int64)
        if opts.k is not None and opts.k != len(names):
            raise InvalidInputError("-k", [(f"-k {opts.k} but the current plan in '{current_col}' has "
                                            f"{len(names)} territories")])
    elif opts.mode != "build":
        raise InvalidInputError("balance", ["rebalancing and orphans need the current plan (--current COL)"])
    locked = None
    if locked_col is not None:
        locked = units[locked_col].fillna(False).astype(str).str.lower().isin(["1", "true", "yes", "y"]).to_numpy()
    k = len(names) if names is not None else opts.k
    if k is None:
        raise InvalidInputError("balance", ["give -k (the number of territories) or --current"])
    proj = project_units(units.reset_index(drop=True))
    p, adj, geoms = build_problem(proj, weights, opts, ids, current, locked, k=k)
    results = _aligned(_run(p, opts, progress, stop), p, opts)
    label_names = names if names is not None else [str(i + 1) for i in range(k)]
    scored = [_score(r, p, adj, geoms) for r in results]
    best = results[0]
    plan = pd.DataFrame({id_col: ids, "territory": [label_names[t] for t in best.labels]})
    return LayerOutcome(plan, scored[0], scored[1:])


def _aligned(results: list, p: BalanceProblem, opts: BalanceOptions) -> list:
    """From-scratch plans renumbered to overlap the current plan most (no locks or homes tie them)."""
    if opts.mode == "build" and p.current is not None and not p.locked.any() and p.homes is None:
        for r in results:
            r.labels = align_labels(r.labels, p.current)
    return results


def _score(r, p: BalanceProblem, adj, geoms) -> dict:
    s = score_plan(r.labels, adj.matrix, p.weights, p.measure_names, p.k, p.tolerance, geoms, p.current)
    s.update({"seed": r.seed, "mode": r.mode, "seconds": round(r.seconds, 3), "moves": r.moves,
              "within_tolerance": r.within_tolerance, "bridges": len(adj.bridges)})
    return s


def propose_project_balance(project: Project, opts: BalanceOptions, scenario_id: str | None = None,
                            progress: Progress = no_progress, stop: StopFlag | None = None) -> Proposal:
    """Balance the geographic territories of a scenario (default: the active one) on unit measures
    (``accounts``, ``workload_hours``, ``potential`` or any numeric unit column). Locked units stay."""
    from .metrics import unit_measures

    sid = scenario_id or project.active_scenario
    terr = project.scenario_territories(sid)
    terr = terr[terr["kind"].fillna("geographic") == "geographic"]
    tids = terr["territory_id"].astype(str).tolist()
    k = opts.k or len(tids)
    if opts.mode != "build" and k != len(tids):
        raise InvalidInputError("balance", [f"scenario '{sid}' has {len(tids)} territories; -k {k} differs"])
    if opts.mode == "build" and k > len(tids):
        tids = tids + [f"N{i + 1:03d}" for i in range(k - len(tids))]
    tids = tids[:k]
    units = project.units.reset_index(drop=True)
    ids = units["unit_id"].astype(str).tolist()
    um = unit_measures(project, sid)
    cols = {}
    for m in opts.measures:
        if m in um.columns:
            cols[m] = um.reindex(ids)[m].to_numpy(float)
        elif m in units.columns:
            cols[m] = pd.to_numeric(units[m], errors="coerce").to_numpy(float)
        elif m == "route_workload":  # service + travel hours from the route estimator (services.workload)
            from .workload import unit_route_workload

            cols[m] = unit_route_workload(project, sid).reindex(ids).to_numpy(float)
        else:
            raise InvalidInputError("balance", [(f"no measure '{m}' (use accounts, workload_hours, potential, "
                                                 "route_workload or a numeric unit column)")])
    plan = project.plans[sid]
    index = {t: i for i, t in enumerate(tids)}
    current = np.array([index.get(plan.territory_of(u), -1) for u in ids], dtype=np.int64)
    locked = units["locked"].fillna(False).astype(bool).to_numpy() if "locked" in units else None
    homes = None
    if opts.use_rep_homes:
        homes = _rep_homes(project, terr, tids)
    proj = project_units(units)
    p, adj, geoms = build_problem(proj, pd.DataFrame(cols), opts, ids,
                                  current if (current >= 0).any() else None, locked, homes, k)
    results = _aligned(_run(p, opts, progress, stop), p, opts)
    best = results[0]
    new = {u: tids[t] for u, t in zip(ids, best.labels)}
    changes = {u: (plan.territory_of(u), new[u]) for u in ids if plan.territory_of(u) != new[u]}
    table = _change_table(ids, current, best.labels, tids, p)
    return Proposal(sid, new, changes, table, _score(best, p, adj, geoms), best.seed)


def _rep_homes(project: Project, terr: pd.DataFrame, tids: list[str]) -> np.ndarray:
    reps = project_units(project.reps.set_index("rep_id"))
    missing = [t for t, r in zip(terr["territory_id"], terr["rep_id"]) if not isinstance(r, str) or r not in reps.index]
    if missing or len(tids) != len(terr):
        raise InvalidInputError("balance", [f"territory {t} has no rep with a home" for t in missing[:20]]
                                or ["rep homes need one rep per territory"])
    if project_units(project.units).crs != reps.crs:
        reps = reps.to_crs(project_units(project.units).crs)
    g = reps.loc[terr["rep_id"].tolist()].geometry
    return np.column_stack([g.x.to_numpy(), g.y.to_numpy()])


def _change_table(ids: list[str], before: np.ndarray, after: np.ndarray, tids: list[str],
                  p: BalanceProblem) -> pd.DataFrame:
    k = len(tids)
    moved = before != after
    rows = {"territory_id": tids,
            "units_in": np.bincount(after[moved], minlength=k),
            "units_out": np.bincount(before[moved & (before >= 0)], minlength=k)}
    for j, m in enumerate(p.measure_names):
        ok = before >= 0
        rows[f"{m}_before"] = np.bincount(before[ok], weights=p.weights[ok, j], minlength=k)
        rows[f"{m}_after"] = np.bincount(after, weights=p.weights[:, j], minlength=k)
    return pd.DataFrame(rows)


def apply_as_new_scenario(project: Project, proposal: Proposal, name: str | None = None) -> str:
    """Copy the proposal's scenario into a new scenario with the balanced plan; returns its id."""
    sid = _new_scenario_id(project)
    src = project.scenarios[project.scenarios["scenario_id"] == proposal.scenario_id]
    desc = json.dumps({"balanced_from": proposal.scenario_id, "seed": proposal.seed,
                       "units_moved": len(proposal.changes)})
    row = {"scenario_id": sid, "name": name or f"Balanced {sid}", "description": desc,
           "parent_id": proposal.scenario_id, "created": pd.Timestamp.now("UTC").isoformat(timespec="seconds")}
    project.scenarios = pd.concat([project.scenarios, pd.DataFrame([row])], ignore_index=True) \
        if len(src) or len(project.scenarios) else pd.DataFrame([row])
    terr = project.territories[project.territories["scenario_id"] == proposal.scenario_id].copy()
    used = set(terr["territory_id"].astype(str))
    extra = sorted(set(proposal.assignment.values()) - used)
    terr["scenario_id"] = sid
    if extra:
        add = pd.DataFrame({"scenario_id": sid, "territory_id": extra, "name": extra, "colour": "#cccccc",
                            "rep_id": None, "parent_id": None, "level": "territory", "kind": "geographic",
                            "rule": None})
        terr = pd.concat([terr, add], ignore_index=True)
    project.territories = pd.concat([project.territories, terr], ignore_index=True)
    old = project.plans[proposal.scenario_id]
    project.plans[sid] = Plan(proposal.assignment, old.account_overrides())
    project.mark_dirty("territories", "plans", "scenarios")
    return sid


def _new_scenario_id(project: Project) -> str:
    used = set(project.scenarios["scenario_id"].astype(str))
    n = 1
    while f"balanced-{n}" in used:
        n += 1
    return f"balanced-{n}"


def match_reps(project: Project, scenario_id: str | None = None, skill_weight: float = 1.0,
               capacity_weight: float = 2.0) -> pd.DataFrame:
    """Optimal rep -> territory matching for a scenario's geographic territories.

    Uses rep homes, ``capacity_hours`` and ``skills`` (comma-separated industries) against each territory's
    workload hours and its workload mix by account industry. Returns one row per match: rep_id,
    territory_id, distance_km, skill_match, load_over_capacity and reason; ``current_rep`` shows the rep
    the territory has now.
    """
    from ..engine.balance import assign_reps
    from .metrics import account_owners, account_workload

    sid = scenario_id or project.active_scenario
    terr = project.scenario_territories(sid)
    terr = terr[terr["kind"].fillna("geographic") == "geographic"].reset_index(drop=True)
    reps = project.reps.reset_index(drop=True)
    if len(terr) == 0 or len(reps) == 0:
        raise InvalidInputError("rep assignment", ["the scenario needs territories and the project reps"])
    units = project_units(project.units)
    plan = project.plans[sid].as_dict()
    ids = units["unit_id"].astype(str).to_numpy()
    tids = terr["territory_id"].astype(str).tolist()
    cent = units.geometry.representative_point()
    owners = account_owners(project, sid)
    hours = account_workload(project)
    frame = pd.DataFrame({"t": owners.to_numpy(), "h": hours.to_numpy(),
                          "industry": project.accounts["industry"].astype(str).to_numpy()})
    work = frame.groupby("t")["h"].sum().reindex(tids).fillna(0.0).to_numpy()
    mix_tab = frame.groupby(["t", "industry"])["h"].sum()
    mix = []
    for t in tids:
        part = mix_tab[t] if t in mix_tab.index.get_level_values(0) else pd.Series(dtype=float)
        total = float(part.sum())
        mix.append({str(k): float(v) / total for k, v in part.items()} if total > 0 else {})
    lab = np.array([plan.get(u) for u in ids], dtype=object)
    centres = np.array([[cent.x[lab == t].mean(), cent.y[lab == t].mean()] if (lab == t).any() else [np.nan] * 2
                        for t in tids])
    if np.isnan(centres).any():
        empty = [t for t, c in zip(tids, centres) if np.isnan(c).any()]
        raise InvalidInputError("rep assignment", [f"territory {t} has no units" for t in empty[:20]])
    homes = project_units(reps)
    if homes.crs != units.crs:
        homes = homes.to_crs(units.crs)
    xy = np.column_stack([homes.geometry.x.to_numpy(), homes.geometry.y.to_numpy()])
    skills = [set(str(s).split(",")) if isinstance(s, str) else set() for s in reps["skills"]]
    matches = assign_reps(reps["rep_id"].astype(str).tolist(), xy, reps["capacity_hours"].to_numpy(float), skills,
                          tids, centres, work, mix, skill_weight, capacity_weight)
    current = dict(zip(terr["territory_id"].astype(str), terr["rep_id"]))
    return pd.DataFrame([{"rep_id": m.rep, "territory_id": m.territory, "current_rep": current.get(m.territory),
                          "distance_km": round(m.distance_km, 1), "skill_match": round(m.skill_match, 3),
                          "load_over_capacity": round(m.load_over_capacity, 3), "reason": m.reason}
                         for m in matches])


def propose_account_balance(project: Project, territory_ids: list[str] | None = None,
                            measures: tuple[str, ...] = ("workload_hours",), tolerance: float = 0.02,
                            scenario_id: str | None = None, time_limit: float = 10.0) -> dict[str, str]:
    """Balance the accounts owned by account-type territories (default: all of the scenario's) among them.

    The accounts are the units (no contiguity); measures are ``accounts``, ``workload_hours`` or
    ``potential`` per account. Accounts stay near their territory's rep home when the reps have homes.
    Returns account_id -> territory_id for the accounts whose owner changes (apply them with
    ``Plan.set_account_overrides``, one undo step in the GUI).
    """
    from ..engine.balance import balance_accounts
    from .metrics import account_owners, account_workload

    sid = scenario_id or project.active_scenario
    terr = project.scenario_territories(sid)
    acct = terr[terr["kind"] == "account"]
    tids = [str(t) for t in (territory_ids or acct["territory_id"].tolist())]
    if len(tids) < 2:
        raise InvalidInputError("account balancing", ["give at least two account-type territories"])
    unknown = [t for t in tids if t not in set(acct["territory_id"].astype(str))]
    if unknown:
        raise InvalidInputError("account balancing", [f"{t} is not an account-type territory of '{sid}'"
                                                      for t in unknown])
    owners = account_owners(project, sid)
    mine = owners.isin(tids).to_numpy()
    accounts = project.accounts[mine]
    if len(accounts) < len(tids):
        raise InvalidInputError("account balancing", [f"{len(accounts)} accounts for {len(tids)} territories"])
    values = {"accounts": np.ones(len(accounts)),
              "workload_hours": account_workload(project).to_numpy()[mine],
              "potential": accounts["potential"].to_numpy(float)}
    bad = [m for m in measures if m not in values]
    if bad:
        raise InvalidInputError("account balancing", [f"unknown measure '{m}' (accounts, workload_hours, potential)"
                                                      for m in bad])
    w = np.column_stack([values[m] for m in measures])
    xy = homes = None
    reps = project.reps.set_index("rep_id") if len(project.reps) else None
    rep_of = dict(zip(acct["territory_id"].astype(str), acct["rep_id"]))
    if reps is not None and all(isinstance(rep_of.get(t), str) and rep_of[t] in reps.index for t in tids):
        metric = project_units(accounts)
        xy = np.column_stack([metric.geometry.x.to_numpy(), metric.geometry.y.to_numpy()])
        h = project_units(reps.loc[[rep_of[t] for t in tids]]).to_crs(metric.crs)
        homes = np.column_stack([h.geometry.x.to_numpy(), h.geometry.y.to_numpy()])
    labels = balance_accounts(w, len(tids), np.full(len(measures), tolerance), list(measures), xy, homes,
                              time_limit=time_limit)
    ids = accounts["account_id"].astype(str).to_numpy()
    before = owners.to_numpy()[mine]
    return {ids[i]: tids[t] for i, t in enumerate(labels) if before[i] != tids[t]}
