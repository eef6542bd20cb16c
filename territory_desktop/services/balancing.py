"""Balancing use-cases for the CLI and the GUI: one seed loop, one ranking, one proposal builder.

- :func:`balance_layer`: a GeoDataFrame of units (any CRS) -> plan table ``<id>, territory`` + summaries.
- :func:`run_project_balance`: a Project scenario -> a :class:`BalanceRun` (proposals best first: changed
  units, table of changes per territory, summary); Orange3's ``run(data, ..., state)`` shape: it takes
  ``progress(fraction, message)`` and a ``StopFlag``, the CLI passes a text progress, the GUI runs it in a
  worker whose Cancel sets the flag.
- :func:`apply_as_new_scenario`: writes a proposal into the project as a new scenario.

Geometry is projected for the engine with :func:`.projection.project_units` (US Albers for US data).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from enum import StrEnum

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..engine.adjacency import Adjacency, build_adjacency
from ..engine.balance import (
    BalanceMode,
    BalanceProblem,
    BalanceResult,
    assign_orphans,
    balance_territories,
    rebalance_plan,
)
from ..engine.placement import place_points
from ..engine.scores import PlanScores, align_labels, score_plan
from ..models import InfeasibleError, InvalidInputError, Plan, Project
from ..models.progress import Progress, StopFlag, no_progress
from .metrics import MEASURE_LABELS, unit_measures
from .projection import project_units

__all__ = ["BalanceMode", "BalanceOptions", "BalanceRun", "LayerOutcome", "PlanSummary", "Proposal",
           "ProposalOutcome", "apply_as_new_scenario", "balance_layer", "change_table", "project_units",
           "propose_project_balance", "run_project_balance"]


class ProposalOutcome(StrEnum):
    """How a proposal shown to the planner ended."""

    APPLIED = "applied"
    SAVED = "saved"
    DISCARDED = "discarded"


@dataclass
class BalanceOptions:
    """What to balance and how. ``tolerance_for`` maps a measure name to its own tolerance."""

    measures: list[str]
    k: int | None = None
    tolerance: float = 0.02
    tolerance_for: dict[str, float] = field(default_factory=dict)
    mode: BalanceMode = BalanceMode.BUILD
    max_moved: float = 0.1
    moved_measure: str | None = None  # None = count units
    seed: int = 0
    time_limit: float = 30.0
    alternatives: int = 1  # from-scratch plans from seeds seed, seed+1, ...; the best is kept
    max_distance_km: float | None = None
    use_rep_homes: bool = False

    def __post_init__(self) -> None:
        self.mode = BalanceMode(self.mode)


@dataclass(frozen=True)
class PlanSummary:
    """A plan's scores and how it was made; ``to_json()`` is the JSON the CLI prints."""

    scores: PlanScores
    seed: int
    mode: BalanceMode
    seconds: float
    moves: int
    within_tolerance: bool
    bridges: int
    failure: str | None = None  # why the plan misses the request, in words

    @property
    def units_moved(self) -> int:
        return self.scores.disruption.units_moved if self.scores.disruption is not None else 0

    def rank_key(self) -> tuple:
        """Best first: within tolerance, then fewest cut edges, then fewest units moved, then seed."""
        return (not self.within_tolerance, self.scores.cut_edges, self.units_moved, self.seed)

    def to_json(self) -> dict:
        out = self.scores.to_json()
        out.update({"seed": self.seed, "mode": str(self.mode), "seconds": round(self.seconds, 3),
                    "moves": self.moves, "within_tolerance": self.within_tolerance, "bridges": self.bridges})
        return out


@dataclass(frozen=True)
class LayerOutcome:
    """A balanced units layer: ``plan`` (columns <id>, territory) and the summaries, best first."""

    plan: pd.DataFrame
    summaries: list[PlanSummary]

    @property
    def summary(self) -> PlanSummary:
        return self.summaries[0]


@dataclass(frozen=True)
class Proposal:
    """A balancing result for a project scenario, not yet applied."""

    scenario_id: str
    assignment: dict[str, str]  # unit_id -> territory_id, every unit
    changes: dict[str, tuple[str | None, str]]  # unit_id -> (old, new), moved units only
    table: pd.DataFrame  # per territory, see change_table
    summary: PlanSummary
    warnings: tuple[str, ...] = ()  # e.g. reps whose home ends outside their territory

    @property
    def seed(self) -> int:
        return self.summary.seed


@dataclass(frozen=True)
class BalanceRun:
    """What a balancing run produced: proposals best first, the plan it started from, unit measures."""

    proposals: list[Proposal]
    before: dict[str, str | None]  # unit_id -> territory at the start of the run
    measures: pd.DataFrame  # per unit (index unit_id): accounts, workload_hours, potential
    opts: BalanceOptions


@dataclass(frozen=True)
class _Prepared:
    """An engine problem with the adjacency and projected geometry it was built from."""

    problem: BalanceProblem
    adjacency: Adjacency
    geoms: np.ndarray


def _tolerances(opts: BalanceOptions) -> np.ndarray:
    unknown = [m for m in opts.tolerance_for if m not in opts.measures]
    if unknown:
        raise InvalidInputError("--tolerance-for", [f"'{m}' is not one of the weights {opts.measures}" for m in unknown])
    return np.array([opts.tolerance_for.get(m, opts.tolerance) for m in opts.measures], float)


def _valid_geoms(units: gpd.GeoDataFrame, ids: list[str]) -> np.ndarray:
    geoms = units.geometry.to_numpy()
    bad = [i for i, g in enumerate(geoms) if g is None or g.is_empty]
    if bad:
        raise InvalidInputError("units", [f"row {i + 1} ({ids[i]}): no geometry" for i in bad])
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():  # self-intersections and the like: repair rather than fail in GEOS
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    return geoms


@dataclass
class _Inputs:
    """What a problem is built from besides the units: unit ids, weights and per-territory names."""

    ids: list[str]
    weights: pd.DataFrame
    k: int
    territory_names: list[str]
    current: np.ndarray | None = None
    locked: np.ndarray | None = None
    homes: np.ndarray | None = None
    home_units: np.ndarray | None = None


def _prepare(units: gpd.GeoDataFrame, inp: _Inputs, opts: BalanceOptions) -> _Prepared:
    """Engine problem from projected units."""
    geoms = _valid_geoms(units, inp.ids)
    adj = build_adjacency(geoms)
    cent = shapely.point_on_surface(geoms)
    xy = np.column_stack([shapely.get_x(cent), shapely.get_y(cent)])
    names = list(inp.weights.columns)
    p = BalanceProblem(adj.matrix, inp.weights.to_numpy(float), names, _tolerances(opts), xy, inp.k, inp.ids,
                       inp.locked, inp.current, inp.homes,
                       None if opts.max_distance_km is None else opts.max_distance_km * 1000,
                       home_units=inp.home_units, territory_names=inp.territory_names,
                       measure_units=[MEASURE_LABELS.get(m, (m, m))[1] for m in names],
                       measure_labels=[MEASURE_LABELS.get(m, (m, m))[0] for m in names])
    return _Prepared(p, adj, geoms)


# ---------------------------------------------------------------- the one seed loop and ranking


def _run_once(p: BalanceProblem, opts: BalanceOptions, seed: int, progress: Progress,
              stop: StopFlag | None) -> BalanceResult:
    if opts.mode is BalanceMode.ORPHANS:
        return assign_orphans(p, progress)
    if opts.mode is BalanceMode.REBALANCE:
        moved_j = None if opts.moved_measure is None else p.measure_names.index(opts.moved_measure)
        return rebalance_plan(p, opts.max_moved, moved_j, seed, opts.time_limit, progress, stop, strict=False)
    return balance_territories(p, seed, opts.time_limit, progress, stop, strict=False)


def _aligned(r: BalanceResult, p: BalanceProblem, opts: BalanceOptions) -> BalanceResult:
    """A from-scratch plan renumbered to overlap the current plan most, so that a territory's name and rep
    follow its area; territories holding locked units, or anchored on homes, keep their number."""
    if opts.mode is not BalanceMode.BUILD or p.current is None or p.homes is not None:
        return r
    fixed = np.unique(p.current[p.locked & (p.current >= 0)])
    return replace(r, labels=align_labels(r.labels, p.current, fixed=fixed))


def _summary(r: BalanceResult, prep: _Prepared) -> PlanSummary:
    p = prep.problem
    s = score_plan(r.labels, prep.adjacency.matrix, p.weights, p.measure_names, p.k, p.tolerance, prep.geoms,
                   p.current)
    return PlanSummary(s, r.seed, r.mode, r.seconds, r.moves, r.within_tolerance, len(prep.adjacency.bridges),
                       r.failure)


def solve(prep: _Prepared, opts: BalanceOptions, progress: Progress = no_progress,
          stop: StopFlag | None = None) -> list[tuple[BalanceResult, PlanSummary]]:
    """Every plan asked for (``opts.alternatives`` seeds when building, else one), best first by
    :meth:`PlanSummary.rank_key`. A provably impossible request raises InfeasibleError at once."""
    n = max(1, opts.alternatives) if opts.mode is BalanceMode.BUILD else 1
    out = []
    for i in range(n):
        def part(fraction: float, message: str, i: int = i) -> None:
            progress((i + fraction) / n, f"plan {i + 1} of {n}: {message}" if n > 1 else message)

        r = _aligned(_run_once(prep.problem, opts, opts.seed + i, part, stop), prep.problem, opts)
        out.append((r, _summary(r, prep)))
    out.sort(key=lambda rs: rs[1].rank_key())
    return out


# ---------------------------------------------------------------- a units layer


def _layer_weights(units: gpd.GeoDataFrame, ids: list[str], opts: BalanceOptions) -> pd.DataFrame:
    weights = pd.DataFrame({m: pd.to_numeric(units[m], errors="coerce") for m in opts.measures})
    nan = [(i, m) for m in opts.measures for i in np.flatnonzero(weights[m].isna().to_numpy())]
    if nan:
        raise InvalidInputError("units", [f"row {i + 1} ({ids[i]}), column '{m}': not a number" for i, m in nan])
    return weights


def _layer_current(units: gpd.GeoDataFrame, current_col: str | None,
                   opts: BalanceOptions) -> tuple[list[str] | None, np.ndarray | None]:
    """Territory names and index per unit (-1 = none) of the current plan column."""
    if current_col is None:
        if opts.mode is not BalanceMode.BUILD:
            raise InvalidInputError("balance", ["rebalancing and orphans need the current plan (--current COL)"])
        return None, None
    cur = units[current_col]
    valid = cur.notna() & (cur.astype(str).str.strip() != "")
    names = sorted(cur[valid].astype(str).unique().tolist())
    index = {n: i for i, n in enumerate(names)}
    current = np.array([index[str(v)] if ok else -1 for v, ok in zip(cur, valid, strict=True)], dtype=np.int64)
    if opts.k is not None and opts.k != len(names):
        raise InvalidInputError("-k", [(f"-k {opts.k} but the current plan in '{current_col}' has "
                                        f"{len(names)} territories")])
    return names, current


def _layer_inputs(units: gpd.GeoDataFrame, id_col: str, opts: BalanceOptions, current_col: str | None,
                  locked_col: str | None) -> tuple[_Inputs, list[str]]:
    problems = [f"no column '{c}'" for c in [id_col, *opts.measures, current_col, locked_col]
                if c is not None and c not in units.columns]
    if problems:
        raise InvalidInputError("units", problems + [f"columns are: {', '.join(map(str, units.columns))}"])
    ids = units[id_col].astype(str).tolist()
    dup = pd.Series(ids)[pd.Series(ids).duplicated()].unique().tolist()
    if dup:
        raise InvalidInputError("units", [f"id '{d}' appears more than once in '{id_col}'" for d in dup[:20]])
    weights = _layer_weights(units, ids, opts)
    names, current = _layer_current(units, current_col, opts)
    locked = None
    if locked_col is not None:
        locked = units[locked_col].fillna(False).astype(str).str.lower().isin(["1", "true", "yes", "y"]).to_numpy()
    k = len(names) if names is not None else opts.k
    if k is None:
        raise InvalidInputError("balance", ["give -k (the number of territories) or --current"])
    label_names = names if names is not None else [str(i + 1) for i in range(k)]
    shown = [f"territory {n}" for n in label_names]
    return _Inputs(ids, weights, k, shown, current, locked), label_names


def balance_layer(units: gpd.GeoDataFrame, id_col: str, opts: BalanceOptions, current_col: str | None = None,
                  locked_col: str | None = None, progress: Progress = no_progress,
                  stop: StopFlag | None = None) -> LayerOutcome:
    """Balance a units layer; territories are 1..k, or the current plan's names when rebalancing.
    Raises InfeasibleError (carrying the outcome) when the best plan misses the tolerance."""
    units = units.reset_index(drop=True)
    inp, label_names = _layer_inputs(units, id_col, opts, current_col, locked_col)
    prep = _prepare(project_units(units), inp, opts)
    results = solve(prep, opts, progress, stop)
    best, summary = results[0]
    plan = pd.DataFrame({id_col: inp.ids, "territory": [label_names[t] for t in best.labels]})
    outcome = LayerOutcome(plan, [s for _, s in results])
    if summary.failure is not None:
        raise InfeasibleError[LayerOutcome](summary.failure, result=outcome)
    return outcome


# ---------------------------------------------------------------- a project scenario


@dataclass(frozen=True)
class _Scenario:
    """A project scenario as the balancer sees it: geographic territory ids (padded to k with N001...),
    their display names, the plan and unit measures at the start."""

    sid: str
    terr: pd.DataFrame  # the scenario's geographic territories
    tids: list[str]
    names: dict[str, str]  # territory id -> "Name (id)"
    before: dict[str, str | None]
    measures: pd.DataFrame


def _scenario(project: Project, opts: BalanceOptions, scenario_id: str | None) -> _Scenario:
    sid = scenario_id or project.active_scenario
    terr = project.scenario_territories(sid)
    terr = terr[terr["kind"].fillna("geographic") == "geographic"].reset_index(drop=True)
    tids = terr["territory_id"].astype(str).tolist()
    k = opts.k or len(tids)
    if opts.mode is not BalanceMode.BUILD and k != len(tids):
        raise InvalidInputError("balance", [f"scenario '{sid}' has {len(tids)} territories; -k {k} differs"])
    tids = (tids + [f"N{i + 1:03d}" for i in range(max(0, k - len(tids)))])[:k]
    names = {str(t): territory_label(str(t), n) for t, n in zip(terr["territory_id"], terr["name"], strict=True)}
    names.update({t: t for t in tids if t not in names})
    return _Scenario(sid, terr, tids, names, project.plans[sid].as_dict(), unit_measures(project, sid))


def territory_label(territory_id: str, name: object) -> str:
    """How messages name a territory: "Kansas City (T19)", or the id alone when it has no other name."""
    text = "" if name is None or (isinstance(name, float) and np.isnan(name)) else str(name)
    return f"{text} ({territory_id})" if text and text != territory_id else territory_id


def _project_weights(project: Project, sc: _Scenario, ids: list[str], opts: BalanceOptions) -> pd.DataFrame:
    units = project.units.reset_index(drop=True)
    cols = {}
    for m in opts.measures:
        if m in sc.measures.columns:
            cols[m] = sc.measures.reindex(ids)[m].to_numpy(float)
        elif m in units.columns:
            cols[m] = pd.to_numeric(units[m], errors="coerce").to_numpy(float)
        else:
            raise InvalidInputError("balance", [(f"no measure '{m}' (use accounts, workload_hours, potential "
                                                 "or a numeric unit column)")])
    return pd.DataFrame(cols)


def _rep_home_points(project: Project, sc: _Scenario) -> gpd.GeoSeries:
    """Home point (EPSG:4326) of each territory's rep, in territory order; raises when one is missing."""
    reps = project.reps.set_index("rep_id")
    rep_ids = sc.terr["rep_id"].tolist()
    missing = [sc.names[str(t)] for t, r in zip(sc.terr["territory_id"], rep_ids, strict=True)
               if not isinstance(r, str) or r not in reps.index or reps.loc[r].geometry is None]
    if missing or len(sc.tids) != len(sc.terr):
        raise InvalidInputError("balance", [f"{t} has no rep with a home" for t in missing[:20]]
                                or [(f"rep homes need one rep per territory: the scenario has {len(sc.terr)} "
                                    f"territories, not {len(sc.tids)}")])
    return gpd.GeoSeries(reps.loc[rep_ids].geometry.to_numpy(), crs=reps.crs)


def _project_inputs(project: Project, sc: _Scenario, opts: BalanceOptions, crs: object) -> _Inputs:
    units = project.units.reset_index(drop=True)
    ids = units["unit_id"].astype(str).tolist()
    index = {t: i for i, t in enumerate(sc.tids)}
    current = np.array([index.get(sc.before.get(u), -1) for u in ids], dtype=np.int64)
    locked = units["locked"].fillna(False).astype(bool).to_numpy() if "locked" in units else None
    homes = home_units = None
    if opts.use_rep_homes:
        points = _rep_home_points(project, sc)
        g = points.to_crs(crs)
        homes = np.column_stack([g.x.to_numpy(), g.y.to_numpy()])
        home_units = _units_at(units, points)
    return _Inputs(ids, _project_weights(project, sc, ids, opts), len(sc.tids), [sc.names[t] for t in sc.tids],
                   current if (current >= 0).any() else None, locked, homes, home_units)


def _units_at(units: gpd.GeoDataFrame, points: gpd.GeoSeries) -> np.ndarray:
    """Index of the unit each point lies in (-1 = none)."""
    if units.crs is not None and points.crs is not None and points.crs != units.crs:
        points = points.to_crs(units.crs)
    return place_points(points.x.to_numpy(), points.y.to_numpy(), units.geometry.to_numpy())


def _reps_outside(project: Project, sc: _Scenario, assignment: dict[str, str]) -> tuple[str, ...]:
    """One warning per rep whose home lies in a unit of another territory than theirs."""
    terr = sc.terr[sc.terr["rep_id"].map(lambda r: isinstance(r, str))]
    reps = project.reps.set_index("rep_id")
    terr = terr[terr["rep_id"].isin(reps.index)]
    if not len(terr):
        return ()
    where = _units_at(project.units, reps.loc[terr["rep_id"].tolist()].geometry)
    unit_ids = project.units["unit_id"].astype(str).to_numpy()
    out = []
    for t, rep, u in zip(terr["territory_id"].astype(str), terr["rep_id"], where, strict=True):
        if u >= 0 and assignment.get(unit_ids[u]) not in (None, t):
            other = assignment[unit_ids[u]]
            out.append(f"rep {rep} of {sc.names[t]} lives in {sc.names.get(other, other)}")
    return tuple(out)


def _table_measures(sc: _Scenario, inp: _Inputs) -> pd.DataFrame:
    """Unit measures plus every balanced unit column (index unit_id), for the change table."""
    out = sc.measures.reindex(inp.ids)
    for m in inp.weights.columns:
        if m not in out.columns:
            out[m] = inp.weights[m].to_numpy(float)
    return out


def _proposal(project: Project, sc: _Scenario, measures: pd.DataFrame, r: BalanceResult, summary: PlanSummary,
              opts: BalanceOptions) -> Proposal:
    """The one proposal builder: the engine's labels as territory ids, the changes and the table."""
    ids = list(measures.index)
    new = {u: sc.tids[t] for u, t in zip(ids, r.labels, strict=True)}
    changes = {u: (sc.before.get(u), new[u]) for u in ids if sc.before.get(u) != new[u]}
    table = change_table(sc.names, sc.before, new, measures, opts.measures)
    return Proposal(sc.sid, new, changes, table, summary, _reps_outside(project, sc, new))


def run_project_balance(project: Project, opts: BalanceOptions, scenario_id: str | None = None,
                        progress: Progress = no_progress, stop: StopFlag | None = None) -> BalanceRun:
    """Balance the geographic territories of a scenario (default: the active one) on unit measures
    (``accounts``, ``workload_hours``, ``potential`` or any numeric unit column); locked units stay.

    Returns every plan asked for, best first. Raises InfeasibleError when the request is provably
    impossible (``result`` None) or when even the best plan misses it (``result``: the run, so the
    planner can still look at it)."""
    sc = _scenario(project, opts, scenario_id)
    progress(0.0, "projecting units and finding neighbours")
    units = project_units(project.units.reset_index(drop=True))
    inp = _project_inputs(project, sc, opts, units.crs)
    prep = _prepare(units, inp, opts)
    results = solve(prep, opts, lambda f, m: progress(0.05 + 0.9 * f, m), stop)
    progress(0.95, "comparing the plans")
    measures = _table_measures(sc, inp)
    proposals = [_proposal(project, sc, measures, r, s, opts) for r, s in results]
    run = BalanceRun(proposals, sc.before, measures, opts)
    progress(1.0, "done")
    failure = proposals[0].summary.failure
    if failure is not None:
        raise InfeasibleError[BalanceRun](failure, result=run)
    return run


def propose_project_balance(project: Project, opts: BalanceOptions, scenario_id: str | None = None,
                            progress: Progress = no_progress, stop: StopFlag | None = None) -> Proposal:
    """The best proposal of :func:`run_project_balance`."""
    return run_project_balance(project, opts, scenario_id, progress, stop).proposals[0]


TABLE_MEASURES = ("workload_hours", "accounts", "potential")


def change_table(names: dict[str, str], before: dict[str, str | None], after: dict[str, str],
                 measures: pd.DataFrame, balanced: list[str]) -> pd.DataFrame:
    """Per territory of ``after``: name, units in/out, before/after of workload, accounts (and potential
    when balanced) and of every other balanced unit measure, and the after-deviation from the mean of
    every balanced measure (``<m>_dev_pct``, percent). Territories with moves come first."""
    tids = sorted(set(after.values()) - {None}, key=lambda t: (t not in names, t))
    ids = list(after)
    old = pd.Series([before.get(u) for u in ids], index=ids, dtype=object)
    new = pd.Series([after[u] for u in ids], index=ids, dtype=object)
    moved = old != new
    um = measures.reindex(ids).fillna(0.0)
    rows = pd.DataFrame(index=tids)
    rows["name"] = [names.get(t, t) for t in tids]
    rows["units_in"] = new[moved].value_counts().reindex(tids).fillna(0).astype(int)
    rows["units_out"] = old[moved].value_counts().reindex(tids).fillna(0).astype(int)
    shown = [m for m in TABLE_MEASURES if m in um.columns and (m in balanced or m != "potential")]
    shown += [m for m in balanced if m in um.columns and m not in shown]
    for m in shown:
        rows[f"{m}_before"] = um[m].groupby(old.to_numpy()).sum().reindex(tids).fillna(0.0)
        rows[f"{m}_after"] = um[m].groupby(new.to_numpy()).sum().reindex(tids).fillna(0.0)
    for m in balanced:
        if f"{m}_after" in rows:
            mean = rows[f"{m}_after"].mean()
            rows[f"{m}_dev_pct"] = (rows[f"{m}_after"] / mean - 1) * 100 if mean else 0.0
    rows = rows.rename_axis("territory_id").reset_index()
    changed = (rows["units_in"] + rows["units_out"]) > 0
    return pd.concat([rows[changed], rows[~changed]], ignore_index=True)


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


