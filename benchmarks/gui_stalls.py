"""GUI-thread stalls on the demo project (3,108 counties, 40 territories): a brush drag, an undo of a
large edit, and the territory table's repaint with the old per-cell ``frame.iloc`` path against the
array-backed model, in the same run.

    python benchmarks/gui_stalls.py [--project demo.gpkg] [--out FILE] [--steps 120]

Measures (milliseconds):
- ``brush``: the main window at 1600x1000, full extent, brush tool; a drag of ``--steps`` mouse moves,
  one every 16 ms (60 Hz), across the Midwest. A 5 ms QTimer ticks in the GUI thread throughout; the
  longest gap between its ticks is the longest stall the planner feels (``max_stall_ms``, with p95);
  ``max_stall_cpu_ms`` is the CPU time the GUI thread spent in that longest stretch (``time.thread_time``),
  which a machine shared with other jobs inflates much less than wall time.
  ``totals_updates`` counts how often the live totals under the table were refreshed during the drag.
- ``undo``: a 310-unit edit pushed and undone; ``painted_ms`` is the time from the undo until the table
  has painted the new numbers (what the planner waits for), ``route_painted_ms`` until the deferred
  route columns are painted too, ``refresh_ms`` until its model holds them, each with the GUI thread's
  CPU time (``*_cpu_ms``); ``refresh_compute_ms`` the model's full refresh alone (``fast_compute_ms``
  and ``route_compute_ms`` its two halves), ``live_compute_ms`` its refresh from the reassigned units
  (what the window runs after an edit).
- ``table_repaint``: one full repaint of the territory table's viewport (every cell, every role Qt asks
  for) with the array-backed :class:`TerritoryTableModel` and with ``LegacyModel`` (the old ``data``,
  kept here verbatim for the comparison), median of 5; and the cells served per second by each.
Prints JSON. Numbers on a shared machine are noisy: compare the peers of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _legacy_model_class():
    """The territory table model as it was: a ``frame.iloc[row]`` look-up for every cell and role."""
    import pandas as pd
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor

    from territory_desktop.ui.territory_model import (
        COLUMNS,
        ID_ROLE,
        NUMERIC,
        SORT_ROLE,
        TerritoryTableModel,
        compact,
    )

    class LegacyModel(TerritoryTableModel):
        def data(self, index, role=Qt.ItemDataRole.DisplayRole):
            if not index.isValid():
                return None
            key = COLUMNS[index.column()][0]
            row = self.frame.iloc[index.row()]
            value = row[key]
            if role == Qt.ItemDataRole.DisplayRole:
                if key == "name" and row["kind"] == "account":
                    return f"{value} (accounts)"
                if key in ("units", "accounts"):
                    return f"{int(value):,}"
                if key == "workload_hours":
                    return f"{value:,.0f}"
                if key == "potential":
                    return compact(float(value))
                if key == "workload_deviation_pct":
                    return f"{value:+.1f}" if row["kind"] != "account" else ""
                return "" if pd.isna(value) else str(value)
            if role == SORT_ROLE:
                return float(value) if key in NUMERIC else str(value).lower()
            if role == ID_ROLE:
                return str(row["territory_id"])
            if role == Qt.ItemDataRole.DecorationRole and key == "name":
                return self.colours.get(str(row["territory_id"]), QColor("#cccccc"))
            if role == Qt.ItemDataRole.TextAlignmentRole and key in NUMERIC:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if role == Qt.ItemDataRole.ForegroundRole and key == "workload_deviation_pct":
                dev = abs(float(value))
                return QColor("#c0392b") if dev > 15 else QColor("#b9770e") if dev > 7.5 else None
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{row['name']} ({row['territory_id']})"
            return None

    return LegacyModel


class _Counting:
    """Wraps a model's ``data`` to count calls."""

    def __init__(self, model) -> None:
        self.calls = 0
        original = model.data

        def data(index, role=0):
            self.calls += 1
            return original(index, role)

        model.data = data


def table_repaint(window, project) -> dict:
    """Median full-viewport repaint of the territory table: array-backed model vs the legacy one."""
    from territory_desktop.ui.territory_model import TerritoryTableModel

    table, proxy = window.territory_panel.table, window.territory_panel.proxy
    layout = table.horizontalHeader().saveState()  # a new source model resets the columns shown
    out = {}
    for name, cls in (("arrays", TerritoryTableModel), ("legacy_iloc", _legacy_model_class())):
        model = cls(project)
        counter = _Counting(model)
        proxy.setSourceModel(model)
        times = []
        for _ in range(5):
            counter.calls = 0
            t0 = time.perf_counter()
            table.viewport().repaint()
            times.append((time.perf_counter() - t0) * 1000)
        out[name] = {"repaint_ms": round(statistics.median(times), 1), "data_calls": counter.calls,
                     "calls_per_s": round(counter.calls / (statistics.median(times) / 1000))}
    proxy.setSourceModel(window.table_model)
    table.horizontalHeader().restoreState(layout)
    out["speedup"] = round(out["legacy_iloc"]["repaint_ms"] / max(out["arrays"]["repaint_ms"], 1e-6), 1)
    return out


def _drag_points(window, steps: int):
    """Widget points of a left-to-right drag across the middle of the map (Nebraska to Ohio)."""
    from PySide6.QtCore import QPointF

    canvas = window.canvas
    w, h = canvas.width(), canvas.height()
    return [QPointF(w * (0.40 + 0.25 * i / steps), h * (0.45 + 0.08 * ((i % 20) - 10) / 10)) for i in range(steps)]


def brush_drag(app, window, steps: int) -> dict:
    """Drag the brush with a 60 Hz mouse; a 5 ms ticker measures the GUI thread's stalls."""
    from PySide6.QtCore import QEvent, QEventLoop, QPointF, Qt, QTimer
    from PySide6.QtGui import QMouseEvent

    canvas = window.canvas
    canvas.set_tool("brush")
    canvas.brush_radius_px = 14.0
    terr = window.project.scenario_territories()
    window.set_active_territory(str(terr.loc[terr["name"] == "Omaha", "territory_id"].iloc[0]))
    points = _drag_points(window, steps)
    gaps: list[float] = []
    updates = {"n": 0}
    original = window._refresh_totals

    def counted() -> None:
        updates["n"] += 1
        original()

    window._refresh_totals = counted  # every caller looks the method up on the window
    last = [time.perf_counter(), time.thread_time()]
    cpu_gaps: list[float] = []

    def tick() -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        gaps.append((now - last[0]) * 1000)
        cpu_gaps.append((cpu - last[1]) * 1000)  # CPU the GUI thread used between two ticks
        last[0], last[1] = now, cpu

    def send(kind, p: QPointF, buttons) -> None:
        event = QMouseEvent(kind, p, canvas.mapToGlobal(p), Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove
                            else Qt.MouseButton.NoButton, buttons, Qt.KeyboardModifier.NoModifier)
        app.sendEvent(canvas, event)

    state = {"i": 0}
    loop = QEventLoop()

    def step() -> None:
        i = state["i"]
        if i == 0:
            send(QEvent.Type.MouseButtonPress, points[0], Qt.MouseButton.LeftButton)
        elif i < len(points):
            send(QEvent.Type.MouseMove, points[i], Qt.MouseButton.LeftButton)
        elif i == len(points):
            send(QEvent.Type.MouseButtonRelease, points[-1], Qt.MouseButton.NoButton)
        else:
            QTimer.singleShot(300, loop.quit)  # let the last totals refresh and repaint land
            mover.stop()
        state["i"] += 1

    ticker = QTimer(interval=5, timeout=tick)
    mover = QTimer(interval=16, timeout=step)
    ticker.start()
    mover.start()
    t0 = time.perf_counter()
    loop.exec()
    ticker.stop()
    del window._refresh_totals
    moved = len(window.undo_stack.command(window.undo_stack.count() - 1).new) if window.undo_stack.count() else 0
    if os.environ.get("GUI_STALLS_DEBUG"):
        print("gaps", [round(g) for g in gaps], file=sys.stderr)
    gaps, cpu_gaps = sorted(gaps[1:]), sorted(cpu_gaps[1:])
    return {"steps": steps, "seconds": round(time.perf_counter() - t0, 2), "units_painted": moved,
            "max_stall_ms": round(gaps[-1], 1), "p95_gap_ms": round(gaps[int(0.95 * (len(gaps) - 1))], 1),
            "max_stall_cpu_ms": round(cpu_gaps[-1], 1),
            "p95_gap_cpu_ms": round(cpu_gaps[int(0.95 * (len(cpu_gaps) - 1))], 1),
            "ticks": len(gaps), "totals_updates": updates["n"]}


def _units_of(window, territory_id: str) -> int:
    return int(window.table_model.frame.set_index("territory_id").loc[territory_id, "units"])


def undo_refresh(app, window) -> dict:
    """Push a 310-unit edit, undo it, and time until the table has painted the restored totals.

    ``refresh_ms``: from the undo until the table model holds the new numbers; ``painted_ms``: until the
    end of the table's first paint after that (what the planner sees); ``route_painted_ms``: until the
    end of the first paint whose route columns (Route h/yr, Load %) hold the new plan's numbers too (the
    live refresh fills them one event-loop turn later, greyed meanwhile; equal to ``painted_ms`` for a
    model that does not defer them). ``*_cpu_ms``: the GUI thread's CPU time over the same stretches
    (``time.thread_time``; a shared machine inflates it much less than wall time).
    ``refresh_compute_ms``: the model's whole refresh alone, run again afterwards; ``fast_compute_ms`` and
    ``route_compute_ms``: its two halves when the route columns are deferred; ``live_compute_ms``: the
    refresh from the reassigned units the window runs."""
    from territory_desktop.ui.commands import AssignUnitsCommand

    project = window.project
    model = window.table_model
    terr = project.scenario_territories()
    target = str(terr.loc[terr["name"] == "Denver", "territory_id"].iloc[0])
    units = [u for u in project.units["unit_id"].astype(str) if project.plan.territory_of(u) != target][:310]
    window.undo_stack.push(AssignUnitsCommand(project, dict.fromkeys(units, target), "310 units"))
    deadline = time.perf_counter() + 3
    while time.perf_counter() < deadline and (_units_of(window, target) < 310 or getattr(model, "route_pending", 0)):
        app.processEvents()
    before = _units_of(window, target)
    table = window.territory_panel.table
    marks: dict[str, tuple[float, float]] = {}
    paint = table.paintEvent

    def timed_paint(event) -> None:  # the view paints its cells in paintEvent (a Python override here)
        paint(event)
        now = (time.perf_counter(), time.thread_time())
        if "painted" not in marks and _units_of(window, target) < before:
            marks["painted"] = now
        if "painted" in marks and "route" not in marks and not getattr(model, "route_pending", False):
            marks["route"] = now

    def refreshed(*_args) -> None:
        marks.setdefault("refresh", (time.perf_counter(), time.thread_time()))

    table.paintEvent = timed_paint
    model.dataChanged.connect(refreshed)
    model.modelReset.connect(refreshed)
    t0, c0 = time.perf_counter(), time.thread_time()
    window.undo_stack.undo()
    while time.perf_counter() - t0 < 3 and "route" not in marks:
        app.processEvents()
    del table.paintEvent
    model.dataChanged.disconnect(refreshed)
    model.modelReset.disconnect(refreshed)
    end = (time.perf_counter(), time.thread_time())
    out = {"units": len(units)}
    for name, key in (("refresh", "refresh"), ("painted", "painted"), ("route_painted", "route")):
        wall, cpu = marks.get(key, end)
        out[f"{name}_ms"] = round((wall - t0) * 1000, 1)
        out[f"{name}_cpu_ms"] = round((cpu - c0) * 1000, 1)
    out.update(_compute_times(window, target, units))
    return out


def _compute_times(window, target: str, units: list[str]) -> dict:
    """The model's refresh alone after the same undo/redo (median of 5), whole and, when the model defers
    the route columns, its two halves."""
    model, plan = window.table_model, window.project.plan
    old = {u: plan.territory_of(u) for u in units}
    whole, fast, route = [], [], []
    for i in range(6):
        plan.assign_many(dict.fromkeys(units, target) if i % 2 else old)
        t = time.perf_counter()
        model.refresh()
        whole.append((time.perf_counter() - t) * 1000)
        if hasattr(model, "route_pending"):
            plan.assign_many(old if i % 2 else dict.fromkeys(units, target))
            t = time.perf_counter()
            model.refresh(defer_route=True)
            t1 = time.perf_counter()
            model._refresh_route()
            fast.append((t1 - t) * 1000)
            route.append((time.perf_counter() - t1) * 1000)
    live = []  # the window's path after an edit: the live snapshot moves just the reassigned units
    for i in range(6):
        plan.assign_many(dict.fromkeys(units, target) if i % 2 else old)
        t = time.perf_counter()
        model.refresh(units=units)
        live.append((time.perf_counter() - t) * 1000)
    plan.assign_many(old)
    model.refresh()
    out = {"refresh_compute_ms": round(statistics.median(whole), 1),
           "live_compute_ms": round(statistics.median(live), 1)}
    if fast:
        out.update(fast_compute_ms=round(statistics.median(fast), 1), route_compute_ms=round(statistics.median(route), 1))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--project", help="a demo project .gpkg (default: built into a temporary folder)")
    ap.add_argument("--out", help="also write the JSON here")
    ap.add_argument("--steps", type=int, default=120, help="mouse moves of the brush drag (default 120)")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from PySide6.QtCore import QSettings

    from territory_desktop.services.project import open_project
    from territory_desktop.ui.app import application
    from territory_desktop.ui.main_window import MainWindow

    scratch = tempfile.TemporaryDirectory()
    path = args.project
    if path is None:
        from territory_desktop.services.demo import build_demo
        from territory_desktop.services.project import save_project

        path = os.path.join(scratch.name, "demo.gpkg")
        save_project(build_demo(seed=7), path)
    app = application()
    project = open_project(path)
    window = MainWindow(project, settings=QSettings(os.path.join(scratch.name, "s.ini"), QSettings.Format.IniFormat))
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    window.canvas.zoom_full()
    t0 = time.perf_counter()
    while not ({0, 1} <= set(window.canvas.scene._coverage)) and time.perf_counter() - t0 < 20:
        app.processEvents()  # the coarse levels of detail are simplified in a worker after opening
        time.sleep(0.01)
    coverage_s = time.perf_counter() - t0
    app.processEvents()
    result = {"coverage_ready_s": round(coverage_s, 2),"project": Path(path).name, "units": len(project.units), "territories": len(window.table_model.frame),
              "table_repaint": table_repaint(window, project), "brush": brush_drag(app, window, args.steps),
              "undo": undo_refresh(app, window)}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    window.undo_stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
