"""Import units, accounts and reps into a project: validate everything first, change nothing on error.

Each function returns an :class:`ImportReport`; the caller saves the project (atomically) afterwards.
Accounts are placed in units by point-in-polygon; accounts outside every unit are kept with no unit and
listed in the report, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..engine.placement import place_points
from ..models import CRS, Project
from ..models.fields import ACCOUNT_FIELDS, REP_FIELDS
from ..models.progress import Progress, no_progress
from ..storage.tabular import read_table, validate_table
from ..storage.vector import read_units


@dataclass
class ImportReport:
    kind: str
    source: str
    rows: int
    notes: list[str] = field(default_factory=list)
    #: ids of accounts that lie outside every unit (kept, with no unit)
    outside: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"imported {self.rows} {self.kind} from {self.source}"]
        out += [f"note: {n}" for n in self.notes]
        if self.outside:
            shown = ", ".join(self.outside[:20]) + (" ..." if len(self.outside) > 20 else "")
            out.append(f"warning: {len(self.outside)} accounts lie outside every unit and have no territory: {shown}")
        return out


def import_units(project: Project, path: str | Path, id_column: str, name_column: str | None = None,
                 layer: str | None = None, source_crs: str | None = None) -> ImportReport:
    """Replace the project's units; keeps assignments of units whose id still exists, re-places accounts."""
    read = read_units(path, id_column, name_column, layer, source_crs)
    project.units = read.frame
    kept = set(read.frame["unit_id"])
    for plan in project.plans.values():
        current = plan.as_dict()
        plan.assign_many({u: current.get(u) for u in kept if u not in current})
        plan.remove_units([u for u in current if u not in kept])
    report = ImportReport("units", Path(path).name, len(read.frame), read.notes)
    if len(project.accounts):
        report.outside = _place(project)
        project.mark_dirty("accounts")
    project.mark_dirty("units", "plans")
    project.log("import units", f"{len(read.frame)} units from {Path(path).name}")
    return report


def import_accounts(project: Project, path: str | Path, mapping: dict[str, str] | None = None,
                    sheet: str | None = None, encoding: str | None = None,
                    progress: Progress = no_progress) -> ImportReport:
    """Replace the project's accounts with those of a CSV/XLSX file (lat/lon or ZIP columns)."""
    progress(0.0, "reading")
    frame, notes = read_table(path, sheet, encoding)
    progress(0.3, "validating")
    read = validate_table(frame, ACCOUNT_FIELDS, "account_id", Path(path).name, mapping, notes, skip=("unit_id",))
    progress(0.5, "placing accounts in units")
    data = read.frame
    geometry = gpd.GeoSeries.from_xy(data.pop("lon"), data.pop("lat"), crs=CRS)
    data["unit_id"] = None
    project.accounts = gpd.GeoDataFrame(data, geometry=geometry, crs=CRS)
    report = ImportReport("accounts", Path(path).name, len(data), read.notes)
    report.outside = _place(project)
    for plan in project.plans.values():  # overrides of accounts that are gone are dropped
        overrides = plan.account_overrides()
        if overrides:
            present = project.accounts["account_id"].isin(list(overrides))
            kept = set(project.accounts["account_id"][present].tolist())
            plan.set_account_overrides({a: None for a in overrides if a not in kept})
    project.mark_dirty("accounts", "plans")
    project.log("import accounts", f"{len(data)} accounts from {Path(path).name}")
    progress(1.0, "done")
    return report


def import_reps(project: Project, path: str | Path, mapping: dict[str, str] | None = None,
                sheet: str | None = None, encoding: str | None = None) -> ImportReport:
    """Replace the project's reps (home location from lat/lon or home ZIP)."""
    frame, notes = read_table(path, sheet, encoding)
    read = validate_table(frame, REP_FIELDS, "rep_id", Path(path).name, mapping, notes)
    data = read.frame
    geometry = gpd.GeoSeries.from_xy(data.pop("lon"), data.pop("lat"), crs=CRS)
    project.reps = gpd.GeoDataFrame(data, geometry=geometry, crs=CRS)
    project.mark_dirty("reps")
    project.log("import reps", f"{len(data)} reps from {Path(path).name}")
    return ImportReport("reps", Path(path).name, len(data), read.notes)


def _place(project: Project) -> list[str]:
    """Set accounts' unit_id by point-in-polygon; returns the ids of accounts outside every unit."""
    accounts = project.accounts
    if not len(project.units):
        project.accounts["unit_id"] = None
        return []
    x = accounts.geometry.x.to_numpy()
    y = accounts.geometry.y.to_numpy()
    idx = place_points(x, y, project.units.geometry.to_numpy())
    unit_ids = project.units["unit_id"].to_numpy(dtype=object)
    placed = np.where(idx >= 0, unit_ids[np.maximum(idx, 0)], None)
    project.accounts["unit_id"] = pd.Series(placed, index=accounts.index, dtype=object)
    return accounts["account_id"].to_numpy()[idx < 0].astype(str).tolist()


def vector_columns(path: str | Path, layer: str | None = None) -> list[str]:
    """The attribute columns of a vector file (for choosing the id and name columns)."""
    from ..storage.vector import list_columns

    return list_columns(path, layer)
