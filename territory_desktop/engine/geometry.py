"""Geometry helpers on shapely arrays: dissolve by label, equal-area areas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely


def dissolve(geoms: np.ndarray, labels: np.ndarray) -> dict[object, shapely.Geometry]:
    """Union of the geometries sharing each label (labels None/NaN are skipped).

    Uses coverage union when the pieces form a clean coverage (adjacent units sharing edges, the usual case
    for census and Voronoi units), which is far faster than a general union; falls back to a general union
    for a group whose coverage union is invalid.
    """
    geoms = np.asarray(geoms, dtype=object)
    labels = np.asarray(labels, dtype=object)
    keep = ~pd.isna(labels)
    out: dict[object, shapely.Geometry] = {}
    if not keep.any():
        return out
    order = np.argsort(labels[keep].astype(str), kind="stable")
    g = geoms[keep][order]
    lab = labels[keep][order]
    starts = np.flatnonzero(np.r_[True, lab[1:] != lab[:-1]])
    ends = np.r_[starts[1:], len(lab)]
    for s, e in zip(starts, ends, strict=True):
        part = g[s:e]
        merged = shapely.coverage_union_all(part)
        if not shapely.is_valid(merged):
            merged = shapely.union_all(shapely.make_valid(part))
        out[lab[s]] = merged
    return out


def point_xy(points) -> tuple[np.ndarray, np.ndarray]:
    """x and y of each point (float arrays); NaN for a missing or empty geometry (shapely 2.2 with GEOS
    3.14 raises on an empty point where 2.1 gave NaN) and for a geometry that is not a point."""
    points = np.asarray(points, dtype=object)
    x, y = np.full(len(points), np.nan), np.full(len(points), np.nan)
    ok = ~(shapely.is_missing(points) | shapely.is_empty(points))
    if ok.any():
        x[ok], y[ok] = shapely.get_x(points[ok]), shapely.get_y(points[ok])
    return x, y
