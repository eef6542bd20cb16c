"""How a balancing proposal is drawn on the map: the map as it would be after Apply, with what changed
marked - not a mesh of outlined units hiding the new shapes.

Overlays, bottom to top (keys start with ``balance:`` so ``clear_highlight`` removes them all; the fills
are ``balance:<territory id>``, the others ``balance:#moved``, ``balance:#old`` and ``balance:#new``):
1. the moved units filled with the colour of the territory they would join (the new fills);
2. a light diagonal hatch over the moved units, so the changes read at a glance without hiding the fills
   (no outline: a moved area's edge is made of old and new boundaries, drawn next);
3. the old boundaries of the territories the proposal touches, as a thin dashed line (their outlines in
   the territory outline layer are muted meanwhile: ``MapRenderer.muted_outlines``);
4. the new boundaries of those territories, as the territory outline layer draws them.
The territory labels are placed on the proposed territories (``MapRenderer.label_shapes``), so each name
sits in the area its territory would have after Apply.
"""

from __future__ import annotations

import numpy as np
import shapely
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from .geometry import geometries_to_path
from .renderer import Overlay
from .scene import _dissolve_geoms, label_anchor

PREFIX = "balance:"
NONE = QColor(0, 0, 0, 0)


def _dissolved(scene, members: np.ndarray, level: int = 1):
    """The union of units ``members``, simplified as LOD ``level`` draws it (drawing space)."""
    geom = _dissolve_geoms(scene.geoms[members])
    tol = scene.tolerances[min(level, len(scene.tolerances) - 1)]
    return shapely.simplify(geom, tol) if tol > 0 else geom


def _dissolved_path(scene, members: np.ndarray, level: int = 1):
    return geometries_to_path([_dissolved(scene, members, level)], flip_y=False)


class ProposedShapes:
    """The territories as the proposal would leave them, for the map's labels: what
    :func:`~.map_labels.layout_labels` reads of a scene (``drawn_keys``, ``bounds``, ``label_circle``,
    ``level_geometry``), with the touched territories from their proposed units and the others as drawn."""

    def __init__(self, scene, proposed: dict[str, object]) -> None:
        """``proposed``: touched territory id -> its proposed geometry (None: the proposal empties it)."""
        self.scene, self._proposed = scene, proposed
        self.bounds = {k: b for k, b in scene.bounds.items() if k not in proposed}
        self.bounds.update({k: tuple(shapely.bounds(g)) for k, g in proposed.items() if g is not None})
        self._circles: dict[str, tuple[float, float, float]] = {}

    def drawn_keys(self) -> list:
        return [k for k in self.scene.drawn_keys() if k not in self._proposed] + \
            [k for k, g in self._proposed.items() if g is not None]

    def level_geometry(self, key, level: int):
        return self._proposed[key] if key in self._proposed else self.scene.level_geometry(key, level)

    def label_circle(self, key) -> tuple[float, float, float] | None:
        if key not in self._proposed:
            return self.scene.label_circle(key)
        if key not in self._circles and self._proposed[key] is not None:
            self._circles[key] = label_anchor(self._proposed[key], self.scene.full_px)
        return self._circles.get(key)


def touched_territories(scene, changes: dict[str, tuple]) -> set[str]:
    """Territories that lose or gain units: their current outlines give way to the proposal's."""
    out = {t for u, (_old, new) in changes.items() if u in scene.index_of
           for t in (scene.unit_territory[scene.index_of[u]], new)}
    out.discard(None)
    return out


def show_proposal_on(canvas, changes: dict[str, tuple]) -> None:
    """Put the overlays of ``changes`` on ``canvas`` and mute the current outlines of the territories
    they touch (the old boundaries are drawn thin by the overlays instead)."""
    overlays, shapes = proposal_overlays(canvas.scene, changes)
    canvas.renderer.overlays.update(overlays)
    canvas.renderer.muted_outlines = touched_territories(canvas.scene, changes)
    canvas.renderer.label_shapes = shapes


def proposal_overlays(scene, changes: dict[str, tuple]) -> tuple[dict[str, Overlay], ProposedShapes | None]:
    """Overlays for ``changes`` (unit id -> (old territory, new territory)) on ``scene`` (current plan), and
    the proposed territories the labels are placed on (None without changes)."""
    moved = {scene.index_of[u]: new for u, (_old, new) in changes.items() if u in scene.index_of}
    if not moved:
        return {}, None
    out: dict[str, Overlay] = {}
    by_dest: dict[str, list[int]] = {}
    for i, t in moved.items():
        by_dest.setdefault(t, []).append(i)
    for t, idx in by_dest.items():
        colour = QColor(scene.colour_of(t)) if t in scene.colours else QColor("#cccccc")
        out[f"{PREFIX}{t}"] = Overlay(geometries_to_path(scene.geoms[np.array(idx)], flip_y=False),
                                           colour, NONE, 0.0)
    moved_idx = np.array(sorted(moved))
    out[f"{PREFIX}#moved"] = Overlay(_dissolved_path(scene, moved_idx, level=2), QColor(20, 20, 20, 80),
                                    NONE, 0.0, Qt.BrushStyle.BDiagPattern)
    proposed = scene.unit_territory.copy()
    proposed[moved_idx] = [moved[i] for i in moved_idx]
    touched = touched_territories(scene, changes)
    old = [scene.territory_path(t, 1) for t in touched if t in scene.bounds]
    from PySide6.QtGui import QPainterPath

    old_path = QPainterPath()
    for path in old:
        old_path.addPath(path)
    out[f"{PREFIX}#old"] = Overlay(old_path, NONE, QColor(40, 40, 40, 210), 1.2, dashed=True)
    shapes: dict[str, object] = {}
    new_path = QPainterPath()
    for t in touched:
        members = np.flatnonzero(proposed == t)
        shapes[t] = _dissolved(scene, members) if len(members) else None
        if shapes[t] is not None:
            new_path.addPath(geometries_to_path([shapes[t]], flip_y=False))
    out[f"{PREFIX}#new"] = Overlay(new_path, NONE, QColor("#30343a"), 1.8)
    return out, ProposedShapes(scene, shapes)
