"""Realign with Minimal Disruption: goal, rep, tolerance, cap and protected accounts; runs
``services.realign`` in a worker (progress with Cancel) on a copy of the project, then adds the
alternatives as new scenarios in one undo step and lists their disruption."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
)

from ..services.realign import GOALS, RealignRequest, option_table, read_protected
from . import plaintext as msg
from .scenario_manager import adopt_scenarios, realign_on_copy, run_scenario_edit
from .workers import run_job_with_dialog

GOAL_TEXT = {"balance": "Balance workload within the tolerance", "add-rep": "Add a rep (new territory)",
             "remove-rep": "A rep leaves (dissolve the territory)", "new-market": "Assign a new market (orphan units)"}


class RealignDialog(QDialog):
    """The realignment request form."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.setWindowTitle("Realign with Minimal Disruption")
        self.goal = QComboBox()
        for g in GOALS:
            self.goal.addItem(GOAL_TEXT[g], g)
        self.rep = QComboBox()
        reps = window.project.reps
        for rid, name in zip(reps["rep_id"].astype(str), reps["name"].astype(str), strict=True):
            self.rep.addItem(f"{name} ({rid})", rid)
        self.tolerance = QDoubleSpinBox(decimals=1, minimum=0.5, maximum=99.0, value=10.0, suffix=" %")
        self.cap_kind = QComboBox()
        self.cap_kind.addItems(["accounts", "revenue (T12M)"])
        self.cap = QDoubleSpinBox(decimals=0, minimum=0, maximum=1e13, value=0)
        self.cap.setSpecialValueText("default caps: 2, 5 and 10 % of the accounts")
        self.cap.setGroupSeparatorShown(True)
        self.protect = QLineEdit()
        self.protect.setPlaceholderText("account ids separated by commas, or a CSV file with account_id")
        self.alternatives = QSpinBox(minimum=1, maximum=5, value=3)
        self.seconds = QSpinBox(minimum=2, maximum=600, value=20, suffix=" s")
        form = QFormLayout(self)
        for label, widget in (("Goal", self.goal), ("Rep (add / leaves)", self.rep), ("Tolerance", self.tolerance),
                              ("Cap on", self.cap_kind), ("At most moved", self.cap),
                              ("Protected accounts", self.protect), ("Alternatives", self.alternatives),
                              ("Time per alternative", self.seconds)):
            form.addRow(label, widget)
        self.goal.currentIndexChanged.connect(self._goal_changed)
        self._goal_changed()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Propose")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _goal_changed(self, _index: int = 0) -> None:
        self.rep.setEnabled(self.goal.currentData() in ("add-rep", "remove-rep"))

    def request(self) -> RealignRequest:
        cap = self.cap.value() or None
        accounts = self.cap_kind.currentIndex() == 0
        return RealignRequest(self.goal.currentData(), None, "workload_hours", self.tolerance.value() / 100,
                              self.rep.currentData(), cap if accounts else None, None if accounts else cap,
                              read_protected(self.protect.text().strip()), self.alternatives.value(),
                              float(self.seconds.value()))


def open_realign_dialog(window, request: RealignRequest | None = None):
    """Ask for the request (unless given), run it in a worker; the alternatives become scenarios."""
    if window.project is None:
        return None
    if request is None:
        dialog = RealignDialog(window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        try:
            request = dialog.request()
        except (OSError, ValueError) as exc:
            msg.warning(window, "Realign", str(exc))
            return None
    project = window.project

    def done(result) -> None:
        copy, options = result
        run_scenario_edit(window, lambda p: adopt_scenarios(p, copy), f"Realign: {len(options)} proposals")
        table = option_table(project, options)
        lines = [f"{r['scenario']}: cap {r['cap']}, {'reaches' if r['reaches goal'] else 'misses'} the goal "
                 f"(worst {r['worst deviation %']:.1f} %), {r['accounts changing rep']:,} accounts and "
                 f"{r['revenue changing rep']:,.0f} revenue change rep" for r in table.to_dict("records")]
        msg.information(window, "Realign", "Saved as scenarios (least disruption first):\n" + "\n".join(lines)
                        + "\n\nScenario > Compare Scenarios shows each one against the current plan.")

    return run_job_with_dialog(window, "Realign", "Proposing realignments",
                               lambda progress, stop: realign_on_copy(project, request, progress, stop), done,
                               on_failed=lambda exc: msg.warning(window, "Realign", str(exc)), state=window.state)
