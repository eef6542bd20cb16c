"""Routes in the main window: Tools > Plan Routes..., the route layer on the map and the Routes dock.

``install_routing_ui(window)`` adds the menu action (Ctrl+Shift+R), the "Routes" dock (week calendar,
coverage, unplanned accounts, CSV export) and a "Routes (visit plan)" layer in the layer list. Planning,
moving and cancelling visits run in a worker thread (:mod:`.workers`) with a progress bar and Cancel.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import shapely
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QAction, QColor, QFont, QKeySequence, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..models import TerritoryError
from ..services.routing import (
    RepPlan,
    export_plan_rows,
    move_visit,
    plan_rep_visits,
    plan_summary,
    replan_day,
    store_visit_plan,
)
from . import plaintext as msg
from .calendar_view import WeekCalendar, day_colour
from .commands import RouteEditCommand, route_snapshot
from .dialogs import add_ok_cancel, ask_table_path
from .geometry import points_xy, project_geometries
from .plaintext import esc, markup_label, plain_label
from .renderer import Layer, RenderView
from .workers import Worker, run_job

LAYER_KEY = "routes"


def next_monday(today: date | None = None) -> date:
    """The Monday after ``today`` (a week later if today is a Monday)."""
    today = today or date.today()
    return today + timedelta(7 - today.weekday())


def to_drawing(lon: np.ndarray, lat: np.ndarray, crs: str) -> np.ndarray:
    """(n, 2) drawing-space coordinates of EPSG:4326 points, as MapScene draws units: ``crs`` metres, y negated."""
    points = shapely.points(np.asarray(lon, float), np.asarray(lat, float))
    return points_xy(project_geometries(points, crs)).reshape(-1, 2)


class RouteLayer:
    """Painter for the renderer: each day's line home -> stops -> home in the day's colour and numbered
    stop circles. Only the ``week`` (its Monday) is drawn; the ``selected`` day is emphasised, the others
    are faded and show small dots instead of numbers."""

    RADIUS = 8.5  # px, stop circles of the selected day

    def __init__(self, rep_plan: RepPlan, crs: str) -> None:
        self.rep_plan = rep_plan
        xy = to_drawing(rep_plan.places["lon"].to_numpy(), rep_plan.places["lat"].to_numpy(), crs)
        self.xy = {a: (float(x), float(y)) for a, (x, y) in zip(rep_plan.places["account_id"], xy, strict=True)}
        self.home = self.xy["HOME"]
        self.week: date | None = None
        self.selected: date | None = None

    def days(self) -> list[date]:
        days = sorted(self.rep_plan.plan.days)
        if self.week is not None:
            days = [d for d in days if self.week <= d < self.week + timedelta(7)]
        return days

    def stop_positions(self, d: date) -> list[tuple[float, float]]:
        """Drawing-space positions of the stops of day ``d`` in visiting order."""
        return [self.xy[s.visit_id] for s in self.rep_plan.plan.days[d].stops]

    def bounds(self, d: date | None = None) -> QRectF:
        """Drawing-space box of the home and the stops of day ``d`` (None = the drawn week)."""
        days = [d] if d in self.rep_plan.plan.days else self.days()
        pts = [self.home] + [p for day in days for p in self.stop_positions(day)]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        return QRectF(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))

    def paint(self, painter: QPainter, view: RenderView) -> None:
        painter.setTransform(view.base)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        t = view.transform
        days = self.days()
        order = [d for d in days if d != self.selected] + [d for d in days if d == self.selected]
        for d in order:  # lines first, the selected day last (on top)
            pts = [t.map(QPointF(*p)) for p in [self.home, *self.stop_positions(d), self.home]]
            if len(pts) < 3:
                continue
            colour = QColor(day_colour(d))
            emphasised = self.selected is None or d == self.selected
            if not emphasised:
                colour.setAlpha(90)
            path = QPainterPath(pts[0])
            for p in pts[1:]:
                path.lineTo(p)
            width = 3.5 if d == self.selected else (2.5 if emphasised else 2.0)
            casing = QColor(255, 255, 255) if emphasised else QColor(255, 255, 255, 110)
            painter.setPen(QPen(casing, width + 4.0))  # white halo: the line stands out from any fill
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            painter.setPen(QPen(colour, width))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
        font = QFont()
        font.setPointSizeF(7.0)
        font.setBold(True)
        painter.setFont(font)
        for d in order:
            colour = day_colour(d)
            numbered = self.selected is None or d == self.selected
            for k, xy in enumerate(self.stop_positions(d), 1):
                p = t.map(QPointF(*xy))
                if not view.target.adjusted(-20, -20, 20, 20).contains(p):
                    continue
                if numbered:
                    r = self.RADIUS
                    painter.setPen(QPen(QColor(20, 24, 28), 1.5))
                    painter.setBrush(colour)
                    painter.drawEllipse(p, r, r)
                    painter.setPen(QColor("white"))
                    painter.drawText(QRectF(p.x() - r, p.y() - r, 2 * r, 2 * r), Qt.AlignmentFlag.AlignCenter, str(k))
                else:
                    faded = QColor(colour)
                    faded.setAlpha(140)
                    painter.setPen(QPen(QColor(255, 255, 255, 160), 1.0))
                    painter.setBrush(faded)
                    painter.drawEllipse(p, 3.5, 3.5)


class PlanRoutesDialog(QDialog):
    """Rep, start date (next Monday by default), 1-5 weeks and the search time."""

    def __init__(self, reps: list[tuple[str, str]], parent: QWidget | None = None, rep_id: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Plan Routes")
        self.rep = QComboBox()
        for rid, name in reps:
            self.rep.addItem(f"{name} ({rid})", rid)
        if rep_id is not None and self.rep.findData(rep_id) >= 0:
            self.rep.setCurrentIndex(self.rep.findData(rep_id))
        self.start = QDateEdit(next_monday())
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("ddd yyyy-MM-dd")
        self.weeks = QSpinBox()
        self.weeks.setRange(1, 5)
        self.weeks.setValue(4)
        self.weeks.setSuffix(" weeks")
        self.seconds = QSpinBox()
        self.seconds.setRange(2, 600)
        self.seconds.setValue(30)
        self.seconds.setSuffix(" s")
        self.seconds.setToolTip("Search time for the whole plan; longer finds shorter drives")
        form = QFormLayout(self)
        form.addRow("Rep", self.rep)
        form.addRow("First day", self.start)
        form.addRow("Horizon", self.weeks)
        form.addRow("Search time", self.seconds)
        add_ok_cancel(self, form)

    def values(self) -> tuple[str, date, int, float]:
        return self.rep.currentData(), self.start.date().toPython(), self.weeks.value(), float(self.seconds.value())


class RoutesDock(QWidget):
    """Week calendar of the current plan, coverage, unplanned accounts, progress bar and Cancel."""

    def __init__(self, window) -> None:
        super().__init__()
        self.window = window
        self.rep_plan: RepPlan | None = None
        self.layer: RouteLayer | None = None
        self.job: Worker | None = None
        self.last_error: str | None = None
        self.matrix_cache: dict = {}
        self._project = window.project
        self.title = markup_label("No route plan yet: Tools > Plan Routes... (Ctrl+Shift+R)")  # names escaped
        self.week = QComboBox()
        self.week.setToolTip("Week shown in the calendar and on the map")
        self.week.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.week.currentIndexChanged.connect(self._week_changed)
        self.export = QPushButton("Export CSV...")
        self.export.setToolTip("One row per stop: date, order, account, times, drive minutes and km, lon/lat")
        self.export.clicked.connect(self.export_dialog)
        self.zoom = QPushButton("Zoom to Route")
        self.zoom.clicked.connect(self.zoom_to_route)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self.cancel_job)
        self.status = plain_label()  # error messages name accounts and reps
        self.status.setWordWrap(True)
        self.calendar = WeekCalendar()
        self.calendar.daySelected.connect(self._day_selected)
        self.calendar.moveRequested.connect(self.request_move)
        self.calendar.cancelRequested.connect(self.request_cancel)
        self.summary = markup_label()  # numbers only, in our markup
        self.summary.setWordWrap(True)
        self.unplanned = QTreeWidget()
        self.unplanned.setHeaderLabels(["Account", "Name", "Planned", "Reason"])
        self.unplanned.setRootIsDecorated(False)
        self._layout()
        self._set_busy(None)
        self._enable()

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.week)
        top.addWidget(self.zoom)
        top.addWidget(self.export)
        busy = QHBoxLayout()
        busy.addWidget(self.progress, 1)
        busy.addWidget(self.cancel)
        lower = QWidget()
        lower_box = QVBoxLayout(lower)
        lower_box.setContentsMargins(0, 0, 0, 0)
        lower_box.addWidget(self.summary)
        lower_box.addWidget(self.unplanned, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.calendar)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([300, 90])
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addLayout(top)
        box.addLayout(busy)
        box.addWidget(self.status)
        box.addWidget(split, 1)

    # ---- jobs
    def _set_busy(self, message: str | None) -> None:
        self.progress.setVisible(message is not None)
        self.cancel.setVisible(message is not None)
        self.progress.setValue(0)
        self.progress.setFormat(f"{message} %p%" if message else "")
        self.calendar.setEnabled(message is None)

    def _enable(self) -> None:
        has = self.rep_plan is not None
        for w in (self.week, self.export, self.zoom):
            w.setEnabled(has and self.job is None)

    def _run(self, fn, message: str, done) -> Worker:
        if self.job is not None:
            raise RuntimeError("a routing job is already running")
        self.last_error = None
        self.status.clear()
        self.job = run_job(fn, lambda result: self._job_done(done, result),
                           on_failed=lambda exc: self._job_failed(_failure_message(exc)),
                           on_cancelled=lambda: self._job_failed(None),
                           on_progress=lambda f, m: (self.progress.setValue(int(1000 * f)),
                                                     self.progress.setFormat(f"{m}  %p%")),
                           state=self.window.state, label=message)
        self._set_busy(message)
        self._enable()
        return self.job

    def busy(self) -> bool:
        return self.job is not None

    def cancel_job(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.progress.setFormat("cancelling...")

    def _job_done(self, done, result) -> None:
        self.job = None
        self._set_busy(None)
        done(result)
        self._enable()

    def _job_failed(self, message: str | None) -> None:
        self.job = None
        self._set_busy(None)
        self._enable()
        self.last_error = message or "cancelled; nothing was changed"
        self.status.setText(self.last_error)  # inline only: a refused drag is not worth a modal box

    # ---- planning
    def plan(self, rep_id: str, start: date, weeks: int, time_limit: float = 30.0) -> Worker:
        """Plan ``rep_id``'s visits in the worker; the calendar and map show the result."""
        project = self.window.project
        show_dock(self.window)

        def done(rep_plan: RepPlan) -> None:
            if self.window.project is project:  # another project opened meanwhile: drop the stale plan
                self.set_plan(rep_plan)
                self.store()

        return self._run(lambda progress, stop: plan_rep_visits(
            project, rep_id, start, weeks, time_limit=time_limit, progress=progress, stop=stop,
            matrix_cache=self.matrix_cache), f"Planning {rep_id}", done)

    def set_plan(self, rep_plan: RepPlan | None) -> None:
        """Show ``rep_plan`` (None clears): week list, calendar, summary and the map layer."""
        self.rep_plan = rep_plan
        self.layer = None
        self.week.blockSignals(True)
        self.week.clear()
        if rep_plan is not None:
            self.layer = RouteLayer(rep_plan, self.window.canvas.scene.crs)
            s = rep_plan.plan.settings
            first = s.start - timedelta(s.start.weekday())
            for k in range(s.weeks + (1 if s.start.weekday() else 0)):
                monday = first + timedelta(7 * k)
                self.week.addItem(f"Week of {monday.strftime('%d %b %Y')}", monday)
            self.layer.week = first
        self.week.blockSignals(False)
        install_layer(self.window, self.layer)
        self.refresh()
        if rep_plan is not None and any(r.stops for r in rep_plan.plan.days.values()):
            self.zoom_to_route()

    def refresh(self) -> None:
        """Redraw calendar, summary, unplanned list and map from ``rep_plan``."""
        rp = self.rep_plan
        self._enable()
        if rp is None:
            self.title.setText("No route plan yet: Tools > Plan Routes... (Ctrl+Shift+R)")
            self.calendar.show_week(next_monday(), {}, {}, {})
            self.summary.clear()
            self.unplanned.clear()
            self.window.canvas.update()
            return
        names = dict(zip(rp.places["account_id"], rp.places["name"], strict=True))
        service = {a: acc.service_min for a, acc in rp.plan.accounts.items()}
        monday = self.week.currentData() or rp.plan.settings.start
        self.calendar.show_week(monday, rp.plan.days, names, service, rp.plan.settings.weekdays)
        s = plan_summary(rp).to_json()
        rep = self.window.project.reps.set_index("rep_id")
        who = f"{rep.at[rp.rep_id, 'name']} ({rp.rep_id})" if rp.rep_id in rep.index else rp.rep_id
        self.title.setText(f"<b>{esc(who)}</b>: {s['weeks']} week{'s' if s['weeks'] != 1 else ''} from {s['start']}")
        self.summary.setText(
            f"<b>{s['planned_visits']} of {s['required_visits']} visits planned ({s['coverage_pct']} %)</b> for "
            f"{s['accounts']} accounts; {s['drive_hours']:.1f} h driving, {s['drive_km']:,.0f} km; "
            f"{s['not_due_accounts']} not due in this horizon. "
            + (f"{len(s['unplanned'])} accounts not fully planned:" if s["unplanned"] else "Every due visit is planned."))
        self.unplanned.clear()
        for u in s["unplanned"]:
            self.unplanned.addTopLevelItem(QTreeWidgetItem(
                [u["account_id"], str(names.get(u["account_id"], "")), f"{u['planned']} of {u['required']}",
                 u["reason"]]))
        for col in (0, 1, 2):
            self.unplanned.resizeColumnToContents(col)
        self._day_selected(self.calendar.selected, emit=False)

    def _week_changed(self, _i: int) -> None:
        if self.layer is not None:
            self.layer.week = self.week.currentData()
        self.calendar.selected = None
        self.refresh()

    def _day_selected(self, d: date | None, emit: bool = True) -> None:
        if self.layer is not None:
            self.layer.selected = d
            self.window.canvas.update()

    def zoom_to_route(self) -> None:
        if self.layer is not None:
            self.window.canvas.set_extent(self.layer.bounds(self.calendar.selected), margin=0.12)

    # ---- edits
    def request_move(self, account_id: str, from_day: date, to_day: date) -> Worker | None:
        """Move a visit (the calendar's drop): both days re-routed in the worker; a refused move changes
        nothing. A move that worked is one step on the window's undo stack."""
        rp = self.rep_plan
        if rp is None or self.job is not None:
            return None
        return self._edit(rp, lambda progress, stop: move_visit(rp, account_id, from_day, to_day),
                          f"Move {account_id} to {to_day:%a %d %b}", to_day)

    def request_cancel(self, account_id: str, day: date) -> Worker | None:
        """Cancel one visit: the day is re-routed without it (about 1 s); undoable."""
        rp = self.rep_plan
        if rp is None or self.job is not None:
            return None
        return self._edit(rp, lambda progress, stop: replan_day(rp, day, remove=(account_id,), stop=stop),
                          f"Cancel {account_id} on {day:%a %d %b}", day)

    def _edit(self, rp: RepPlan, job, text: str, day: date) -> Worker:
        before = route_snapshot(rp)

        def done(_result) -> None:
            self.window.undo_stack.push(RouteEditCommand(rp, before, f"Routes: {text}", day, self.show_edited))
            self.show_edited(rp, day)

        return self._run(job, text.replace("Move", "Moving", 1).replace("Cancel", "Cancelling", 1), done)

    def show_edited(self, rep_plan: RepPlan, day: date) -> None:
        """Show ``rep_plan`` after an edit (or its undo) with ``day`` selected; the project keeps it."""
        if rep_plan is not self.rep_plan:
            self.set_plan(rep_plan)
        self.store()
        self.calendar.selected = day
        self.refresh()

    def store(self) -> None:
        """Keep the shown plan in the project's planned visits (saved with the project)."""
        if self.rep_plan is not None and self.window.project is not None:
            store_visit_plan(self.window.project, self.rep_plan)
            self.window.mark_modified()

    def follow_project(self, project) -> None:
        """The window shows another project (or none): drop a plan made for the previous one and put the
        routes layer in the new renderer."""
        if self.rep_plan is not None and project is not self._project:
            self.matrix_cache.clear()
            self.set_plan(None)
        else:
            install_layer(self.window, self.layer)
        self._project = project
        self.refresh()

    def export_csv(self, path: str) -> int:
        """Write the plan's stops (plan_rows) to ``path`` (.csv, or .xlsx; another name gets .csv), cells
        escaped against formula injection (storage.export); returns the number of rows."""
        if Path(path).suffix.lower() not in (".csv", ".xlsx"):
            path = f"{path}.csv"
        return export_plan_rows(self.rep_plan, path)

    def export_dialog(self) -> None:
        if self.rep_plan is None:
            return
        path = ask_table_path(self, "Export route plan", f"routes-{self.rep_plan.rep_id}.csv")
        if path:
            try:
                n = self.export_csv(path)
            except OSError as exc:
                self.status.setText(f"Could not write {path}: {exc.strerror or exc}")
                return
            self.status.setText(f"{n} stops written to {path}")


def install_layer(window, layer: RouteLayer | None) -> None:
    """Put the routes layer in the window's renderer and layer list (added once, on top)."""
    renderer = window.canvas.renderer
    if renderer is None:
        return
    if not any(lay.key == LAYER_KEY for lay in renderer.layers):  # under the rep homes, off until a plan
        below = next((i for i, lay in enumerate(renderer.layers) if lay.key == "reps"), len(renderer.layers))
        renderer.layers.insert(below, Layer(LAYER_KEY, "Routes (visit plan)", visible=False))
        window.layer_panel.reload()
    if layer is None:
        renderer.extras.pop(LAYER_KEY, None)
    else:
        renderer.extras[LAYER_KEY] = layer
        renderer.layer(LAYER_KEY).visible = True
        window.layer_panel.reload()
    window.canvas.update()


def open_plan_dialog(window) -> None:
    """Tools > Plan Routes...: ask for rep, start and weeks, then plan in the worker."""
    dock: RoutesDock = window.dock_widget("routes")
    project = window.project
    if project is None or not len(project.reps):
        msg.information(window, "Plan Routes", "Open a project with reps first.")
        return
    if dock.busy():
        msg.information(window, "Plan Routes", "A route plan is being computed; wait or cancel it.")
        return
    reps = [(str(r), str(n)) for r, n in zip(project.reps["rep_id"], project.reps["name"], strict=True)]
    dialog = PlanRoutesDialog(reps, window, dock.rep_plan.rep_id if dock.rep_plan else None)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return
    rep_id, start, weeks, seconds = dialog.values()
    show_dock(window)
    dock.plan(rep_id, start, weeks, seconds)


def show_dock(window) -> None:
    """Show the Routes dock tall enough for a day's cards, the map keeping two thirds of the height."""
    dock = window.docks["routes"]
    if not dock.isVisible():
        dock.show()
        window.resizeDocks([dock], [max(300, int(window.height() * 0.32))], Qt.Orientation.Vertical)
    dock.raise_()


def _failure_message(exc: BaseException) -> str:
    """What the user reads when a routing job fails: our errors as they are, a bug with its type."""
    if isinstance(exc, TerritoryError):
        return str(exc)
    return f"unexpected error: {exc!r}"


def install_routing_ui(window) -> RoutesDock:
    """Add Tools > Plan Routes... (Ctrl+Shift+R), the Routes dock (bottom) and the routes layer to ``window``;
    the dock follows the window's project through its app state. Returns the dock's widget."""
    dock_widget = RoutesDock(window)
    dock = window.add_dock("routes", "Routes", dock_widget, Qt.DockWidgetArea.BottomDockWidgetArea)
    dock.hide()
    action = QAction("Plan &Routes...", window)
    action.setShortcut(QKeySequence("Ctrl+Shift+R"))
    action.setToolTip("Plan a rep's visits for 1-5 weeks and route every day (Ctrl+Shift+R)")
    action.setStatusTip("Plan a rep's visits for 1-5 weeks and route every day")
    action.triggered.connect(lambda: open_plan_dialog(window))
    window.add_action("tools", "plan_routes", action)
    from .route_batch import install_plan_all_routes

    install_plan_all_routes(window)
    window.menus["view"].addAction(dock.toggleViewAction())
    unsubscribe = window.state.project_changed.connect(dock_widget.follow_project)
    dock_widget.destroyed.connect(lambda *_a: unsubscribe())
    dock_widget.follow_project(window.project)
    return dock_widget
