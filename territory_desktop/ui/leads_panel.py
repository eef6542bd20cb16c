"""The Leads dock: the rule list (reorder by drag or the arrows, enable by the check boxes), a preview of
the assignments with their explanations, Apply as one undo step, and the leads on the map. The "Saved
leads" tab (``ui.saved_leads``) lists the leads kept in the project and reassigns selected ones by hand.

The rules are stored in the project (``services.lead_rules.store_rules``, table ``lead_rules``): the dock
shows the stored rules when a project opens, and each change of the list, the form or a rules file is
stored as one undo step (:class:`StoreRulesCommand`; a spin box's steps within 0.4 s make one).

The rules, the matching and the assignment are ``services.leads`` / ``engine.leads``, run in a worker
through ``workers.run_job``; this module only shows them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QAction, QColor, QKeySequence, QPainter, QPen, QUndoCommand
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..engine.leads import ROUND_ROBIN, RULES
from ..models import TerritoryError
from ..services.lead_rules import parse_rules, store_rules, stored_rules
from ..services.leads import apply_leads, override_rep, propose_leads, read_leads
from . import plaintext as msg
from .commands import TablesSnapshotCommand
from .plaintext import plain_label
from .renderer import Layer, RenderView
from .routes import to_drawing
from .saved_leads import SavedLeadsView, fill_reps
from .workers import run_job

LAYER_KEY = "leads"
SHOWN_ROWS = 2000
RULE_TITLES = {"account_match": "Account match (domain, name, fuzzy name)", "account_rule": "Account rule",
               "location": "Location (nearest when outside)", "value_tier": "Value tiers",
               "expertise": "Expertise (skills)", "availability": "Availability (absences)",
               "capacity": "Capacity caps"}
#: how long after a spin box's last step its value is stored (the steps of one spin make one undo step)
SPIN_STORE_MS = 400


class LeadsLayer:
    """Leads as dots with a white ring (readable on every territory colour): assigned dark, unassigned red
    and larger, drawn last."""

    ASSIGNED, UNASSIGNED = QColor("#222222"), QColor("#d62728")

    def __init__(self, xy: np.ndarray, assigned: np.ndarray) -> None:
        self.xy, self.assigned = xy, assigned

    def paint(self, painter: QPainter, view: RenderView) -> None:
        painter.setTransform(view.base)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        t = view.transform
        for mask, colour, radius in ((self.assigned, self.ASSIGNED, 2.5), (~self.assigned, self.UNASSIGNED, 4.0)):
            painter.setPen(QPen(QColor(255, 255, 255), 1.0))
            painter.setBrush(colour)
            for x, y in self.xy[mask]:
                painter.drawEllipse(t.map(QPointF(x, y)), radius, radius)


class ApplyLeadsCommand(QUndoCommand):
    """Adding a proposal's leads (and the rotation state) to the project, undoable as one step."""

    def __init__(self, project, proposal, source: str) -> None:
        super().__init__(f"Assign leads: {proposal.assigned} of {len(proposal.table)}")
        self.project, self.proposal, self.source = project, proposal, source
        self.before = (project.leads.copy(), project.lead_rotation.copy())

    def redo(self) -> None:
        apply_leads(self.project, self.proposal, self.source)

    def undo(self) -> None:
        self.project.leads, self.project.lead_rotation = (f.copy() for f in self.before)
        self.project.mark_dirty("leads")
        self.project.log("undo assign leads", self.source)


class StoreRulesCommand(TablesSnapshotCommand):
    """Store the dock's rules (``edit`` calls ``store_rules``); undo and redo put the ``lead_rules`` table
    back, and ``after()`` shows the rules then stored."""

    tables = ("lead_rules",)


class LeadsPanel(QWidget):
    def __init__(self, window) -> None:
        super().__init__()
        self.window = window
        self.leads = None
        self.source = ""
        self.extra: dict = {}
        self.proposal = None
        self._showing = False  # filling the widgets from stored rules: their change signals store nothing
        self._shown: dict | None = None  # the rules as last shown or stored
        self._store_timer = QTimer(self, singleShot=True)
        self._store_timer.timeout.connect(lambda: self.rules_edited())
        self.rules = QListWidget()
        self.rules.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.rules.setToolTip("Rules are tried top to bottom; drag to reorder, untick to switch one off")
        for rule in RULES:
            item = QListWidgetItem(RULE_TITLES[rule])
            item.setData(Qt.ItemDataRole.UserRole, rule)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.rules.addItem(item)
        self.rules.setFixedHeight(self.rules.sizeHintForRow(0) * len(RULES) + 2 * self.rules.frameWidth() + 4)
        self.round_robin = QComboBox()
        self.round_robin.addItems(list(ROUND_ROBIN))
        self.round_robin.setCurrentText("count")
        self.threshold = QSpinBox(minimum=50, maximum=100, value=90)
        self.threshold.setToolTip("Fuzzy company-name score (0-100) a match needs")
        self.max_open = QSpinBox(minimum=0, maximum=1_000_000, value=0, specialValueText="no cap")
        self.status = plain_label("Open a leads file (CSV or XLSX) to preview its assignment.")
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Lead", "Territory", "Rep", "Explanation / reason"])
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.override_rep = QComboBox()
        self.override_rep.setToolTip("Give the selected leads of the preview to this rep (kept by Apply)")
        self.override_button = QPushButton("Give selected to rep")
        self.override_button.clicked.connect(self.override_selected)
        self.override_button.setEnabled(False)
        self.saved = SavedLeadsView(window)
        self._layout()
        self._watch_rules()
        window.state.project_changed.connect(lambda _p: self.show_stored_rules())
        self.show_stored_rules()

    def _watch_rules(self) -> None:
        """Every change of the rules (ticks, order, form) stores them, shortly after (see ``rules_edited``)."""
        model = self.rules.model()
        for signal in (model.rowsMoved, model.rowsInserted, model.rowsRemoved, model.dataChanged):
            signal.connect(lambda *_a: self._schedule_store(0))
        self.round_robin.currentIndexChanged.connect(lambda _i: self._schedule_store(0))
        for spin in (self.threshold, self.max_open):
            spin.valueChanged.connect(lambda _v: self._schedule_store(SPIN_STORE_MS))

    def _schedule_store(self, delay_ms: int) -> None:
        if not self._showing:
            self._store_timer.start(delay_ms)

    def _layout(self) -> None:
        buttons = QHBoxLayout()
        for text, slot in (("Open leads...", self.open_file), ("Rules file...", self.open_rules),
                           ("Preview", self.preview), ("Apply", self.apply)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            buttons.addWidget(button)
            setattr(self, f"{text.split()[0].lower()}_button", button)
        self.apply_button.setEnabled(False)
        moves = QVBoxLayout()
        for text, step in (("Up", -1), ("Down", 1)):
            button = QPushButton(text)
            button.clicked.connect(lambda _c=False, s=step: self.move_rule(s))
            moves.addWidget(button)
        moves.addStretch(1)
        rules_row = QHBoxLayout()
        rules_row.addWidget(self.rules, 1)
        rules_row.addLayout(moves)
        form = QFormLayout()
        form.addRow("Round robin", self.round_robin)
        form.addRow("Fuzzy threshold", self.threshold)
        form.addRow("Open leads per rep", self.max_open)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addLayout(rules_row)
        layout.addLayout(form)
        layout.addWidget(self.status)
        preview = QWidget()
        inner = QVBoxLayout(preview)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addWidget(self.table, 1)
        override = QHBoxLayout()
        override.addWidget(self.override_rep, 1)
        override.addWidget(self.override_button)
        inner.addLayout(override)
        self.tabs = QTabWidget()
        self.tabs.addTab(preview, "Preview")
        self.tabs.addTab(self.saved, "Saved leads")
        layout.addWidget(self.tabs, 1)

    def move_rule(self, step: int) -> None:
        row = self.rules.currentRow()
        if 0 <= row + step < self.rules.count() and row >= 0:
            item = self.rules.takeItem(row)
            self.rules.insertItem(row + step, item)
            self.rules.setCurrentRow(row + step)
            self.rules_edited()

    def rule_data(self) -> dict:
        """The rules as the rules file spells them: the list's order and ticks, the form, a loaded file's rest."""
        items = [self.rules.item(i) for i in range(self.rules.count())]
        data = dict(self.extra)
        data.update(order=[i.data(Qt.ItemDataRole.UserRole) for i in items],
                    disabled=[i.data(Qt.ItemDataRole.UserRole) for i in items
                              if i.checkState() != Qt.CheckState.Checked],
                    round_robin=self.round_robin.currentText(), fuzzy_threshold=self.threshold.value())
        data.pop("max_open", None)
        if self.max_open.value():
            data["max_open"] = self.max_open.value()
        return data

    def open_file(self, path: str | None = None) -> None:
        path = path or QFileDialog.getOpenFileName(self, "Open leads", "", "Leads (*.csv *.xlsx)")[0]
        if not path:
            return
        try:
            self.leads, notes = read_leads(path)
        except TerritoryError as exc:
            msg.warning(self, "Leads file", str(exc))
            return
        self.source = Path(path).name
        self.status.setText(f"{len(self.leads)} leads in {self.source}. " + " ".join(notes))
        self.preview()

    def open_rules(self, path: str | None = None) -> None:
        import json

        path = path or QFileDialog.getOpenFileName(self, "Rules file", "", "Rules (*.json)")[0]
        if not path:
            return
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            parse_rules(data, Path(path).name, self._rep_ids())
        except (OSError, ValueError, TerritoryError) as exc:
            msg.warning(self, "Rules file", str(exc))
            return
        self._show_rules(data, stored=False)
        self.rules_edited(Path(path).name)

    def rules_edited(self, source: str = "the Leads dock") -> None:
        """Store the rules the dock shows in the project as one undo step, unless they are the ones stored."""
        self._store_timer.stop()
        project = self.window.state.project
        data = self.rule_data()
        if project is None or self._showing or data == self._shown:
            return
        command = StoreRulesCommand(project, lambda p: store_rules(p, data, source, self._rep_ids()),
                                    f"Lead rules ({source})", after=self._rules_stored)
        try:
            command.apply_first()
        except TerritoryError as exc:
            msg.warning(self, "Lead rules", str(exc))
            self.show_stored_rules()
            return
        self._shown = data
        self.window.undo_stack.push(command)

    def _rules_stored(self) -> None:
        """After a store, its undo or redo: show the stored rules if the dock shows others."""
        stored = self._stored()
        if stored is None or stored != self.rule_data():
            self.show_stored_rules()

    def _stored(self) -> dict | None:
        project = self.window.state.project
        try:
            return stored_rules(project) if project is not None else None
        except TerritoryError as exc:
            self.status.setText(f"The stored lead rules cannot be read ({exc}); the defaults are shown.")
            return None

    def show_stored_rules(self) -> None:
        """Show the project's stored rules (the defaults when it has none)."""
        self._show_rules(self._stored() or {})

    def _show_rules(self, data: dict, stored: bool = True) -> None:
        """Fill the widgets from ``data`` without storing; ``stored``: these are the project's rules."""
        self._showing = True
        try:
            self._fill_rules(data)
        finally:
            self._showing = False
        self._store_timer.stop()
        if stored:
            self._shown = self.rule_data()

    def _fill_rules(self, data: dict) -> None:
        self.extra = {k: v for k, v in data.items() if k not in ("order", "disabled")}
        order = list(data.get("order", RULES)) + [r for r in RULES if r not in data.get("order", RULES)]
        taken = [self.rules.takeItem(0) for _ in range(self.rules.count())]
        by_rule = {i.data(Qt.ItemDataRole.UserRole): i for i in taken}
        for rule in order:
            item = by_rule[rule]
            item.setCheckState(Qt.CheckState.Unchecked if rule in data.get("disabled", []) else Qt.CheckState.Checked)
            self.rules.addItem(item)
        self.round_robin.setCurrentText(data.get("round_robin", "count"))
        self.threshold.setValue(int(data.get("fuzzy_threshold", 90)))
        self.max_open.setValue(int(data.get("max_open") or 0))

    def _rep_ids(self) -> set[str]:
        project = self.window.state.project
        return set(project.reps["rep_id"].astype(str)) if project is not None else set()

    def preview(self) -> None:
        project = self.window.state.project
        if project is None or self.leads is None:
            return
        try:
            ruleset = parse_rules(self.rule_data(), "rules", self._rep_ids())
        except TerritoryError as exc:
            msg.warning(self, "Lead rules", str(exc))
            return
        leads = self.leads
        self.status.setText("Assigning leads...")
        self.preview_button.setEnabled(False)
        run_job(lambda progress, stop: propose_leads(project, leads, ruleset), self.show_proposal,
                on_failed=self._failed, state=self.window.state, label="assign leads")

    def _failed(self, exc: BaseException) -> None:
        self.preview_button.setEnabled(True)
        msg.warning(self, "Lead rules", str(exc))

    def override_selected(self) -> None:
        """Manual override: the selected preview rows go to the chosen rep."""
        project, rep_id = self.window.state.project, self.override_rep.currentData()
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        if project is None or self.proposal is None or rep_id is None or not rows:
            return
        ids = [self.table.item(r, 0).text() for r in rows]
        override_rep(project, self.proposal, ids, rep_id)
        self.show_proposal(self.proposal)

    def show_proposal(self, proposal) -> None:
        self.preview_button.setEnabled(True)
        if proposal is not self.proposal or not self.override_rep.count():
            fill_reps(self.override_rep, self.window.state.project)
        self.override_button.setEnabled(self.override_rep.count() > 0)
        self.proposal = proposal
        table = proposal.table
        self.apply_button.setEnabled(len(table) > 0)
        skipped = f"; {len(proposal.skipped)} already in the project" if proposal.skipped else ""
        self.status.setText(f"Preview: {proposal.assigned} of {len(table)} leads assigned, "
                            f"{len(table) - proposal.assigned} nobody can take{skipped}. Apply keeps them.")
        rows = table.head(SHOWN_ROWS)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows.itertuples()):
            text = row.explanation if row.rep_id is not None else f"Unassigned: {row.reason}"
            cells = (row.lead_id, row.territory_id or "", f"{row.rep_name or ''}", text)
            for c, value in enumerate(cells):
                item = QTableWidgetItem(str(value))
                item.setToolTip(msg.tooltip(f"{text}\n\nNot applied: {row.not_applied or '-'}"))
                if row.rep_id is None:
                    item.setForeground(LeadsLayer.UNASSIGNED)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self._draw(proposal)

    def _draw(self, proposal) -> None:
        scene = self.window.canvas.scene
        if scene is None:
            return
        leads = proposal.leads
        xy = to_drawing(leads["lon"].to_numpy(float), leads["lat"].to_numpy(float), scene.crs)
        show_layer(self.window, LeadsLayer(xy, proposal.table["rep_id"].notna().to_numpy()))

    def apply(self) -> None:
        project = self.window.state.project
        if project is None or self.proposal is None:
            return
        self.window.undo_stack.push(ApplyLeadsCommand(project, self.proposal, self.source))
        self.apply_button.setEnabled(False)
        self.status.setText(f"{self.proposal.assigned} leads assigned and kept in the project (Save to write "
                            "them; Undo takes them back).")


def show_layer(window, layer: LeadsLayer) -> None:
    """Draw ``layer`` as the renderer's "Leads" layer (added to the layer list once, on top) and show it."""
    renderer = window.canvas.renderer
    if renderer is None:
        return
    if not any(lay.key == LAYER_KEY for lay in renderer.layers):
        renderer.layers.append(Layer(LAYER_KEY, "Leads"))
    renderer.extras[LAYER_KEY] = layer
    renderer.layer(LAYER_KEY).visible = True
    window.layer_panel.reload()
    window.canvas.update()


def install_leads_ui(window) -> LeadsPanel:
    """The Leads dock (right, hidden until asked for) and Tools > Leads... (Ctrl+Shift+L)."""
    panel = LeadsPanel(window)
    dock = window.add_dock("leads", "Leads", panel, Qt.DockWidgetArea.RightDockWidgetArea)
    dock.hide()
    action = QAction("&Leads...", window)
    action.setShortcut(QKeySequence("Ctrl+Shift+L"))
    tip = "Assign leads to territories and reps by ordered rules, with a preview"
    action.setToolTip(f"{tip} (Ctrl+Shift+L)")
    action.setStatusTip(tip)
    action.triggered.connect(lambda: (dock.show(), dock.raise_()))
    window.add_action("tools", "leads", action)
    return panel
