"""Realignment with minimal disruption (the CLI ``realign`` and the GUI's Realign action).

Given the current plan (a scenario) and a goal, propose plans that reach it moving as little as possible,
with a cap on the accounts or the revenue (T12M) moved and protected key accounts that never change rep:

- ``balance``: every territory within ``tolerance`` of the mean of ``measure``;
- ``add-rep``: a new territory for a rep who has none, started at the unit of the rep's home;
- ``remove-rep``: the territory of a rep who leaves is dissolved into its neighbours;
- ``new-market``: units without a territory (a market just imported) join the territories around them.

Every goal runs the project balancer (:func:`services.scenario_balance.run_project_balance`) in rebalance
mode: the cap is its moved-measure budget (``accounts`` or ``sales_t12m``, as a fraction of the total), a
protected account locks the unit it lies in (the balancer's frozen units), orphans are assigned first. Each
alternative (a cap) is saved as a new scenario and measured against the current plan with
:func:`services.compare.compare_scenarios` (relationship-level disruption: accounts, revenue, pipeline).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ..models import InfeasibleError, InvalidInputError, Project
from ..models.plan import REALIGN_GOALS
from ..models.progress import Progress, StopFlag, no_progress
from .balancing import BalanceMode, BalanceOptions
from .compare import compare_scenarios
from .editing import create_territory, delete_territory
from .kpi import PERFORMANCE_MEASURES, account_performance
from .metrics import MEASURE_LABELS, MEASURES, unit_measures
from .scenarios import add_scenario, scenario_name

GOALS = REALIGN_GOALS
#: the loosest tolerance the engine takes (below 1): the capped measure is counted, hardly balanced
_UNBOUNDED = 0.999
#: caps tried when none is given: fractions of the capped measure's total
DEFAULT_FRACTIONS = (0.02, 0.05, 0.10)


@dataclass
class RealignRequest:
    """What to realign: the goal, the scenario to start from, caps and protected accounts."""

    goal: str
    scenario_id: str | None = None
    measure: str = "workload_hours"
    tolerance: float = 0.1
    rep_id: str | None = None  # add-rep / remove-rep
    max_accounts_moved: float | None = None
    max_revenue_moved: float | None = None
    protect: tuple[str, ...] = ()
    alternatives: int = 3
    time_limit: float = 20.0
    seed: int = 0


@dataclass(frozen=True)
class RealignOption:
    """One proposal saved as a scenario, with its cap and its disruption against the start."""

    scenario_id: str
    name: str
    cap_label: str
    within_tolerance: bool
    failure: str | None
    worst_deviation_pct: float  # the largest |deviation| of the balanced measure from its mean, percent
    disruption: dict  # compare totals: units_moved, accounts_changing_rep, revenue_changing_rep, ...

    def to_json(self) -> dict:
        return {"scenario_id": self.scenario_id, "name": self.name, "cap": self.cap_label,
                "within_tolerance": self.within_tolerance, "failure": self.failure,
                "worst_deviation_pct": round(self.worst_deviation_pct, 2), **self.disruption}


def read_protected(text: str | None) -> tuple[str, ...]:
    """Account ids from ``--protect``: a CSV/XLSX/text file (column account_id, or the first column) or
    comma-separated ids."""
    if not text:
        return ()
    path = Path(text)
    if not path.is_file():
        return tuple(dict.fromkeys(x.strip() for x in text.split(",") if x.strip()))
    if path.suffix.lower() in (".csv", ".xlsx", ".xls"):
        from ..storage.tabular import read_table

        frame = read_table(str(path)).frame
        column = "account_id" if "account_id" in frame.columns else frame.columns[0]
        return tuple(dict.fromkeys(frame[column].dropna().astype(str).str.strip()))
    return tuple(dict.fromkeys(x.strip() for x in path.read_text().replace(",", "\n").splitlines() if x.strip()))


def _check(project: Project, req: RealignRequest) -> str:
    if req.goal not in GOALS:
        raise InvalidInputError("--goal", [f"'{req.goal}' is not one of {', '.join(GOALS)}"])
    sid = req.scenario_id or project.active_scenario
    if sid not in project.plans:
        raise InvalidInputError("--scenario", [f"no scenario '{sid}'"])
    unknown = sorted(set(req.protect) - set(project.accounts["account_id"].astype(str)))
    if unknown:
        raise InvalidInputError("--protect", [f"no account '{a}'" for a in unknown[:20]])
    if req.goal in ("add-rep", "remove-rep") and not req.rep_id:
        raise InvalidInputError("--rep", [f"goal {req.goal} needs the rep (--rep REP_ID)"])
    if req.rep_id and req.rep_id not in set(project.reps["rep_id"].astype(str)):
        raise InvalidInputError("--rep", [f"no rep '{req.rep_id}' in the project's reps"])
    known = [*MEASURES, *PERFORMANCE_MEASURES, "route_workload"]
    numeric = [c for c in project.units.columns if pd.api.types.is_numeric_dtype(project.units[c])]
    if req.measure not in known and req.measure not in numeric:
        raise InvalidInputError("--measure", [f"'{req.measure}' is not one of {', '.join(known)} or a numeric unit "
                                              "column"])
    if req.max_accounts_moved is not None and req.max_revenue_moved is not None:
        raise InvalidInputError("--max-accounts-moved", ["give a cap on accounts or on revenue, not both"])
    return sid


def _caps(project: Project, req: RealignRequest, sid: str) -> tuple[str, list[tuple[float, str]]]:
    """(moved measure, [(fraction of its total, label), ...]): the cap asked for and looser/tighter ones."""
    cap: float | None
    if req.max_revenue_moved is not None:
        measure, cap, total = "sales_t12m", req.max_revenue_moved, float(account_performance(project)["sales_t12m"].sum())
        label = "revenue {:,.0f}"
    else:
        measure, cap = "accounts", req.max_accounts_moved
        total, label = float(unit_measures(project, sid)["accounts"].sum()), "{:,.0f} accounts"
    n = max(1, req.alternatives)
    if cap is None:
        fractions = list(DEFAULT_FRACTIONS[:n]) + [0.2 * (i + 1) for i in range(max(0, n - 3))]
        return measure, [(f, label.format(f * total)) for f in fractions]
    if total <= 0:
        raise InvalidInputError("realign", [f"the scenario has no {measure.replace('_t12m', ' (T12M)')} to cap"])
    steps = [1.0, 0.5, 2.0, 0.25, 4.0][:n]
    return measure, [(min(1.0, cap * s / total), label.format(min(cap * s, total))) for s in steps]


def _protected_units(project: Project, protect: tuple[str, ...]) -> set[str]:
    acc = project.accounts
    return set(acc.loc[acc["account_id"].astype(str).isin(protect), "unit_id"].dropna().astype(str))


def _prepare_goal(project: Project, req: RealignRequest, work: str, locked: set[str]) -> None:
    """Change the work scenario for the goal (a territory added or removed)."""
    if req.goal == "remove-rep":
        terr = project.scenario_territories(work)
        mine = terr[terr["rep_id"].astype(str) == req.rep_id]
        if not len(mine):
            raise InvalidInputError("--rep", [f"rep '{req.rep_id}' has no territory in scenario '{work}'"])
        view = dataclasses.replace(project, active_scenario=work)
        for tid in mine["territory_id"].astype(str):
            delete_territory(view, tid)
        project.territories = view.territories
    elif req.goal == "add-rep":
        terr = project.scenario_territories(work)
        if (terr["rep_id"].astype(str) == req.rep_id).any():
            raise InvalidInputError("--rep", [f"rep '{req.rep_id}' already has a territory in scenario '{work}'"])
        reps = project.reps.set_index(project.reps["rep_id"].astype(str))
        name = str(reps.loc[req.rep_id, "name"]) if "name" in reps else str(req.rep_id)
        tid = create_territory(project, name, rep_id=req.rep_id, scenario_id=work)
        _seed_at_home(project, work, tid, reps.loc[req.rep_id].geometry, locked)


def _seed_at_home(project: Project, sid: str, tid: str, home, locked: set[str]) -> None:
    from .scenario_balance import _units_at

    if home is None or home.is_empty:
        return
    where = _units_at(project.units, gpd.GeoSeries([home], crs=project.reps.crs))
    if where[0] >= 0:
        unit = str(project.units["unit_id"].iloc[where[0]])
        if unit not in locked:
            project.plans[sid].assign([unit], tid)


def _protected_check(project: Project, start: str, option: str, protect: tuple[str, ...]) -> None:
    from .ownership import account_reps

    if not protect:
        return
    before, after = account_reps(project, start), account_reps(project, option)
    moved = [a for a in protect if before.get(a) != after.get(a)]
    if moved:
        raise InfeasibleError(f"protected accounts would change rep: {', '.join(moved[:10])} (the rep who leaves "
                              "owns them, or their unit cannot stay)")


def _check_protected_stay(project: Project, req: RealignRequest, start: str) -> None:
    """A rep who leaves takes no protected account along: refuse before any work."""
    from .ownership import account_reps

    if req.goal != "remove-rep" or not req.protect:
        return
    reps = account_reps(project, start)
    theirs = [a for a in req.protect if reps.get(a) == req.rep_id]
    if theirs:
        raise InfeasibleError(f"protected accounts {', '.join(theirs[:10])} belong to rep {req.rep_id}, who "
                              "leaves: they must change rep (protect other accounts or pick their new owner first)")


def realign(project: Project, req: RealignRequest, progress: Progress = no_progress,
            stop: StopFlag | None = None) -> list[RealignOption]:
    """Propose the alternatives of ``req`` (one per cap), each saved as a new scenario; least disruption
    first among the plans that reach the goal. Raises InvalidInputError for a bad request."""
    start = _check(project, req)
    _check_protected_stay(project, req, start)
    moved_measure, caps = _caps(project, req, start)
    locked = _protected_units(project, req.protect)
    options = []
    for i, (fraction, cap_label) in enumerate(caps):
        def part(f: float, m: str, i: int = i, cap: str = cap_label) -> None:
            progress((i + f) / len(caps), f"alternative {i + 1} of {len(caps)} (cap {cap}): {m}")

        options.append(_one_option(project, req, start, moved_measure, fraction, cap_label, locked, part, stop))
    progress(1.0, "done")
    return sorted(options, key=lambda o: (not o.within_tolerance, o.disruption["revenue_changing_rep"],
                                          o.disruption["accounts_changing_rep"]))


def _one_option(project: Project, req: RealignRequest, start: str, moved_measure: str, fraction: float,
                cap_label: str, locked: set[str], progress: Progress, stop: StopFlag | None) -> RealignOption:
    from .scenario_balance import run_project_balance

    label = MEASURE_LABELS.get(req.measure, (req.measure, ""))[0]
    goal_text = {"balance": f"balance {label} ±{req.tolerance:.0%}", "add-rep": f"add rep {req.rep_id}",
                 "remove-rep": f"rep {req.rep_id} leaves", "new-market": "assign the new market"}[req.goal]
    name = f"Realign: {goal_text}, cap {cap_label}"
    work = add_scenario(project, start, name, f"realign from {scenario_name(project, start)}: {goal_text}; "
                        f"at most {cap_label} moved", prefix="realign")
    _prepare_goal(project, req, work, locked)
    measures = [req.measure] + ([moved_measure] if moved_measure != req.measure else [])
    opts = BalanceOptions(measures, tolerance=req.tolerance, mode=BalanceMode.REBALANCE, max_moved=fraction,
                          moved_measure=moved_measure, seed=req.seed, time_limit=req.time_limit,
                          tolerance_for={moved_measure: _UNBOUNDED} if moved_measure != req.measure else {})
    units = project.units.copy()
    units["locked"] = units["locked"].fillna(False).astype(bool) if "locked" in units else False
    units.loc[units["unit_id"].astype(str).isin(locked), "locked"] = True
    view = dataclasses.replace(project, units=units)
    failure = None
    try:
        proposal = run_project_balance(view, opts, work, progress, stop).proposals[0]
    except InfeasibleError as exc:
        if exc.result is None:
            raise
        proposal, failure = exc.result.proposals[0], str(exc)
    project.plans[work].assign_many(proposal.assignment)
    project.mark_dirty("plans")
    _protected_check(project, start, work, req.protect)
    c = compare_scenarios(project, start, work, route=False)
    dev = proposal.table.get(f"{req.measure}_dev_pct")
    worst = float(dev.abs().max()) if dev is not None and len(dev) else 0.0
    return RealignOption(work, name, cap_label, failure is None, failure, worst, dict(c.totals))


def option_table(project: Project, options: list[RealignOption]) -> pd.DataFrame:
    """The alternatives as a table for the CLI and the dialog."""
    return pd.DataFrame([{"scenario": o.scenario_id, "cap": o.cap_label, "reaches goal": o.within_tolerance,
                          "worst deviation %": round(o.worst_deviation_pct, 1),
                          "units moved": o.disruption["units_moved"],
                          "accounts changing rep": o.disruption["accounts_changing_rep"],
                          "revenue changing rep": o.disruption["revenue_changing_rep"],
                          "pipeline changing rep": o.disruption["pipeline_changing_rep"]} for o in options])


__all__ = ["GOALS", "RealignOption", "RealignRequest", "option_table", "read_protected", "realign"]
