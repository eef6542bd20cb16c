"""A project's summary: counts, CRS, scenarios and territories with their totals (``info`` command)."""

from __future__ import annotations

import os

from ..models import CRS, Project
from ..storage import lock
from .metrics import territory_totals


def editing_holder(path: str | None) -> str | None:
    """Who has the project open for editing elsewhere (a sentence), or None."""
    if not path:
        return None
    info = lock.holder(path)
    if info is None or (info.get("pid") == os.getpid()):
        return None
    return f"{info.get('program', 'Territory Desktop')} (process {info.get('pid')} on {info.get('host')}) " \
           f"since {info.get('since')}"


def project_summary(project: Project) -> dict:
    """A JSON-ready summary of the project and its active scenario."""
    totals = territory_totals(project)
    plan = project.plan.as_dict()
    orphans = sum(1 for t in plan.values() if t is None) + sum(
        1 for u in project.units["unit_id"] if u not in plan)
    return {
        "name": project.name,
        "path": project.path,
        "crs": CRS,
        "counts": {
            "units": len(project.units),
            "accounts": len(project.accounts),
            "accounts_outside_units": int(project.accounts["unit_id"].isna().sum()),
            "reps": len(project.reps),
            "territories": int((project.scenario_territories()["level"] == "territory").sum()),
            "scenarios": len(project.scenarios),
            "orphan_units": int(orphans),
            "sales_rows": len(project.sales),
            "visits": len(project.visits),
            "opportunities": len(project.opportunities),
        },
        "active_scenario": project.active_scenario,
        "open_notes": list(project.open_notes),
        "open_for_editing_by": editing_holder(project.path),
        "scenarios": project.scenarios["scenario_id"].tolist(),
        "territories": [
            {"territory_id": r.territory_id, "name": r.name, "rep_id": r.rep_id, "kind": r.kind,
             "parent_id": r.parent_id, "units": int(r.units), "accounts": int(r.accounts),
             "workload_hours": round(float(r.workload_hours), 1), "potential": round(float(r.potential), 2),
             "workload_deviation_pct": round(float(r.workload_deviation_pct), 1)}
            for r in totals.itertuples()
        ],
    }
