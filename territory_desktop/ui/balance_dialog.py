"""Tools > Balance Territories... (Ctrl+B): choose what to balance, run the balancer in a worker thread
with a progress bar and Cancel, and open the result as a proposal (see :mod:`.balance_proposal`).

Wiring: ``install_balance_ui(window)`` adds the action to the window's Tools menu and toolbar.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
)

from ..models import InfeasibleError, Project, TerritoryError
from ..models.progress import StopFlag
from ..services.balancing import BalanceMode, BalanceOptions
from ..services.parallel_search import default_workers
from ..services.scenario_balance import BalanceRun, run_project_balance
from . import plaintext as msg
from .actions import icon
from .balance_proposal import ProposalPanel
from .plaintext import plain_label
from .workers import Worker, run_job

MEASURES = (("workload_hours", "Workload (hours)", True, 2.0), ("accounts", "Accounts", False, 5.0),
            ("potential", "Potential", False, 5.0))
OBJECTIVE_ITEMS = (("compact", "Compact: fewest cut edges"),
                   ("diameter", "Smallest largest diameter (on the edge lengths)"),
                   ("total-diameter", "Smallest total of the territory diameters"),
                   ("travel", "Shortest travel from each rep's home (or centre)"))
LENGTH_ITEMS = (("", "Straight line between unit centres"), ("great-circle", "Great-circle x 1.3 (road detour)"),
                ("file", "From a CSV file (from,to,length)..."))


def reps_with_homes(project: Project) -> bool:
    """True when every geographic territory of the active scenario has a rep with a home location."""
    terr = project.scenario_territories()
    terr = terr[terr["kind"].fillna("geographic") == "geographic"]
    reps = project.reps.set_index("rep_id") if len(project.reps) else None
    if reps is None or not len(terr):
        return False
    return all(isinstance(r, str) and r in reps.index and reps.loc[r].geometry is not None
               and not reps.loc[r].geometry.is_empty for r in terr["rep_id"])


class BalanceDialog(QDialog):
    """Balancing options, then Run: a progress bar and Cancel while the worker runs."""

    def __init__(self, window, project: Project) -> None:
        super().__init__(window)
        self.setWindowTitle("Balance Territories")
        self.window_ = window
        self.project = project
        self.worker: Worker | None = None
        self._workers: list[Worker] = []
        self.result: BalanceRun | None = None
        self.scenario_id = project.active_scenario
        terr = project.scenario_territories()
        self.n_terr = int((terr["kind"].fillna("geographic") == "geographic").sum())
        self.homes_ok = reps_with_homes(project)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        self.status = plain_label()  # failure messages name territories
        self.status.setWordWrap(True)
        self._message = ""
        self._started = 0.0
        self.clock = QTimer(self, interval=500, timeout=self._tick)  # elapsed seconds while running
        layout = QVBoxLayout(self)
        layout.addWidget(self._mode_box())
        layout.addWidget(self._measure_box())
        layout.addLayout(self._form())
        layout.addWidget(self._search_box())
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self._buttons())
        self.modes.idToggled.connect(self._mode_changed)
        self.k.valueChanged.connect(self._mode_changed)
        self._mode_changed()

    def _mode_box(self) -> QGroupBox:
        self.modes = QButtonGroup(self)
        self.mode_rebalance = QRadioButton("Rebalance the current plan, moving at most")
        self.mode_build = QRadioButton("Build from scratch (renumbered to overlap the current plan)")
        self.mode_orphans = QRadioButton("Assign orphan units only")
        self.anchor = QCheckBox("Anchor territories on the reps' homes")
        self.anchor.setChecked(self.homes_ok)
        self.anchor.setToolTip("Each territory keeps its rep's home, so names and reps stay in place; needs a "
                               "rep with a home for every territory and k = the number of territories")
        for i, b in enumerate((self.mode_rebalance, self.mode_build, self.mode_orphans)):
            self.modes.addButton(b, i)
        self.mode_rebalance.setChecked(True)
        self.max_moved = QDoubleSpinBox()
        self.max_moved.setRange(0.1, 100.0)
        self.max_moved.setValue(10.0)
        self.max_moved.setSuffix(" % of units")
        box = QGroupBox("Mode")
        grid = QGridLayout(box)
        grid.addWidget(self.mode_rebalance, 0, 0)
        grid.addWidget(self.max_moved, 0, 1)
        grid.addWidget(self.mode_build, 1, 0, 1, 2)
        grid.addWidget(self.anchor, 2, 0, 1, 2)
        grid.addWidget(self.mode_orphans, 3, 0, 1, 2)
        self.anchor.setContentsMargins(24, 0, 0, 0)
        return box

    def _measure_box(self) -> QGroupBox:
        self.measure_checks: dict[str, QCheckBox] = {}
        self.tolerances: dict[str, QDoubleSpinBox] = {}
        box = QGroupBox("Balance (tolerance: allowed deviation from the mean)")
        grid = QGridLayout(box)
        for row, (key, label, on, tol) in enumerate(MEASURES):
            check = QCheckBox(label)
            check.setChecked(on)
            spin = QDoubleSpinBox()
            spin.setRange(0.1, 100.0)
            spin.setDecimals(1)
            spin.setValue(tol)
            spin.setPrefix("+/- ")
            spin.setSuffix(" %")
            spin.setEnabled(on)
            check.toggled.connect(spin.setEnabled)
            grid.addWidget(check, row, 0)
            grid.addWidget(spin, row, 1)
            self.measure_checks[key], self.tolerances[key] = check, spin
        return box

    def _form(self) -> QFormLayout:
        self.k = QSpinBox()
        self.k.setRange(2, 5000)
        self.k.setValue(max(2, self.n_terr))
        self.k.setToolTip(f"Number of territories (the scenario has {self.n_terr}); rebalancing keeps it")
        self.keep_locked = QCheckBox("Keep locked units in their territories")
        self.keep_locked.setChecked(True)
        self.seed = QSpinBox()
        self.seed.setRange(0, 1_000_000)
        self.time_limit = QDoubleSpinBox()
        self.time_limit.setRange(1, 3600)
        self.time_limit.setDecimals(0)
        self.time_limit.setValue(30)
        self.time_limit.setSuffix(" s per plan")
        self.alternatives = QSpinBox()
        self.alternatives.setRange(1, 20)
        self.alternatives.setToolTip("Build one plan per seed (seed, seed+1, ...) and compare them")
        form = QFormLayout()
        form.addRow("Territories (k)", self.k)
        form.addRow("", self.keep_locked)
        form.addRow("Seed", self.seed)
        form.addRow("Time limit", self.time_limit)
        form.addRow("Alternatives", self.alternatives)
        return form

    def _search_box(self) -> QGroupBox:
        self.objective = QComboBox()
        for key, label in OBJECTIVE_ITEMS:
            self.objective.addItem(label, key)
        self.lengths = QComboBox()
        for key, label in LENGTH_ITEMS:
            self.lengths.addItem(label, key)
        self.lengths.setToolTip("Lengths between neighbouring units, for the diameter and travel objectives")
        self.lengths_file = ""
        self.lengths.activated.connect(self._lengths_chosen)
        self.objective.currentIndexChanged.connect(self._objective_changed)
        self.whole_time = QCheckBox("Search for the whole time limit (else stop when improvement stalls)")
        self.cores = QSpinBox()
        self.cores.setRange(1, os.cpu_count() or 1)
        self.cores.setValue(default_workers())
        self.cores.setToolTip("With the whole time limit: this many searches at once (seeds seed, seed+1, ...), "
                              "one per core; the best plan is kept")
        self.whole_time.toggled.connect(self._whole_time_changed)
        box = QGroupBox("Search")
        form = QFormLayout(box)
        form.addRow("Objective", self.objective)
        form.addRow("Edge lengths", self.lengths)
        form.addRow("", self.whole_time)
        form.addRow("Cores", self.cores)
        self._whole_time_changed()
        self._objective_changed()
        return box

    def _whole_time_changed(self, *_args) -> None:
        self.cores.setEnabled(self.whole_time.isChecked() and self.mode_build.isChecked())

    def _objective_changed(self, *_args) -> None:
        self.lengths.setEnabled(self.objective.currentData() != "compact")

    def _lengths_chosen(self, index: int) -> None:
        if self.lengths.itemData(index) != "file":
            return
        path = QFileDialog.getOpenFileName(self, "Edge lengths", "", "CSV (*.csv);;All files (*)")[0]
        if path:
            self.lengths_file = path
            self.lengths.setItemText(index, f"From {Path(path).name}")
        elif not self.lengths_file:
            self.lengths.setCurrentIndex(0)

    def _edge_lengths(self) -> str | None:
        key = self.lengths.currentData() if self.lengths.isEnabled() else ""
        return self.lengths_file if key == "file" else (key or None)

    def _buttons(self) -> QDialogButtonBox:
        self.buttons = QDialogButtonBox()
        self.run_button = self.buttons.addButton("&Run", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = QPushButton("Cancel")
        self.buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.stop_button = QPushButton("&Stop and keep the best")
        self.stop_button.setToolTip("End the search now and open the best plan found so far")
        self.stop_button.clicked.connect(self.finish_early)
        self.buttons.addButton(self.stop_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.stop_button.setVisible(False)  # after addButton, which shows it
        self.run_button.clicked.connect(self.start_run)
        self.cancel_button.clicked.connect(self.cancel)
        return self.buttons

    def _mode_changed(self, *_args) -> None:
        build = self.mode_build.isChecked()
        self.k.setEnabled(build)
        self.max_moved.setEnabled(self.mode_rebalance.isChecked())
        self.alternatives.setEnabled(build)
        self._whole_time_changed()
        self.anchor.setEnabled(build and self.homes_ok and self.k.value() == self.n_terr)

    def options(self) -> BalanceOptions:
        """The options as chosen; raises InvalidInputError-like TerritoryError when no measure is ticked."""
        measures = [k for k, c in self.measure_checks.items() if c.isChecked()]
        if not measures:
            raise TerritoryError("Tick at least one measure to balance.")
        mode = BalanceMode.REBALANCE if self.mode_rebalance.isChecked() else BalanceMode.BUILD \
            if self.mode_build.isChecked() else BalanceMode.ORPHANS
        build = mode is BalanceMode.BUILD
        tol = {m: self.tolerances[m].value() / 100 for m in measures}
        return BalanceOptions(measures=measures, k=self.k.value() if build else None,
                              tolerance=tol[measures[0]], tolerance_for=tol, mode=mode,
                              max_moved=self.max_moved.value() / 100, seed=self.seed.value(),
                              time_limit=self.time_limit.value(),
                              alternatives=self.alternatives.value() if build else 1,
                              use_rep_homes=build and self.anchor.isEnabled() and self.anchor.isChecked(),
                              objective=self.objective.currentData(), edge_lengths=self._edge_lengths(),
                              use_time_limit=self.whole_time.isChecked(), finish=StopFlag(),
                              workers=self.cores.value())

    def _project_for_run(self) -> Project:
        """The project, or a shallow copy with unlocked units when locks are to be ignored."""
        if self.keep_locked.isChecked() or "locked" not in self.project.units:
            return self.project
        copy = replace(self.project)  # shares every table; only the copy's units lose their locks
        copy.units = self.project.units.assign(locked=False)
        return copy

    # ---- running
    def start_run(self) -> None:
        if self.worker is not None:
            return
        try:
            opts = self.options()
        except TerritoryError as exc:
            msg.warning(self, "Balance Territories", str(exc))
            return
        project, sid = self._project_for_run(), self.scenario_id
        self.opts = opts
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self._message, self._started = "starting", time.monotonic()
        self.status.setText("Balancing...")
        self.clock.start()
        self.run_button.setEnabled(False)
        self.stop_button.setVisible(opts.mode is BalanceMode.BUILD)
        self.stop_button.setEnabled(True)
        self.worker = run_job(lambda progress, stop: run_project_balance(project, opts, sid, progress, stop),
                              self._finished, on_failed=self._failed, on_cancelled=self._cancelled,
                              on_progress=self._progress, state=getattr(self.window_, "state", None),
                              label="Balancing territories")
        self._workers.append(self.worker)  # a finished runnable stays referenced until the dialog goes

    def cancel(self) -> None:
        """During a run: set the StopFlag (the engine stops at its next check); otherwise close."""
        if self.worker is not None:
            self.worker.cancel()
            self.status.setText("Cancelling...")
        else:
            self.reject()

    def finish_early(self) -> None:
        """During a from-scratch run: end the search and keep the best plan found so far."""
        if self.worker is not None and self.opts.finish is not None:
            self.opts.finish.set()
            self.stop_button.setEnabled(False)
            self.status.setText("Stopping: keeping the best plan so far...")

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self._message = message
        self._tick()

    def _tick(self) -> None:
        if self.worker is not None and not self.worker.stop.is_set():
            self.status.setText(f"{self._message} ({time.monotonic() - self._started:.0f} s)")

    def _done(self) -> None:
        self.clock.stop()
        self.worker = None
        self.run_button.setEnabled(True)
        self.stop_button.setVisible(False)
        self.progress.setVisible(False)

    def _cancelled(self) -> None:
        self._done()
        self.status.setText("Cancelled; nothing was changed.")

    def _finished(self, run: BalanceRun) -> None:
        self._done()
        self.result = run
        self.accept()
        show_proposal(self.window_, run)

    def _failed(self, exc: Exception) -> None:
        self._done()
        if not isinstance(exc, TerritoryError):
            msg.critical(self, "Balance Territories", f"Balancing failed: {exc}")
            self.status.setText(f"Failed: {exc}")
            return
        self.status.setText(str(exc))
        run = exc.result if isinstance(exc, InfeasibleError) else None
        if not isinstance(run, BalanceRun):  # provably impossible, or bad input: nothing to look at
            msg.warning(self, "Balance Territories", str(exc))
            return
        answer = msg.question(self, "Balance Territories", f"{exc}\n\nLook at the best plan found anyway?")
        if answer == QMessageBox.StandardButton.Yes:
            self.result = run
            self.accept()
            show_proposal(self.window_, run)

    def reject(self) -> None:
        if self.worker is not None:  # closing the dialog while running cancels the run
            self.worker.cancel()
        super().reject()


def show_proposal(window, run: BalanceRun) -> ProposalPanel:
    """Show ``run`` in the window's Balance Proposal dock (created on first use)."""
    dock = window.docks.get("balance")
    if dock is None:
        panel = ProposalPanel(window)
        # full height, tabbed next to the territory table
        dock = window.add_dock("balance", "Balance Proposal", panel, Qt.DockWidgetArea.RightDockWidgetArea,
                               tabify_with="territories")
        panel.closed.connect(lambda _how: dock.hide())
        # another project opened: its proposal no longer applies (the panel unsubscribes when it goes)
        off = window.state.project_changed.connect(
            lambda project: panel.discard() if panel.run is not None and project is not panel.project else None)
        panel.destroyed.connect(lambda *_a: off())
        # closing the dock with its X discards the proposal (switching tabs does not toggle this action)
        dock.toggleViewAction().toggled.connect(lambda on: None if on or panel.run is None else panel.discard())
    panel = dock.widget()
    panel.set_run(run)
    dock.show()
    dock.raise_()
    return panel


def open_balance_dialog(window) -> BalanceDialog | None:
    """Tools > Balance Territories...: open the dialog (window-modal, not blocking)."""
    if window.project is None:
        msg.information(window, "Balance Territories", "Open a project first.")
        return None
    dialog = BalanceDialog(window, window.project)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
    dialog.open()
    return dialog


def install_balance_ui(window) -> QAction:
    """Add Tools > Balance Territories... (Ctrl+B) to ``window``'s Tools menu and main toolbar; returns it.
    A second call returns the action already installed."""
    existing = window.actions_.get("balance")
    if existing is not None:
        return existing
    action = QAction(icon("balance"), "&Balance Territories...", window)
    action.setShortcut(QKeySequence("Ctrl+B"))
    action.setToolTip("Balance territories on workload, accounts or potential (Ctrl+B)")
    action.setStatusTip("Balance the territories of the current scenario and review the changes before applying")
    action.triggered.connect(lambda: open_balance_dialog(window))
    window.add_action("tools", "balance", action, toolbar=True)
    return action
