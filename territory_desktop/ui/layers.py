"""Extra map layers painted by :class:`MapRenderer`: choropleth, account density heatmap, accounts,
rep homes and state outlines. Each has ``paint(painter, view)`` in drawing space (metres, y negated)."""

from __future__ import annotations

import numpy as np
import shapely
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPen, QPolygonF

from ..services.classify import SCHEMES as SCHEME_TITLES
from ..services.classify import Classes, classify
from ..services.reference import state_outlines
from .geometry import geometries_to_path, points_xy, project_geometries
from .renderer import RenderView, stroke_thick
from .scene import MapScene


def _to_drawing(geoms: np.ndarray, crs: str) -> np.ndarray:
    projected = project_geometries(np.asarray(geoms, dtype=object), crs)
    return shapely.transform(projected, lambda xy: xy * np.array([1.0, -1.0])) if len(projected) else projected


def legend_metrics(painter: QPainter, view: RenderView):
    """Switch ``painter`` to device pixels and the legend font; returns its font metrics."""
    painter.setTransform(view.base)
    font = QFont()
    font.setPointSizeF(8.0)
    painter.setFont(font)
    return painter.fontMetrics()


def legend_box(painter: QPainter, view: RenderView, title: str, width: float, height: float) -> QRectF:
    """A white rounded box of ``width`` x ``height`` px at the lower left of the map with ``title`` on its
    first line (call :func:`legend_metrics` first); returns the box."""
    fm = painter.fontMetrics()
    box = QRectF(view.target.left() + 10, view.target.bottom() - height - 10, width, height)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(QPen(QColor(0, 0, 0, 60), 1))
    painter.setBrush(QColor(255, 255, 255, 232))
    painter.drawRoundedRect(box, 4, 4)
    painter.setPen(QColor("#1d2125"))
    painter.drawText(QPointF(box.left() + 8, box.top() + 5 + fm.ascent()), title)
    return box


class ChoroplethLayer:
    """Units filled by class of a unit metric (one cached path per class and level of detail)."""

    def __init__(self, scene: MapScene, values: np.ndarray, metric: str, scheme: str = "quantiles",
                 k: int = 5) -> None:
        self.scene = scene
        self.metric = metric
        self.classes: Classes = classify(values, scheme, k)
        self._paths: dict[tuple[int, int], QPainterPath] = {}

    def _path(self, cls: int, level: int) -> QPainterPath:
        key = (cls, level)
        if key not in self._paths:
            members = np.flatnonzero(self.classes.index == cls)
            geoms = self.scene.geoms[members]
            tol = self.scene.tolerances[level]
            if tol > 0 and len(geoms):
                geoms = shapely.simplify(geoms, tol, preserve_topology=True)
            self._paths[key] = geometries_to_path(geoms, flip_y=False)
        return self._paths[key]

    def paint(self, painter: QPainter, view: RenderView) -> None:
        level = self.scene.level_for(view.px)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        colours = [*self.classes.colours]
        for cls in range(-1, len(colours)):
            painter.setBrush(QColor("#d9d9d9") if cls < 0 else QColor(colours[cls]))
            painter.drawPath(self._path(cls, level))


    def paint_legend(self, painter: QPainter, view: RenderView) -> None:
        """Class colours and bounds in a white box at the lower left of the map."""
        from ..services.classify import metric_label

        top = float(np.max(self.classes.bins)) if len(self.classes.bins) else 0.0
        rows = self.classes.legend("{:,.1f}" if top < 100 else "{:,.0f}")
        if not rows:
            return
        title = f"{metric_label(self.metric)}, {SCHEME_TITLES.get(self.classes.scheme, '')}"
        fm = legend_metrics(painter, view)
        line = fm.height() + 3
        width = max(fm.horizontalAdvance(title), *(fm.horizontalAdvance(t) + 22 for _, t in rows)) + 16
        box = legend_box(painter, view, title, width, line * (len(rows) + 1) + 10)
        for i, (colour, text) in enumerate(rows):
            y = box.top() + 5 + line * (i + 1)
            painter.setPen(QPen(QColor(0, 0, 0, 90), 1))
            painter.setBrush(QColor(colour))
            painter.drawRect(QRectF(box.left() + 8, y + 2, 14, fm.height() - 3))
            painter.setPen(QColor("#1d2125"))
            painter.drawText(QPointF(box.left() + 28, y + fm.ascent()), text)


class HeatmapLayer:
    """Account density: a binned Gaussian kernel density estimate of the accounts, on its own ramp
    (ColorBrewer YlGnBu, transparent where there are no accounts) over a neutral base: while it is shown
    the territory fill gives way to plain grey land with the territory outlines. The legend gives the
    ramp in accounts per 1,000 km² (the display CRS is equal-area, in metres)."""

    RAMP: tuple = ((0.0, (255, 255, 217, 0)), (0.08, (237, 248, 177, 120)), (0.25, (127, 205, 187, 185)),
                   (0.5, (29, 145, 192, 215)), (0.75, (34, 94, 168, 230)), (1.0, (8, 29, 88, 240)))
    BASE = "#e3e6ea"  # the land under the heatmap

    def __init__(self, scene: MapScene, points_lonlat: np.ndarray, bandwidth_px: float = 6.0,
                 grid: int = 640) -> None:
        self.scene, self.points, self.bandwidth_px, self.grid = scene, points_lonlat, bandwidth_px, grid
        x0, y0, x1, y1 = scene.extent
        self.rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        self._image: QImage | None = None
        self.top_per_1000km2 = 0.0  # density at the top of the ramp

    @property
    def image(self) -> QImage:
        """The density image, computed when first drawn (the layer is off by default)."""
        if self._image is None:
            self._image = self._density_image()
        return self._image

    def _density_image(self) -> QImage:
        from scipy.ndimage import gaussian_filter

        scene, grid, bandwidth_px = self.scene, self.grid, self.bandwidth_px
        xy = points_xy(_to_drawing(self.points, scene.crs), flip_y=False)
        x0, y0, x1, y1 = scene.extent
        nx = grid
        ny = max(1, int(grid * (y1 - y0) / max(x1 - x0, 1e-9)))
        hist, _, _ = np.histogram2d(xy[:, 1], xy[:, 0], bins=(ny, nx), range=((y0, y1), (x0, x1))) \
            if len(xy) else (np.zeros((ny, nx)), None, None)
        cell_km2 = (x1 - x0) / nx * (y1 - y0) / ny / 1e6
        density = gaussian_filter(hist, bandwidth_px) / max(cell_km2, 1e-12) * 1000.0  # per 1,000 km²
        top = np.percentile(density[density > 0], 99.5) if (density > 0).any() else 1.0
        self.top_per_1000km2 = float(top)
        return self._colourise(np.clip(density / top, 0, 1))

    def _colourise(self, v: np.ndarray) -> QImage:
        stops = np.array([s for s, _ in self.RAMP])
        rgba = np.stack([np.interp(v, stops, [c[i] for _, c in self.RAMP]) for i in range(4)], axis=-1)
        rgba[..., :3] *= rgba[..., 3:4] / 255.0  # premultiply
        data = np.ascontiguousarray(rgba.astype(np.uint8))
        h, w = v.shape
        image = QImage(data.data, w, h, 4 * w, QImage.Format.Format_RGBA8888_Premultiplied)
        return image.copy()

    def paint(self, painter: QPainter, view: RenderView) -> None:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(self.rect, self.image)

    def paint_legend(self, painter: QPainter, view: RenderView) -> None:
        """A gradient bar of the ramp with its density scale, in a white box at the lower left."""
        from PySide6.QtGui import QLinearGradient

        self.image  # noqa: B018 - computes the scale if the map has not been drawn yet
        title = "Account density (accounts per 1,000 km²)"
        ticks = [(0.0, "0"), (0.5, f"{self.top_per_1000km2 / 2:,.1f}"), (1.0, f"≥ {self.top_per_1000km2:,.1f}")]
        fm = legend_metrics(painter, view)
        box = legend_box(painter, view, title, max(fm.horizontalAdvance(title) + 16, 220), 3 * fm.height() + 20)
        bar = QRectF(box.left() + 8, box.top() + fm.height() + 10, box.width() - 16, fm.height())
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        for stop, (r, g, b, a) in self.RAMP:
            gradient.setColorAt(stop, QColor(r, g, b, max(a, 40)))
        painter.setPen(QPen(QColor(0, 0, 0, 90), 1))
        painter.setBrush(gradient)
        painter.drawRect(bar)
        painter.setPen(QColor("#1d2125"))
        for stop, text in ticks:
            w = fm.horizontalAdvance(text)
            x = min(max(bar.left() + stop * bar.width() - w / 2, bar.left()), bar.right() - w)
            painter.drawText(QPointF(x, bar.bottom() + 3 + fm.ascent()), text)


class PointsLayer:
    """Account points as dots, filled with the colour of the territory that owns each account (so
    accounts of account-type territories and overrides stand out), with a dark rim. Only points in view
    are drawn; at small scales only the rim colour is used."""

    def __init__(self, scene: MapScene, points_lonlat: np.ndarray, colour: str = "#303030",
                 size_px: float = 2.2) -> None:
        self.xy = points_xy(_to_drawing(points_lonlat, scene.crs), flip_y=False)
        self.colour = QColor(colour)
        self.size = size_px
        self.fill: np.ndarray | None = None  # "#rrggbb" per point, or None

    def set_fill(self, colours: np.ndarray | None) -> None:
        """Per-point fill colours (owner territory), array of "#rrggbb" strings or None."""
        self.fill = None if colours is None else np.asarray(colours, dtype=object)

    def paint(self, painter: QPainter, view: RenderView) -> None:
        r = view.visible
        xy = self.xy
        inside = (xy[:, 0] >= r.left()) & (xy[:, 0] <= r.right()) & (xy[:, 1] >= r.top()) & (xy[:, 1] <= r.bottom())
        idx = np.flatnonzero(inside)
        if not len(idx):
            return
        painter.setTransform(view.base)
        t = view.transform
        px = xy[idx] * np.array([t.m11(), t.m22()]) + np.array([t.dx(), t.dy()])
        big = self.fill is not None and len(idx) < 6000
        pen = QPen(self.colour, self.size + (2.8 if big else 0))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.drawPoints(QPolygonF([QPointF(x, y) for x, y in px]))
        if not big:
            return
        colours = self.fill[idx]
        for colour in np.unique(colours.astype(str)):
            pen = QPen(QColor(colour), self.size + 1.4)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            painter.setPen(pen)
            painter.drawPoints(QPolygonF([QPointF(x, y) for x, y in px[colours == colour]]))


class RepLayer:
    """Rep home markers: a white-ringed dark diamond with the rep's name when zoomed in."""

    def __init__(self, scene: MapScene, points_lonlat: np.ndarray, names: list[str]) -> None:
        points = np.asarray(points_lonlat, dtype=object)
        home = ~(shapely.is_missing(points) | shapely.is_empty(points))  # a rep may have no home yet
        self.xy = points_xy(_to_drawing(points[home], scene.crs), flip_y=False)
        self.names = [n for n, h in zip(names, home, strict=True) if h]

    def paint(self, painter: QPainter, view: RenderView) -> None:
        painter.setTransform(view.base)
        t = view.transform
        font = QFont()
        font.setPointSizeF(7.5)
        painter.setFont(font)
        show_names = view.px < 2500
        for (x, y), name in zip(self.xy, self.names, strict=True):
            p = t.map(QPointF(x, y))
            if not view.target.adjusted(-10, -10, 10, 10).contains(p):
                continue
            diamond = QPolygonF([p + QPointF(0, -6), p + QPointF(6, 0), p + QPointF(0, 6), p + QPointF(-6, 0)])
            painter.setPen(QPen(QColor("white"), 1.6))
            painter.setBrush(QColor("#1f3a5f"))
            painter.drawPolygon(diamond)
            if show_names:
                painter.setPen(QColor(255, 255, 255, 210))  # halo so names read on any fill
                for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                    painter.drawText(p + QPointF(8 + dx, 4 + dy), name)
                painter.setPen(QColor("#1f3a5f"))
                painter.drawText(p + QPointF(8, 4), name)


class ContextLayer:
    """State outlines (from the bundled US states file) drawn as thin grey lines."""

    def __init__(self, scene: MapScene, geoms_lonlat: np.ndarray) -> None:
        # outlines only: simplify the boundary lines without topology checks (10x faster, same look)
        lines = shapely.boundary(np.asarray(geoms_lonlat, dtype=object))
        simplified = shapely.simplify(lines, 0.005, preserve_topology=False)
        self.path = geometries_to_path(_to_drawing(simplified, scene.crs), flip_y=False)

    def paint(self, painter: QPainter, view: RenderView) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        stroke_thick(painter, [self.path], QColor(90, 90, 90, 200), 1.0)


def bundled_state_outlines() -> np.ndarray | None:
    """Lower-48 state polygons (EPSG:4326) from the bundled reference data, or None if absent."""
    return state_outlines()
