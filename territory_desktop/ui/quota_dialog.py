"""Tools > Set Quotas... (and the KPI dock's Set Quotas... button): a total, a method (blend weights), new
reps with their ramp, and a preview of ``services.quotas.plan_quotas`` that follows the inputs (computed in
a worker, so the bottom-up forecast never blocks the window). Save stores the previewed set through
``save_quotas`` as one undo step (:class:`SaveQuotasCommand`); a set of the same scenario and months is
replaced only after "Replace?"."""

from __future__ import annotations

import pandas as pd
from PySide6.QtCore import QDate, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from ..engine.quotas import METHODS, RAMPS
from ..models import InvalidInputError, Project, TerritoryError
from ..services import quotas as sq
from . import plaintext as msg
from .commands import TablesSnapshotCommand
from .workers import Worker, run_job

BLEND_BASES = [m for m in METHODS if m != "blend"]
PREVIEW_COLUMNS = ("Territory", "Name", "Rep", "Basis", "Share %", "Quota", "Month 1 (ramped)")
METHOD_TIPS = {"even": "the same quota for every territory", "potential": "by the accounts' annual potential",
               "prior_year": "by the sales of the last complete calendar year",
               "trailing_12": "by the sales of the last 12 months with data",
               "bottom-up": "by each territory's sales forecast for the plan's months",
               "blend": "by a weighted mix of the other bases"}


class SaveQuotasCommand(TablesSnapshotCommand):
    """Store a quota set (``edit`` calls ``save_quotas``, which refuses before it changes anything); undo puts
    the quotas table back as it was (the new set gone, a replaced one back), redo puts the saved set back.
    ``after()`` follows each change."""

    tables = ("quotas",)

    def __init__(self, project: Project, edit, text: str, after=None, plan_months: str = "") -> None:
        super().__init__(project, edit, text, after)
        self.scenario, self.plan_months = project.active_scenario, plan_months

    def refusal(self) -> str | None:
        """Why the set may not be stored, removed or put back now: its scenario is frozen (under review or
        published), also when that happened after the save (``PlanUndoStack`` asks before undo and redo)."""
        from ..services.review import frozen_reason

        reason = frozen_reason(self.project, self.scenario)
        return None if reason is None else f"the quotas {self.plan_months} stay as they are: {reason}"


def save_quota_set(window, project: Project, result: dict, parent: QWidget | None = None) -> int | None:
    """Store ``result`` as one undo step on ``window.undo_stack``; a clash asks "Replace?" first. Returns the
    rows stored, or None (refused, or not replaced)."""
    parent = parent if parent is not None else window if isinstance(window, QWidget) else None
    replace = False
    clash = sq.quota_clash(project, result["plan_months"])
    if clash:
        answer = msg.question(parent, "Replace quotas?", f"{clash}. Replace them?")
        if answer != QMessageBox.StandardButton.Yes:
            return None
        replace = True
    text = f"Set quotas {result['plan_months']} ({result['method']})"
    command = SaveQuotasCommand(project, lambda p: sq.save_quotas(p, result, replace=replace), text,
                                after=lambda: _quotas_changed(window), plan_months=result["plan_months"])
    try:
        rows = command.apply_first()
    except TerritoryError as exc:
        msg.warning(parent, "Set quotas", str(exc))
        return None
    window.undo_stack.push(command)
    return rows if isinstance(rows, int) else None


def _quotas_changed(window) -> None:
    """The KPI dock's attainment follows the stored quotas (when it reads no quotas file)."""
    kpis = getattr(window, "kpis", None)
    if kpis is not None and kpis.data is not None and kpis.quotas_file is None:
        kpis.refresh()


class SetQuotasDialog(QDialog):
    """Inputs left, preview right; ``result`` is the previewed ``plan_quotas`` dict (None while computing or
    when the inputs are refused, ``error`` then says why)."""

    def __init__(self, window, parent: QWidget | None = None) -> None:
        super().__init__(parent if parent is not None else window if isinstance(window, QWidget) else None)
        self.window_, self.project = window, window.project
        self.result: dict | None = None
        self.error: str | None = None
        self.worker: Worker | None = None
        self._generation = 0
        self.setWindowTitle("Set Quotas")
        self.resize(1180, 580)
        self._timer = QTimer(self, singleShot=True, interval=120)
        self._timer.timeout.connect(self.recompute)
        left = QWidget()
        left.setFixedWidth(400)
        inputs = QVBoxLayout(left)
        inputs.setContentsMargins(0, 0, 0, 0)
        inputs.addWidget(self._plan_box())
        inputs.addWidget(self._blend_box())
        inputs.addWidget(self._reps_box(), 1)
        self.preview = QTableWidget(0, len(PREVIEW_COLUMNS))
        self.preview.setHorizontalHeaderLabels(PREVIEW_COLUMNS)
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.preview.verticalHeader().hide()
        self.preview.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.preview.setWordWrap(False)
        self.preview.setAlternatingRowColors(True)
        self.preview.horizontalHeaderItem(6).setToolTip("A new rep's quota in the plan's first month, after the ramp")
        self.preview.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.summary = msg.plain_label("")
        self.summary.setWordWrap(True)
        right = QVBoxLayout()
        right.addWidget(self.preview, 1)
        right.addWidget(self.summary)
        body = QHBoxLayout()
        body.addWidget(left, 0)
        body.addLayout(right, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setToolTip("Store these quotas in the project (one undo step; File > Save writes them)")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(self.buttons)
        self._method_changed()
        self.recompute()

    # ---- inputs
    def _plan_box(self) -> QGroupBox:
        box = QGroupBox("Plan")
        form = QFormLayout(box)
        self.total = QDoubleSpinBox()
        self.total.setRange(1.0, 1e13)
        self.total.setDecimals(0)
        self.total.setSingleStep(100_000)
        self.total.setGroupSeparatorShown(True)
        total, why = default_total(self.project)
        self.total.setValue(total)
        self.total.setToolTip("The total quota to split (with bottom-up: the forecast is scaled to it)")
        self.total_hint = msg.plain_label(f"Start: {why}")
        self.total_hint.setWordWrap(True)
        self.total_hint.setEnabled(False)  # greyed: a note, not an input
        self.method = QComboBox()
        for i, name in enumerate(METHODS):
            self.method.addItem(name)
            self.method.setItemData(i, METHOD_TIPS[name], Qt.ItemDataRole.ToolTipRole)
        self.method.setCurrentText("potential")
        self.start = QDateEdit(QDate(QDate.currentDate().year() + 1, 1, 1))
        self.start.setDisplayFormat("yyyy-MM")
        self.start.setToolTip("The first of the plan's 12 months")
        self.ramp = QComboBox()
        self.ramp.addItems([str(r) for r in RAMPS])
        self.ramp.setCurrentText("3")
        self.ramp.setToolTip("Months a new rep takes to full productivity")
        form.addRow("Total", self.total)
        form.addRow("", self.total_hint)
        form.addRow("Method", self.method)
        form.addRow("First month", self.start)
        form.addRow("Ramp (months)", self.ramp)
        self.total.valueChanged.connect(self.schedule)
        self.method.currentIndexChanged.connect(lambda _i: (self._method_changed(), self.schedule()))
        self.start.dateChanged.connect(self.schedule)
        self.ramp.currentIndexChanged.connect(self.schedule)
        return box

    def _blend_box(self) -> QGroupBox:
        self.blend = QGroupBox("Blend weights")
        form = QFormLayout(self.blend)
        self.weights: dict[str, QDoubleSpinBox] = {}
        for name in BLEND_BASES:
            spin = QDoubleSpinBox()
            spin.setRange(0.0, 100.0)
            spin.setDecimals(2)
            spin.setSingleStep(0.25)
            spin.setValue(1.0 if name in ("potential", "prior_year") else 0.0)
            spin.valueChanged.connect(self.schedule)
            self.weights[name] = spin
            form.addRow(name, spin)
        return self.blend

    def _reps_box(self) -> QGroupBox:
        box = QGroupBox("New reps")
        box.setToolTip("Tick a rep who is new in role and give the first month in role: the quota ramps up")
        self.reps = QTableWidget(0, 3)
        self.reps.setHorizontalHeaderLabels(("Rep", "Name", "In role from"))
        self.reps.verticalHeader().hide()
        self.reps.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.reps.setWordWrap(False)
        self.reps.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.reps.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        names = dict(zip(self.project.reps["rep_id"].astype(str), self.project.reps["name"].astype(str),
                         strict=True)) if len(self.project.reps) else {}
        reps = sorted({str(r) for r in self.project.scenario_territories()["rep_id"].dropna()})
        self.rep_months: dict[str, QDateEdit] = {}
        for i, rep in enumerate(reps):
            self.reps.insertRow(i)
            item = QTableWidgetItem(rep)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.reps.setItem(i, 0, item)
            self.reps.setItem(i, 1, QTableWidgetItem(names.get(rep, "")))
            month = QDateEdit(self.start.date())
            month.setDisplayFormat("yyyy-MM")
            month.setFrame(False)
            month.dateChanged.connect(self.schedule)
            self.reps.setCellWidget(i, 2, month)
            self.rep_months[rep] = month
        self.reps.itemChanged.connect(lambda _item: self.schedule())
        layout = QVBoxLayout(box)
        layout.addWidget(self.reps)
        return box

    def _method_changed(self) -> None:
        self.blend.setVisible(self.method.currentText() == "blend")

    def set_new_rep(self, rep: str, month: str | None) -> None:
        """Tick ``rep`` as new from ``month`` (YYYY-MM), or untick it (None)."""
        row = list(self.rep_months).index(rep)
        if month:
            self.rep_months[rep].setDate(QDate.fromString(month, "yyyy-MM"))
        self.reps.item(row, 0).setCheckState(Qt.CheckState.Checked if month else Qt.CheckState.Unchecked)

    def inputs(self) -> dict:
        """The keyword arguments of ``plan_quotas`` the inputs say."""
        method = self.method.currentText()
        blend = {k: s.value() for k, s in self.weights.items() if s.value() > 0} if method == "blend" else None
        new_reps = {rep: edit.date().toString("yyyy-MM") for i, (rep, edit) in enumerate(self.rep_months.items())
                    if self.reps.item(i, 0).checkState() == Qt.CheckState.Checked}
        return {"total": float(self.total.value()), "method": method, "blend": blend, "new_reps": new_reps,
                "ramp": int(self.ramp.currentText()), "start": self.start.date().toString("yyyy-MM")}

    # ---- preview
    def schedule(self, *_args) -> None:
        """Recompute shortly after the last change (typing a total does not start a job per key)."""
        self.result = None
        self.save_button.setEnabled(False)
        self._timer.start()

    def recompute(self) -> None:
        self._generation += 1
        generation, project, kwargs = self._generation, self.project, self.inputs()
        self.result, self.error = None, None
        self.save_button.setEnabled(False)
        self.summary.setText("computing...")
        self.worker = run_job(lambda progress, stop: sq.plan_quotas(project, **kwargs),
                              lambda result: self._show(generation, result),
                              on_failed=lambda exc: self._failed(generation, exc),
                              state=getattr(self.window_, "state", None), label="Previewing quotas")

    def _current(self, generation: int) -> bool:
        """Whether a preview's answer is still wanted: the inputs have not changed since it started, and the
        dialog has not been deleted meanwhile (closed, or its parent gone)."""
        return isValid(self) and isValid(self.preview) and generation == self._generation

    def _failed(self, generation: int, exc: BaseException) -> None:
        if not self._current(generation):
            return
        if isinstance(exc, InvalidInputError):  # its problems, without the CLI's option name
            text = "\n".join(str(p) for p in exc.problems)
        else:
            text = str(exc) if isinstance(exc, TerritoryError) else f"failed: {exc}"
        self.error = text
        self.preview.setRowCount(0)
        self.summary.setText(text)

    def _show(self, generation: int, result: dict) -> None:
        if not self._current(generation):
            return
        self.result = result
        self._fill(result)
        ramped = f"; after ramps {money(result['ramped_total'])}" if result["ramped_total"] != result["total"] else ""
        basis = result["bases"].get(result["method"], "")
        self.summary.setText(f"{len(result['territories'])} territories, {result['plan_months']}: total "
                             f"{money(result['total'])}{ramped}" + (f" (basis: {basis})" if basis else ""))
        self.save_button.setEnabled(True)

    def _fill(self, result: dict) -> None:
        method, first = result["method"], result["plan_months"].split("..")[0]
        rows = result["territories"]
        self.preview.setRowCount(len(rows))
        self.preview.horizontalHeaderItem(3).setText(f"Basis ({method})")
        self.preview.setColumnHidden(3, f"basis_{method}" not in (rows[0] if rows else {}))  # even, blend: none
        for i, r in enumerate(rows):
            basis = r.get(f"basis_{method}")
            first_month = r["monthly"][first] if "monthly" in r else None
            cells = (str(r["territory_id"]), _text(r["name"]), _text(r["rep_id"]),
                     "-" if basis is None else money(basis), f"{100 * r['share']:.2f}", money(r["quota"]),
                     "-" if first_month is None else money(first_month))
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j >= 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if j == 5:
                    item.setToolTip(f"{r['quota']:,.2f} (stored to the cent)")
                self.preview.setItem(i, j, item)
        self.preview.resizeColumnsToContents()
        self.preview.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)

    def done(self, code: int) -> None:
        self._generation += 1  # a preview still running is dropped when it ends
        self._timer.stop()
        super().done(code)

    # ---- saving
    def save(self) -> None:
        if self.result is None:
            return
        if save_quota_set(self.window_, self.project, self.result, parent=self) is not None:
            self.accept()


def _text(value) -> str:
    """A cell's text: "" for a missing value (None, NaN)."""
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def default_total(project: Project) -> tuple[float, str]:
    """The total the dialog starts from and why: the active scenario's newest stored set (the planner's own
    figure), else ``suggested_total`` (last year's sales, or the trailing 12 months, or the potential)."""
    q = project.quotas
    if len(q):
        q = q[q["scenario_id"].astype(str) == project.active_scenario]
    if not len(q):
        return sq.suggested_total(project)
    newest = q[q["created_at"].astype(str) == q["created_at"].astype(str).max()]
    total = max(1.0, round(float(pd.to_numeric(newest["quota"]).sum())))
    return total, f"the stored quotas {newest['period'].iat[0]} (by {newest['method'].iat[0]})"


def money(value: float) -> str:
    """A quota as shown: whole currency units with thousands separators (the stored value keeps its cents)."""
    return f"{value:,.0f}"


def open_quota_dialog(window) -> SetQuotasDialog | None:
    """Show the dialog for the window's project (window-modal)."""
    if window.project is None:
        return None
    dialog = SetQuotasDialog(window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.show()
    return dialog


def install_quota_ui(window) -> QAction:
    """Tools > Set Quotas..."""
    action = QAction("Set &Quotas...", window)
    tip = "Quotas per territory and rep from a total (by potential, sales, forecast or a blend), with ramps"
    action.setToolTip(tip)
    action.setStatusTip(tip)
    action.triggered.connect(lambda: open_quota_dialog(window))
    window.add_action("tools", "set_quotas", action)
    return action
