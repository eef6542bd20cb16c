"""Which unit each account lies in (point in polygon): the one placement used by imports and by opening."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from ..engine.geometry import point_xy
from ..engine.placement import place_points
from ..models import Project


def units_of_accounts(project: Project) -> np.ndarray:
    """The unit id each account's point lies in (object array, None outside every unit)."""
    return units_of_points(project.accounts.geometry.to_numpy(), project.units)


def units_of_points(points: np.ndarray, units: gpd.GeoDataFrame) -> np.ndarray:
    """The unit id (of ``units``) each shapely point lies in (object array, None outside every unit)."""
    points = np.asarray(points, dtype=object)
    if not len(units) or not len(points):
        return np.full(len(points), None, dtype=object)
    return units_of_xy(*point_xy(points), units)


def units_of_xy(x: np.ndarray, y: np.ndarray, units: gpd.GeoDataFrame) -> np.ndarray:
    """The unit id (of ``units``) each point (x, y) lies in (object array, None outside every unit or
    where a coordinate is missing). Reads ``units`` only (safe in a worker thread)."""
    if not len(units) or not len(x):
        return np.full(len(x), None, dtype=object)
    idx = place_points(x, y, units.geometry.to_numpy())
    unit_ids = units["unit_id"].to_numpy(dtype=object)
    out = unit_ids[np.maximum(idx, 0)].copy()
    out[idx < 0] = None
    return out
