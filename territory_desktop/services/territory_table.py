"""The territory table as a file: the rows of the main window's territory table (active scenario), with
readable column names, written to CSV or XLSX through :func:`storage.export.write_table` (formula-safe)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..models import InvalidInputError, Project
from ..storage.export import write_table
from .metrics import territory_totals
from .workload import add_route_columns

#: column of :func:`territory_totals` (or added here) -> header in the exported file
EXPORT_COLUMNS = {"territory_id": "Territory ID", "name": "Territory", "parent": "Parent", "rep_id": "Rep ID",
                  "rep": "Rep", "units": "Units", "accounts": "Accounts", "workload_hours": "Workload (h/yr)",
                  "potential": "Potential", "workload_deviation_pct": "Workload deviation (%)",
                  "route_workload_hours": "Route workload (h/yr)", "route_load_pct": "Route load (% of capacity)"}


def territory_table(project: Project, scenario_id: str | None = None) -> pd.DataFrame:
    """One row per territory of the scenario (default: the active one), sorted by name: ids, names,
    parent district/region, rep, units, accounts, workload (h/yr, 1 decimal), potential (2 decimals) and
    the workload deviation from the mean (%, 1 decimal), the route workload (service + travel, h/yr, 1
    decimal) and the route load (% of the rep's capacity, 1 decimal; empty without a rep home)."""
    sid = scenario_id or project.active_scenario
    frame = add_route_columns(project, territory_totals(project, sid), sid)
    reps = dict(zip(project.reps["rep_id"].astype(str), project.reps["name"].astype(str), strict=True))
    terr = project.territories[project.territories["scenario_id"] == sid]
    names = dict(zip(terr["territory_id"].astype(str), terr["name"].astype(str), strict=True))
    frame["rep"] = [reps.get(str(r), str(r)) if pd.notna(r) else "" for r in frame["rep_id"]]
    frame["rep_id"] = [str(r) if pd.notna(r) else "" for r in frame["rep_id"]]
    frame["parent"] = [names.get(str(p), str(p)) if pd.notna(p) else "" for p in frame["parent_id"]]
    frame["workload_hours"] = frame["workload_hours"].round(1)
    frame["potential"] = frame["potential"].round(2)
    frame["workload_deviation_pct"] = frame["workload_deviation_pct"].round(1)
    frame[["route_workload_hours", "route_load_pct"]] = frame[["route_workload_hours", "route_load_pct"]].round(1)
    out = frame.sort_values("name", kind="stable")[list(EXPORT_COLUMNS)].rename(columns=EXPORT_COLUMNS)
    return out.reset_index(drop=True)


def export_territory_table(project: Project, path: str | os.PathLike, scenario_id: str | None = None) -> Path:
    """Write :func:`territory_table` to ``path`` (.csv or .xlsx by suffix). Returns the path written;
    another suffix or a missing folder is an InvalidInputError naming the file."""
    target = Path(path)
    if target.suffix.lower() not in (".csv", ".xlsx"):
        raise InvalidInputError(str(target), [f"'{target.name}': choose a .csv or .xlsx file name"])
    if not target.parent.is_dir():
        raise InvalidInputError(str(target), [f"folder {target.parent} does not exist"])
    return write_table(territory_table(project, scenario_id), path, sheet="Territories")
