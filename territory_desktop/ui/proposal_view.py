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
"""

from __future__ import annotations

import numpy as np
import shapely
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from .geometry import geometries_to_path
from .renderer import Overlay

PREFIX = "balance:"
NONE = QColor(0, 0, 0, 0)


def _dissolved_path(scene, members: np.ndarray, level: int = 1):
    geom = shapely.coverage_union_all(scene.geoms[members])
    if not shapely.is_valid(geom):
        geom = shapely.union_all(shapely.make_valid(scene.geoms[members]))
    tol = scene.tolerances[min(level, len(scene.tolerances) - 1)]
    return geometries_to_path([shapely.simplify(geom, tol) if tol > 0 else geom], flip_y=False)


def touched_territories(scene, changes: dict[str, tuple]) -> set[str]:
    """Territories that lose or gain units: their current outlines give way to the proposal's."""
    out = {t for u, (_old, new) in changes.items() if u in scene.index_of
           for t in (scene.unit_territory[scene.index_of[u]], new)}
    out.discard(None)
    return out


def show_proposal_on(canvas, changes: dict[str, tuple]) -> None:
    """Put the overlays of ``changes`` on ``canvas`` and mute the current outlines of the territories
    they touch (the old boundaries are drawn thin by the overlays instead)."""
    canvas.renderer.overlays.update(proposal_overlays(canvas.scene, changes))
    canvas.renderer.muted_outlines = touched_territories(canvas.scene, changes)


def proposal_overlays(scene, changes: dict[str, tuple]) -> dict[str, Overlay]:
    """Overlays for ``changes`` (unit id -> (old territory, new territory)) on ``scene`` (current plan)."""
    moved = {scene.index_of[u]: new for u, (_old, new) in changes.items() if u in scene.index_of}
    if not moved:
        return {}
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
    new_path = QPainterPath()
    for t in touched:
        members = np.flatnonzero(proposed == t)
        if len(members):
            new_path.addPath(_dissolved_path(scene, members))
    out[f"{PREFIX}#new"] = Overlay(new_path, NONE, QColor("#30343a"), 1.8)
    return out
