"""Tools > Plan All Routes...: every rep's visit plan in one run (services.route_batch), on this computer's
cores or a Dask cluster, in a worker with progress (reps done / total, ETA) and Cancel.

Each rep's planned visits are saved to the project file as the rep finishes when the project has no other
unsaved changes (so a stopped run resumes, as ``route --all`` does); otherwise they stay in the open
project and are saved with it.
"""

from __future__ import annotations

import os
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from ..engine.travel import TrafficProfile
from ..services.route_batch import RouteBatchOptions, plan_all_routes
from . import plaintext as msg
from .dialogs import add_ok_cancel
from .plaintext import plain_label, tooltip
from .routes import next_monday
from .workers import run_job_with_dialog

TITLE = "Plan All Routes"
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
#: the lunch of ``route``'s default --lunch 11:30-13:30/30: (earliest start, latest start, minutes)
LUNCH = (690.0, 810.0, 30.0)


class PlanAllRoutesDialog(QDialog):
    """The options of ``route --all``: horizon, working days, lunch, traffic, search time per rep, where to
    run (processes here or a Dask scheduler) and whether to plan again reps already planned."""

    def __init__(self, parent: QWidget | None = None, reps: int = 0, saves: bool = True) -> None:
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow(plain_label(f"Plan the visits and daily routes of all {reps} reps. "
                                + ("Each rep is saved to the project as it finishes; a stopped run resumes."
                                   if saves else "The plans are kept in the open project (it has unsaved "
                                   "changes): save the project to keep them.")))
        form.itemAt(0).widget().setWordWrap(True)
        self.start = QDateEdit(next_monday())
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("ddd yyyy-MM-dd")
        self.weeks = _spin(QSpinBox(), 1, 5, 2, " weeks", "Horizon of every plan, 1 to 5 weeks")
        self.seconds = _spin(QSpinBox(), 1, 3600, 30, " s per rep",
                             "Search time of each rep's plan (route --time-limit); longer finds shorter drives")
        form.addRow("First day", self.start)
        form.addRow("Horizon", self.weeks)
        form.addRow("Working days", self._days())
        self.lunch = QCheckBox("30 min, starting between 11:30 and 13:30")
        self.lunch.setChecked(True)
        self.traffic = QCheckBox("Weekday and rush-hour congestion")
        self.traffic.setChecked(True)
        self.traffic.setToolTip(tooltip("Off: free-flow travel times (route --no-traffic)"))
        form.addRow("Lunch break", self.lunch)
        form.addRow("Traffic", self.traffic)
        form.addRow("Search time", self.seconds)
        form.addRow("Run on", self._where())
        self.restart = QCheckBox("Plan again reps already planned for these weeks")
        self.restart.setToolTip(tooltip("Off: reps with planned visits in these weeks are kept (resume)"))
        form.addRow("", self.restart)
        add_ok_cancel(self, form)
        self.setMinimumWidth(460)

    def _days(self) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.day_boxes = []
        for k, name in enumerate(DAYS):
            check = QCheckBox(name)
            check.setChecked(k < 5)
            row.addWidget(check)
            self.day_boxes.append(check)
        return box

    def _where(self) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.where = QComboBox()
        self.where.addItem("This computer", "local")
        self.where.addItem("Dask cluster", "cluster")
        cores = os.cpu_count() or 1
        self.workers = _spin(QSpinBox(), 1, 256, cores, " processes",
                             f"Reps planned at once on this computer (it has {cores} cores; 1 = one after another)")
        self.address = QLineEdit()
        self.address.setMinimumWidth(220)
        self.address.setPlaceholderText("tcp://scheduler:8786")
        self.address.setToolTip(tooltip("Address of a Dask distributed scheduler; its workers need Territory "
                                        "Desktop installed"))
        self.address.setVisible(False)
        self.where.currentIndexChanged.connect(self._where_changed)
        for w in (self.where, self.workers, self.address):
            row.addWidget(w)
        return box

    def _where_changed(self, _index: int) -> None:
        on_cluster = self.where.currentData() == "cluster"
        self.workers.setVisible(not on_cluster)
        self.address.setVisible(on_cluster)

    def options(self) -> RouteBatchOptions | None:
        """The chosen options; None (with a warning) when a choice cannot be used."""
        weekdays = tuple(k for k, c in enumerate(self.day_boxes) if c.isChecked())
        cluster = self.address.text().strip() if self.where.currentData() == "cluster" else None
        if not weekdays:
            msg.warning(self, TITLE, "Tick at least one working day.")
            return None
        if cluster == "":
            msg.warning(self, TITLE, "Give the address of the Dask scheduler, e.g. tcp://scheduler:8786.")
            return None
        start: date = self.start.date().toPython()
        return RouteBatchOptions(start, self.weeks.value(), weekdays=weekdays, lunch=LUNCH if self.lunch.isChecked()
                                 else None, traffic=TrafficProfile() if self.traffic.isChecked() else None,
                                 time_limit=float(self.seconds.value()), workers=self.workers.value(),
                                 cluster=cluster, restart=self.restart.isChecked())

    def accept(self) -> None:
        if self.options() is not None:
            super().accept()


def _spin(box, low, high, value, suffix: str, tip: str):
    box.setRange(low, high)
    box.setValue(value)
    box.setSuffix(suffix)
    box.setToolTip(tooltip(tip))
    box.setAlignment(Qt.AlignmentFlag.AlignRight)
    return box


def result_text(result: dict) -> str:
    """The summary shown when the run ends: counts, then every failed rep with its reason (first 12)."""
    failed = [e for e in result["reps"] if "error" in e]
    planned = [e for e in result["reps"] if "error" not in e]
    lines = [f"{len(result['reps'])} reps in {result['seconds']:.0f} s: {result['planned_reps']} planned, "
             f"{result['resumed_reps']} already planned (kept), {result['failed_reps']} failed.",
             f"{sum(e['planned_visits'] for e in planned)} of {sum(e['required_visits'] for e in planned)} "
             "required visits planned."]
    lines += [f"  {e['rep_id']}: {e['error']}" for e in failed[:12]]
    if len(failed) > 12:
        lines.append(f"  ... and {len(failed) - 12} more")
    return "\n".join(lines)


def plan_all_routes_ui(window, options: RouteBatchOptions | None = None):
    """Ask for the options (unless given), then plan every rep in a worker with progress and Cancel.
    Returns (worker, progress dialog), or None when nothing was started."""
    project = window.project
    if project is None or not len(project.reps):
        msg.information(window, TITLE, "Open a project with reps first.")
        return None
    saves = bool(project.path) and not window.isWindowModified()
    if options is None:
        dialog = PlanAllRoutesDialog(window, len(project.reps), saves)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        options = dialog.options()
    from ..services.project import save_project

    def job(progress, stop):
        return plan_all_routes(project, options, progress, stop, save=save_project if saves else _keep)

    def done(result: dict) -> None:
        if not saves and result["planned_reps"]:
            window.mark_modified()
        msg.information(window, TITLE, result_text(result))

    def stopped() -> None:
        if not saves:
            window.mark_modified()  # the reps finished before Cancel are in the open project

    return run_job_with_dialog(window, TITLE, f"Planning {len(project.reps)} reps...", job, done,
                               on_failed=lambda exc: msg.warning(window, TITLE, str(exc)), on_cancelled=stopped,
                               state=getattr(window, "state", None))


def _keep(_project) -> None:
    """No save: the plans stay in the open project."""


def install_plan_all_routes(window) -> None:
    """Add Tools > Plan All Routes..."""
    action = QAction("Plan &All Routes...", window)
    action.setStatusTip("Plan every rep's visits and daily routes, on this computer's cores or a Dask cluster")
    action.triggered.connect(lambda _checked=False: plan_all_routes_ui(window))
    window.add_action("tools", "plan_all_routes", action, separator=False)
