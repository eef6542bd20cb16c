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
