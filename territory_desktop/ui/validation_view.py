"""The validation overlay and list that follow the plan, and the detached-piece warning while painting.

- Validate (V) runs ``services.validation.validate_plan`` in a worker on a snapshot of the plan and shows
  the problems on the map (red overlay) and in the Validation dock.
- Once shown, every assignment change (brush, undo/redo, balance apply, merge, scenario switch) clears
  the overlay at once ("re-checking") and re-runs the check when the planner pauses; a result computed
  for an older plan is thrown away and the check runs again.
- After every change (not during a brush stroke) the contiguity part of the check runs on the cached unit
  adjacency (milliseconds) and the status bar says when a territory was left in more pieces than before.
"""

from __future__ import annotations

import copy

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QColor

from ..models import Plan
from .workers import Worker, start

RECHECK_MS = 400
PIECES_MS = 120


def plan_snapshot(project):
    """A shallow copy of ``project`` whose active plan is a frozen copy (safe to read in a worker)."""
    snap = copy.copy(project)
    plan = project.plan
    snap.plans = {**project.plans, project.active_scenario: Plan(plan.as_dict(), plan.account_overrides())}
    return snap


class ValidationController(QObject):
    """Owns the validation overlay of one window; call :meth:`plan_changed` on every assignment change
    and :meth:`reset` when another project or scenario is shown."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.active = False  # the planner asked for validation: keep it in step with the plan
        self.generation = 0
        self.adjacency = None
        self._pieces: dict[str, int] | None = None
        self._running: Worker | None = None
        self._recheck = QTimer(self, singleShot=True, interval=RECHECK_MS, timeout=self._maybe_recheck)
        self._piece_timer = QTimer(self, singleShot=True, interval=PIECES_MS, timeout=self._check_pieces)

    # ---- events
    def reset(self) -> None:
        """A new project or scenario: forget the adjacency, drop the overlay and the list."""
        self.active = False
        self.generation += 1
        self.adjacency, self._pieces = None, None
        self._clear("Press Check to validate the plan")
        if self.window.project is not None:
            QTimer.singleShot(1500, self._ensure_adjacency)

    def plan_changed(self) -> None:
        self.generation += 1
        self._piece_timer.start()
        if self.active:
            self._clear("The plan changed: checking again...")
            self._recheck.start()

    # ---- full check
    def validate(self) -> None:
        """Run the full check now (in a worker) and keep following the plan."""
        if self.window.project is None:
            return
        self.active = True
        self.window.validation.summary.setText("Checking the plan...")
        self.window.docks["validation"].raise_()
        self._run()

    def _maybe_recheck(self) -> None:
        if self.window.canvas.stroking() or self._running is not None:
            self._recheck.start()  # not while painting, one check at a time
            return
        if self.active:
            self._run()

    def _run(self) -> None:
        from ..services.validation import unit_adjacency, validate_plan

        project, generation, adjacency = self.window.project, self.generation, self.adjacency
        snap = plan_snapshot(project)

        def job(_progress, _stop):
            adj = adjacency if adjacency is not None else unit_adjacency(snap.units.geometry.to_numpy())
            return validate_plan(snap, adjacency=adj), adj

        worker = Worker(job)
        worker.signals.finished.connect(lambda result: self._done(project, generation, *result))
        worker.signals.failed.connect(lambda exc: self._failed(exc))
        self._running = start(worker)

    def _done(self, project, generation: int, report, adjacency) -> None:
        self._running = None
        if project is not self.window.project:
            return
        self.adjacency = adjacency
        if generation != self.generation:  # the plan moved on while checking: check the new plan
            if self.active:
                self._recheck.start()
            return
        self._show(report)

    def _failed(self, exc: Exception) -> None:
        self._running = None
        self.window.validation.summary.setText(f"The check failed: {exc}")

    def _show(self, report) -> None:
        from .geometry import geometries_to_path
        from .renderer import Overlay

        window = self.window
        scene = window.canvas.scene
        window.validation.show_report(report, scene.names)
        idx = [scene.index_of[u] for u in report.problem_units() if u in scene.index_of]
        window.canvas.renderer.overlays["validation"] = Overlay(
            geometries_to_path(scene.geoms[idx], flip_y=False), QColor(220, 30, 30, 110), QColor(170, 0, 0), 2.0)
        window.canvas.update()
        self._pieces = {t: len(p) for t, p in report.pieces.items()}

    def _clear(self, message: str) -> None:
        window = self.window
        window.validation.list.clear()
        window.validation.summary.setText(message)
        if window.canvas.renderer is not None and window.canvas.renderer.overlays.pop("validation", None):
            window.canvas.update()

    # ---- detached pieces while painting
    def _ensure_adjacency(self) -> None:
        from ..services.validation import detached_pieces, unit_adjacency

        project = self.window.project
        if project is None or self.adjacency is not None:
            return
        snap = plan_snapshot(project)

        def job(_progress, _stop):
            adj = unit_adjacency(snap.units.geometry.to_numpy())
            return adj, detached_pieces(snap, adj)

        worker = Worker(job)
        worker.signals.finished.connect(lambda result: self._adjacency_ready(project, *result))
        self._adjacency_worker = start(worker)

    def _adjacency_ready(self, project, adjacency, pieces) -> None:
        if project is self.window.project and self.adjacency is None:
            self.adjacency = adjacency
            if self._pieces is None:
                self._pieces = {t: len(p) for t, p in pieces.items()}

    def _check_pieces(self) -> None:
        """Warn in the status bar when a change left a territory in more pieces than it had."""
        from ..services.validation import detached_pieces

        window = self.window
        if window.project is None or self.adjacency is None:
            return
        if window.canvas.stroking():
            self._piece_timer.start()
            return
        pieces = detached_pieces(window.project, self.adjacency)
        before = self._pieces or {}
        worse = {t: p for t, p in pieces.items() if len(p) > before.get(t, 0)}
        self._pieces = {t: len(p) for t, p in pieces.items()}
        if worse:
            window.statusBar().showMessage(piece_message(worse, window.canvas.scene.names), 10000)


def piece_message(worse: dict[str, list[list[str]]], names: dict[str, str]) -> str:
    """'Omaha is now in 2 pieces (detached: 3 units) - press V to see them' for up to three territories."""
    parts = []
    for tid, pieces in list(worse.items())[:3]:
        units = sum(len(p) for p in pieces)
        parts.append(f"{names.get(tid, tid)} is now in {len(pieces) + 1} pieces "
                     f"(detached: {units:,} unit{'s' if units != 1 else ''})")
    more = f" and {len(worse) - 3} more" if len(worse) > 3 else ""
    return "; ".join(parts) + more + " - press V (Validate) to see them"
