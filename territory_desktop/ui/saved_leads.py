"""The Leads dock's "Saved leads" tab: the leads kept in the project (after Apply or ``assign-leads``), a
filter, and the manual reassignment of the selected ones to another rep as one undo step.

The reassignment is ``services.leads.reassign_leads`` (the same as ``territory-desktop reassign-leads``);
this module only shows the leads and pushes :class:`ReassignLeadsCommand`.
"""

from __future__ import annotations

import pandas as pd
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..models import TerritoryError
from ..models.project import LEAD_COLUMNS
from ..services.leads import REASSIGN_ACTION, reassign_leads
from . import plaintext as msg
from .commands import TablesSnapshotCommand
from .plaintext import plain_label

#: milliseconds after the last key before the filter runs
FILTER_DELAY_MS = 250
#: saved leads shown at most (the filter finds the others)
SHOWN_SAVED = 2000
#: columns of the saved leads searched by the filter
FILTERED = ("lead_id", "company", "territory_id", "rep_id")


def fill_reps(combo: QComboBox, project) -> None:
    """The project's reps in ``combo`` as "Name (id)", the rep id as item data."""
    combo.clear()
    if project is not None:
        for rid, name in zip(project.reps["rep_id"].astype(str), project.reps["name"].astype(str), strict=True):
            combo.addItem(f"{name} ({rid})", rid)


class ReassignLeadsCommand(TablesSnapshotCommand):
    """Reassign saved leads (``edit`` calls ``reassign_leads``); undo and redo put the ``leads`` table back,
    and log the undo (and a redo again) in the audit trail, as Apply's undo does."""

    tables = ("leads",)

    def undo(self) -> None:
        super().undo()
        self.project.log(f"undo {REASSIGN_ACTION}", getattr(self.result, "audit", ""))

    def redo(self) -> None:
        again = self.after_state is not None and not self._skip_redo  # not the push's first redo
        super().redo()
        if again:
            self.project.log(REASSIGN_ACTION, getattr(self.result, "audit", ""))


class SavedLeadsView(QWidget):
    """The saved leads (first ``SHOWN_SAVED`` that match the filter) and "Reassign selected to rep"."""

    def __init__(self, window) -> None:
        super().__init__()
        self.window = window
        self._shown_frame = None  # the project.leads frame shown (every change replaces the frame)
        self.filter = QLineEdit(placeholderText="Filter: lead, company, territory or rep id")
        self.filter.textChanged.connect(self._filter_changed)
        # typing restarts the timer: one search (0.15 s at 100,000 leads) when the planner pauses, not per key
        self._filter_timer = QTimer(self, singleShot=True, interval=FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(self._apply_filter)
        self.count = plain_label("")
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Lead", "Territory", "Rep", "Status", "Explanation"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.rep = QComboBox()
        self.rep.setToolTip("The rep who takes the selected saved leads")
        self.reason = QLineEdit(placeholderText="Reason (kept in the explanation and the audit log)")
        self.reassign_button = QPushButton("Reassign selected to rep")
        self.reassign_button.clicked.connect(self.reassign_selected)
        self._layout()
        # bound methods, not lambdas: Qt drops the connections when this widget is deleted
        window.state.project_changed.connect(self._project_changed)
        window.undo_stack.indexChanged.connect(self._undo_index_changed)
        self.refresh(force=True, reps=True)

    def _filter_changed(self, _text: str) -> None:
        self._filter_timer.start()

    def _apply_filter(self) -> None:
        self.refresh(force=True)

    def _project_changed(self, _project) -> None:
        self.refresh(force=True, reps=True)

    def _undo_index_changed(self, _index: int) -> None:
        self.refresh()

    def _layout(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter)
        layout.addWidget(self.count)
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addWidget(self.rep, 1)
        row.addWidget(self.reassign_button)
        layout.addWidget(self.reason)
        layout.addLayout(row)

    def refresh(self, force: bool = False, reps: bool = False) -> None:
        """Show the saved leads again when the project's leads frame changed (Apply, a reassignment, their
        undo or redo all replace it), or ``force``; ``reps`` fills the rep list again."""
        project = self.window.state.project
        if reps or not self.rep.count():
            fill_reps(self.rep, project)
        leads = project.leads if project is not None else None
        if not force and leads is self._shown_frame:
            return
        self._shown_frame = leads
        shown = self._matching(leads)
        self.table.setRowCount(len(shown))
        for r, lead in enumerate(shown.itertuples()):
            cells = (lead.lead_id, lead.territory_id, lead.rep_id, lead.status, lead.explanation)
            for c, value in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem("" if _blank(value) else str(value)))
            self.table.item(r, 4).setToolTip(msg.tooltip(self.table.item(r, 4).text()))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        total = 0 if leads is None else len(leads)
        self.reassign_button.setEnabled(total > 0 and self.rep.count() > 0)
        self.count.setText(f"{total:,} saved leads" if len(shown) == total else
                           f"Showing {len(shown):,} of {total:,} saved leads (filter to find others)")

    def _matching(self, leads: pd.DataFrame | None) -> pd.DataFrame:
        """The saved leads whose filtered columns contain the filter's text (any case), the first shown."""
        if leads is None or not len(leads):
            return pd.DataFrame(columns=LEAD_COLUMNS)
        text = self.filter.text().strip().lower()
        if text:
            hit = False
            for column in FILTERED:
                hit = hit | leads[column].astype(str).str.lower().str.contains(text, regex=False).to_numpy()
            leads = leads[hit]
        return leads.head(SHOWN_SAVED)

    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.table.item(r, 0).text() for r in rows]

    def reassign_selected(self) -> None:
        """Reassign the selected saved leads to the chosen rep as one undo step; the status bar says what
        happened (and when the rep is now over the cap)."""
        project, rep_id, ids = self.window.state.project, self.rep.currentData(), self.selected_ids()
        if project is None or rep_id is None or not ids:
            self.window.statusBar().showMessage("Select saved leads and a rep to reassign them to", 4000)
            return
        reason = self.reason.text()
        command = ReassignLeadsCommand(project, lambda p: reassign_leads(p, ids, rep_id, reason),
                                       f"Reassign {len(ids)} lead(s) to {self.rep.currentText()}",
                                       after=lambda: self.refresh(force=True))
        try:
            done = command.apply_first()
        except TerritoryError as exc:
            msg.warning(self, "Reassign leads", str(exc))
            return
        if done.changed:
            self.window.undo_stack.push(command)
        self.window.statusBar().showMessage(status_text(done), 8000)


def _blank(value) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def status_text(done) -> str:
    """What a reassignment did, for the status bar."""
    n = len(done.changed)
    text = (f"{n} lead{'s' if n != 1 else ''} reassigned to {done.rep_name} ({done.rep_id})" if n else
            f"Nothing reassigned: the selected leads are with {done.rep_name} already")
    if done.moved:
        text += f", {len(done.moved)} moved to the rep's territory"
    if n and done.unchanged:
        text += f"; {len(done.unchanged)} already with {done.rep_name}"
    if n and done.over_cap:
        text += f"; {done.rep_name} now holds {done.open_leads} open leads, over the cap of {done.cap}"
    return text + (" (Ctrl+Z undoes it)" if n else "")
