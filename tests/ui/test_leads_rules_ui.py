"""The Leads dock keeps its rules in the project: each change is one undo step, undo shows the rules
stored before, a rules file is stored too, and a reopened project shows them again."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from territory_desktop.services.lead_rules import stored_rules
from territory_desktop.services.project import open_project, save_project


def order(panel):
    return [panel.rules.item(i).data(Qt.ItemDataRole.UserRole) for i in range(panel.rules.count())]


def ticked(panel):
    return [panel.rules.item(i).checkState() == Qt.CheckState.Checked for i in range(panel.rules.count())]


def test_rule_changes_are_stored_as_undo_steps(grid8, open_window, qtbot):
    w = open_window(grid8)
    panel = w.leads_panel
    defaults = order(panel)
    assert stored_rules(grid8) is None and w.undo_stack.count() == 0  # showing the defaults stores nothing
    panel.rules.setCurrentRow(2)  # location, moved above account_rule
    panel.move_rule(-1)
    assert stored_rules(grid8)["order"][:3] == ["account_match", "location", "account_rule"]
    assert w.undo_stack.count() == 1 and "lead_rules" in grid8.dirty
    panel.rules.item(0).setCheckState(Qt.CheckState.Unchecked)  # account_match off
    qtbot.waitUntil(lambda: w.undo_stack.count() == 2, timeout=2000)
    assert stored_rules(grid8)["disabled"] == ["account_match"]
    for value in (85, 80, 75):  # three steps of one spin: one undo step
        panel.threshold.setValue(value)
    qtbot.waitUntil(lambda: w.undo_stack.count() == 3, timeout=3000)
    qtbot.wait(500)
    assert w.undo_stack.count() == 3 and stored_rules(grid8)["fuzzy_threshold"] == 75
    w.undo_stack.undo()  # the threshold back to 90, in the store and in the dock
    assert stored_rules(grid8)["fuzzy_threshold"] == 90 and panel.threshold.value() == 90
    w.undo_stack.undo()
    assert ticked(panel)[0] and stored_rules(grid8)["disabled"] == []
    w.undo_stack.undo()
    assert stored_rules(grid8) is None and order(panel) == defaults
    assert w.undo_stack.count() == 3  # showing what an undo stored pushed nothing
    w.undo_stack.redo()
    assert order(panel)[:3] == ["account_match", "location", "account_rule"]


def test_a_rules_file_is_stored_and_a_reopened_project_shows_the_rules(grid8, open_window, qtbot, tmp_path):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"order": ["location", "capacity"], "disabled": ["expertise"],
                                "round_robin": "order", "max_open": 7, "teams": {"T1": ["R1", "R2"]}}))
    w = open_window(grid8)
    w.leads_panel.open_rules(str(path))
    assert w.undo_stack.count() == 1 and w.undo_stack.text(0) == "Lead rules (rules.json)"
    stored = stored_rules(grid8)
    assert stored["order"][:2] == ["location", "capacity"] and stored["teams"] == {"T1": ["R1", "R2"]}
    assert stored["max_open"] == 7 and stored["round_robin"] == "order"
    save_project(grid8, tmp_path / "p.gpkg")
    again = open_project(tmp_path / "p.gpkg")
    w.set_project(again)
    panel = w.leads_panel
    assert order(panel)[:2] == ["location", "capacity"]
    assert not ticked(panel)[order(panel).index("expertise")]
    assert panel.round_robin.currentText() == "order" and panel.max_open.value() == 7
    assert panel.rule_data() == stored and w.undo_stack.count() == 0
    qtbot.wait(50)
    assert w.undo_stack.count() == 0 and "lead_rules" not in again.dirty  # showing them stored nothing
