"""Territory labels for print: vector text (selectable in the PDF) with a white halo, placed inside the
territory's polygon and never overlapping another label or a reserved box (inset, scale bar).

For each territory (largest first) candidate anchors are grid points inside its visible part ordered by
distance to its boundary; the label takes the first anchor and font size where its whole box lies inside
the polygon. A territory too small for its name gets its legend number instead; if even that collides,
it stays unlabelled (the legend still lists it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QTransform

from ..scene import MapScene

FONT_SIZES = (9.0, 8.0, 7.0, 6.0)
NUMBER_SIZE = 6.5
HALO_MM = 0.7


@dataclass
class PlacedLabel:
    key: str
    lines: list[str]
    rect: QRectF  # device pixels
    size: float
    number_only: bool


def _font(size: float, bold: bool = True) -> QFont:
    f = QFont()
    f.setPointSizeF(size)
    f.setBold(bold)
    return f


def _candidates(geom, view: QRectF, n: int = 80) -> np.ndarray:
    """Up to ``n`` points (drawing space) inside ``geom`` ∩ ``view``, deepest (farthest from the edge) first."""
    clip = shapely.intersection(geom, shapely.box(view.left(), view.top(), view.right(), view.bottom()))
    if clip.is_empty or clip.area <= 0:
        return np.zeros((0, 2))
    clip = shapely.simplify(clip, max(view.width(), view.height()) / 400)  # ~0.5 mm on paper is plenty
    x0, y0, x1, y1 = clip.bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, 26)[1:-1], np.linspace(y0, y1, 26)[1:-1])
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    inside = shapely.contains_xy(clip, pts[:, 0], pts[:, 1])
    pts = pts[inside]
    pole = shapely.get_coordinates(shapely.point_on_surface(clip))
    if len(pts) == 0:
        return pole
    depth = shapely.distance(shapely.boundary(clip), shapely.points(pts))
    # points at least 85% as deep as the deepest, nearest the middle first; then the rest, deepest first
    good = depth >= 0.85 * depth.max()
    c = shapely.get_coordinates(shapely.centroid(clip))[0]
    near = np.hypot(pts[:, 0] - c[0], pts[:, 1] - c[1])
    order = np.lexsort((np.where(good, near, -depth), ~good))[:n]
    return pts[order]


def place_labels(painter: QPainter, transform: QTransform, scene: MapScene, texts: dict[str, list[str]],
                 numbers: dict[str, str], frame: QRectF, obstacles: list[QRectF], mm_px: float,
                 colours: dict[str, QColor] | None = None) -> list[PlacedLabel]:
    """Place and draw labels. ``texts[key]`` are the lines (first bold); ``numbers[key]`` the fallback for
    territories too small for their name (keys without one stay unlabelled then); ``transform`` maps drawing
    space to device pixels; ``frame`` is the map frame and ``obstacles`` boxes labels must avoid (device px).
    Returns the labels placed."""
    inverse = transform.inverted()[0]
    view = inverse.mapRect(frame)
    device = painter.device()
    keys = [k for k in texts if scene.territory_geometry(k) is not None]
    keys.sort(key=lambda k: -scene.territory_geometry(k).area)
    taken = list(obstacles)
    inner = frame.adjusted(mm_px, mm_px, -mm_px, -mm_px)
    placed: list[PlacedLabel] = []
    for key in keys:
        geom = scene.territory_geometry(key)
        gx0, gy0, gx1, gy1 = geom.bounds
        if gx1 < view.left() or gx0 > view.right() or gy1 < view.top() or gy0 > view.bottom():
            continue
        cands = _candidates(geom, view)
        if not len(cands):
            continue
        anchors = [transform.map(QPointF(x, y)) for x, y in cands]
        geom = shapely.from_wkb(shapely.to_wkb(geom))  # a private copy: preparing mutates the geometry, and
        shapely.prepare(geom)  # the canvas may be drawing the shared one in another thread (GEOS would crash)
        label = _fit(key, texts[key], anchors, geom, inverse, inner, taken, device, mm_px)
        if label is None and key in numbers:
            label = _fit(key, [numbers[key]], anchors[:20], None, inverse, inner, taken, device, mm_px,
                         sizes=(NUMBER_SIZE,), number=True)
        if label is None:
            continue
        taken.append(label.rect)
        placed.append(label)
        _draw(painter, label, device, mm_px, (colours or {}).get(key, QColor("#15181b")))
    return placed


def _block(lines: list[str], size: float, device) -> tuple[float, float, list[tuple[QFont, float, float]]]:
    """Width, height and (font, width, ascent) per line of a label block at ``size`` pt."""
    specs = []
    w = h = 0.0
    for i, line in enumerate(lines):
        font = _font(size if i == 0 else size * 0.82, bold=i == 0)
        fm = QFontMetricsF(font, device)
        lw = fm.horizontalAdvance(line)
        specs.append((font, lw, fm.ascent()))
        w = max(w, lw)
        h += fm.height()
    return w, h, specs


def _fit(key: str, lines: list[str], anchors: list[QPointF], geom, inverse: QTransform, inner: QRectF,
         taken: list[QRectF], device, mm_px: float, sizes=FONT_SIZES, number: bool = False) -> PlacedLabel | None:
    if not lines or not lines[0]:
        return None
    options = [(s, lines) for s in sizes]
    if len(lines) > 1:  # drop the second line before shrinking below 7 pt
        options = [(s, lines) for s in sizes if s >= 7.0] + [(s, lines[:1]) for s in sizes]
    pad = 0.4 * mm_px
    for size, ls in options:
        w, h, _ = _block(ls, size, device)
        for a in anchors:
            rect = QRectF(a.x() - w / 2 - pad, a.y() - h / 2 - pad, w + 2 * pad, h + 2 * pad)
            if not inner.contains(rect) or any(rect.intersects(t) for t in taken):
                continue
            if geom is not None:
                r = inverse.mapRect(rect)
                if not shapely.contains(geom, shapely.box(r.left(), r.top(), r.right(), r.bottom())):
                    continue
            return PlacedLabel(key, ls, rect, size, number)
    return None


def _path_font(f: QFont, device) -> QFont:
    """``f`` scaled so QPainterPath.addText (which measures at the default screen DPI) matches the glyphs
    drawText puts on ``device``."""
    ratio = QFontMetricsF(f, device).ascent() / max(QFontMetricsF(f).ascent(), 1e-9)
    g = QFont(f)
    g.setPointSizeF(f.pointSizeF() * ratio)
    return g


def _draw(painter: QPainter, label: PlacedLabel, device, mm_px: float, colour: QColor) -> None:
    _, _, specs = _block(label.lines, label.size, device)
    pad = 0.4 * mm_px
    y = label.rect.top() + pad
    cx = label.rect.center().x()
    painter.save()
    for line, (font, lw, ascent) in zip(label.lines, specs, strict=True):
        base = QPointF(cx - lw / 2, y + ascent)
        halo = QPainterPath()
        halo.addText(base, _path_font(font, device), line)
        painter.strokePath(halo, QPen(QColor(255, 255, 255, 235), HALO_MM * mm_px))
        painter.setFont(font)
        painter.setPen(colour)
        painter.drawText(base, line)
        y += QFontMetricsF(font, device).height()
    painter.restore()
