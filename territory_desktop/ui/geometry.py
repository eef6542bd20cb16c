"""Geometry helpers for drawing: projection to a flat display CRS and shapely -> QPainterPath.

Project geometry is EPSG:4326; the map is drawn in metres (EPSG:5070 US Albers for US data, a local
Lambert azimuthal equal-area projection elsewhere) so shapes are not stretched.
"""

from __future__ import annotations

import struct

import numpy as np
import pyproj
import shapely
from PySide6.QtCore import QByteArray, QDataStream
from PySide6.QtGui import QPainterPath

from ..engine.crs import US_ALBERS, metric_crs

__all__ = ["US_ALBERS", "display_crs", "geometries_to_path", "points_xy", "project_geometries"]


def display_crs(bounds: tuple[float, float, float, float]) -> str:
    """The display CRS for lon/lat ``bounds`` (minx, miny, maxx, maxy): :func:`engine.crs.metric_crs`."""
    return metric_crs(bounds)


def project_geometries(geoms: np.ndarray, crs: str, source: str = "EPSG:4326") -> np.ndarray:
    """Reproject an array of shapely geometries from ``source`` to ``crs`` (vectorised)."""
    if crs == source or len(geoms) == 0:
        return np.asarray(geoms)
    transformer = pyproj.Transformer.from_crs(source, crs, always_xy=True)

    def _tx(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(np.asarray(geoms), _tx)


def geometries_to_path(geoms: np.ndarray | list, flip_y: bool = True) -> QPainterPath:
    """One QPainterPath holding every ring of ``geoms`` (polygons, multipolygons or lines), built
    in one vectorised call. ``flip_y`` negates y so north is up in Qt's y-down coordinates."""
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~shapely.is_empty(geoms)] if len(geoms) else geoms
    if len(geoms) == 0:
        return QPainterPath()
    polygonal = shapely.get_type_id(geoms)
    rings = []
    poly_mask = np.isin(polygonal, (3, 6))
    if poly_mask.any():
        parts = shapely.get_parts(geoms[poly_mask])
        rings.append(shapely.get_rings(parts))
    line_mask = np.isin(polygonal, (1, 2, 5))
    if line_mask.any():
        rings.append(shapely.get_parts(geoms[line_mask]))
    if not rings:
        return QPainterPath()
    rings_arr = np.concatenate(rings)
    coords, index = shapely.get_coordinates(rings_arr, return_index=True)
    if len(coords) == 0:
        return QPainterPath()
    # each ring starts with a move-to; the other points are line-tos
    line_to = np.ones(len(coords), dtype=np.int32)
    line_to[0] = 0
    line_to[1:][index[1:] != index[:-1]] = 0
    return xy_to_path(coords[:, 0], -coords[:, 1] if flip_y else coords[:, 1], line_to)


def xy_to_path(x: np.ndarray, y: np.ndarray, line_to: np.ndarray) -> QPainterPath:
    """A QPainterPath from vertex arrays in one call: ``line_to[i]`` is 1 where vertex i continues the
    current subpath, 0 where it starts a new one. The arrays are written in the QDataStream format of a
    QPainterPath (count, then element type and x, y per vertex, big-endian; odd-even fill) and read back,
    as pyqtgraph's ``arrayToQPath`` does, with no Python loop over vertices."""
    n = len(x)
    if n == 0:
        return QPainterPath()
    elements = np.empty(n, dtype=[("c", ">i4"), ("x", ">f8"), ("y", ">f8")])
    elements["c"], elements["x"], elements["y"] = line_to, x, y
    data = QByteArray(struct.pack(">i", n) + elements.tobytes() + struct.pack(">ii", 0, 0))
    path = QPainterPath()
    QDataStream(data) >> path
    return path


def points_xy(geoms: np.ndarray, flip_y: bool = True) -> np.ndarray:
    """(n, 2) array of point coordinates in drawing space (y negated when ``flip_y``)."""
    xy = shapely.get_coordinates(np.asarray(geoms, dtype=object))
    if flip_y and len(xy):
        xy = xy * np.array([1.0, -1.0])
    return xy
