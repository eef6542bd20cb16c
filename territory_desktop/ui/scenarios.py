"""The scenario switcher: a combo box in the main toolbar listing the project's scenarios with their review
state (``[proposed]``, ``[approved]``, ``[published]``; drafts unmarked). Picking one
makes it the active scenario (one undo step); the map, the territory table, the totals and printing
follow through the app state's ``scenario_changed`` event."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QComboBox, QLabel

from ..services import review
from .plaintext import tooltip
from .state import AppState


class SwitchScenarioCommand(QUndoCommand):
    """Make ``scenario_id`` active; undo goes back. On the undo stack so that the edits before and after
    a switch are undone on the scenario they were made in."""

    def __init__(self, state: AppState, scenario_id: str, name: str) -> None:
        super().__init__(f"Show scenario {name}")
        self.state = state
        self.old = state.scenario
        self.new = scenario_id

    def redo(self) -> None:
        self.state.set_scenario(self.new)

    def undo(self) -> None:
        self.state.set_scenario(self.old)


class ScenarioSwitcher(QComboBox):
    """Lists the scenarios of the state's project by name (with the id when two share a name); follows
    the state."""

    def __init__(self, state: AppState, undo_stack) -> None:
        super().__init__()
        self.state = state
        self.undo_stack = undo_stack
        self.setMinimumWidth(150)
        self.setMaximumWidth(320)  # long scenario names (realign proposals) are cut, the tooltip has the id
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setToolTip("Scenario shown: the map, the territory table and printing follow it")
        self._off = [state.project_changed.connect(lambda _p: self.reload()),
                     state.scenario_changed.connect(lambda _s: self.reload())]
        self.destroyed.connect(lambda *_a: [off() for off in self._off])
        self.activated.connect(self._picked)
        self.reload()

    def reload(self) -> None:
        """Re-read the scenario list and show the active one."""
        project = self.state.project
        self.blockSignals(True)
        self.clear()
        if project is not None:
            scen = project.scenarios.set_index("scenario_id")["name"] if len(project.scenarios) else {}
            names = {sid: str(scen.get(sid, sid)) for sid in project.plans}
            repeated = {n for n in names.values() if list(names.values()).count(n) > 1}
            for sid, name in names.items():
                state = review.status(project, sid)
                label = f"{name} ({sid})" if name in repeated else name
                self.addItem(label if state == "draft" else f"{label}  [{state}]", sid)
                self.setItemData(self.count() - 1, tooltip(f"Scenario id: {sid}; {review.describe(project, sid)}"),
                                 Qt.ItemDataRole.ToolTipRole)
            self.setCurrentIndex(max(0, self.findData(project.active_scenario)))
        self.setEnabled(self.count() > 1)
        self.blockSignals(False)

    def _picked(self, index: int) -> None:
        sid = self.itemData(index)
        if sid is not None and sid != self.state.scenario:
            self.undo_stack.push(SwitchScenarioCommand(self.state, sid, self.itemText(index)))


def install_scenario_switcher(window) -> ScenarioSwitcher:
    """Put the switcher in the main toolbar, just before the active territory box."""
    switcher = ScenarioSwitcher(window.state, window.undo_stack)
    bar = window.toolbar
    before = next((a for a in bar.actions() if isinstance(bar.widgetForAction(a), QLabel)
                   and "Active territory" in bar.widgetForAction(a).text()), None)
    for widget in (QLabel(" Scenario "), switcher):
        bar.insertWidget(before, widget) if before is not None else bar.addWidget(widget)
    if before is not None:
        bar.insertSeparator(before)
    return switcher
