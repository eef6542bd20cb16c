"""Plan every rep's weeks in one run (``route --all``, Tools > Plan All Routes), on this machine's cores or a
Dask cluster, through :func:`.batch.run_batch`.

This process prepares each rep's input (:func:`.routing.rep_plan_input`: accounts due, travel matrices),
the workers solve it (:func:`.routing.solve_rep_plan`, no project needed) and send back the planned-visit
rows; this process stores the reps' rows (:func:`.routing.store_reps_rows`) and saves the project as the
reps finish (:func:`.project.save_project`), so a killed run resumes: a rep that already has planned
visits dated inside the horizon is skipped unless ``restart``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial

import pandas as pd

from ..engine.travel import TrafficProfile, TravelProvider
from ..models import Progress, Project, StopFlag, no_progress
from .batch import TaskOutcome, run_batch
from .routing import (
    PlanningTables,
    RepPlanInput,
    day_settings,
    plan_summary,
    planned_visit_rows,
    planning_tables,
    rep_plan_input,
    required_visit_count,
    solve_rep_plan,
    store_reps_rows,
)

#: seconds between two saves of a batch (each finished rep is saved within this time)
SAVE_EVERY_S = 1.0


@dataclass
class RouteBatchOptions:
    """The options of ``route --all``: the horizon, the working week, travel, the planner's seconds per
    rep and where to run (``workers`` processes here, or the Dask scheduler at ``cluster``)."""

    start: date
    weeks: int = 2
    holidays: frozenset[date] = frozenset()
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    lunch: tuple[float, float, float] | None = (690.0, 810.0, 30.0)
    provider: TravelProvider | None = None
    traffic: TrafficProfile | None = field(default_factory=TrafficProfile)  # None: free-flow (--no-traffic)
    time_limit: float = 30.0
    seed: int = 0
    workers: int = 1
    cluster: str | None = None
    restart: bool = False


def plan_task(inp: RepPlanInput, time_limit: float, seed: int, stop: StopFlag | None = None) -> dict:
    """One rep's plan in a worker: its planned-visit rows and the totals of its summary."""
    rp = solve_rep_plan(inp, time_limit=time_limit, seed=seed, stop=stop)
    s = plan_summary(rp)
    return {"rows": planned_visit_rows(rp), "planned_visits": s.planned_visits, "required_visits": s.required_visits,
            "coverage_pct": s.coverage_pct, "drive_hours": s.drive_hours, "drive_km": s.drive_km}


def reps_planned_in(project: Project, start: date, weeks: int) -> dict[str, int]:
    """Reps with planned visits dated in ``weeks`` weeks from ``start``, and how many rows each has there."""
    pv = project.planned_visits
    if not len(pv):
        return {}
    days = pd.to_datetime(pv["date"], errors="coerce")
    inside = (days >= pd.Timestamp(start)) & (days < pd.Timestamp(start + timedelta(7 * weeks)))
    return pv.loc[inside, "rep_id"].astype(str).value_counts().to_dict()


def plan_all_routes(project: Project, opts: RouteBatchOptions, progress: Progress = no_progress,
                    stop: StopFlag | None = None, save: Callable[[Project], object] | None = None) -> dict:
    """Plan every rep of the project; returns ``{"reps": [...], ...}`` (the JSON of ``route --all``).

    Each entry has ``rep_id`` and either ``planned_visits`` and ``required_visits`` or ``error``; a rep
    skipped because it was already planned (resume) has ``"resumed": true``. ``save(project)`` runs after
    finished reps are stored, at most every :data:`SAVE_EVERY_S` seconds (or 5x the last save's duration),
    and at the end, also after a cancel (default :func:`.project.save_project`)."""
    from .project import save_project

    save = save or save_project
    t0 = time.perf_counter()
    reps = [str(r) for r in project.reps["rep_id"]]
    progress(0.0, f"reading the ownership and visit history of {len(reps)} reps")
    tables = planning_tables(project)
    done = {} if opts.restart else reps_planned_in(project, opts.start, opts.weeks)
    entries = {r: _resumed(project, r, n, opts, tables) for r, n in done.items() if r in reps}
    todo = [r for r in reps if r not in entries]
    if entries:
        progress(0.0, f"{len(entries)} reps already planned for this horizon (resume; --restart plans them again)")
    saver = _Saver(project, save)
    try:
        run_batch(plan_task, [(r, partial(_task_args, project, r, opts, tables)) for r in todo], len(todo),
                  partial(_store, entries, saver), workers=opts.workers, cluster=opts.cluster,
                  progress=progress, stop=stop, noun="reps")
    finally:
        saver.flush()  # what finished before a cancel or an error is kept
    out = [entries[r] for r in reps]
    return {"start": opts.start.isoformat(), "weeks": opts.weeks, "workers": opts.workers if not opts.cluster else None,
            "cluster": opts.cluster, "seconds": round(time.perf_counter() - t0, 2),
            "planned_reps": sum("error" not in e and not e.get("resumed") for e in out),
            "resumed_reps": sum(bool(e.get("resumed")) for e in out), "failed_reps": sum("error" in e for e in out),
            "reps": out}


def _task_args(project: Project, rep_id: str, opts: RouteBatchOptions, tables: PlanningTables) -> tuple:
    rep = project.reps.set_index("rep_id").loc[rep_id]
    inp = rep_plan_input(project, rep_id, opts.start, opts.weeks, opts.holidays, opts.weekdays,
                         day_settings(rep, opts.lunch), opts.provider, opts.traffic, tables=tables)
    return inp, opts.time_limit, opts.seed


def _resumed(project: Project, rep_id: str, rows: int, opts: RouteBatchOptions, tables: PlanningTables) -> dict:
    return {"rep_id": rep_id, "planned_visits": rows,
            "required_visits": required_visit_count(project, rep_id, opts.start, opts.weeks, tables), "resumed": True}


class _Saver:
    """Stores finished reps' rows in the project and saves it, at most every :data:`SAVE_EVERY_S` seconds or
    five times the last save's duration, whichever is longer (with thousands of reps, a table rewrite and a
    save per rep would dominate the run), and once at the end."""

    def __init__(self, project: Project, save: Callable[[Project], object]) -> None:
        self.project, self.save = project, save
        self.pending: dict[str, pd.DataFrame] = {}
        self.next_at = 0.0

    def add(self, rep_id: str, rows: pd.DataFrame) -> None:
        self.pending[rep_id] = rows
        if time.perf_counter() >= self.next_at:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            t0 = time.perf_counter()
            store_reps_rows(self.project, self.pending)
            self.save(self.project)
            took = time.perf_counter() - t0
            self.pending, self.next_at = {}, t0 + took + max(SAVE_EVERY_S, 5 * took)


def _store(entries: dict, saver: _Saver, outcome: TaskOutcome) -> None:
    """Keep a finished rep's rows in the project and save (this process only: workers never write)."""
    entry = {"rep_id": outcome.key, "seconds": round(outcome.seconds, 2), "attempts": outcome.attempts}
    if outcome.error is not None:
        entries[outcome.key] = {**entry, "error": outcome.error}
        return
    result = dict(outcome.value)
    saver.add(outcome.key, result.pop("rows"))
    entries[outcome.key] = {**entry, **result, "resumed": False}
