"""Scenario management, shared by the GUI (scenario manager, one undo step each) and the CLI
(``territory-desktop scenario list|create|rename|duplicate|delete``).

A scenario is a row of ``project.scenarios`` (id, name, ``description`` = the reason, parent, created), its
territories (``project.territories`` rows with its ``scenario_id``) and its :class:`Plan` (units and account
overrides). Creating one copies an existing scenario (default: the active one) whole: territories, plan,
overrides and the dissolved territory shapes, so the copy is an exact starting point for a realignment.
"""

from __future__ import annotations

import pandas as pd

from ..models import InvalidInputError, Plan, Project
from .review import forget_scenario, frozen_reason

__all__ = ["activate_scenario", "add_scenario", "create_scenario", "delete_scenario", "duplicate_scenario", "list_scenarios",
           "new_scenario_id", "rename_scenario", "resolve_scenario", "scenario_name"]


def scenario_name(project: Project, scenario_id: str) -> str:
    """The scenario's display name (its id when it has none)."""
    rows = project.scenarios[project.scenarios["scenario_id"].astype(str) == scenario_id]
    name = rows["name"].iloc[0] if len(rows) else None
    return str(name) if isinstance(name, str) and name.strip() else scenario_id


def _listed(project: Project) -> str:
    return ", ".join(f"{s} ({scenario_name(project, s)})" if scenario_name(project, s) != s else s
                     for s in project.plans) or "none"


def resolve_scenario(project: Project, text: str, field: str = "--scenario") -> str:
    """The id of the scenario named ``text``: an id, or a name (case-insensitive) only one scenario has.
    Raises InvalidInputError naming ``field`` and listing the scenarios otherwise."""
    if text in project.plans:
        return text
    wanted = str(text).strip().casefold()
    hits = [s for s in project.plans if scenario_name(project, s).casefold() == wanted]
    if len(hits) == 1:
        return hits[0]
    reason = f"two or more scenarios are named '{text}' (use the id)" if hits else f"no scenario '{text}'"
    raise InvalidInputError(field, [f"{reason}; the project has: {_listed(project)}"])


def new_scenario_id(project: Project, prefix: str = "scenario") -> str:
    """``prefix-N`` with the smallest N not used yet."""
    used = set(project.scenarios["scenario_id"].astype(str)) | set(project.plans)
    n = 1
    while f"{prefix}-{n}" in used:
        n += 1
    return f"{prefix}-{n}"


def _check_name(name: str) -> str:
    text = str(name or "").strip()
    if not text:
        raise InvalidInputError("scenario name", ["the name is empty"])
    if len(text) > 200:
        raise InvalidInputError("scenario name", [f"the name has {len(text)} characters; at most 200"])
    return text


def add_scenario(project: Project, source: str, name: str, description: str = "", plan: Plan | None = None,
                 prefix: str = "scenario") -> str:
    """Copy scenario ``source`` (its territories, plan and shapes) as a new scenario; ``plan`` replaces the
    copied plan (a balancing proposal). Returns the new id. The one place a scenario is created."""
    if source not in project.plans:
        raise InvalidInputError("scenario", [f"no scenario '{source}' to copy; the project has: {_listed(project)}"])
    sid = new_scenario_id(project, prefix)
    row = {"scenario_id": sid, "name": _check_name(name), "description": str(description or ""),
           "parent_id": source, "created": pd.Timestamp.now("UTC").isoformat(timespec="seconds")}
    project.scenarios = pd.concat([project.scenarios, pd.DataFrame([row])], ignore_index=True) \
        if len(project.scenarios) else pd.DataFrame([row])
    terr = project.territories[project.territories["scenario_id"] == source].copy()
    terr["scenario_id"] = sid
    project.territories = pd.concat([project.territories, terr], ignore_index=True)
    old = project.plans[source]
    project.plans[sid] = plan if plan is not None else Plan(old.as_dict(), old.account_overrides())
    if plan is None:  # the same units per territory: the dissolved shapes are still right
        for (s, t), shape in list(project.territory_shapes.items()):
            if s == source:
                project.territory_shapes[(sid, t)] = shape
    project.mark_dirty("territories", "plans", "scenarios")
    project.log("scenario created", f"{sid} '{row['name']}' from {source}")
    return sid


def create_scenario(project: Project, name: str, description: str = "", source: str | None = None) -> str:
    """A new scenario: a copy of the active alignment (or of ``source``) named ``name`` with its reason."""
    return add_scenario(project, source or project.active_scenario, name, description)


def duplicate_scenario(project: Project, scenario_id: str, name: str | None = None) -> str:
    """A copy of ``scenario_id``, named "NAME (copy)" unless ``name`` is given; keeps its reason."""
    if scenario_id not in project.plans:
        raise InvalidInputError("scenario", [f"no scenario '{scenario_id}'; the project has: {_listed(project)}"])
    rows = project.scenarios[project.scenarios["scenario_id"].astype(str) == scenario_id]
    reason = rows["description"].iloc[0] if len(rows) else ""
    return add_scenario(project, scenario_id, name or f"{scenario_name(project, scenario_id)} (copy)",
                        reason if isinstance(reason, str) else "")


def rename_scenario(project: Project, scenario_id: str, name: str, description: str | None = None) -> None:
    """Rename a scenario (and, when ``description`` is given, change its reason)."""
    mask = project.scenarios["scenario_id"].astype(str) == scenario_id
    if scenario_id not in project.plans or not mask.any():
        raise InvalidInputError("scenario", [f"no scenario '{scenario_id}'; the project has: {_listed(project)}"])
    _check_not_frozen(project, scenario_id)
    scen = project.scenarios.copy()
    old = scenario_name(project, scenario_id)
    scen.loc[mask, "name"] = _check_name(name)
    if description is not None:
        scen.loc[mask, "description"] = str(description)
    project.scenarios = scen
    project.mark_dirty("scenarios")
    project.log("scenario renamed", f"{scenario_id} '{old}' -> '{scen.loc[mask, 'name'].iloc[0]}'")


def activate_scenario(project: Project, scenario_id: str) -> None:
    """Make ``scenario_id`` the active scenario (the one the window shows and commands use by default)."""
    if scenario_id not in project.plans:
        raise InvalidInputError("scenario", [f"no scenario '{scenario_id}'; the project has: {_listed(project)}"])
    if scenario_id != project.active_scenario:
        project.active_scenario = scenario_id
        project.mark_dirty("scenarios")


def _check_not_frozen(project: Project, scenario_id: str) -> None:
    """A scenario under review or published keeps its name and rows (the review flow says which are)."""
    reason = frozen_reason(project, scenario_id)
    if reason:
        raise InvalidInputError("scenario", [reason])


def _in_force(project: Project, scenario_id: str) -> bool:
    return any(isinstance(plan, str) and plan == scenario_id for _d, plan in (project.plans_in_force or []))


def delete_scenario(project: Project, scenario_id: str) -> None:
    """Delete a scenario with its territories and plan. Refused for the last scenario, the active one and a
    plan in force (its history attributes past sales); children are re-parented to its parent."""
    if scenario_id not in project.plans:
        raise InvalidInputError("scenario", [f"no scenario '{scenario_id}'; the project has: {_listed(project)}"])
    name = scenario_name(project, scenario_id)
    if len(project.plans) == 1:
        raise InvalidInputError("scenario", [f"'{name}' is the project's only scenario; a project keeps one"])
    if scenario_id == project.active_scenario:
        raise InvalidInputError("scenario", [f"'{name}' is the scenario shown; switch to another one first"])
    if _in_force(project, scenario_id):
        raise InvalidInputError("scenario", [f"'{name}' is a plan in force: past sales are attributed to it"])
    _check_not_frozen(project, scenario_id)
    scen = project.scenarios
    parent = scen.loc[scen["scenario_id"].astype(str) == scenario_id, "parent_id"]
    scen = scen[scen["scenario_id"].astype(str) != scenario_id].copy()
    scen.loc[scen["parent_id"] == scenario_id, "parent_id"] = parent.iloc[0] if len(parent) else None
    project.scenarios = scen.reset_index(drop=True)
    t = project.territories
    project.territories = t[t["scenario_id"] != scenario_id].reset_index(drop=True)
    del project.plans[scenario_id]
    forget_scenario(project, scenario_id)  # a new scenario of this id starts as a draft
    for key in [k for k in project.territory_shapes if k[0] == scenario_id]:
        del project.territory_shapes[key]
    project.mark_dirty("territories", "plans", "scenarios")
    project.log("scenario deleted", f"{scenario_id} '{name}'")


def list_scenarios(project: Project) -> list[dict]:
    """One dict per scenario, in the project's order: scenario_id, name, description, parent_id, created,
    active, territories (geographic and account), units_assigned, units_changed_from_parent."""
    scen = project.scenarios.set_index(project.scenarios["scenario_id"].astype(str))
    out = []
    for sid, plan in project.plans.items():
        row = scen.loc[sid] if sid in scen.index else {}
        parent = row.get("parent_id") if len(row) else None
        parent = parent if isinstance(parent, str) and parent in project.plans else None
        mine = plan.as_dict()
        changed = None
        if parent is not None:
            theirs = project.plans[parent].as_dict()
            changed = sum(1 for u in set(mine) | set(theirs) if mine.get(u) != theirs.get(u))
        out.append({"scenario_id": sid, "name": scenario_name(project, sid),
                    "description": _text(row.get("description") if len(row) else ""), "parent_id": parent,
                    "created": _text(row.get("created") if len(row) else ""),
                    "active": sid == project.active_scenario,
                    "territories": len(project.scenario_territories(sid)),
                    "units_assigned": sum(1 for t in mine.values() if t is not None),
                    "units_changed_from_parent": changed})
    return out


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)
