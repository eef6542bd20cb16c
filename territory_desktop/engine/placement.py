"""Point-in-polygon placement of points (accounts) into polygons (units)."""

from __future__ import annotations

import numpy as np
import shapely


def place_points(x: np.ndarray, y: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """Index of the polygon containing each point (x, y), or -1 when none does.

    A point on a shared border goes to the lowest-index polygon touching it, so every point gets exactly one
    unit. Uses a shapely STRtree with prepared polygons; coordinates in the polygons' CRS.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    result = np.full(len(x), -1, dtype=np.int64)
    if not len(x) or not len(polygons):
        return result
    points = shapely.points(x, y)
    tree = shapely.STRtree(polygons)
    point_idx, poly_idx = tree.query(points, predicate="intersects")
    if len(point_idx):
        order = np.lexsort((poly_idx, point_idx))
        point_idx, poly_idx = point_idx[order], poly_idx[order]
        first = np.r_[True, point_idx[1:] != point_idx[:-1]]
        result[point_idx[first]] = poly_idx[first]
    return result
