"""Honour edits made to the project file in other programs (QGIS, ArcGIS, ogr2ogr) when it is opened.

The GeoPackage is meant to be edited next to Territory Desktop, so opening it checks what such edits can
leave inconsistent, repairs it the way the planner would expect, and says what it did in
``Project.open_notes`` (shown by the window and by ``info``):

- an account point moved (or added) in GIS is placed in the unit it now lies in (looked for only when the
  file's edit stamp, ``storage.edit_stamp``, counts such an edit since the last save);
- units assigned to a territory that was deleted from the territories layer become unassigned (orphans,
  listed by the validation), and account overrides pointing at it are dropped;
- territories whose units were reassigned (in the ``assignments`` table) get their polygon and totals
  redrawn on the next save.
Each repair marks the tables it changed, so the next save writes it; nothing is written on open.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..models import Project
from ..models.plan import units_digest
from ..storage import project_file
from .placement import units_of_accounts

SHOWN = 10


def reconcile(project: Project) -> None:
    """Repair what edits in other programs left inconsistent; notes in ``project.open_notes``.

    Accounts are placed again only when the file's edit stamp says account points or units were edited
    outside the application since its last save (or the file is older than the stamp)."""
    if project_file.placement_may_be_stale(project):
        _replace_moved_accounts(project)
    for sid in list(project.plans):
        _orphan_missing_territories(project, sid)
    if _layer_is_stale(project):
        project.mark_dirty("layer")


def _ids(values) -> str:
    values = list(values)
    shown = ", ".join(map(str, values[:SHOWN]))
    return shown + (f" and {len(values) - SHOWN} more" if len(values) > SHOWN else "")


def _replace_moved_accounts(project: Project) -> None:
    if not len(project.accounts) or not len(project.units):
        return
    placed = units_of_accounts(project)
    current = project.accounts["unit_id"].to_numpy(dtype=object)
    moved = np.flatnonzero(pd.Series(placed).fillna("\0").to_numpy() != pd.Series(current).fillna("\0").to_numpy())
    if not len(moved):
        return
    project.accounts["unit_id"] = pd.Series(placed, index=project.accounts.index, dtype=object)
    ids = project.accounts["account_id"].to_numpy()[moved]
    changes = [f"{a} ({current[i] or 'no unit'} -> {placed[i] or 'no unit'})" for a, i in zip(ids, moved, strict=True)]
    project.open_notes.append(f"{len(moved)} account(s) lie in another unit than recorded (moved or added in "
                              f"another program) and were placed again: {_ids(changes)}")
    project.mark_dirty("accounts")


def _orphan_missing_territories(project: Project, sid: str) -> None:
    plan = project.plans[sid]
    terr = project.territories
    known = set(terr.loc[terr["scenario_id"] == sid, "territory_id"])
    assigned = plan.as_dict()
    lost: dict[str, list[str]] = {}
    for unit, t in assigned.items():
        if t is not None and t not in known:
            lost.setdefault(t, []).append(unit)
    for t, units in sorted(lost.items()):
        plan.assign(units, None)
        project.open_notes.append(
            f"scenario {sid}: territory {t} is not in the territories layer (deleted in another program?); "
            f"its {len(units)} unit(s) are now unassigned (orphans): {_ids(sorted(units))}")
    dropped = {a: None for a, t in plan.account_overrides().items() if t not in known}
    if dropped:
        plan.set_account_overrides(dropped)
        project.open_notes.append(f"scenario {sid}: {len(dropped)} account override(s) pointed at territories "
                                  f"that no longer exist and were dropped: {_ids(sorted(dropped))}")
    if lost or dropped:
        project.mark_dirty("plans")


def _layer_is_stale(project: Project) -> bool:
    """True when a territory's stored polygon was not dissolved from its current units."""
    terr = project.territories
    for sid, plan in project.plans.items():
        units_by_territory: dict[str | None, list[str]] = {}
        for unit, t in plan.as_dict().items():
            units_by_territory.setdefault(t, []).append(unit)
        rows = terr[(terr["scenario_id"] == sid) & (terr["level"] == "territory")]
        for t in rows["territory_id"]:
            shape = project.territory_shapes.get((sid, t))
            if shape is None or shape.units_key != units_digest(units_by_territory.get(t, [])):
                return True
    return False
