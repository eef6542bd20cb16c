"""The review flow of scenarios (draft -> proposed -> approved -> published, send-back to draft), the
freeze of scenarios under review, published snapshots and the plans in force.

``check_editable`` is the one guard every edit path calls (territory edits, imports); the scenario's
:class:`Plan` carries the same refusal (``Plan.frozen``, set here by :func:`refresh_freeze`), so a brush
stroke, an undo, a balance or an import that would change a frozen scenario's assignments is refused too.
Publishing keeps a snapshot of the scenario (its territories and assignments) and makes it the plan in
force from a date (``Project.plans_in_force``): KPIs attribute a sale to the plan in force on its date.
"""

from __future__ import annotations

import dataclasses
import json

import pandas as pd

from ..models import InfeasibleError, InvalidInputError, Plan, Project
from ..models.project import SCENARIO_COLUMNS, TERRITORY_COLUMNS
from ..models.review import FROZEN_STATES, REVIEW_COLUMNS, TRANSITIONS
from .people import current_user, note_user


def now() -> str:
    """``storage.project_file.now`` (the time stamp the file stores), imported when first needed: the
    storage module pulls in SQLAlchemy, which the window's start-up does not need (``ui.actions`` imports
    ``services.editing``, which imports this module)."""
    from ..storage.project_file import now as stamp

    return stamp()


def _require_scenario(project: Project, scenario_id: str) -> None:
    if scenario_id not in project.plans:
        listed = ", ".join(project.plans) or "none"
        raise InvalidInputError("--scenario", [f"no scenario '{scenario_id}'; the project has: {listed}"])


def last_review(project: Project, scenario_id: str) -> dict | None:
    """The latest state change of a scenario (a row of ``scenario_reviews``), or None (never reviewed)."""
    r = project.scenario_reviews
    rows = r[r["scenario_id"] == scenario_id]
    if not len(rows):
        return None
    row = rows.iloc[-1]
    return {c: (None if pd.isna(row[c]) else row[c]) for c in REVIEW_COLUMNS}


def describe(project: Project, scenario_id: str) -> str:
    """The scenario's state in words: "draft" (never reviewed), "proposed by alice on 2026-12-01", "published by bob on
    2026-12-02, in force from 2027-01-01"."""
    last = last_review(project, scenario_id)
    if not last:
        return "draft"
    text = f"{last['status']} by {last['user'] or 'unknown'} on {str(last['ts'] or '')[:10]}"
    return text + (f", in force from {last['from_date']}" if last["from_date"] else "")


def status(project: Project, scenario_id: str) -> str:
    """The review state of a scenario: draft, proposed, approved or published."""
    last = last_review(project, scenario_id)
    return str(last["status"]) if last else "draft"


def frozen_reason(project: Project, scenario_id: str) -> str | None:
    """Why the scenario refuses edits (it is under review or published), or None when it is a draft."""
    last = last_review(project, scenario_id)
    if not last or last["status"] not in FROZEN_STATES:
        return None
    when = str(last["ts"] or "")[:10]
    return (f"scenario '{scenario_id}' is {last['status']} (by {last['user'] or 'unknown'} on {when}) and "
            f"cannot be edited: send it back to draft first (review --scenario {scenario_id} send-back)")


def check_editable(project: Project, scenario_id: str | None = None) -> None:
    """The guard of every edit: raises InfeasibleError naming the scenario and its state when frozen."""
    reason = frozen_reason(project, scenario_id or project.active_scenario)
    if reason:
        raise InfeasibleError(reason)


def refresh_freeze(project: Project) -> None:
    """Set every plan's refusal (``Plan.frozen``) from its scenario's review state."""
    for sid, plan in project.plans.items():
        plan.frozen = frozen_reason(project, sid)


def transition(project: Project, scenario_id: str, action: str, from_date: str | None = None,
               note: str = "") -> dict:
    """Move a scenario one step of the review flow (``propose``, ``approve``, ``publish``, ``send-back``);
    returns the review row. ``publish`` keeps a snapshot and puts it in force from ``from_date`` (ISO date,
    default today). Raises InfeasibleError when the step does not start from the scenario's state."""
    _require_scenario(project, scenario_id)
    if action not in TRANSITIONS:
        raise InvalidInputError("review", [f"'{action}' is not one of {', '.join(TRANSITIONS)}"])
    starts, target = TRANSITIONS[action]
    state = status(project, scenario_id)
    if state not in starts:
        needed = " or ".join(starts)
        raise InfeasibleError(f"scenario '{scenario_id}' is {state}: '{action}' needs a{'n' * (needed[0] in 'aeiou')} "
                              f"{needed} scenario")
    day = snapshot = None
    if action == "publish":
        day = _iso_date(from_date)
        snapshot = take_snapshot(project, scenario_id, note)
        _put_in_force(project, day, snapshot)
    row = {"scenario_id": scenario_id, "status": target, "user": note_user(project, current_user(project)), "ts": now(),
           "note": note or None, "from_date": day, "snapshot_id": snapshot}
    project.scenario_reviews = pd.concat([project.scenario_reviews, pd.DataFrame([row])], ignore_index=True)
    project.mark_dirty("scenario_reviews")
    project.log(f"review {action}", f"scenario {scenario_id}: {state} -> {target}"
                + (f" in force from {row['from_date']} (snapshot {row['snapshot_id']})" if row["from_date"] else ""))
    refresh_freeze(project)
    return row


def _iso_date(text: str | None) -> str:
    if text is None:
        return pd.Timestamp.now("UTC").strftime("%Y-%m-%d")
    try:
        return pd.Timestamp(str(text)).strftime("%Y-%m-%d")
    except ValueError:
        raise InvalidInputError("--from", [f"'{text}' is not a date (YYYY-MM-DD)"]) from None


def _put_in_force(project: Project, from_date: str, ref: str) -> None:
    kept = [(d, r) for d, r in project.plans_in_force if str(d) != from_date]
    project.plans_in_force = sorted([*kept, (from_date, ref)], key=lambda e: str(e[0]))
    project.mark_dirty("plans_in_force")


def _clean(value):
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def take_snapshot(project: Project, scenario_id: str, note: str = "") -> str:
    """Keep the scenario's territories, unit assignments and account overrides as they are now; returns
    the snapshot id (``SCENARIO@N``)."""
    taken = project.snapshots["scenario_id"] == scenario_id
    sid = f"{scenario_id}@{int(taken.sum()) + 1}"
    while sid in set(project.snapshots["snapshot_id"]):
        sid += "+"
    terr = project.territories[project.territories["scenario_id"] == scenario_id]
    rows = [{c: _clean(r[c]) for c in TERRITORY_COLUMNS if c != "scenario_id"} for _i, r in terr.iterrows()]
    plan = project.plans[scenario_id]
    row = {"snapshot_id": sid, "scenario_id": scenario_id, "created": now(), "user": current_user(project),
           "note": note or None, "territories": json.dumps(rows), "assignments": json.dumps(plan.as_dict()),
           "account_assignments": json.dumps(plan.account_overrides())}
    project.snapshots = pd.concat([project.snapshots, pd.DataFrame([row])], ignore_index=True)
    project.mark_dirty("snapshots")
    return sid


def _snapshot_row(project: Project, snapshot_id: str) -> pd.Series:
    rows = project.snapshots[project.snapshots["snapshot_id"] == snapshot_id]
    if not len(rows):
        raise InvalidInputError("snapshot", [f"no snapshot '{snapshot_id}'"])
    return rows.iloc[-1]


def snapshot_contents(project: Project, snapshot_id: str) -> tuple[Plan, pd.DataFrame]:
    """The plan and the territory rows (``scenario_id`` = the snapshot id) a snapshot kept."""
    row = _snapshot_row(project, snapshot_id)
    terr = pd.DataFrame(json.loads(row["territories"] or "[]"), columns=TERRITORY_COLUMNS[1:])
    terr.insert(0, "scenario_id", snapshot_id)
    return Plan(json.loads(row["assignments"] or "{}"), json.loads(row["account_assignments"] or "{}")), terr


def snapshot_project(project: Project, snapshot_id: str) -> Project:
    """A view of the project whose only scenario is the snapshot (id = snapshot id), for ownership rules."""
    plan, terr = snapshot_contents(project, snapshot_id)
    return dataclasses.replace(project, plans={snapshot_id: plan}, territories=terr, active_scenario=snapshot_id)


def is_snapshot(project: Project, ref: str) -> bool:
    return bool((project.snapshots["snapshot_id"] == ref).any())


def latest_snapshot(project: Project, scenario_id: str, on_date: str | None = None) -> str:
    """The snapshot to restore: the plan in force on ``on_date`` (a snapshot), else the scenario's latest."""
    if on_date is not None:
        day = _iso_date(on_date)
        before = [r for d, r in sorted(project.plans_in_force, key=lambda e: str(e[0])) if str(d) <= day]
        if not before or not isinstance(before[-1], str) or not is_snapshot(project, before[-1]):
            raise InfeasibleError(f"no published snapshot was in force on {day}")
        return before[-1]
    taken = project.snapshots[project.snapshots["scenario_id"] == scenario_id]
    if not len(taken):
        raise InfeasibleError(f"scenario '{scenario_id}' has no snapshot: only a published scenario keeps one")
    return str(taken["snapshot_id"].iloc[-1])


def restore(project: Project, scenario_id: str, target: str | None = None, overwrite: bool = False,
            on_date: str | None = None) -> str:
    """Put a snapshot of ``scenario_id`` (its latest, or the one in force on ``on_date``) into the draft
    scenario ``target`` (default ``SCENARIO-restored``): created, or overwritten when ``overwrite`` is given
    and it is a draft. Returns the target's id."""
    _require_scenario(project, scenario_id)
    snap = latest_snapshot(project, scenario_id, on_date)
    target = target or f"{scenario_id}-restored"
    plan, terr = snapshot_contents(project, snap)
    if target in project.plans:
        if not overwrite:
            raise InfeasibleError(f"scenario '{target}' exists: pass overwrite (--overwrite) to replace it "
                                  "with the snapshot, or name another scenario (--to)")
        check_editable(project, target)
        _overwrite_plan(project.plans[target], plan)
    else:
        project.plans[target] = plan
        _add_scenario_row(project, target, scenario_id, snap)
    terr["scenario_id"] = target
    others = project.territories[project.territories["scenario_id"] != target]
    project.territories = pd.concat([others, terr], ignore_index=True) if len(others) else terr
    project.mark_dirty("territories", "plans", "scenarios")
    project.log("review restore", f"snapshot {snap} restored into scenario {target}")
    return target


def _overwrite_plan(plan: Plan, snapshot: Plan) -> None:
    units = snapshot.as_dict()
    plan.remove_units([u for u in plan.as_dict() if u not in units])
    plan.assign_many(units)
    overrides = snapshot.account_overrides()
    plan.set_account_overrides({**dict.fromkeys(plan.account_overrides()), **overrides})


def _add_scenario_row(project: Project, target: str, source: str, snap: str) -> None:
    names = project.scenarios.set_index("scenario_id")["name"] if len(project.scenarios) else pd.Series(dtype=object)
    row = {"scenario_id": target, "name": f"{names.get(source, source)} (restored {snap})",
           "description": f"restored from snapshot {snap}", "parent_id": source, "created": now()}
    project.scenarios = pd.concat([project.scenarios, pd.DataFrame([row], columns=SCENARIO_COLUMNS)],
                                  ignore_index=True)


def history(project: Project, scenario_id: str | None = None) -> pd.DataFrame:
    """The review rows (all scenarios, or one), oldest first."""
    r = project.scenario_reviews[REVIEW_COLUMNS]
    return r if scenario_id is None else r[r["scenario_id"] == scenario_id]


def forget_scenario(project: Project, scenario_id: str) -> None:
    """Drop the review rows of a deleted scenario (its snapshots stay: plans in force may use them), so a
    new scenario of the same id starts as a draft. Refused while the scenario is frozen."""
    check_editable(project, scenario_id)
    r = project.scenario_reviews
    if (r["scenario_id"] == scenario_id).any():
        project.scenario_reviews = r[r["scenario_id"] != scenario_id].reset_index(drop=True)
        project.mark_dirty("scenario_reviews")
