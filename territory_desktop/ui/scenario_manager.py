"""The scenario manager (Scenario menu, next to the toolbar's switcher): list, create, rename, duplicate,
delete and show scenarios, each change one undo step; Compare opens the Compare Scenarios dialog and
Realign the minimal-disruption realignment. The work is done by ``services.scenarios`` and
``services.realign``, the same functions the CLI calls."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ..models import Project, TerritoryError
from ..services import scenarios as sc
from . import plaintext as msg
from .commands import SnapshotCommand
from .scenarios import SwitchScenarioCommand
from .state import AppState


class ScenarioEditCommand(SnapshotCommand):
    """Run ``edit(project)`` (a services.scenarios call); undo and redo restore the scenario list, the
    territories and the plans as they were; the switcher and the manager re-read them."""

    restore_on_error = False  # services.scenarios refuses before it changes anything

    def __init__(self, state: AppState, edit: Callable[[Project], object], text: str) -> None:
        super().__init__(edit, text)
        self.state = state

    def target(self) -> Project:
        return self.state.project

    def snapshot(self) -> tuple:
        p = self.state.project
        return (p.scenarios.copy(), p.territories.copy(), dict(p.plans), dict(p.territory_shapes),
                p.scenario_reviews.copy())

    def restore(self, state: tuple) -> None:
        p = self.state.project
        p.scenarios, p.territories = state[0].copy(), state[1].copy()
        p.plans.clear()
        p.plans.update(state[2])
        p.territory_shapes.clear()
        p.territory_shapes.update(state[3])
        p.scenario_reviews = state[4].copy()
        p.mark_dirty("scenarios", "territories", "plans", "scenario_reviews")
        self.state.scenarios_edited()

    def edited(self) -> None:
        self.state.scenarios_edited()


def run_scenario_edit(window, edit: Callable[[Project], object], text: str) -> object | None:
    """Apply a scenario edit as one undo step; a refused edit is shown in a message box. Returns its result."""
    command = ScenarioEditCommand(window.state, edit, text)
    try:
        result = command.apply_first()
    except TerritoryError as exc:
        msg.warning(window, text, str(exc))
        return None
    window.undo_stack.push(command)
    return result


class ScenarioManager(QDialog):
    """The scenario list with its actions; follows the state while open."""

    COLUMNS = ("Name", "Id", "Reason", "Parent", "Territories", "Units changed", "Created")

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle("Scenarios")
        self.resize(880, 380)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _i: self.show_selected())
        buttons = QHBoxLayout()
        for text, slot, tip in (("&New...", self.create, "A copy of the shown scenario's alignment"),
                                ("D&uplicate", self.duplicate, "A copy of the selected scenario"),
                                ("&Rename...", self.rename, "Rename the selected scenario and change its reason"),
                                ("&Delete", self.delete, "Delete the selected scenario (not the shown one)"),
                                ("&Show", self.show_selected, "Show the selected scenario on the map"),
                                ("&Compare...", self.compare, "Compare the shown scenario with the selected one")):
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            buttons.addWidget(b)
        buttons.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self._off = window.state.scenario_changed.connect(lambda _s: self.reload())
        self.finished.connect(lambda _r: self._off())
        self.reload()

    @property
    def project(self) -> Project:
        return self.window_.project

    def reload(self) -> None:
        if self.project is None:
            self.table.setRowCount(0)
            return
        rows = sc.list_scenarios(self.project)
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            changed = "" if r["units_changed_from_parent"] is None else f"{r['units_changed_from_parent']:,}"
            cells = (r["name"] + ("  (shown)" if r["active"] else ""), r["scenario_id"], r["description"],
                     r["parent_id"] or "", str(r["territories"]), changed, r["created"][:16].replace("T", " "))
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                item.setData(256, r["scenario_id"])
                if r["active"]:
                    f = item.font()
                    f.setBold(True)
                    item.setFont(f)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        self.table.setColumnWidth(0, min(self.table.columnWidth(0), 300))
        self.table.setWordWrap(False)

    def selected(self) -> str | None:
        items = self.table.selectedItems()
        return items[0].data(256) if items else None

    def select(self, scenario_id: str) -> None:
        for i in range(self.table.rowCount()):
            if self.table.item(i, 0).data(256) == scenario_id:
                self.table.selectRow(i)

    def create(self) -> str | None:
        name, ok = msg.get_text(self, "New scenario", "Name of the new scenario (a copy of the one shown):")
        if not ok:
            return None
        reason, ok = msg.get_text(self, "New scenario", "Reason (why this scenario exists):")
        sid = run_scenario_edit(self.window_, lambda p: sc.create_scenario(p, name, reason if ok else ""),
                                f"New scenario {name}")
        if sid:
            self.select(sid)
        return sid

    def duplicate(self) -> str | None:
        sid = self.selected() or self.project.active_scenario
        new = run_scenario_edit(self.window_, lambda p: sc.duplicate_scenario(p, sid),
                                f"Duplicate scenario {sc.scenario_name(self.project, sid)}")
        if new:
            self.select(new)
        return new

    def rename(self) -> None:
        sid = self.selected() or self.project.active_scenario
        row = next(r for r in sc.list_scenarios(self.project) if r["scenario_id"] == sid)
        name, ok = msg.get_text(self, "Rename scenario", f"New name of '{row['name']}':", row["name"])
        if not ok:
            return
        reason, ok = msg.get_text(self, "Rename scenario", "Reason:", row["description"])
        run_scenario_edit(self.window_, lambda p: sc.rename_scenario(p, sid, name, reason if ok else None),
                          f"Rename scenario {row['name']}")
        self.select(sid)

    def delete(self) -> None:
        sid = self.selected()
        if sid is None:
            return
        name = sc.scenario_name(self.project, sid)
        if msg.question(self, "Delete scenario", f"Delete scenario '{name}' with its territories and plan? "
                        "(Undo brings it back.)") != msg.Button.Yes:
            return
        run_scenario_edit(self.window_, lambda p: sc.delete_scenario(p, sid), f"Delete scenario {name}")

    def show_selected(self) -> None:
        sid = self.selected()
        if sid is not None and sid != self.project.active_scenario:
            self.window_.undo_stack.push(SwitchScenarioCommand(self.window_.state, sid,
                                                               sc.scenario_name(self.project, sid)))

    def compare(self) -> None:
        from .compare_dialog import open_compare_dialog

        other = self.selected()
        open_compare_dialog(self.window_, self.project.active_scenario, other)


def realign_on_copy(project: Project, request, progress, stop):
    """Run the realignment on a copy sharing the big tables (the worker never touches the open project);
    returns (copy, options). :func:`adopt_scenarios` brings the new scenarios in, in the GUI thread."""
    from ..services.realign import realign

    copy = dataclasses.replace(project, plans=dict(project.plans), territory_shapes=dict(project.territory_shapes),
                               dirty=set(), pending_audit=[])
    return copy, realign(copy, request, progress, stop)


def adopt_scenarios(project: Project, copy: Project) -> list[str]:
    """Take the scenarios the realignment added to ``copy`` into ``project``; returns their ids."""
    new = [s for s in copy.plans if s not in project.plans]
    project.scenarios, project.territories = copy.scenarios, copy.territories
    for sid in new:
        project.plans[sid] = copy.plans[sid]
    project.territory_shapes.update({k: v for k, v in copy.territory_shapes.items() if k[0] in new})
    project.pending_audit.extend(copy.pending_audit)
    project.mark_dirty("scenarios", "territories", "plans")
    return new


def _open_compare(window) -> None:
    from .compare_dialog import open_compare_dialog
    open_compare_dialog(window)


def _open_realign(window) -> None:
    from .realign_dialog import open_realign_dialog
    open_realign_dialog(window)


def install_scenario_manager(window) -> None:
    """Scenario menu: Manage Scenarios..., Compare Scenarios..., Realign with Minimal Disruption... (the
    dialogs are imported when first used: the realign one pulls in the balancer, 0.25 s at start-up)."""
    if window.menus.get("scenario") is None:  # made here unless another feature (the review flow) made it
        menu = window.menuBar().addMenu("Sce&nario")
        window.menuBar().insertMenu(window.menus["tools"].menuAction(), menu)
        window.menus["scenario"] = menu
    for key, text, slot, shortcut, tip in (
            ("scenarios", "&Manage Scenarios...", lambda: ScenarioManager(window).open(), "Ctrl+Shift+M",
             "Create, rename, duplicate, delete and show scenarios"),
            ("compare", "&Compare Scenarios...", lambda: _open_compare(window), "Ctrl+Shift+D",
             "Diff map and change report between two scenarios"),
            ("realign", "&Realign with Minimal Disruption...", lambda: _open_realign(window), None,
             "Propose plans that reach a goal moving the least accounts and revenue")):
        action = QAction(text, window)
        if shortcut:
            action.setShortcut(shortcut)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _c=False, s=slot: s() if window.project is not None else None)
        window.add_action("scenario", key, action, separator=key == "scenarios" and bool(
            window.menus["scenario"].actions()))
    _beside_switcher(window, window.actions_["scenarios"])


def _beside_switcher(window, action: QAction) -> None:
    """Put Manage Scenarios in the toolbar right after the scenario switcher."""
    from .scenarios import ScenarioSwitcher

    bar = window.toolbar
    actions = bar.actions()
    at = next((i for i, a in enumerate(actions) if isinstance(bar.widgetForAction(a), ScenarioSwitcher)), None)
    if at is None:
        return
    action.setIconText("Scenarios...")
    bar.insertAction(actions[at + 1], action) if at + 1 < len(actions) else bar.addAction(action)
