"""Tools > Balance Territories... (Ctrl+B): choose what to balance, run the balancer in a worker thread
with a progress bar and Cancel, and open the result as a proposal (see :mod:`.balance_proposal`).

Wiring: ``install_balance_ui(window)`` adds the action to the window's Tools menu and toolbar.
"""

from __future__ import annotations

import time
from dataclasses import replace

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
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
from ..services.balancing import BalanceOptions, propose_project_balance
from ..services.metrics import unit_measures
from . import plaintext as msg
from .actions import icon
from .balance_proposal import BalanceRun, ProposalPanel, proposal_from_labels, rank
from .plaintext import plain_label
from .workers import Worker, run_job

MEASURES = (("workload_hours", "Workload (hours)", True, 2.0), ("accounts", "Accounts", False, 5.0),
            ("potential", "Potential", False, 5.0))


def run_balance(project: Project, opts: BalanceOptions, scenario_id: str, progress, stop) -> BalanceRun:
    """The worker's job: one plan per seed (``opts.alternatives`` seeds from ``opts.seed``), best first.
    Raises the first InfeasibleError when no seed gives a plan; a provable infeasibility stops at once."""
    n = 1 if opts.mode == "orphans" else max(1, opts.alternatives)
    before = project.plans[scenario_id].as_dict()
    proposals, errors = [], []
    for i in range(n):
        one = replace(opts, seed=opts.seed + i, alternatives=1)

        def part(fraction: float, message: str, i: int = i) -> None:
            progress((i + fraction) / n, f"plan {i + 1} of {n}: {message}" if n > 1 else message)

        part(0.0, "projecting units and finding neighbours")
        try:
            proposals.append(propose_project_balance(project, one, scenario_id, part, stop))
        except InfeasibleError as exc:
            errors.append(exc)
            if getattr(exc, "result", None) is None:
                break  # provably impossible: every seed fails the same way
    if not proposals:
        raise errors[0]
    progress(1.0, "scoring")
    return BalanceRun(rank(proposals), before, unit_measures(project, scenario_id), opts, [str(e) for e in errors])


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
        n_terr = int((terr["kind"].fillna("geographic") == "geographic").sum())
        self.k = QSpinBox()
        self.k.setRange(2, 5000)
        self.k.setValue(max(2, n_terr))
        self.k.setToolTip(f"Number of territories (the scenario has {n_terr}); rebalancing keeps it")
        self.modes = QButtonGroup(self)
        self.mode_rebalance = QRadioButton("Rebalance the current plan, moving at most")
        self.mode_build = QRadioButton("Build from scratch (renumbered to overlap the current plan)")
        self.mode_orphans = QRadioButton("Assign orphan units only")
        for i, b in enumerate((self.mode_rebalance, self.mode_build, self.mode_orphans)):
            self.modes.addButton(b, i)
        self.mode_rebalance.setChecked(True)
        self.max_moved = QDoubleSpinBox()
        self.max_moved.setRange(0.1, 100.0)
        self.max_moved.setValue(10.0)
        self.max_moved.setSuffix(" % of units")
        mode_box = QGroupBox("Mode")
        grid = QGridLayout(mode_box)
        grid.addWidget(self.mode_rebalance, 0, 0)
        grid.addWidget(self.max_moved, 0, 1)
        grid.addWidget(self.mode_build, 1, 0, 1, 2)
        grid.addWidget(self.mode_orphans, 2, 0, 1, 2)
        self.measure_checks: dict[str, QCheckBox] = {}
        self.tolerances: dict[str, QDoubleSpinBox] = {}
        measure_box = QGroupBox("Balance (tolerance: allowed deviation from the mean)")
        mgrid = QGridLayout(measure_box)
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
            mgrid.addWidget(check, row, 0)
            mgrid.addWidget(spin, row, 1)
            self.measure_checks[key], self.tolerances[key] = check, spin
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
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        self.status = plain_label()  # failure messages name territories
        self.status.setWordWrap(True)
        self._message = ""
        self._started = 0.0
        self.clock = QTimer(self, interval=500, timeout=self._tick)  # elapsed seconds while running
        self.buttons = QDialogButtonBox()
        self.run_button = self.buttons.addButton("&Run", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = QPushButton("Cancel")
        self.buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.run_button.clicked.connect(self.start_run)
        self.cancel_button.clicked.connect(self.cancel)
        layout = QVBoxLayout(self)
        for w in (mode_box, measure_box):
            layout.addWidget(w)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.modes.idToggled.connect(self._mode_changed)
        self._mode_changed()

    def _mode_changed(self, *_args) -> None:
        build = self.mode_build.isChecked()
        self.k.setEnabled(build)
        self.max_moved.setEnabled(self.mode_rebalance.isChecked())
        self.alternatives.setEnabled(not self.mode_orphans.isChecked())

    def options(self) -> BalanceOptions:
        """The options as chosen; raises InvalidInputError-like TerritoryError when no measure is ticked."""
        measures = [k for k, c in self.measure_checks.items() if c.isChecked()]
        if not measures:
            raise TerritoryError("Tick at least one measure to balance.")
        mode = "rebalance" if self.mode_rebalance.isChecked() else "build" if self.mode_build.isChecked() \
            else "orphans"
        tol = {m: self.tolerances[m].value() / 100 for m in measures}
        return BalanceOptions(measures=measures, k=self.k.value() if mode == "build" else None,
                              tolerance=tol[measures[0]], tolerance_for=tol, mode=mode,
                              max_moved=self.max_moved.value() / 100, seed=self.seed.value(),
                              time_limit=self.time_limit.value(), alternatives=self.alternatives.value())

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
        self.worker = run_job(lambda progress, stop: run_balance(project, opts, sid, progress, stop),
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
        result = getattr(exc, "result", None)
        if result is None:
            msg.warning(self, "Balance Territories", str(exc))
            return
        answer = msg.question(self, "Balance Territories", f"{exc}\n\nLook at the best plan found anyway?")
        if answer == QMessageBox.StandardButton.Yes:
            p = proposal_from_labels(self.project, self.opts, self.scenario_id, result.labels, result.seed, str(exc))
            run = BalanceRun([p], self.project.plans[self.scenario_id].as_dict(),
                             unit_measures(self.project, self.scenario_id), self.opts)
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
