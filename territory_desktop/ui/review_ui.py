"""Review flow in the window: the Scenario menu's Propose / Approve / Publish / Send Back / Restore
actions, the refusal of edits to a frozen scenario, and the Audit Log dialog (Tools menu).

Edits to a frozen scenario are refused in one place (``PlanUndoStack`` for brush, assign and account
moves; ``services.review.check_editable`` behind every territory edit, shown by ``run_edit``); here the
refusal becomes a status-bar message (during a brush stroke) or a dialog.
"""

from __future__ import annotations

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ..models import TerritoryError
from ..services import review
from ..services.people import current_user
from . import plaintext as msg

#: action key -> (menu text, review action, tip)
STEPS = {
    "review_propose": ("&Propose for Review", "propose", "Freeze the scenario and ask for approval"),
    "review_approve": ("&Approve", "approve", "Approve the proposed scenario"),
    "review_publish": ("P&ublish...", "publish", "Make the approved scenario the plan in force from a date "
                       "(a snapshot is kept)"),
    "review_send_back": ("&Send Back to Draft", "send-back", "Unfreeze the scenario for more edits"),
}


def install_review_ui(window) -> None:
    """The Scenario menu's review actions (the menu is made if no other feature made it), Tools > Audit Log."""
    menu = window.menus.get("scenario")
    if menu is None:
        menu = window.menuBar().addMenu("Sce&nario")
        window.menuBar().insertMenu(window.menus["tools"].menuAction(), menu)
        window.menus["scenario"] = menu
    first = True
    for key, (text, step, tip) in STEPS.items():
        action = QAction(text, window)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _c=False, s=step: take_step(window, s))
        window.add_action("scenario", key, action, separator=first)
        first = False
    restore = QAction("&Restore Published Snapshot...", window)
    restore.setStatusTip("Copy the scenario's published snapshot into a draft scenario")
    restore.triggered.connect(lambda _c=False: restore_snapshot(window))
    window.add_action("scenario", "review_restore", restore, separator=False)
    audit = QAction("Audit &Log...", window)
    audit.setStatusTip("Who changed which assignment and when; filter and export")
    audit.triggered.connect(lambda _c=False: AuditDialog(window).exec())
    window.add_action("tools", "audit_log", audit)
    name = QAction("Your &Name...", window)
    name.setStatusTip("The name the audit log, reviews and comments record for you")
    name.triggered.connect(lambda _c=False: set_user_name(window))
    window.add_action("tools", "user_name", name, separator=False)
    window.undo_stack.refused.connect(lambda reason, stroke: _refused(window, reason, stroke))
    window.state.project_changed.connect(lambda _p: _apply_user_name(window))
    window.state.project_changed.connect(lambda _p: update_actions(window))
    window.state.scenario_changed.connect(lambda _s: update_actions(window))
    update_actions(window)


def _apply_user_name(window) -> None:
    name = str(window.settings.value("user/name", "") or "").strip()
    if window.project is not None and name:
        window.project.user = name


def set_user_name(window, name: str | None = None) -> str | None:
    """Ask for (or set) the user's name, kept in the settings and used for this and later projects."""
    if name is None:
        current = current_user(window.project) if window.project is not None else ""
        name, ok = msg.get_text(window, "Your name", "Name recorded in the audit log, reviews and comments:",
                                current)
        if not ok:
            return None
    window.settings.setValue("user/name", name.strip())
    _apply_user_name(window)
    return name.strip()


def _refused(window, reason: str, during_stroke: bool) -> None:
    window.statusBar().showMessage(reason, 8000)
    if not during_stroke:
        msg.warning(window, "Scenario frozen", reason)


def update_actions(window) -> None:
    """Enable the steps the active scenario's state allows; say in the status bar when it is frozen."""
    project = window.project
    state = review.status(project, project.active_scenario) if project is not None else None
    for key, (_text, step, _tip) in STEPS.items():
        window.actions_[key].setEnabled(state is not None and state in review.TRANSITIONS[step][0])
    has_snapshot = project is not None and bool((project.snapshots["scenario_id"] == project.active_scenario).any())
    window.actions_["review_restore"].setEnabled(has_snapshot)
    if state and state != "draft":
        window.statusBar().showMessage(f"Scenario '{project.active_scenario}' is {state}: edits are refused "
                                       "until it is sent back to draft", 8000)


def take_step(window, step: str, from_date: str | None = None, note: str | None = None) -> dict | None:
    """Run one review step on the active scenario (asking for the date of a publication); returns the
    review row, or None when refused or cancelled."""
    project = window.project
    if project is None:
        return None
    if step == "publish" and from_date is None:
        from_date = _ask_date(window)
        if from_date is None:
            return None
    try:
        row = review.transition(project, project.active_scenario, step, from_date, note or "")
    except TerritoryError as exc:
        msg.warning(window, "Review", str(exc))
        return None
    window.undo_stack.clear()  # the edits before the step belong to the scenario's previous state
    window.mark_modified()
    window.state.scenarios_edited()  # the switcher shows the new state
    window.statusBar().showMessage(f"Scenario '{project.active_scenario}' is {row['status']}", 6000)
    return row


def _ask_date(window) -> str | None:
    dialog = QDialog(window)
    dialog.setWindowTitle("Publish scenario")
    form = QFormLayout(dialog)
    date = QDateEdit(QDate.currentDate())
    date.setCalendarPopup(True)
    date.setDisplayFormat("yyyy-MM-dd")
    form.addRow("In force from", date)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form.addRow(buttons)
    return date.date().toString("yyyy-MM-dd") if dialog.exec() == QDialog.DialogCode.Accepted else None


def restore_snapshot(window, target: str | None = None) -> str | None:
    """Restore the active scenario's latest snapshot into a draft scenario (asked; overwriting one asks
    first) and show it; returns its id."""
    project = window.project
    if project is None:
        return None
    sid = project.active_scenario
    if target is None:
        target, ok = msg.get_text(window, "Restore snapshot", "Restore into the draft scenario (id):",
                                  f"{sid}-restored")
        if not ok or not target.strip():
            return None
    target = target.strip()
    overwrite = target in project.plans and msg.question(
        window, "Restore snapshot", f"Replace scenario '{target}' with the snapshot?") == msg.Button.Yes
    try:
        done = review.restore(project, sid, target, overwrite)
    except TerritoryError as exc:
        msg.warning(window, "Restore snapshot", str(exc))
        return None
    window.undo_stack.clear()
    window.mark_modified()
    window.state.scenarios_edited()
    window.state.set_scenario(done)
    return done


class AuditDialog(QDialog):
    """The audit log of the saved project, filtered by user, territory and date; exportable."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle("Audit log")
        self.resize(980, 560)
        self.user, self.territory = QLineEdit(), QLineEdit()
        self.since, self.until = QLineEdit(), QLineEdit()
        for edit, hint in ((self.user, "user"), (self.territory, "territory id"), (self.since, "from YYYY-MM-DD"),
                           (self.until, "to YYYY-MM-DD")):
            edit.setPlaceholderText(hint)
            edit.setClearButtonEnabled(True)
            edit.returnPressed.connect(self.reload)
        apply, export = QPushButton("Filter"), QPushButton("Export...")
        apply.clicked.connect(self.reload)
        export.clicked.connect(lambda: self.export())
        bar = QHBoxLayout()
        for w in (self.user, self.territory, self.since, self.until, apply, export):
            bar.addWidget(w)
        self.table = QTableWidget(0, len(SHOWN))
        self.table.setHorizontalHeaderLabels([title for _c, title in SHOWN])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.status = msg.plain_label()
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table)
        layout.addWidget(self.status)
        self.entries = None
        self.reload()

    def reload(self) -> None:
        from ..services.audit import audit_entries

        project = self.window_.project
        if project is None or not project.path:
            self.status.setText("Save the project first: the audit log is written by saves")
            return
        try:
            self.entries = audit_entries(project.path, since=self.since.text(), user=self.user.text().strip(),
                                         territory=self.territory.text().strip(), until=self.until.text())
        except TerritoryError as exc:
            self.status.setText(str(exc))
            return
        self._fill()

    def _fill(self) -> None:
        rows = self.entries.iloc[::-1].head(5000)  # newest first
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows.itertuples(index=False)):
            values = r._asdict()
            for j, (column, _title) in enumerate(SHOWN):
                item = QTableWidgetItem(_cell(column, values[column]))
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        shown = f" (newest {len(rows):,} shown)" if len(rows) < len(self.entries) else ""
        self.status.setText(f"{len(self.entries):,} entries{shown}; unsaved changes appear after the next save")

    def export(self, path: str | None = None) -> str | None:
        from ..services.audit import export_audit

        if self.entries is None:
            return None
        if path is None:
            path, _f = QFileDialog.getSaveFileName(self, "Export audit log", "audit.xlsx",
                                                   "Excel (*.xlsx);;CSV (*.csv)")
            if not path:
                return None
        try:
            export_audit(self.entries, path)
        except (TerritoryError, OSError) as exc:
            msg.warning(self, "Export audit log", str(exc))
            return None
        self.status.setText(f"{len(self.entries):,} entries written to {path}")
        return path


SHOWN = [("ts", "When (UTC)"), ("user", "User"), ("scenario_id", "Scenario"), ("entity_type", "What"),
         ("entity_id", "Id"), ("old_territory_id", "From"), ("territory_id", "To"), ("details", "Details")]


def _cell(column: str, value) -> str:
    if value is None or value != value:  # None or NaN
        return ""
    return str(value)[:19].replace("T", " ") if column == "ts" else str(value)
