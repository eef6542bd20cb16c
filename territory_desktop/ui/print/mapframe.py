"""The map as printed: the canvas's :class:`MapRenderer` on a private :class:`MapScene`, with print layers
whose line widths and marker sizes are in millimetres of paper (the canvas uses screen pixels).

Raster-free on purpose: the canvas's territory labels are cached images, so the print engine switches that
layer off and places vector text labels itself (see ``labels.py``).
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import shapely
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF

from ...models import Project
from ...services.metrics import account_owners
from ..geometry import geometries_to_path, points_xy, project_geometries
from ..layers import bundled_state_outlines
from ..renderer import Layer, MapRenderer, RenderView, view_transform
from ..scene import MapScene
from .options import PrintOptions

GREY_FILL = QColor("#e3e5e8")
GREY_TEXT = QColor("#7a7f86")
MAP_BACKGROUND = QColor("#ffffff")


def _drawing(geoms: np.ndarray, crs: str) -> np.ndarray:
    projected = project_geometries(np.asarray(geoms, dtype=object), crs)
    return shapely.transform(projected, lambda xy: xy * np.array([1.0, -1.0])) if len(projected) else projected


class _Painted:
    """Base of print layers: ``mm_px`` is device pixels per mm of paper, set by the page before painting."""

    mm_px = 300 / 25.4

    def width(self, view: RenderView, mm: float) -> float:
        """A pen width of ``mm`` of paper in drawing units (the painter holds the map transform)."""
        return mm * self.mm_px * view.px


class OutlineLayer(_Painted):
    """Territory boundaries as non-cosmetic lines ``width_mm`` wide, and the focus territory bolder."""

    def __init__(self, scene: MapScene) -> None:
        self.scene = scene
        self.width_mm = 0.3
        self.focus: str | None = None

    def paint(self, painter: QPainter, view: RenderView) -> None:
        level = self.scene.level_for(view.px)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        pen = QPen(QColor("#2f3338"), self.width(view, self.width_mm))
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        rect = view.visible
        for key in self.scene.drawn_keys():
            geom = self.scene.territory_geometry(key)
            if key is None or geom is None:
                continue
            x0, y0, x1, y1 = geom.bounds
            if x1 < rect.left() or x0 > rect.right() or y1 < rect.top() or y0 > rect.bottom():
                continue
            painter.drawPath(self.scene.territory_path(key, level))
        if self.focus is not None:
            pen = QPen(QColor("#101214"), self.width(view, 0.8))
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            painter.setPen(pen)
            painter.drawPath(self.scene.territory_path(self.focus, level))


class PointLayer(_Painted):
    """Account points as round dots ``size_mm`` across; ``mask`` limits them (e.g. to one territory)."""

    def __init__(self, scene: MapScene, points_lonlat: np.ndarray, colour: str = "#1b1e22",
                 size_mm: float = 0.9) -> None:
        self.xy = points_xy(_drawing(points_lonlat, scene.crs), flip_y=False) if len(points_lonlat) \
            else np.zeros((0, 2))
        self.mask = np.ones(len(self.xy), dtype=bool)
        self.colour = QColor(colour)
        self.size_mm = size_mm

    def paint(self, painter: QPainter, view: RenderView) -> None:
        r = view.visible
        xy = self.xy
        inside = self.mask & (xy[:, 0] >= r.left()) & (xy[:, 0] <= r.right()) & \
            (xy[:, 1] >= r.top()) & (xy[:, 1] <= r.bottom())
        pts = xy[inside]
        if not len(pts):
            return
        size = self.width(view, self.size_mm)
        halo = QPen(QColor(255, 255, 255, 220), size * 1.7)
        halo.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen = QPen(self.colour, size)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        polygon = QPolygonF([QPointF(x, y) for x, y in pts])
        for p in (halo, pen):
            painter.setPen(p)
            painter.drawPoints(polygon)


class RouteLayer(_Painted):
    """Routes (lon/lat LineStrings) as dark lines with a white casing."""

    def __init__(self, scene: MapScene, lines_lonlat: np.ndarray) -> None:
        self.path = geometries_to_path(_drawing(lines_lonlat, scene.crs), flip_y=False) \
            if len(lines_lonlat) else QPainterPath()

    def paint(self, painter: QPainter, view: RenderView) -> None:
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for colour, mm in ((QColor(255, 255, 255, 230), 1.1), (QColor("#b3261e"), 0.5)):
            pen = QPen(colour, self.width(view, mm))
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            painter.setPen(pen)
            painter.drawPath(self.path)


class RepHomeLayer(_Painted):
    """Rep homes as white-ringed dark diamonds 2.6 mm across (names go in the legend)."""

    def __init__(self, scene: MapScene, points_lonlat: np.ndarray) -> None:
        self.xy = points_xy(_drawing(points_lonlat, scene.crs), flip_y=False) if len(points_lonlat) \
            else np.zeros((0, 2))
        self.mask = np.ones(len(self.xy), dtype=bool)

    def paint(self, painter: QPainter, view: RenderView) -> None:
        d = self.width(view, 1.3)
        painter.setPen(QPen(QColor("white"), self.width(view, 0.35)))
        painter.setBrush(QColor("#1f3a5f"))
        r = view.visible
        for (x, y), keep in zip(self.xy, self.mask, strict=True):
            if keep and r.contains(QPointF(x, y)):
                painter.drawPolygon(QPolygonF([QPointF(x, y - d), QPointF(x + d, y), QPointF(x, y + d),
                                               QPointF(x - d, y)]))


#: simplification ladder for print, as fractions of the scene's full-extent pixel size
PRINT_LOD_FACTORS = (4.0, 2.0, 1.0, 0.6, 0.3, 0.15, 0.07, 0.03, 0.012, 0.0)
#: the largest simplification error allowed on paper, mm
PRINT_TOLERANCE_MM = 0.1


class PrintScene(MapScene):
    """A private scene whose level of detail follows millimetres of paper, not device pixels: at 300 dpi
    the canvas rule (0.7 px) would embed full-resolution county boundaries in every PDF page."""

    def __init__(self, project: Project) -> None:
        super().__init__(project)
        self.tolerances = [f * self.full_px for f in PRINT_LOD_FACTORS]
        self.mm_px = 300 / 25.4
        self.clip: tuple[float, float, float, float] | None = None
        self.focus: str | None = None
        self._simplified: dict[tuple[str | None, int], object] = {}
        self._clipped: dict[tuple[str | None, int], QPainterPath] = {}

    def set_clip(self, rect: QRectF | None) -> None:
        """Clip territory paths to ``rect`` (drawing space) until the next call; None draws them whole.
        A zoomed page then holds only the visible part of its neighbours, not their whole boundaries."""
        self.clip = None if rect is None else (rect.left(), rect.top(), rect.right(), rect.bottom())
        self._clipped.clear()

    def simplified(self, key: str | None, level: int):
        """The territory geometry simplified for LOD ``level`` (cached)."""
        geom = self._simplified.get((key, level))
        if geom is None:
            geom = self.territory_geometry(key)
            tol = self.tolerances[level]
            if geom is not None and tol > 0:
                geom = shapely.simplify(geom, tol, preserve_topology=True)
            self._simplified[(key, level)] = geom
        return geom

    def territory_path(self, key: str | None, level: int) -> QPainterPath:
        if self.clip is None:
            return super().territory_path(key, level)
        path = self._clipped.get((key, level))
        if path is None:
            geom = self.simplified(key, level)
            path = QPainterPath() if geom is None else \
                geometries_to_path([shapely.clip_by_rect(geom, *self.clip)], flip_y=False)
            self._clipped[(key, level)] = path
        return path

    def level_for(self, px: float) -> int:
        limit = PRINT_TOLERANCE_MM * self.mm_px * px
        for level, tol in enumerate(self.tolerances):
            if tol <= limit:
                return level
        return len(self.tolerances) - 1


class PrintRenderer(MapRenderer):
    """The canvas renderer with a paper rule for unit outlines: drawn only when the median unit is at least
    ``UNIT_OUTLINE_MIN_MM`` across on paper, as thin non-cosmetic lines."""

    UNIT_OUTLINE_MIN_MM = 6.0

    def _paint_unit_outlines(self, painter: QPainter, view: RenderView) -> None:
        scene = self.scene
        mm_px = getattr(scene, "mm_px", 300 / 25.4)
        if scene.median_unit_size / view.px < self.UNIT_OUTLINE_MIN_MM * mm_px:
            return
        pen = QPen(QColor(255, 255, 255, 200), 0.18 * mm_px * view.px)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        r = view.visible
        idx = scene.units_in_rect(r.left(), r.top(), r.right(), r.bottom())
        focus = getattr(scene, "focus", None)
        if focus is not None:  # on a territory page only its own units are outlined (neighbours are grey)
            idx = idx[scene.unit_territory[idx] == focus]
        if not len(idx):
            return
        tol = scene.tolerances[scene.level_for(view.px)]
        geoms = shapely.boundary(shapely.simplify(scene.geoms[idx], tol) if tol > 0 else scene.geoms[idx])
        rings = shapely.clip_by_rect(geoms, r.left(), r.top(), r.right(), r.bottom())
        painter.drawPath(geometries_to_path(rings, flip_y=False))


class StateLayer(_Painted):
    """State outlines as thin grey lines, simplified per level of detail of the print scene."""

    def __init__(self, scene: PrintScene, geoms_lonlat: np.ndarray) -> None:
        self.scene = scene
        self.geoms = _drawing(np.asarray(geoms_lonlat, dtype=object), scene.crs)
        self._paths: dict[int, np.ndarray] = {}

    def paint(self, painter: QPainter, view: RenderView) -> None:
        level = self.scene.level_for(view.px)
        geoms = self._paths.get(level)
        if geoms is None:
            tol = max(self.scene.tolerances[level], self.scene.full_px * 0.012)
            geoms = self._paths[level] = shapely.boundary(shapely.simplify(self.geoms, tol))
        r = view.visible
        path = geometries_to_path(shapely.clip_by_rect(geoms, r.left(), r.top(), r.right(), r.bottom()),
                                  flip_y=False)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor(110, 110, 110, 200), self.width(view, 0.15)))
        painter.drawPath(path)


class PrintMap:
    """A renderer set up for paper: white background, vector labels, mm-sized lines and markers."""

    def __init__(self, project: Project, options: PrintOptions) -> None:
        self.project = project
        self.options = options
        self.scene = PrintScene(project)
        self.renderer = PrintRenderer(self.scene)
        r = self.renderer
        r.background = MAP_BACKGROUND
        self.base_colours = dict(self.scene.colours)
        for key in ("basemap", "choropleth", "heatmap", "territories", "accounts", "reps", "labels", "context"):
            r.layer(key).visible = False
        r.layer("units").opacity = 0.8
        self.outlines = OutlineLayer(self.scene)
        r.extras["print_outlines"] = self.outlines
        layers = [Layer("print_context", "State outlines", visible=False),
                  Layer("print_outlines", "Territory outlines"),
                  Layer("print_routes", "Routes", visible=False),
                  Layer("print_accounts", "Accounts", visible=False),
                  Layer("print_reps", "Rep homes", visible=options.reps)]
        at = [layer.key for layer in r.layers].index("context") + 1
        r.layers = r.layers[:at] + layers + r.layers[at:]  # the canvas's own layers stay, switched off
        if self.scene.crs == "EPSG:5070":
            states = bundled_state_outlines()
            if states is not None:
                r.extras["print_context"] = StateLayer(self.scene, states)
                r.layer("print_context").visible = True
        a = project.accounts
        self.owners = account_owners(project).to_numpy() if len(a) else np.array([], dtype=object)
        self.accounts = PointLayer(self.scene, a.geometry.to_numpy() if len(a) else np.array([], dtype=object))
        r.extras["print_accounts"] = self.accounts
        r.layer("print_accounts").visible = options.accounts
        reps = project.reps
        self.reps = RepHomeLayer(self.scene, reps.geometry.to_numpy() if len(reps) else np.array([], dtype=object))
        r.extras["print_reps"] = self.reps
        if options.routes is not None and len(options.routes):
            r.extras["print_routes"] = RouteLayer(self.scene, np.asarray(options.routes, dtype=object))
            r.layer("print_routes").visible = True

    def set_mm_px(self, mm_px: float) -> None:
        """Tell the print layers the device pixels per mm of the page being painted."""
        self.scene.mm_px = mm_px
        for obj in self.renderer.extras.values():
            if isinstance(obj, _Painted):
                obj.mm_px = mm_px

    def paint(self, painter: QPainter, extent: QRectF, target: QRectF, clip: bool = True) -> None:
        """Paint drawing-space ``extent`` into device rectangle ``target`` with the canvas renderer; with
        ``clip`` the territory paths are cut to the view (plus a margin outside the frame)."""
        if clip:
            view = view_transform(extent, target).inverted()[0].mapRect(target)
            m = 0.03 * max(view.width(), view.height())
            self.scene.set_clip(view.adjusted(-m, -m, m, m))
        else:
            self.scene.set_clip(None)
        try:
            self.renderer.paint(painter, extent, target)
        finally:
            self.scene.set_clip(None)

    def rep_boxes(self, transform, half: float, focus: str | None = None) -> list[QRectF]:
        """Device boxes around the rep home markers drawn (so labels avoid them); ``half`` in device px."""
        if not self.renderer.layer("print_reps").visible or not len(self.reps.xy):
            return []
        mask = self.reps.mask
        if focus is not None:
            terr = self.project.scenario_territories().set_index("territory_id")
            rep = terr.loc[focus, "rep_id"] if focus in terr.index else None
            mask = self.project.reps["rep_id"].to_numpy() == rep
        out = []
        for (x, y), keep in zip(self.reps.xy, mask, strict=True):
            if keep:
                p = transform.map(QPointF(x, y))
                out.append(QRectF(p.x() - half, p.y() - half, 2 * half, 2 * half))
        return out

    def full_extent(self, pad: float = 0.03) -> QRectF:
        x0, y0, x1, y1 = self.scene.extent
        w, h = x1 - x0, y1 - y0
        return QRectF(x0 - w * pad, y0 - h * pad, w * (1 + 2 * pad), h * (1 + 2 * pad))

    def territory_extent(self, key: str, pad: float = 0.08) -> QRectF:
        geom = self.scene.territory_geometry(key)
        if geom is None:
            return self.full_extent()
        x0, y0, x1, y1 = geom.bounds
        size = max(x1 - x0, y1 - y0, 20_000.0)  # at least 20 km across
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        w, h = max(x1 - x0, size * 0.5), max(y1 - y0, size * 0.5)
        return QRectF(cx - w / 2 - w * pad, cy - h / 2 - h * pad, w * (1 + 2 * pad), h * (1 + 2 * pad))

    @contextmanager
    def focused(self, key: str | None):
        """Paint with every territory but ``key`` greyed, showing its accounts and rep only (None: no focus)."""
        if key is None:
            yield
            return
        saved_rep = self.reps.mask.copy()
        saved_acc = self.accounts.mask.copy()
        acc_layer = self.renderer.layer("print_accounts")
        saved_visible = acc_layer.visible
        acc_layer.visible = True  # a territory page always shows its accounts
        for k in list(self.scene.colours):
            if k != key:
                self.scene.colours[k] = GREY_FILL
        self.outlines.focus = key
        self.scene.focus = key
        self.accounts.mask = self.owners == key
        terr = self.project.scenario_territories().set_index("territory_id")
        rep = terr.loc[key, "rep_id"] if key in terr.index else None
        if len(self.reps.mask):
            self.reps.mask = (self.project.reps["rep_id"].to_numpy() == rep) if isinstance(rep, str) else \
                np.zeros(len(self.reps.mask), bool)
        try:
            yield
        finally:
            self.scene.colours.clear()
            self.scene.colours.update(self.base_colours)
            self.outlines.focus = None
            self.scene.focus = None
            self.accounts.mask = saved_acc
            self.reps.mask = saved_rep
            acc_layer.visible = saved_visible
