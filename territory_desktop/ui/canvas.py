"""The map canvas widget: pan/zoom, click/rectangle/lasso selection, brush painting.

Drawing is delegated to :class:`MapRenderer`; edits go through the QUndoStack as
:class:`AssignUnitsCommand` (one brush stroke = one undo step). The canvas listens to the Plan through
:class:`PlanBridge` and re-dissolves only the territories a change touched.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyproj
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF, QUndoStack
from PySide6.QtWidgets import QWidget

from ..models import Project
from .commands import AssignUnitsCommand, PlanBridge
from .geometry import geometries_to_path
from .renderer import MapRenderer, Overlay, selection_overlay
from .scene import MapScene

TOOLS = ("pan", "select", "rect", "lasso", "brush")
_strokes = itertools.count(1)
#: the labels are placed again this many ms after a stroke ends (after the stroke's last repaint)
LABEL_DELAY_MS = 25


class MapCanvas(QWidget):
    """Interactive map of a project's units coloured by territory."""

    selectionChanged = Signal(list)  # unit ids
    cursorMoved = Signal(float, float)  # lon, lat (degrees)
    viewChanged = Signal()
    toolChanged = Signal(str)
    brushChanged = Signal(float)  # radius in pixels
    #: the shown plan's changes, forwarded from whichever plan (scenario) is shown now
    assignmentChanged = Signal(list)  # unit ids
    accountOverridesChanged = Signal(list)  # account ids
    firstPainted = Signal()  # the map of a newly set project has been painted once
    framePainted = Signal()  # the map has been painted (any repaint)
    strokeEnded = Signal()  # the mouse was released at the end of a brush stroke
    _coverage_ready = Signal(object, int)  # scene, level: emitted from the coverage thread
    #: build the coverage-simplified levels of detail in a worker thread after a project is set
    prepare_in_background = True

    def __init__(self, project: Project | None = None, undo_stack: QUndoStack | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(200, 150)
        self.undo_stack = undo_stack or QUndoStack(self)
        self.tool = "pan"
        self.active_territory: str | None = None
        self.brush_radius_px = 14.0
        self.selection = np.array([], dtype=int)
        self.project: Project | None = None
        self.scene: MapScene | None = None
        self.renderer: MapRenderer | None = None
        self.bridge: PlanBridge | None = None
        self.center = QPointF(0, 0)
        self.px = 1.0  # drawing units (metres) per pixel
        self._press: QPointF | None = None
        self._last: QPointF | None = None
        self._lasso: list[QPointF] = []
        self._stroke: int | None = None
        self._mouse = QPointF(-1, -1)
        self._to_lonlat: pyproj.Transformer | None = None
        self._painted = False
        self._coverage_ready.connect(self._coverage_done)
        #: the area a plan change needs repainted, painted once control is back in the event loop
        self._changed_area: QRect | None = None
        self._changed_timer = QTimer(self, singleShot=True, interval=0, timeout=self._repaint_changed_area)
        if project is not None:
            self.set_project(project)

    # ---- model
    def set_project(self, project: Project, scene: MapScene | None = None) -> None:
        """Show ``project`` (its active scenario; ``scene`` if already built for it); resets selection
        and view to the full extent."""
        self.project = project
        self.scene = scene if scene is not None and scene.project is project else MapScene(project)
        self._painted = False
        old = self.renderer
        self.renderer = MapRenderer(self.scene)
        if old is not None:  # keep layer visibility/opacity/order across projects
            self.renderer.layers = old.layers
        self._bind_plan(project.plan)
        self._to_lonlat = pyproj.Transformer.from_crs(self.scene.crs, "EPSG:4326", always_xy=True)
        self.selection = np.array([], dtype=int)
        self.renderer.overlays["selection"] = Overlay()
        self.zoom_full()
        if self.prepare_in_background:  # after the first paint: it would compete with it for the CPU
            scene = self.scene
            self.firstPainted.connect(lambda: QTimer.singleShot(500, lambda: self._prepare_coverage(scene)),
                                      Qt.ConnectionType.SingleShotConnection)

    def _prepare_coverage(self, scene: MapScene) -> None:
        """Simplify the unit coverage for the coarse levels of detail in a background thread; once done,
        a brush stroke at small scales re-dissolves a territory in about a millisecond. A daemon thread,
        not a pool worker: the GEOS call cannot be cancelled, and quitting must not wait for it."""
        import threading

        signal = self._coverage_ready

        def run() -> None:
            for level in (0, 1):
                scene.prepare_coverage((level,))
                try:
                    signal.emit(scene, level)
                except RuntimeError:  # the canvas is gone (window closed, application quitting)
                    return

        threading.Thread(target=run, name="coverage", daemon=True).start()

    def _coverage_done(self, scene: MapScene, level: int) -> None:
        if scene is self.scene:
            scene.coverage_ready((level,))
            self.update()

    def _bind_plan(self, plan) -> None:
        """Listen to ``plan`` (and stop listening to the previous one: no listener is left behind)."""
        if self.bridge is not None:
            self.bridge.detach()
            self.bridge.deleteLater()
        self.bridge = PlanBridge(plan, self)
        self.bridge.assignmentChanged.connect(self.on_assignment_changed)
        self.bridge.assignmentChanged.connect(self.assignmentChanged)
        self.bridge.accountOverridesChanged.connect(self.accountOverridesChanged)

    def clear(self) -> None:
        """Show no project (File > Close); the plan listeners are removed."""
        if self.bridge is not None:
            self.bridge.detach()
            self.bridge = None
        self.project = self.scene = self.renderer = None
        self.selection = np.array([], dtype=int)
        self.update()

    def on_assignment_changed(self, unit_ids: list[str]) -> None:
        """Re-dissolve the touched territories and repaint only the area they cover."""
        if self.scene is None:
            return
        if not self.scene.apply_assignment(unit_ids):
            return
        if self.stroking():
            # labels are held during a stroke (placed again when it ends), so only the reassigned units'
            # fills and the outline pieces along them change: repaint their box plus an outline's width,
            # not the touched territories' whole extent (a third of the map at full extent, 20 ms a paint)
            # (the highlighted territory's outline, drawn from the same paths, changes there too)
            self.update_drawing_rect(QRectF(QPointF(*self.scene.last_units_bounds[:2]),
                                            QPointF(*self.scene.last_units_bounds[2:])), margin_px=6)
            return
        box = self.scene.last_change_bounds
        if box is None:
            return
        a = self.to_widget(QPointF(box[0], box[1]))
        b = self.to_widget(QPointF(box[2], box[3]))
        # labels may stick out of their territory: widen the repaint by a label's half width
        area = QRectF(a, b).normalized().adjusted(-110, -14, 110, 14).toAlignedRect()
        self._changed_area = area if self._changed_area is None else self._changed_area.united(area)
        self._changed_timer.start()

    def update_drawing_rect(self, rect: QRectF, margin_px: float = 0.0) -> QRect | None:
        """Schedule a repaint of the widget area showing drawing-space ``rect`` (plus ``margin_px``) and
        return that area; an empty ``rect`` repaints nothing."""
        if rect.isEmpty():
            return None
        a, b = self.to_widget(rect.topLeft()), self.to_widget(rect.bottomRight())
        m = margin_px
        area = QRectF(a, b).normalized().adjusted(-m, -m, m, m).toAlignedRect()
        self.update(area)
        return area

    def _repaint_changed_area(self) -> None:
        """Mark the changed area for repaint one event-loop turn after a change that is not a brush stroke,
        so the listeners of the same change (the territory table's totals after an undo) paint first
        instead of waiting for the map."""
        if self._changed_area is not None:
            self.update(self._changed_area)
            self._changed_area = None

    def refresh(self) -> None:
        """Re-read all territories (after a merge, delete, recolour or scenario switch)."""
        if self.scene is not None:
            if self.bridge is None or self.bridge.plan is not self.project.plan:
                self._bind_plan(self.project.plan)
            self.scene.rebuild_all()
            self.update()

    # ---- view
    def extent(self) -> QRectF:
        w, h = self.width() * self.px, self.height() * self.px
        return QRectF(self.center.x() - w / 2, self.center.y() - h / 2, w, h)

    def set_extent(self, rect: QRectF, margin: float = 0.04) -> None:
        """Fit drawing-space ``rect`` in the widget with a relative margin."""
        if rect.width() <= 0 and rect.height() <= 0:
            rect = QRectF(rect.center().x() - 500, rect.center().y() - 500, 1000, 1000)
        self.center = rect.center()
        w, h = max(self.width(), 1), max(self.height(), 1)
        self.px = max(rect.width() / w, rect.height() / h, 1e-9) * (1 + 2 * margin)
        self.viewChanged.emit()
        self.update()

    def zoom_full(self) -> None:
        if self.scene is not None:
            x0, y0, x1, y1 = self.scene.extent
            self.set_extent(QRectF(x0, y0, x1 - x0, y1 - y0))

    def zoom_to_units(self, indices: np.ndarray) -> None:
        if self.scene is None or len(indices) == 0:
            return
        import shapely

        x0, y0, x1, y1 = shapely.total_bounds(self.scene.geoms[indices])
        self.set_extent(QRectF(x0, y0, x1 - x0, y1 - y0), margin=0.15)

    def zoom_to_selection(self) -> None:
        self.zoom_to_units(self.selection)

    def zoom_to_territory(self, territory_id: str | None) -> None:
        if self.scene is not None:
            self.zoom_to_units(self.scene.units_of(territory_id))

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom in (factor > 1) or out around widget point ``anchor`` (default: centre)."""
        anchor = anchor or QPointF(self.width() / 2, self.height() / 2)
        before = self.to_map(anchor)
        self.px /= factor
        after = self.to_map(anchor)
        self.center += before - after
        self.viewChanged.emit()
        self.update()

    def pan_by(self, dx_px: float, dy_px: float) -> None:
        self.center -= QPointF(dx_px * self.px, dy_px * self.px)
        self.viewChanged.emit()
        self.update()

    def to_map(self, p: QPointF) -> QPointF:
        """Widget pixel -> drawing-space coordinates."""
        return QPointF(self.center.x() + (p.x() - self.width() / 2) * self.px,
                       self.center.y() + (p.y() - self.height() / 2) * self.px)

    def to_widget(self, p: QPointF) -> QPointF:
        return QPointF((p.x() - self.center.x()) / self.px + self.width() / 2,
                       (p.y() - self.center.y()) / self.px + self.height() / 2)

    def cursor_position(self) -> QPointF:
        """Where the mouse is over the canvas (widget pixels; negative when outside)."""
        return QPointF(self._mouse)

    def unit_index_at(self, p: QPointF) -> int | None:
        """Index (into ``scene.unit_ids``) of the unit under widget point ``p``, or None."""
        if self.scene is None:
            return None
        m = self.to_map(p)
        hits = self.scene.units_at(m.x(), m.y())
        return int(hits[0]) if len(hits) else None

    def lonlat_at(self, p: QPointF) -> tuple[float, float]:
        m = self.to_map(p)
        lon, lat = self._to_lonlat.transform(m.x(), -m.y())
        return float(lon), float(lat)

    # ---- selection and editing
    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS:
            raise ValueError(f"unknown tool {tool!r}; one of {', '.join(TOOLS)}")
        self.tool = tool
        cursors = {"pan": Qt.CursorShape.OpenHandCursor, "brush": Qt.CursorShape.CrossCursor}
        self.setCursor(cursors.get(tool, Qt.CursorShape.ArrowCursor))
        self.toolChanged.emit(tool)
        self.update()

    def selected_unit_ids(self) -> list[str]:
        return self.scene.unit_ids[self.selection].tolist() if self.scene is not None else []

    def set_selection(self, indices: np.ndarray, mode: str = "replace") -> None:
        """Select unit indices; ``mode`` replace / add (Shift) / toggle (Ctrl)."""
        indices = np.unique(np.asarray(indices, dtype=int))
        if mode == "add":
            indices = np.union1d(self.selection, indices)
        elif mode == "toggle":
            indices = np.setxor1d(self.selection, indices)
        self.selection = indices
        path = geometries_to_path(self.scene.geoms[indices], flip_y=False) if len(indices) else QPainterPath()
        self.renderer.overlays["selection"] = selection_overlay(path)
        self.selectionChanged.emit(self.selected_unit_ids())
        self.update()

    def select_ids(self, unit_ids: list[str]) -> None:
        idx = [self.scene.index_of[u] for u in unit_ids if u in self.scene.index_of]
        self.set_selection(np.array(idx, dtype=int))

    def assign_selection(self, territory_id: str | None) -> int:
        """Assign the selected (unlocked) units to ``territory_id`` as one undo step; returns the count."""
        idx = self.selection[~self.scene.locked[self.selection]] if len(self.selection) else self.selection
        ids = self.scene.unit_ids[idx]
        changes = {u: territory_id for u in ids if self.project.plan.territory_of(u) != territory_id}
        if changes:
            name = self.scene.names.get(territory_id, "no territory") if territory_id else "no territory"
            self.undo_stack.push(AssignUnitsCommand(self.project, changes, f"Assign {len(changes)} units to {name}"))
        return len(changes)

    def brush_at(self, p: QPointF, stroke: int) -> int:
        """Assign unlocked units under the brush at widget point ``p`` to the active territory."""
        if self.scene is None or self.active_territory is None:
            return 0
        m = self.to_map(p)
        idx = self.scene.units_in_circle(m.x(), m.y(), self.brush_radius_px * self.px)
        idx = idx[~self.scene.locked[idx]]
        current = self.scene.unit_territory[idx]
        idx = idx[current != self.active_territory]
        if len(idx) == 0:
            return 0
        changes = dict.fromkeys(self.scene.unit_ids[idx].tolist(), self.active_territory)
        self.undo_stack.push(AssignUnitsCommand(self.project, changes, stroke=stroke))
        return len(changes)

    def stroking(self) -> bool:
        """True while a brush stroke is under way (mouse held down with the brush)."""
        return self._stroke is not None

    def begin_stroke(self) -> int:
        self._stroke = next(_strokes)
        if self.renderer is not None:
            self.renderer.hold_labels = True  # placed again when the stroke ends
        return self._stroke

    def end_stroke(self) -> None:
        """The stroke is over: the labels are placed on the new shapes in the next event-loop turn and
        the map repainted in the one after (placing and a full repaint in one turn stalled it). A timer, not
        a posted call: a posted call ran in the same pass as the stroke's last table and map repaint."""
        self._stroke = None
        QTimer.singleShot(LABEL_DELAY_MS, self._release_labels)
        self.strokeEnded.emit()

    def _release_labels(self) -> None:
        if self.renderer is None or self._stroke is not None:  # a new stroke holds them again
            return
        self.renderer.hold_labels = False
        if self.scene is not None and len(self.scene.unit_ids):
            self.renderer.place_labels(self.px)
        QTimer.singleShot(8, self.update)  # a timer, so that placing (30-50 ms) and the repaint do not add up

    def refresh_locks(self) -> None:
        if self.scene is not None and "locked" in self.project.units:
            self.scene.locked = self.project.units["locked"].fillna(False).astype(bool).to_numpy()

    # ---- painting
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        if event is not None and event.rect() != self.rect():
            painter.setClipRegion(event.region())  # partial repaint: the renderer culls to it
        if self.renderer is None:
            painter.fillRect(self.rect(), QColor("#f4f6f8"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "No project open\nFile > Open... or drop a data file here")
            return
        self.renderer.paint(painter, self.extent(), QRectF(self.rect()))
        if not len(self.scene.unit_ids):  # a new project: say what comes first
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "No units yet\nFile > Import Data... (Ctrl+I) or drop a units file here")
        if not self._painted:
            self._painted = True
            self.firstPainted.emit()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self.tool == "rect" and self._press is not None and self._last is not None:
            painter.setPen(QPen(QColor(30, 90, 200), 1, Qt.PenStyle.DashLine))
            painter.setBrush(QColor(30, 90, 200, 40))
            painter.drawRect(QRectF(self._press, self._last).normalized())
        if self.tool == "lasso" and len(self._lasso) > 1:
            painter.setPen(QPen(QColor(30, 90, 200), 1.5, Qt.PenStyle.DashLine))
            painter.setBrush(QColor(30, 90, 200, 40))
            painter.drawPolygon(QPolygonF(self._lasso))
        if self.tool == "brush" and self.rect().contains(self._mouse.toPoint()):
            colour = QColor(self.scene.colour_of(self.active_territory)) if self.active_territory else QColor("gray")
            painter.setPen(QPen(QColor(20, 20, 20), 1.5))
            colour.setAlpha(110)
            painter.setBrush(colour)
            painter.drawEllipse(self._mouse, self.brush_radius_px, self.brush_radius_px)
        painter.end()
        self.framePainted.emit()

    # ---- mouse and keyboard
    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.25 ** steps, event.position())

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.RightButton:
            return  # the context menu: never selects, paints or changes the active territory
        p = event.position()
        self._press = self._last = p
        panning = self.tool == "pan" or event.button() == Qt.MouseButton.MiddleButton
        if panning:
            self._panning = True
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        else:
            self._panning = False
        if self.tool == "lasso" and not panning:
            self._lasso = [p]
        if self.tool == "brush" and not panning and event.button() == Qt.MouseButton.LeftButton:
            self.brush_at(p, self.begin_stroke())

    def mouseMoveEvent(self, event) -> None:
        p = event.position()
        self._mouse = p
        if self.scene is not None:
            self.cursorMoved.emit(*self.lonlat_at(p))
        if self._press is None:
            if self.tool == "brush":
                self._update_brush(p)
            return
        if getattr(self, "_panning", False):
            d = p - self._last
            self._last = p
            self.pan_by(d.x(), d.y())
            return
        self._last = p
        if self.tool == "lasso":
            self._lasso.append(p)
        elif self.tool == "brush" and self._stroke is not None:
            self.brush_at(p, self._stroke)
            self._update_brush(p)
            return
        self.update()

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.RightButton:
            return
        p = event.position()
        mods = event.modifiers()
        mode = "add" if mods & Qt.KeyboardModifier.ShiftModifier else (
            "toggle" if mods & Qt.KeyboardModifier.ControlModifier else "replace")
        press = self._press
        self._press = None
        if getattr(self, "_panning", False):
            self._panning = False
            self.set_tool(self.tool)
            return
        if self.scene is None or press is None:
            return
        if self.tool == "select":
            m = self.to_map(p)
            self.set_selection(self.scene.units_at(m.x(), m.y()), mode)
        elif self.tool == "rect":
            a, b = self.to_map(press), self.to_map(p)
            if (p - press).manhattanLength() < 3:
                self.set_selection(self.scene.units_at(b.x(), b.y()), mode)
            else:
                self.set_selection(self.scene.units_in_rect(a.x(), a.y(), b.x(), b.y()), mode)
        elif self.tool == "lasso":
            pts = np.array([[q.x(), q.y()] for q in (self.to_map(q) for q in self._lasso)])
            self._lasso = []
            self.set_selection(self.scene.units_in_polygon(pts), mode)
        elif self.tool == "brush":
            self.end_stroke()
            return  # repainted with the labels placed again
        self.update()

    def _update_brush(self, p: QPointF) -> None:
        """Repaint where the brush circle was and where it is now."""
        r = self.brush_radius_px + 3
        for q in (getattr(self, "_brush_drawn", None), p):
            if q is not None:
                self.update(QRectF(q.x() - r, q.y() - r, 2 * r, 2 * r).toAlignedRect())
        self._brush_drawn = QPointF(p)

    def leaveEvent(self, event) -> None:
        self._mouse = QPointF(-1, -1)
        self.update()

    def resizeEvent(self, event) -> None:
        old = event.oldSize()
        if self.scene is not None and (old.width() <= 0 or old.height() <= 0):
            self.zoom_full()
        super().resizeEvent(event)

    def keyPressEvent(self, event) -> None:
        key = event.key()
        step = 60
        moves = {Qt.Key.Key_Left: (step, 0), Qt.Key.Key_Right: (-step, 0),
                 Qt.Key.Key_Up: (0, step), Qt.Key.Key_Down: (0, -step)}
        if key in moves:
            self.pan_by(*moves[key])
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(1.5)
        elif key == Qt.Key.Key_Minus:
            self.zoom_by(1 / 1.5)
        elif key == Qt.Key.Key_BracketLeft:
            self.brush_radius_px = max(3.0, self.brush_radius_px / 1.25)
            self.brushChanged.emit(self.brush_radius_px)
            self.update()
        elif key == Qt.Key.Key_BracketRight:
            self.brush_radius_px = min(200.0, self.brush_radius_px * 1.25)
            self.brushChanged.emit(self.brush_radius_px)
            self.update()
        elif key == Qt.Key.Key_Escape:
            self.set_selection(np.array([], dtype=int))
        else:
            super().keyPressEvent(event)
