"""Balancing a project scenario for the CLI and the GUI worker (Orange3's ``run(data, ..., state)`` shape):
:func:`run_project_balance` takes ``progress(fraction, message)`` and a ``StopFlag`` and returns a
:class:`BalanceRun` (proposals best first: changed units, table of changes per territory, summary,
warnings); the CLI passes a text progress, the GUI runs it in a worker whose Cancel sets the flag.
:func:`apply_as_new_scenario` writes a proposal into the project as a new scenario.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

import geopandas as gpd
import numpy as np
import pandas as pd

from ..engine.balance import BalanceMode, BalanceResult
from ..engine.placement import place_points
from ..models import InfeasibleError, InvalidInputError, Plan, Project
from ..models.progress import Progress, StopFlag, no_progress
from .balancing import BalanceOptions, PlanSummary, ProblemInputs, prepare, solve
from .kpi import PERFORMANCE_MEASURES, unit_performance_measures
from .metrics import unit_measures
from .projection import project_units
from .scenarios import add_scenario, new_scenario_id

__all__ = ["BalanceRun", "Proposal", "ProposalOutcome", "apply_as_new_scenario", "change_table",
           "propose_project_balance", "run_project_balance", "territory_label"]


class ProposalOutcome(StrEnum):
    """How a proposal shown to the planner ended."""

    APPLIED = "applied"
    SAVED = "saved"
    DISCARDED = "discarded"


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
    measures = unit_measures(project, sid)
    if set(opts.measures) & set(PERFORMANCE_MEASURES):  # history measures: trailing sales, pipeline, growth
        measures = measures.join(unit_performance_measures(project, sid))
    return _Scenario(sid, terr, tids, names, project.plans[sid].as_dict(), measures)


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
        elif m == "route_workload":  # service + travel hours from the route estimator (services.workload)
            from .workload import unit_route_workload

            cols[m] = unit_route_workload(project, sc.sid).reindex(ids).to_numpy(float)
        else:
            raise InvalidInputError("balance", [(f"no measure '{m}' (use accounts, workload_hours, potential, "
                                                 "route_workload or a numeric unit column)")])
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


def _project_inputs(project: Project, sc: _Scenario, opts: BalanceOptions, crs: object) -> ProblemInputs:
    units = project.units.reset_index(drop=True)
    ids = units["unit_id"].astype(str).tolist()
    index: dict[str | None, int] = {t: i for i, t in enumerate(sc.tids)}
    current = np.array([index.get(sc.before.get(u), -1) for u in ids], dtype=np.int64)
    locked = units["locked"].fillna(False).astype(bool).to_numpy() if "locked" in units else None
    homes = home_units = None
    if opts.use_rep_homes:
        points = _rep_home_points(project, sc)
        g = points.to_crs(crs)
        homes = np.column_stack([g.x.to_numpy(), g.y.to_numpy()])
        home_units = _units_at(units, points)
    return ProblemInputs(ids, _project_weights(project, sc, ids, opts), len(sc.tids), [sc.names[t] for t in sc.tids],
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


def _table_measures(sc: _Scenario, inp: ProblemInputs) -> pd.DataFrame:
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
    prep = prepare(units, inp, opts)
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


def apply_as_new_scenario(project: Project, proposal: Proposal, name: str | None = None,
                          description: str | None = None, prefix: str = "balanced") -> str:
    """Copy the proposal's scenario into a new scenario with the balanced plan; returns its id."""
    old = project.plans[proposal.scenario_id]
    desc = description if description is not None else json.dumps(
        {"balanced_from": proposal.scenario_id, "seed": proposal.seed, "units_moved": len(proposal.changes)})
    name = name or f"{prefix.capitalize()} {new_scenario_id(project, prefix)}"
    sid = add_scenario(project, proposal.scenario_id, name, desc, Plan(proposal.assignment, old.account_overrides()),
                       prefix)
    used = set(project.scenario_territories(sid)["territory_id"].astype(str))
    extra = sorted(set(proposal.assignment.values()) - used)
    if extra:
        add = pd.DataFrame({"scenario_id": sid, "territory_id": extra, "name": extra, "colour": "#cccccc",
                            "rep_id": None, "parent_id": None, "level": "territory", "kind": "geographic",
                            "rule": None})
        project.territories = pd.concat([project.territories, add], ignore_index=True)
    return sid
