"""The map renderer: paints a :class:`MapScene` and its overlays on ANY QPainter for a view extent.

The canvas widget, the screenshot command and the print engine (QPdfWriter pages) all use it.
Layers are drawn bottom to top in ``MapRenderer.layers`` order; each has visibility and opacity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QTransform,
)

from .scene import MapScene

#: units are outlined once they are at least this many pixels across on screen
UNIT_OUTLINE_MIN_PX = 7.0
#: layers drawn above the overlays (selection, validation, proposal), whatever their place in the list
ON_TOP = frozenset({"labels"})


@dataclass
class Layer:
    """One drawable layer: ``key`` names the painter method, ``title`` is shown in the layer panel."""

    key: str
    title: str
    visible: bool = True
    opacity: float = 1.0


@dataclass
class Overlay:
    """Highlighted geometry drawn above the layers (selection, validation problems). ``style`` is the
    fill's brush style (a hatch stays visible on any fill colour); ``wash`` an optional solid fill under
    it; ``casing`` an optional wider outline under ``pen`` (a light casing makes a dark line visible on
    dark fills and the other way round)."""

    path: QPainterPath = field(default_factory=QPainterPath)
    fill: QColor = field(default_factory=lambda: QColor(255, 230, 0, 90))
    pen: QColor = field(default_factory=lambda: QColor(20, 20, 20))
    width: float = 2.0
    style: Qt.BrushStyle = Qt.BrushStyle.SolidPattern
    wash: QColor | None = None
    casing: QColor | None = None
    dashed: bool = False  # a dashed 1-px line instead of ``stroke_thick`` (former boundaries)

    def resolve(self, scene: MapScene, level: int) -> QPainterPath:
        """The path to paint at LOD ``level``: the overlay's own."""
        return self.path


@dataclass
class TerritoryOverlay(Overlay):
    """An outline of one territory as the map draws it: the scene's cached territory path at the level
    being painted, so it follows every edit and zoom without being rebuilt (a highlight rebuilt after each
    refresh of a brush stroke cost a dissolve and a repaint of the stroke's area every time)."""

    territory: str | None = None

    def resolve(self, scene: MapScene, level: int) -> QPainterPath:
        if self.territory is None or self.territory not in scene.bounds:
            return QPainterPath()
        return scene.territory_path(self.territory, level)


def selection_overlay(path: QPainterPath) -> Overlay:
    """The selection: a white wash and a dark hatch inside, a dark outline on a white casing - visible on
    every territory colour, light or dark."""
    return Overlay(path, QColor(15, 15, 15, 190), QColor(15, 15, 15), 1.8, Qt.BrushStyle.BDiagPattern,
                   wash=QColor(255, 255, 255, 95), casing=QColor(255, 255, 255, 235))


def default_layers() -> list[Layer]:
    return [
        Layer("basemap", "Basemap (OpenStreetMap tiles)", visible=False),
        Layer("units", "Units (territory fill)", opacity=0.85),
        Layer("choropleth", "Choropleth", visible=False, opacity=0.85),
        Layer("heatmap", "Account density", visible=False, opacity=0.75),
        Layer("context", "State outlines"),
        Layer("territories", "Territory outlines"),
        Layer("accounts", "Accounts", visible=False),
        Layer("reps", "Rep homes"),
        Layer("comments", "Comment markers"),  # territories and accounts with open comments (ui.comments_dock)
        Layer("labels", "Territory labels"),
    ]


def stroke_thick(painter: QPainter, paths: list[QPainterPath], colour: QColor, width: float) -> None:
    """Stroke ``paths`` about ``width`` device pixels wide with antialiased 1-px cosmetic passes shifted
    by sub-pixel offsets: Qt's antialiased stroker is ~10x slower for pens wider than 1 px."""
    pen = QPen(colour, 1.0)
    pen.setCosmetic(True)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    base = painter.transform()
    offsets = [(0.0, 0.0)] if width <= 1.2 else [(0.0, 0.0), (0.7, 0.7)] if width <= 2.2 else \
        [(0.0, 0.0), (0.9, 0.0), (0.0, 0.9), (0.9, 0.9)] if width <= 3.2 else \
        [(0.0, 0.0)] + [((width - 1) / 2 * np.cos(a), (width - 1) / 2 * np.sin(a))
                        for a in np.linspace(0, 2 * np.pi, 8, endpoint=False)]  # a ring: wide casings
    for dx, dy in offsets:
        painter.setTransform(base * QTransform.fromTranslate(dx, dy))
        for path in paths:
            painter.drawPath(path)
    painter.setTransform(base)


def view_transform(extent: QRectF, target: QRectF) -> QTransform:
    """Transform from drawing space ``extent`` onto pixel rectangle ``target`` (uniform scale, centred)."""
    sx = target.width() / max(extent.width(), 1e-12)
    sy = target.height() / max(extent.height(), 1e-12)
    s = min(sx, sy)
    cx, cy = extent.center().x(), extent.center().y()
    t = QTransform()
    t.translate(target.center().x(), target.center().y())
    t.scale(s, s)
    t.translate(-cx, -cy)
    return t


class MapRenderer:
    """Draws territory fills (dissolved, LOD-simplified), unit outlines, context layers and overlays."""

    def __init__(self, scene: MapScene) -> None:
        self.scene = scene
        self.layers = default_layers()
        self.overlays: dict[str, Overlay] = {}
        self.extras: dict[str, object] = {}  # layer key -> painter object with paint(painter, view)
        self.background = QColor("#f4f6f8")
        self.outline_colour = QColor("#30343a")
        self.unit_outline_colour = QColor(255, 255, 255, 170)
        #: territories whose outline the outline layer leaves out (a proposal draws their new outline)
        self.muted_outlines: set = set()
        #: the territories the labels are placed on instead of the scene's (a proposal's, ui.proposal_view)
        self.label_shapes = None
        #: while True (a brush stroke), the labels keep the layout they had when the shapes last changed
        #: at this zoom: placing them again after every mouse move stalled the stroke (the canvas clears
        #: it and repaints at the end of the stroke, which places them on the new shapes)
        self.hold_labels = False

    def layer(self, key: str) -> Layer:
        return next(layer for layer in self.layers if layer.key == key)

    # ---- painting
    def paint(self, painter: QPainter, extent: QRectF, target: QRectF) -> None:
        """Paint the map of drawing-space ``extent`` into pixel rectangle ``target`` of ``painter``."""
        painter.save()
        clip = target
        if painter.hasClipping():  # a partial repaint: draw only what meets the clip
            clip = painter.transform().inverted()[0].mapRect(painter.clipBoundingRect()).intersected(target)
        painter.setClipRect(target, Qt.ClipOperation.IntersectClip)
        painter.fillRect(clip, self.background)
        transform = view_transform(extent, target)
        px = 1.0 / transform.m11()
        inverse = transform.inverted()[0]
        visible = inverse.mapRect(target)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        view = RenderView(transform, visible, px, target, painter.transform(), inverse.mapRect(clip))
        self._paint_layers(painter, view, [layer for layer in self.layers if layer.key not in ON_TOP])
        painter.save()
        painter.setTransform(transform, True)
        level = self.scene.level_for(px)
        for overlay in self.overlays.values():
            path = overlay.resolve(self.scene, level)
            if not path.isEmpty():
                self._paint_overlay(painter, overlay, path)
        painter.restore()
        self._paint_layers(painter, view, [layer for layer in self.layers if layer.key in ON_TOP])
        for layer in self.layers:  # legends of visible layers, in device pixels at the lower left
            extra = self.extras.get(layer.key)
            if layer.visible and extra is not None and hasattr(extra, "paint_legend"):
                painter.save()
                extra.paint_legend(painter, view)
                painter.restore()
        painter.restore()

    def _paint_layers(self, painter: QPainter, view: RenderView, layers: list[Layer]) -> None:
        for layer in layers:
            if not layer.visible or layer.opacity <= 0:
                continue
            painter.save()
            painter.setOpacity(layer.opacity)
            painter.setTransform(view.transform, True)
            method = getattr(self, f"_paint_{layer.key}", None)
            if method is not None:
                method(painter, view)
            elif layer.key in self.extras:
                self.extras[layer.key].paint(painter, view)
            painter.restore()

    @staticmethod
    def _paint_overlay(painter: QPainter, overlay: Overlay, path: QPainterPath) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        if overlay.wash is not None:
            painter.setBrush(overlay.wash)
            painter.drawPath(path)
        if overlay.fill.alpha() > 0:
            painter.setBrush(QBrush(overlay.fill, overlay.style))
            painter.drawPath(path)
        if overlay.casing is not None:
            stroke_thick(painter, [path], overlay.casing, overlay.width + 2.6)
        if overlay.pen.alpha() > 0 and overlay.width > 0 and overlay.dashed:
            pen = QPen(overlay.pen, overlay.width, Qt.PenStyle.CustomDashLine)
            pen.setDashPattern([4.0, 3.0])
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
        elif overlay.pen.alpha() > 0 and overlay.width > 0:
            stroke_thick(painter, [path], overlay.pen, overlay.width)

    def _visible_keys(self, view: RenderView, cull: bool = True) -> list:
        """Territories whose bounding box meets the area to paint (``cull``) or the whole view."""
        rect = view.cull if cull and view.cull is not None else view.visible
        cache_key = f"_keys_{cull}"
        cached = view.__dict__.get(cache_key)
        if cached is not None:
            return cached
        left, top, right, bottom = rect.left(), rect.top(), rect.right(), rect.bottom()
        out = [key for key, (x0, y0, x1, y1) in self.scene.bounds.items()
               if not (x1 < left or x0 > right or y1 < top or y0 > bottom)]
        view.__dict__[cache_key] = out
        return out

    def _paint_units(self, painter: QPainter, view: RenderView) -> None:
        if self.layer("choropleth").visible and "choropleth" in self.extras:
            return  # the choropleth replaces the territory fill
        neutral = self.layer("heatmap").visible and "heatmap" in self.extras  # the heatmap needs a plain base
        scene = self.scene
        level = scene.level_for(view.px)
        painter.setPen(Qt.PenStyle.NoPen)
        # the antialiased territory outlines cover the fill edges, so the fill need not be antialiased
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, not self.layer("territories").visible)
        base = QColor(self.extras["heatmap"].BASE) if neutral else None
        for key in self._visible_keys(view):
            painter.setBrush(base or scene.colour_of(key))
            painter.drawPath(scene.territory_path(key, level))
        if not neutral:
            self._paint_unit_outlines(painter, view)

    def _paint_choropleth(self, painter: QPainter, view: RenderView) -> None:
        """Units filled by class (replaces the territory fill), with unit outlines when zoomed in."""
        layer = self.extras.get("choropleth")
        if layer is not None:
            layer.paint(painter, view)
            self._paint_unit_outlines(painter, view)

    def _paint_unit_outlines(self, painter: QPainter, view: RenderView) -> None:
        scene = self.scene
        if scene.median_unit_size / view.px < UNIT_OUTLINE_MIN_PX:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = QPen(self.unit_outline_colour, 1.0)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for path in self._unit_outline_paths(view):
            painter.drawPath(path)

    def _unit_outline_paths(self, view: RenderView) -> list[QPainterPath]:
        """Unit outlines of the grid cells overlapping the view (``MapScene.unit_outline_cells``)."""
        rect = view.cull if view.cull is not None else view.visible
        return self.scene.unit_outline_paths(self.scene.level_for(view.px),
                                             (rect.left(), rect.top(), rect.right(), rect.bottom()))

    def _paint_territories(self, painter: QPainter, view: RenderView) -> None:
        scene = self.scene
        level = scene.level_for(view.px)
        paths = [scene.territory_path(key, level) for key in self._visible_keys(view)
                 if key is not None and key not in self.muted_outlines]
        stroke_thick(painter, paths, self.outline_colour, 1.7)

    def _paint_labels(self, painter: QPainter, view: RenderView) -> None:
        """Every territory's name: inside it where it fits, else beside it with a leader line
        (``map_labels.layout_labels``; the layout is cached per zoom level and scene version)."""
        scene = self.scene
        painter.save()
        painter.setTransform(view.base)
        dpr = painter.device().devicePixelRatioF() if painter.device() else 1.0
        t = view.transform
        for label in self._label_layout(view.px, scene.level_for(view.px)):
            image = self._label_image(label.text, dpr, label.size)
            w, h = label.box
            c = t.map(QPointF(*label.centre))
            rect = QRectF(c.x() - w / 2, c.y() - h / 2, w, h)
            if not rect.intersects(view.target):
                continue
            if label.anchor is not None:
                self._leader(painter, t.map(QPointF(*label.anchor)), rect)
            painter.drawImage(rect, image)
        painter.restore()

    def place_labels(self, px: float) -> None:
        """Place the labels for pixel size ``px`` now (cached for the next paint at that zoom)."""
        self._label_layout(px, self.scene.level_for(px))

    def _label_layout(self, px: float, level: int):
        from .map_labels import layout_labels

        shapes = self.label_shapes if self.label_shapes is not None else self.scene
        key = (round(px, 6), self.scene.version, level, shapes)  # the object, so no new one reuses its id
        cached = self.__dict__.get("_labels_for")
        held = self.hold_labels and cached is not None and cached[0][0] == key[0] and cached[0][2:] == key[2:]
        if cached is None or (cached[0] != key and not held):
            def measure(text: str, size: float) -> tuple[float, float]:
                image = self._label_image(text, 1.0, size)
                return float(image.width()), float(image.height())

            cached = (key, layout_labels(shapes, self.scene.names, measure, px, level))
            self._labels_for = cached
        return cached[1]

    @staticmethod
    def _leader(painter: QPainter, anchor: QPointF, rect: QRectF) -> None:
        """A thin dark line with a white casing from a dot at ``anchor`` to the nearest side of ``rect``."""
        end = QPointF(min(max(anchor.x(), rect.left()), rect.right()), min(max(anchor.y(), rect.top()), rect.bottom()))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for colour, width in ((QColor(255, 255, 255, 220), 3.0), (QColor("#1d2125"), 1.1)):
            painter.setPen(QPen(colour, width))
            painter.drawLine(anchor, end)
        painter.setPen(QPen(QColor("white"), 1.2))
        painter.setBrush(QColor("#1d2125"))
        painter.drawEllipse(anchor, 2.6, 2.6)

    def _label_image(self, text: str, dpr: float, size: float = 8.5) -> QImage:
        """The label ``text`` with a white halo, rendered once and cached (device pixel ratio ``dpr``)."""
        cache = self.__dict__.setdefault("_label_cache", {})
        image = cache.get((text, dpr, size))
        if image is None:
            font = QFont()
            font.setPointSizeF(size)
            font.setBold(True)
            metrics = QFontMetricsF(font)
            w, h = metrics.horizontalAdvance(text) + 6, metrics.height() + 4
            image = QImage(int(w * dpr) + 1, int(h * dpr) + 1, QImage.Format.Format_ARGB32_Premultiplied)
            image.setDevicePixelRatio(dpr)
            image.fill(Qt.GlobalColor.transparent)
            p = QPainter(image)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            path = QPainterPath()
            path.addText(3, 2 + metrics.ascent(), font, text)
            p.strokePath(path, QPen(QColor(255, 255, 255, 230), 3.0))
            p.fillPath(path, QColor("#1d2125"))
            p.end()
            cache[(text, dpr, size)] = image
        return image


@dataclass
class RenderView:
    """What a layer needs to paint: drawing->pixel transform, visible drawing rect, pixel size (m/px)."""

    transform: QTransform
    visible: QRectF
    px: float
    target: QRectF
    base: QTransform  # the painter's transform before the map transform (device pixels)
    cull: QRectF | None = None  # drawing-space rect that needs painting (partial repaint), None = visible
