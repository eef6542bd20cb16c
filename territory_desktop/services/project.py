"""Open, save and summarise projects (the use-cases behind File > Open/Save and ``info``)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..engine.geometry import dissolve
from ..models import Project, ProjectFileError
from ..models.plan import units_digest
from ..models.project import TerritoryShape
from ..storage import lock, project_file
from .metrics import territory_totals
from .reconcile import reconcile
from .review import refresh_freeze

#: dirty flags after which the territories layer (polygons, totals) must be brought up to date
LAYER_INPUTS = {"units", "accounts", "plans", "territories", "scenarios", "layer"}


def open_project(path: str | os.PathLike, for_writing: bool = False, history: bool = True) -> Project:
    """Load a project file (upgrading an older schema). Raises ProjectFileError with the reason.

    Edits made in other programs since the last save are reconciled and listed in ``open_notes``.
    ``for_writing`` first checks that no other process has the project open for editing (so a command
    that will save fails before its work, not after). ``history=False`` leaves the sales, visits and
    opportunities for later (the GUI shows the map first): :func:`ensure_history` reads them, and every
    use-case that needs them calls it (saving does, unless it is in place and writes no history table).
    """
    if for_writing:
        lock.check_free(path)
    project = project_file.load(path, history=history)
    project.path = str(path)
    reconcile(project)
    refresh_freeze(project)
    return project


def ensure_history(project: Project, tables: dict[str, pd.DataFrame] | None = None) -> None:
    """Fill in the history tables of a project opened with ``history=False`` (``tables`` as read by
    :func:`read_project_history`, else read now). A no-op once they are there."""
    if not project.history_pending:
        return
    if tables is None:
        tables = read_project_history(project.path)
    project_file.attach_history(project, tables)


def read_project_history(path: str | os.PathLike | None, pause=None) -> dict[str, pd.DataFrame]:
    """The sales, visits and opportunities of a project file, with the file revision they were read at
    (safe to call in a worker thread; ``pause()`` is called between chunks of rows)."""
    if path is None:
        raise ProjectFileError("the project has no file to read its history from")
    return project_file.read_history(path, pause)


def hold_for_editing(path: str | os.PathLike, program: str = "Territory Desktop") -> str | None:
    """Take the project's lock while a window has it open; None when held, else why it is not (another
    process has it open: the window still shows it, and its saves are refused with that reason)."""
    try:
        lock.acquire(path, program)
    except lock.ProjectBusyError as exc:
        return str(exc)
    return None


def release_editing(path: str | os.PathLike | None) -> None:
    """Give the project's lock back (closing the window or the project)."""
    if path:
        lock.release(path)


def save_project(project: Project, path: str | os.PathLike | None = None) -> Path:
    """Save atomically to ``path`` (default: where it came from), refreshing the territories layer.

    Saving to the file it came from writes only the rows that changed, in one transaction; saving to a new
    path writes a complete file under a temporary name and renames it into place.
    """
    target = Path(path) if path is not None else (Path(project.path) if project.path else None)
    if target is None:
        raise ProjectFileError("the project has never been saved: choose a file name")
    same_file = project.path is not None and target.exists() and os.path.samefile(target, project.path)
    project.save_notes = []
    _bring_history(project, target, same_file)  # never write a file without the history it came with
    if project.dirty & LAYER_INPUTS or not same_file:
        refresh_territory_layer(project)
        project.mark_dirty("layer")
    if same_file:
        project_file.save_changes(project, target)
    else:
        project_file.save_new(project, target)
    project.path = str(target)
    return target


def _bring_history(project: Project, target: Path, same_file: bool) -> None:
    """Read the history of a project opened map-first before it is saved (unless the save is in place and
    writes no history table: then the file keeps its own, and a read of it can still be attached later).

    When the file changed since it was opened (another process saved it while the window was still reading
    the history), an in-place save is refused, with the way out: Save As. Save As is never stuck: it takes
    the history as the file holds it now, or, when the file cannot be read any more, saves without the
    history this window never loaded; either way ``project.save_notes`` says so.
    """
    if same_file and not project_file.writes_history(project):
        return  # the file keeps the history it has; a save that does not write it need not read it
    try:
        ensure_history(project)
        return
    except ProjectFileError as exc:
        if same_file:
            raise ProjectFileError(f"{exc}; nothing was saved: use Save As to keep this window's version in a "
                                   "new file") from exc
    source = Path(project.path or "")
    what = "sales, visits and opportunities"
    try:
        tables = read_project_history(project.path)
    except ProjectFileError as exc:
        project.history_pending = False  # the history tables stay empty in the new file
        project.save_notes.append(
            f"{target.name} was saved without the {what}: this window had not loaded them yet and "
            f"{source.name} cannot be read now ({exc}). If {source.name} still exists, they are still in it.")
        return
    project_file.attach_history(project, tables, any_revision=True)
    project.save_notes.append(
        f"{source.name} was saved by another window or process while this one was still loading its {what}; "
        f"{target.name} has them as that save left them (file revision {tables['revision'][0]}: "
        f"{len(project.sales):,} sales rows, {len(project.visits):,} visits, "
        f"{len(project.opportunities):,} opportunities), and this window's version of everything else.")


def refresh_territory_layer(project: Project) -> None:
    """Bring ``project.territory_shapes`` up to date for every scenario and hierarchy level.

    A territory is dissolved again only when its units changed since its polygon was made (its
    ``units_key``), or when the units themselves changed; totals are recomputed (cheap). Districts and
    regions are the union of their child territories (``parent_id`` roll-up).
    """
    reuse = "units" not in project.dirty
    unit_ids = project.units["unit_id"].to_numpy(dtype=object)
    geoms = project.units.geometry.to_numpy()
    shapes: dict[tuple[str, str], TerritoryShape] = {}
    for sid, plan in project.plans.items():
        terr = project.territories[project.territories["scenario_id"] == sid]
        if not len(terr):
            continue
        labels = pd.Series(unit_ids).map(plan.as_dict()).to_numpy(dtype=object)
        members = pd.Series(np.arange(len(unit_ids))).groupby(labels, dropna=True).apply(list).to_dict()
        totals = territory_totals(project, sid).set_index("territory_id")
        for t in terr[terr["level"] == "territory"]["territory_id"]:
            idx = members.get(t, [])
            key = units_digest(unit_ids[idx])
            old = project.territory_shapes.get((sid, t)) if reuse else None
            geometry = old.geometry if old is not None and old.units_key == key else (
                dissolve(geoms[idx], np.zeros(len(idx), dtype=object)).get(0) if idx else None)
            shapes[(sid, t)] = _shape(key, geometry, totals, t)
        _roll_up(project, terr, sid, shapes, {t: unit_ids[i] for t, i in members.items()}, reuse)
    project.territory_shapes = shapes


def _shape(key: str, geometry, totals: pd.DataFrame, t: str) -> TerritoryShape:
    if t not in totals.index:
        return TerritoryShape(key, geometry)
    row = totals.loc[t]
    return TerritoryShape(key, geometry, int(row["units"]), int(row["accounts"]), float(row["workload_hours"]),
                          float(row["potential"]))


def _roll_up(project: Project, terr: pd.DataFrame, sid: str, shapes: dict, units_of: dict, reuse: bool) -> None:
    """District and region shapes: the union and sums of their children (territories, then districts).

    A parent is keyed by all the units below it, so units moved between two territories of one district
    leave the district's polygon as it was (no dissolve)."""
    children_of = {p: list(g) for p, g in terr.groupby("parent_id")["territory_id"]}
    for level in ("district", "region"):
        for p in terr[terr["level"] == level]["territory_id"]:
            children = children_of.get(p, [])
            pairs = [(c, shapes[(sid, c)]) for c in children if (sid, c) in shapes]
            parts = [s for _c, s in pairs]
            below = [u for c, _s in pairs for u in units_of.get(c, ())]
            units_of[p] = below
            key = units_digest(below)
            old = project.territory_shapes.get((sid, p)) if reuse else None
            pieces = [s.geometry for s in parts if s.geometry is not None]
            if old is not None and old.units_key == key:
                geometry = old.geometry
            else:
                geometry = dissolve(np.array(pieces, dtype=object), np.zeros(len(pieces), dtype=object)).get(0) \
                    if pieces else None
            sums = [sum((getattr(s, k) or 0) for s in parts) for k in ("units", "accounts", "workload_hours",
                                                                         "potential")]
            shapes[(sid, p)] = TerritoryShape(key, geometry, int(sums[0]), int(sums[1]), float(sums[2]),
                                              float(sums[3]))
