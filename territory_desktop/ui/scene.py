"""The map's drawable data, Qt-free except for cached QPainterPaths: projected units, dissolved
territories at several levels of detail, spatial index.

Drawing space is the display CRS in metres with y negated (north up in Qt's y-down coordinates).
Only territories touched by an assignment change are dissolved and re-pathed again.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import shapely
from PySide6.QtGui import QColor, QPainterPath

from ..engine.colouring import PALETTE  # colours for territories without one
from ..models import Project
from .geometry import display_crs, geometries_to_path, project_geometries

ORPHAN = None
#: simplification tolerances, as fractions of the full-extent pixel size (0 = exact geometry)
LOD_FACTORS = (0.6, 0.15, 0.03, 0.0)


def palette_colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _dissolve_geoms(geoms: np.ndarray):
    merged = shapely.coverage_union_all(geoms)
    if not shapely.is_valid(merged):
        merged = shapely.union_all(shapely.make_valid(geoms))
    return merged


def label_anchor(geom, tolerance: float) -> tuple[float, float, float]:
    """(x, y, radius): centre and radius of the largest circle inside the largest part of ``geom``
    (the pole of inaccessibility, within ``tolerance``), where a label sits farthest from any edge."""
    parts = shapely.get_parts(geom)
    biggest = parts[int(np.argmax(shapely.area(parts)))]
    try:
        line = shapely.maximum_inscribed_circle(biggest, tolerance)
        (x, y), (x1, y1) = shapely.get_coordinates(line)[:2]
        return float(x), float(y), float(np.hypot(x1 - x, y1 - y))
    except shapely.errors.GEOSException:  # a degenerate part: any interior point will do
        p = shapely.point_on_surface(biggest)
        return float(p.x), float(p.y), 0.0


class MapScene:
    """Units and territories of one project/scenario prepared for fast drawing and hit-testing."""

    def __init__(self, project: Project, full_px: float | None = None) -> None:
        self.project = project
        units = project.units
        self.unit_ids = units["unit_id"].astype(str).to_numpy(dtype=object)
        self.index_of = {u: i for i, u in enumerate(self.unit_ids)}
        raw = units.geometry.to_numpy() if len(units) else np.array([], dtype=object)
        bounds = units.total_bounds if len(units) else (np.nan,) * 4
        self.crs = display_crs(tuple(float(b) for b in bounds))
        projected = project_geometries(raw, self.crs)
        # flip y once: drawing space
        self.geoms = shapely.transform(projected, lambda xy: xy * np.array([1.0, -1.0])) \
            if len(projected) else projected
        self.tree = shapely.STRtree(self.geoms)
        if len(self.geoms):
            self.extent = tuple(shapely.total_bounds(self.geoms))
        else:
            self.extent = (-1.0, -1.0, 1.0, 1.0)
        areas = shapely.area(self.geoms) if len(self.geoms) else np.array([1.0])
        self.median_unit_size = float(np.sqrt(np.median(areas))) if len(areas) else 1.0
        w = self.extent[2] - self.extent[0]
        h = self.extent[3] - self.extent[1]
        self.full_px = full_px or max(w / 1600.0, h / 1000.0, 1e-9)
        self.tolerances = [f * self.full_px for f in LOD_FACTORS]
        self.locked = units["locked"].fillna(False).astype(bool).to_numpy() if "locked" in units else \
            np.zeros(len(units), bool)
        self.unit_bounds = shapely.bounds(self.geoms) if len(self.geoms) else np.zeros((0, 4))
        self._members: dict[str | None, np.ndarray] = {}
        self._territory_geom: dict[str | None, object] = {}
        self._level_geom: dict[tuple[str | None, int], object] = {}
        self._coverage: dict[int, np.ndarray] = {}
        self._labels: dict[str | None, tuple[float, float, float]] = {}
        self._paths: dict[tuple[str | None, int], QPainterPath] = {}
        #: (minx, miny, maxx, maxy) of each territory in drawing space
        self.bounds: dict[str | None, tuple[float, float, float, float]] = {}
        self.colours: dict[str | None, QColor] = {}
        self.names: dict[str, str] = {}
        #: bumped on every change of shapes, names or colours (caches of derived drawings key on it)
        self.version = 0
        self.refresh_territory_table()
        self.unit_territory = np.array([project.plan.territory_of(u) for u in self.unit_ids], dtype=object)
        self._encode()
        self._dissolve(self.territory_keys())

    # ---- territories
    def refresh_territory_table(self) -> None:
        """Re-read names and colours of the active scenario's territories."""
        terr = self.project.scenario_territories()
        self.version = getattr(self, "version", 0) + 1
        self.colours = {ORPHAN: QColor("#e4e4e4")}
        self.names = {}
        for i, row in enumerate(terr.itertuples()):
            colour = row.colour if isinstance(row.colour, str) and QColor(row.colour).isValid() \
                else palette_colour(i)
            self.colours[str(row.territory_id)] = QColor(colour)
            self.names[str(row.territory_id)] = str(row.name) if pd.notna(row.name) else str(row.territory_id)

    def territory_keys(self) -> list[str | None]:
        return list(dict.fromkeys(self.unit_territory.tolist()))

    def colour_of(self, territory_id: str | None) -> QColor:
        if territory_id not in self.colours:
            self.colours[territory_id] = QColor(palette_colour(len(self.colours)))
        return self.colours[territory_id]

    def units_of(self, territory_id: str | None) -> np.ndarray:
        """Indices of the units of a territory (None = orphan units)."""
        if territory_id is None:
            return np.flatnonzero(pd.isna(self.unit_territory))
        return np.flatnonzero(self.unit_territory == territory_id)

    def _encode(self) -> None:
        """Integer territory code per unit (-1 = orphan), so members are found without string compares."""
        codes, uniques = pd.factorize(pd.Series(self.unit_territory, dtype=object), use_na_sentinel=True)
        self.unit_code = codes.astype(np.int32)
        self._code_of: dict[str | None, int] = {None: -1} | {k: i for i, k in enumerate(uniques)}

    def _code(self, key: str | None) -> int:
        if key not in self._code_of:
            self._code_of[key] = len(self._code_of) - 1
        return self._code_of[key]

    def _dissolve(self, keys: Iterable[str | None]) -> None:
        if len(self.unit_territory) == 0:
            return
        keys = set(keys)
        if len(keys) <= 8:  # a stroke: a few territories, one integer scan each
            for key in keys:
                code = self._code_of.get(key)
                members = np.flatnonzero(self.unit_code == code) if code is not None else np.array([], dtype=int)
                self._set_geom(key, members)
            return
        order = np.argsort(self.unit_code, kind="stable")
        n_codes = len(self._code_of)
        starts = np.searchsorted(self.unit_code[order], np.arange(-1, n_codes))
        for key in keys:
            code = self._code_of.get(key)
            members = order[starts[code + 1]:starts[code + 2]] if code is not None else np.array([], dtype=int)
            self._set_geom(key, members)

    def _set_geom(self, key: str | None, members: np.ndarray) -> None:
        """Record a territory's members; its dissolved geometry and paths are built when first drawn."""
        for level in range(len(self.tolerances)):
            self._paths.pop((key, level), None)
            self._level_geom.pop((key, level), None)
        self._labels.pop(key, None)
        self._territory_geom.pop(key, None)
        if len(members) == 0:
            self._members.pop(key, None)
            self.bounds.pop(key, None)
            return
        self._members[key] = members
        b = self.unit_bounds[members]
        self.bounds[key] = (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))

    def territory_geometry(self, key: str | None):
        """Dissolved geometry of a territory in drawing space (None if it has no units)."""
        geom = self._territory_geom.get(key)
        if geom is None and key in self._members:
            geom = _dissolve_geoms(self.geoms[self._members[key]])
            self._territory_geom[key] = geom
        return geom

    def level_geometry(self, key: str | None, level: int):
        """The territory's geometry at LOD ``level``: the union of the coverage-simplified units when
        :meth:`prepare_coverage` has run for that level (neighbours then share their simplified borders
        and a stroke re-dissolves in a millisecond), else the exact dissolve simplified alone."""
        geom = self._level_geom.get((key, level))
        if geom is None and key in self._members:
            coverage = self._coverage.get(level)
            if coverage is not None:
                geom = shapely.coverage_union_all(coverage[self._members[key]])
                if not shapely.is_valid(geom):
                    geom = None
            if geom is None:
                geom = self.territory_geometry(key)
                tol = self.tolerances[level]
                if tol > 0:  # plain Douglas-Peucker is 10x faster; keep topology only where it broke
                    plain = shapely.simplify(geom, tol, preserve_topology=False)
                    geom = plain if shapely.is_valid(plain) and not plain.is_empty else \
                        shapely.simplify(geom, tol, preserve_topology=True)
            self._level_geom[(key, level)] = geom
        return geom

    def prepare_coverage(self, levels: Iterable[int] = (0, 1)) -> None:
        """Simplify every unit once per LOD ``level`` as a coverage (shared borders stay shared). Slow
        (about 1-2 s per level for 3,000 counties) and GIL-free in GEOS: run it in a worker thread."""
        for level in levels:
            tol = self.tolerances[level]
            if tol > 0 and level not in self._coverage and len(self.geoms):
                self._coverage[level] = shapely.coverage_simplify(self.geoms, tol)

    def coverage_ready(self, levels: Iterable[int]) -> None:
        """Forget paths of ``levels`` built before their coverage was there (call in the GUI thread)."""
        self.version += 1
        for key, level in [k for k in self._paths if k[1] in set(levels)]:
            self._paths.pop((key, level), None)
            self._level_geom.pop((key, level), None)

    def territory_path(self, key: str | None, level: int) -> QPainterPath:
        """Cached path of a dissolved territory at LOD ``level`` (index into ``tolerances``)."""
        path = self._paths.get((key, level))
        if path is None:
            geom = self.level_geometry(key, level)
            path = QPainterPath() if geom is None else geometries_to_path([geom], flip_y=False)
            self._paths[(key, level)] = path
        return path

    def label_circle(self, key: str | None) -> tuple[float, float, float] | None:
        """(x, y, radius) of the largest circle inside the territory's largest part (its pole of
        inaccessibility, by shapely's maximum inscribed circle), where its label goes (drawing space). From
        the coarsest level of detail (0.6 full-extent pixels): the map draws it at full extent, so after a
        stroke it is usually dissolved already, and the circle moves by far less than a label's size
        (level 1 cost the stroke's end a dissolve per touched territory)."""
        if key not in self._labels:
            geom = self.level_geometry(key, 0)
            if geom is None:
                return None
            self._labels[key] = label_anchor(geom, self.full_px)
        return self._labels[key]

    def label_point(self, key: str | None) -> tuple[float, float] | None:
        """A point inside the territory for its label: the centre of :meth:`label_circle`."""
        circle = self.label_circle(key)
        return None if circle is None else circle[:2]

    def drawn_keys(self) -> list[str | None]:
        return list(self._members)

    def apply_assignment(self, unit_ids: Iterable[str]) -> set[str | None]:
        """Sync with the plan for ``unit_ids``; re-dissolve only touched territories. Returns them."""
        plan = self.project.plan
        idx = np.array([self.index_of[u] for u in unit_ids if u in self.index_of], dtype=int)
        if len(idx) == 0:
            return set()
        old = set(self.unit_territory[idx].tolist())
        new_vals = np.array([plan.territory_of(u) for u in self.unit_ids[idx]], dtype=object)
        self.unit_territory[idx] = new_vals
        self.unit_code[idx] = [self._code(None if v is None or (isinstance(v, float) and np.isnan(v)) else v)
                               for v in new_vals]
        touched = {None if (k is None or (isinstance(k, float) and np.isnan(k))) else k
                   for k in old | set(new_vals.tolist())}
        before = [self.bounds[k] for k in touched if k in self.bounds]
        self._dissolve(touched)
        self.version += 1
        after = [self.bounds[k] for k in touched if k in self.bounds]
        boxes = np.array(before + after) if before or after else np.zeros((0, 4))
        #: drawing-space box that changed look (old and new extents of the touched territories)
        self.last_change_bounds = (boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()) \
            if len(boxes) else None
        b = self.unit_bounds[idx]
        #: drawing-space box of the reassigned units alone: their fills and the outline pieces that moved
        #: (a territory's boundary changes only along the units that left or joined it)
        self.last_units_bounds = (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()),
                                  float(b[:, 3].max()))
        return touched

    def rebuild_all(self) -> None:
        """Re-read the whole plan (scenario switch, territory merge/delete)."""
        self.refresh_territory_table()
        plan = self.project.plan
        self.unit_territory = np.array([plan.territory_of(u) for u in self.unit_ids], dtype=object)
        self._encode()
        self._members.clear()
        self._territory_geom.clear()
        self._level_geom.clear()
        self._paths.clear()
        self._labels.clear()
        self.bounds.clear()
        self._dissolve(self.territory_keys())
        self.version += 1

    def unit_outline_paths(self, level: int, rect: tuple[float, float, float, float] | None = None
                           ) -> list[QPainterPath]:
        """Unit outlines at LOD ``level`` as one cached path per cell of a 16 x 16 grid over the extent,
        for the cells meeting drawing-space ``rect`` (minx, miny, maxx, maxy; None = all). Safe to warm
        in a worker thread before the first paint."""
        cells = self.__dict__.get("_cells")
        if cells is None:
            cells = self._outline_cells()
        out = []
        for cell, (members, b) in cells.items():
            if rect is not None and (b[2] < rect[0] or b[0] > rect[2] or b[3] < rect[1] or b[1] > rect[3]):
                continue
            path = self._outline_paths.get((cell, level))
            if path is None:
                geoms = self.geoms[members]
                tol = self.tolerances[level]
                # lines only: simplify without topology checks (14x faster, the same at sub-pixel tolerance)
                path = geometries_to_path(shapely.simplify(geoms, tol, preserve_topology=False) if tol > 0 else geoms,
                                          flip_y=False)
                self._outline_paths[(cell, level)] = path
            out.append(path)
        return out

    def _outline_cells(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        x0, y0, x1, y1 = self.extent
        n = 16
        cw, ch = (x1 - x0) / n or 1.0, (y1 - y0) / n or 1.0
        c = shapely.get_coordinates(shapely.centroid(self.geoms)) if len(self.geoms) else np.zeros((0, 2))
        cell_of = np.clip(((c[:, 0] - x0) / cw).astype(int), 0, n - 1) * n + \
            np.clip(((c[:, 1] - y0) / ch).astype(int), 0, n - 1)
        cells = {}
        for cell in np.unique(cell_of):
            members = np.flatnonzero(cell_of == cell)
            cells[int(cell)] = (members, shapely.total_bounds(self.geoms[members]))
        self._outline_paths: dict[tuple[int, int], QPainterPath] = {}
        self._cells = cells
        return cells

    def level_for(self, px: float) -> int:
        """LOD level for a pixel size ``px`` (map units per pixel): coarsest tolerance below ~0.7 px."""
        for level, tol in enumerate(self.tolerances):
            if tol <= 0.7 * px:
                return level
        return len(self.tolerances) - 1

    # ---- hit testing (drawing space coordinates)
    def units_at(self, x: float, y: float) -> np.ndarray:
        return self.tree.query(shapely.points(x, y), predicate="intersects")

    def units_in_rect(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        return self.tree.query(shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)),
                               predicate="intersects")

    def units_in_polygon(self, xy: np.ndarray) -> np.ndarray:
        """Units whose interior point lies inside the lasso polygon ``xy`` ((n, 2) drawing coords)."""
        if len(xy) < 3:
            return np.array([], dtype=int)
        poly = shapely.make_valid(shapely.polygons(np.vstack([xy, xy[:1]])))
        cand = self.tree.query(poly, predicate="intersects")
        if len(cand) == 0:
            return cand
        inside = shapely.contains_xy(poly, *shapely.get_coordinates(
            shapely.point_on_surface(self.geoms[cand])).T)
        return cand[inside]

    def units_in_circle(self, x: float, y: float, radius: float) -> np.ndarray:
        return self.tree.query(shapely.buffer(shapely.points(x, y), radius, quad_segs=4),
                               predicate="intersects")
