"""Territory labels on the screen map: every territory gets its name, inside its polygon where it fits,
else beside it with a leader line.

Placement, for one zoom level (pixel size ``px``; panning reuses it):
1. Territories largest first. The anchor is the pole of inaccessibility of the territory's largest part
   (``MapScene.label_circle``). A label fits inside when the corners and edge midpoints of its box, at
   8.5 pt and then 7 pt, all lie inside the territory and it overlaps no label placed before.
2. The others, smallest first, try boxes around their anchor in 8 directions at growing distances
   (clear of every placed label and of the other territories' anchors) and are drawn with a thin
   leader line from a dot at the anchor. Only a territory with no free place at all stays unlabelled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

SIZES = (8.5, 7.0)
DIRECTIONS = [(1, 0), (-1, 0), (0, -1), (0, 1), (0.7, -0.7), (-0.7, -0.7), (0.7, 0.7), (-0.7, 0.7)]
RINGS_PX = (18, 34, 54, 78)


@dataclass
class PlacedLabel:
    key: str
    text: str
    size: float
    centre: tuple[float, float]  # drawing space
    box: tuple[float, float]  # width, height in pixels
    anchor: tuple[float, float] | None = None  # drawing space; set when drawn with a leader line


def _overlaps(box: tuple[float, float, float, float], taken: list[tuple[float, float, float, float]]) -> bool:
    x0, y0, x1, y1 = box
    return any(not (x1 <= a0 or x0 >= a1 or y1 <= b0 or y0 >= b1) for a0, b0, a1, b1 in taken)


def _box(cx: float, cy: float, w: float, h: float, px: float) -> tuple[float, float, float, float]:
    """Pixel-space box of a label centred at drawing point (cx, cy) (pixels = drawing / px)."""
    x, y = cx / px, cy / px
    return (x - w / 2, y - h / 2, x + w / 2, y + h / 2)


def _fits_inside(geom, cx: float, cy: float, w: float, h: float, px: float) -> bool:
    dx, dy = w / 2 * px, h / 2 * px
    xs = cx + np.array([-dx, 0, dx, -dx, dx, -dx, 0, dx])
    ys = cy + np.array([-dy, -dy, -dy, 0, 0, dy, dy, dy])
    return bool(shapely.contains_xy(geom, xs, ys).all())


def layout_labels(scene, names: dict, measure, px: float, level: int) -> list[PlacedLabel]:
    """Place a label for every territory of ``scene`` at pixel size ``px`` (drawing units per pixel).
    ``measure(text, size) -> (width, height)`` in pixels; ``level`` picks the geometry tested against."""
    keys = [k for k in scene.drawn_keys() if k is not None]
    areas = {k: (b[2] - b[0]) * (b[3] - b[1]) for k, b in scene.bounds.items() if k in keys}
    keys.sort(key=lambda k: -areas[k])
    circles = {k: scene.label_circle(k) for k in keys}
    taken: list[tuple[float, float, float, float]] = []
    placed: list[PlacedLabel] = []
    outside = []
    for key in keys:
        text = str(names.get(key, key))
        cx, cy, _r = circles[key]
        geom = scene.level_geometry(key, level)
        for size in SIZES:
            w, h = measure(text, size)
            box = _box(cx, cy, w, h, px)
            if _fits_inside(geom, cx, cy, w, h, px) and not _overlaps(box, taken):
                taken.append(box)
                placed.append(PlacedLabel(key, text, size, (cx, cy), (w, h)))
                break
        else:
            outside.append(key)
    anchors = [_box(c[0], c[1], 8, 8, px) for c in circles.values()]
    for key in sorted(outside, key=lambda k: areas[k]):
        label = _beside(key, str(names.get(key, key)), circles[key], measure, px, taken, anchors)
        if label is not None:
            placed.append(label)
    return placed


def _beside(key, text, circle, measure, px, taken, anchors) -> PlacedLabel | None:
    """A box next to the territory (leader line), clear of placed labels and other anchors."""
    cx, cy, r = circle
    size = SIZES[-1]
    w, h = measure(text, size)
    own = _box(cx, cy, 8, 8, px)
    others = [a for a in anchors if a != own]
    for ring in RINGS_PX:
        reach = r / px + ring
        for ux, uy in DIRECTIONS:
            lx = cx + (ux * (reach + w / 2)) * px
            ly = cy + (uy * (reach + h / 2)) * px
            box = _box(lx, ly, w, h, px)
            if not _overlaps(box, taken) and not _overlaps(box, others):
                taken.append(box)
                return PlacedLabel(key, text, size, (lx, ly), (w, h), anchor=(cx, cy))
    return None
