"""Open, save and summarise projects (the use-cases behind File > Open/Save and ``info``)."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..engine.geometry import dissolve
from ..models import CRS, Project, ProjectFileError
from ..storage import project_file
from .metrics import territory_totals


def open_project(path: str | os.PathLike, history: bool = True) -> Project:
    """Load a project file (upgrading an older schema). Raises ProjectFileError with the reason.

    ``history=False`` leaves the sales, visits and opportunities for later (the GUI shows the map first):
    :func:`ensure_history` reads them, and every use-case that needs them calls it (saving does)."""
    project = project_file.load(path, history=history)
    project.path = str(path)
    project.history_pending = not history
    return project


def ensure_history(project: Project, tables: dict[str, pd.DataFrame] | None = None) -> None:
    """Fill in the history tables of a project opened with ``history=False`` (``tables`` as read by
    :func:`read_project_history`, else read now). A no-op once they are there."""
    if not getattr(project, "history_pending", False):
        return
    if tables is None:
        tables = read_project_history(project.path)
    for name, frame in tables.items():
        setattr(project, name, frame)
    project.history_pending = False


def read_project_history(path: str | os.PathLike, pause=None) -> dict[str, pd.DataFrame]:
    """The sales, visits and opportunities of a project file (safe to call in a worker thread; ``pause()``
    is called between chunks of rows)."""
    return project_file.read_history(path, pause)


def save_project(project: Project, path: str | os.PathLike | None = None) -> Path:
    """Save atomically to ``path`` (default: where it came from), refreshing the territories layer.

    Saving to the file it came from rewrites only what changed, in one transaction; saving to a new path
    writes a complete file under a temporary name and renames it into place.
    """
    target = Path(path) if path is not None else (Path(project.path) if project.path else None)
    if target is None:
        raise ProjectFileError("the project has never been saved: choose a file name")
    ensure_history(project)  # never write a file without the history it came with
    layer = territory_layer(project)
    same_file = project.path is not None and target.exists() and os.path.samefile(target, project.path)
    if same_file:
        project_file.save_changes(project, target, layer)
    else:
        project_file.save_new(project, target, layer)
    project.path = str(target)
    return target


def territory_layer(project: Project) -> gpd.GeoDataFrame:
    """Dissolved territory polygons with totals, for every scenario and hierarchy level.

    Districts and regions are the union of their child territories (``parent_id`` roll-up).
    """
    rows = []
    geoms = project.units.geometry.to_numpy()
    unit_ids = project.units["unit_id"].to_numpy()
    for sid, plan in project.plans.items():
        assigned = plan.as_dict()
        labels = np.array([assigned.get(u) for u in unit_ids], dtype=object)
        shapes = dissolve(geoms, labels) if len(unit_ids) else {}
        terr = project.territories[project.territories["scenario_id"] == sid]
        totals = territory_totals(project, sid).set_index("territory_id") if len(terr) else pd.DataFrame()
        for t in terr[terr["level"] == "territory"].itertuples():
            tot = totals.loc[t.territory_id] if t.territory_id in totals.index else None
            rows.append({"scenario_id": sid, "territory_id": t.territory_id, "parent_id": t.parent_id,
                         "level": "territory", "geometry": shapes.get(t.territory_id),
                         **{k: (None if tot is None else tot[k])
                            for k in ("units", "accounts", "workload_hours", "potential")}})
        # roll territories up to districts, districts up to regions
        by_id = {r["territory_id"]: r for r in rows if r["scenario_id"] == sid}
        for level in ("district", "region"):
            for p in terr[terr["level"] == level].itertuples():
                children = [r for r in by_id.values() if r["parent_id"] == p.territory_id]
                parts = [c["geometry"] for c in children if c["geometry"] is not None]
                row = {"scenario_id": sid, "territory_id": p.territory_id, "parent_id": p.parent_id,
                       "level": level, "geometry": dissolve(np.array(parts, dtype=object),
                                                            np.zeros(len(parts), dtype=object)).get(0)
                       if parts else None}
                for k in ("units", "accounts", "workload_hours", "potential"):
                    row[k] = sum(c[k] or 0 for c in children)
                rows.append(row)
                by_id[p.territory_id] = row
    columns = ["scenario_id", "territory_id", "parent_id", "level", "units", "accounts", "workload_hours",
               "potential", "geometry"]
    frame = pd.DataFrame(rows, columns=columns)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(frame["geometry"].tolist(), crs=CRS))
