"""Territory operations on a Project, Qt-free: create, rename, recolour, merge, delete, lock/unlock.

Each function changes the project in place, marks the changed tables dirty and raises
:class:`InfeasibleError` (naming the territory, unit or colour at fault) before changing anything when the
request cannot be met. The GUI wraps them in undo commands; the CLI can call them directly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

import pandas as pd

from ..engine.colouring import least_used_colour, neighbour_colours
from ..models import InfeasibleError, Project
from ..models.fields import TERRITORY_LEVELS
from ..models.project import TERRITORY_COLUMNS
from .review import check_editable

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def _rows(project: Project, scenario_id: str | None = None) -> pd.Series:
    sid = scenario_id or project.active_scenario
    return project.territories["scenario_id"] == sid


def _require(project: Project, territory_id: str, scenario_id: str | None = None) -> int:
    """Row index of a territory of the scenario, which must be editable (not under review); raises
    InfeasibleError naming it if absent."""
    check_editable(project, scenario_id)
    mask = _rows(project, scenario_id) & (project.territories["territory_id"] == territory_id)
    if not mask.any():
        sid = scenario_id or project.active_scenario
        raise InfeasibleError(f"no territory '{territory_id}' in scenario '{sid}'")
    return int(mask.to_numpy().nonzero()[0][0])


def new_territory_id(project: Project, prefix: str = "T") -> str:
    """A territory id not yet used in any scenario: ``prefix`` followed by the next free number."""
    used = set(project.territories["territory_id"].astype(str))
    n = len(used) + 1
    while f"{prefix}{n:03d}" in used:
        n += 1
    return f"{prefix}{n:03d}"


def create_territory(project: Project, name: str, colour: str | None = None, rep_id: str | None = None,
                     parent_id: str | None = None, level: str = "territory", kind: str = "geographic",
                     rule: dict | str | None = None, territory_id: str | None = None,
                     scenario_id: str | None = None) -> str:
    """Add a territory (or district/region with ``level``) to the scenario; returns its id.

    ``kind="account"`` territories need a ``rule`` such as ``{"industry": ["Healthcare"],
    "size_class": ["Enterprise"]}`` or ``{"account_ids": ["A1", "A2"]}`` (see services.metrics).
    """
    sid = scenario_id or project.active_scenario
    check_editable(project, sid)
    name = (name or "").strip()
    if not name:
        raise InfeasibleError("a territory needs a name")
    if level not in TERRITORY_LEVELS:
        raise InfeasibleError(f"level '{level}' is not one of {', '.join(TERRITORY_LEVELS)}")
    if kind not in ("geographic", "account"):
        raise InfeasibleError(f"kind '{kind}' is not 'geographic' or 'account'")
    if kind == "account" and not rule:
        raise InfeasibleError(f"account territory '{name}' needs a rule, e.g. {{\"industry\": [\"Healthcare\"]}}")
    if isinstance(rule, str):
        try:
            rule = json.loads(rule)
        except json.JSONDecodeError as exc:
            raise InfeasibleError(f"rule of territory '{name}' is not valid JSON: {exc}") from None
    if colour is not None and not _HEX.match(colour):
        raise InfeasibleError(f"colour '{colour}' is not #RRGGBB")
    if parent_id is not None:
        _require(project, parent_id, sid)
    tid = territory_id or new_territory_id(project)
    if (_rows(project, sid) & (project.territories["territory_id"] == tid)).any():
        raise InfeasibleError(f"territory id '{tid}' already exists in scenario '{sid}'")
    if colour is None:
        colour = least_used_colour(project.territories.loc[_rows(project, sid), "colour"].tolist())
    row = {"scenario_id": sid, "territory_id": tid, "name": name, "colour": colour, "rep_id": rep_id,
           "parent_id": parent_id, "level": level, "kind": kind,
           "rule": json.dumps(rule) if isinstance(rule, dict) else rule}
    new = pd.DataFrame([row], columns=TERRITORY_COLUMNS)
    project.territories = new if project.territories.empty else \
        pd.concat([project.territories, new], ignore_index=True)
    project.mark_dirty("territories")
    return tid


def rename_territory(project: Project, territory_id: str, name: str) -> str:
    """Rename a territory; returns the old name."""
    i = _require(project, territory_id)
    name = (name or "").strip()
    if not name:
        raise InfeasibleError(f"territory '{territory_id}' needs a non-empty name")
    old = project.territories.at[project.territories.index[i], "name"]
    project.territories.loc[project.territories.index[i], "name"] = name
    project.mark_dirty("territories")
    return str(old)


def recolour_territory(project: Project, territory_id: str, colour: str) -> str:
    """Set a territory's colour (``#RRGGBB``); returns the old colour."""
    i = _require(project, territory_id)
    if not _HEX.match(colour or ""):
        raise InfeasibleError(f"colour '{colour}' of territory '{territory_id}' is not #RRGGBB")
    label = project.territories.index[i]
    old = project.territories.at[label, "colour"]
    project.territories.loc[label, "colour"] = colour
    project.mark_dirty("territories")
    return str(old)


def auto_colour_territories(project: Project, scenario_id: str | None = None) -> dict[str, str]:
    """Recolour the scenario's territories from the large palette so that touching territories always
    differ and colours repeat only far apart (``engine.colouring.neighbour_colours``); returns the new
    colour per territory id. Territories without units keep their place in the palette order."""
    import numpy as np
    import shapely

    from .validation import unit_adjacency

    sid = scenario_id or project.active_scenario
    check_editable(project, sid)
    rows = _rows(project, sid) & (project.territories["level"] == "territory")
    tids = project.territories.loc[rows, "territory_id"].astype(str).tolist()
    if not tids:
        return {}
    index = {t: i for i, t in enumerate(tids)}
    plan = project.plans[sid]
    code = np.array([index.get(plan.territory_of(u), -1) for u in project.units["unit_id"].astype(str)])
    pts = shapely.get_coordinates(shapely.point_on_surface(project.units.geometry.to_numpy()))
    a, b = unit_adjacency(project.units.geometry.to_numpy()) if len(code) else (np.zeros(0, int),) * 2
    keep = (code[a] >= 0) & (code[b] >= 0) & (code[a] != code[b])
    pairs = np.unique(np.sort(np.column_stack([code[a][keep], code[b][keep]]), axis=1), axis=0)
    centres = np.zeros((len(tids), 2))
    for i in range(len(tids)):
        mine = pts[code == i]
        if len(mine):  # lon/lat -> rough km, enough to spread repeats apart
            centres[i] = mine.mean(axis=0) * np.array([np.cos(np.radians(mine[:, 1].mean())), 1.0]) * 111
    colours = dict(zip(tids, neighbour_colours(len(tids), pairs, centres), strict=True))
    labels = project.territories.index[rows]
    project.territories.loc[labels, "colour"] = [colours[t] for t in tids]
    project.mark_dirty("territories")
    return colours


def set_parent(project: Project, territory_id: str, parent_id: str | None) -> None:
    """Put a territory under a district (or a district under a region); None detaches it."""
    i = _require(project, territory_id)
    if parent_id is not None:
        _require(project, parent_id)
        if parent_id == territory_id:
            raise InfeasibleError(f"territory '{territory_id}' cannot be its own parent")
    project.territories.loc[project.territories.index[i], "parent_id"] = parent_id
    project.mark_dirty("territories")


def assign_rep(project: Project, territory_id: str, rep_id: str | None) -> str | None:
    """Give a territory to a rep (None = vacant); returns the previous rep id."""
    i = _require(project, territory_id)
    if rep_id is not None and rep_id not in set(project.reps["rep_id"].astype(str)):
        raise InfeasibleError(f"no rep '{rep_id}' for territory '{territory_id}'")
    label = project.territories.index[i]
    old = project.territories.at[label, "rep_id"]
    project.territories.loc[label, "rep_id"] = rep_id
    project.mark_dirty("territories")
    return None if pd.isna(old) else str(old)


def merge_territories(project: Project, target_id: str, source_ids: Iterable[str]) -> int:
    """Move every unit and account override of ``source_ids`` to ``target_id`` and delete the sources.
    Children of a source move under the target. Returns the number of units moved."""
    sources = [s for s in dict.fromkeys(source_ids) if s != target_id]
    _require(project, target_id)
    for s in sources:
        _require(project, s)
    if not sources:
        raise InfeasibleError(f"nothing to merge into '{target_id}': pick at least one other territory")
    plan = project.plan
    moved = {u: target_id for u, t in plan.as_dict().items() if t in sources}
    plan.assign_many(moved)
    overrides = {a: target_id for a, t in plan.account_overrides().items() if t in sources}
    if overrides:
        plan.set_account_overrides(overrides)
    t = project.territories
    in_scenario = _rows(project)
    t.loc[in_scenario & t["parent_id"].isin(sources), "parent_id"] = target_id
    project.territories = t[~(in_scenario & t["territory_id"].isin(sources))].reset_index(drop=True)
    project.mark_dirty("territories", "plans")
    return len(moved)


def delete_territory(project: Project, territory_id: str) -> int:
    """Delete a territory: its units become orphans, its account overrides are cleared and its
    children are detached. Returns the number of units orphaned."""
    _require(project, territory_id)
    plan = project.plan
    orphaned = [u for u, t in plan.as_dict().items() if t == territory_id]
    plan.assign(orphaned, None)
    cleared = {a: None for a, t in plan.account_overrides().items() if t == territory_id}
    if cleared:
        plan.set_account_overrides(cleared)
    t = project.territories
    in_scenario = _rows(project)
    t.loc[in_scenario & (t["parent_id"] == territory_id), "parent_id"] = None
    project.territories = t[~(in_scenario & (t["territory_id"] == territory_id))].reset_index(drop=True)
    project.mark_dirty("territories", "plans")
    return len(orphaned)


def set_units_locked(project: Project, unit_ids: Iterable[str], locked: bool) -> dict[str, bool]:
    """Lock (or unlock) units so the balancer and the brush leave them alone; returns previous states."""
    ids = list(dict.fromkeys(unit_ids))
    units = project.units
    known = set(units["unit_id"].astype(str))
    missing = [u for u in ids if u not in known]
    if missing:
        raise InfeasibleError(f"{len(missing)} unknown unit(s): {', '.join(missing[:10])}")
    if "locked" not in units:
        units["locked"] = False
    mask = units["unit_id"].astype(str).isin(ids).to_numpy()
    previous = dict(zip(units.loc[mask, "unit_id"].astype(str), units.loc[mask, "locked"].fillna(False).astype(bool),
                        strict=True))
    units.loc[mask, "locked"] = bool(locked)
    project.mark_dirty("units")
    return previous


def move_accounts(project: Project, account_ids: Iterable[str], territory_id: str | None) -> dict[str, str | None]:
    """Account override: the accounts belong to ``territory_id`` wherever they lie (None clears the
    override). Returns the previous overrides."""
    check_editable(project)
    ids = list(dict.fromkeys(account_ids))
    known = set(project.accounts["account_id"].astype(str))
    missing = [a for a in ids if a not in known]
    if missing:
        raise InfeasibleError(f"{len(missing)} unknown account(s): {', '.join(missing[:10])}")
    if territory_id is not None:
        _require(project, territory_id)
    previous = project.plan.set_account_overrides({a: territory_id for a in ids})
    project.mark_dirty("plans")
    return previous
