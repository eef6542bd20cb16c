"""Frames in a metric CRS for measuring (balancing, rep distances): the CRS of :mod:`engine.crs`."""

from __future__ import annotations

import geopandas as gpd

from ..engine.crs import metric_crs
from ..models import CRS, InvalidInputError


def lonlat(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` with a CRS: a frame without one is taken as lon/lat when its coordinates fit."""
    if frame.crs is not None:
        return frame
    x0, y0, x1, y1 = frame.total_bounds
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise InvalidInputError("units", ["the layer has no CRS and its coordinates are not longitude/latitude"])
    return frame.set_crs(CRS)


def metric_crs_of(frame: gpd.GeoDataFrame) -> str | object:
    """The CRS to measure ``frame`` in: its own when projected, else :func:`engine.crs.metric_crs`."""
    frame = lonlat(frame)
    if frame.crs.is_projected:
        return frame.crs
    x0, y0, x1, y1 = (float(b) for b in frame.to_crs(CRS).total_bounds)
    return metric_crs((x0, y0, x1, y1))


def project_units(frame: gpd.GeoDataFrame, crs: object | None = None) -> gpd.GeoDataFrame:
    """``frame`` in ``crs`` (default :func:`metric_crs_of` the frame): metres for the engine."""
    frame = lonlat(frame)
    target = crs if crs is not None else metric_crs_of(frame)
    return frame if frame.crs == target else frame.to_crs(target)
