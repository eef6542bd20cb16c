"""Which unit each account lies in (point in polygon): the one placement used by imports and by opening."""

from __future__ import annotations

import numpy as np
import shapely

from ..engine.placement import place_points
from ..models import Project


def units_of_accounts(project: Project) -> np.ndarray:
    """The unit id each account's point lies in (object array, None outside every unit)."""
    accounts = project.accounts
    if not len(project.units) or not len(accounts):
        return np.full(len(accounts), None, dtype=object)
    points = accounts.geometry.to_numpy()
    idx = place_points(shapely.get_x(points), shapely.get_y(points), project.units.geometry.to_numpy())
    unit_ids = project.units["unit_id"].to_numpy(dtype=object)
    out = unit_ids[np.maximum(idx, 0)].copy()
    out[idx < 0] = None
    return out
