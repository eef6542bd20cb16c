"""The Leads dock: rule order and ticks reach the rules, preview in a worker, apply and undo, map dots."""

from __future__ import annotations

from PySide6.QtCore import Qt

from territory_desktop.ui.leads_panel import LAYER_KEY


def leads_file(tmp_path):
    # grid8: T1 = lon -100..-98.5 (rep R1), T2 = -98.5..-97 (no rep); lat 38..40.5
    path = tmp_path / "leads.csv"
    path.write_text("lead_id,company,lat,lon\nL1,Acct 0-0,38.2,-97.2\nL2,Zeta,38.2,-99.8\nL3,Zeta,38.2,-97.8\n")
    return path


def test_preview_apply_undo(grid8, open_window, qtbot, tmp_path):
    w = open_window(grid8)
    panel = w.leads_panel
    w.actions_["leads"].trigger()
    assert w.docks["leads"].isVisible()
    panel.open_file(str(leads_file(tmp_path)))
    qtbot.waitUntil(lambda: panel.proposal is not None, timeout=10_000)
    table = panel.proposal.table.set_index("lead_id")
    # L1 names account A000 (unit u0_0, T1): by account to R1 although it lies in T3's columns
    assert table.loc["L1", "rep_id"] == "R1" and table.loc["L1", "matched_by"] == "name"
    assert table.loc["L2", "rep_id"] == "R1"
    assert table.loc["L3", "rep_id"] is None and "no rep" in table.loc["L3", "reason"]
    assert panel.table.rowCount() == 3
    assert LAYER_KEY in w.canvas.renderer.extras
    panel.table.selectRow(2)  # L3: nobody could take it; the planner gives it to Bob
    panel.override_rep.setCurrentIndex(panel.override_rep.findData("R2"))
    panel.override_selected()
    assert panel.proposal.table.set_index("lead_id").loc["L3", "rep_id"] == "R2"
    assert "manual override" in panel.table.item(2, 3).text()
    panel.apply()
    assert list(grid8.leads["lead_id"]) == ["L1", "L2", "L3"] and "leads" in grid8.dirty
    w.undo_stack.undo()
    assert len(grid8.leads) == 0
    w.undo_stack.redo()
    assert grid8.leads["rep_id"].tolist() == ["R1", "R1", "R2"]


def test_unticked_and_reordered_rules_reach_the_engine(grid8, open_window, qtbot, tmp_path):
    w = open_window(grid8)
    panel = w.leads_panel
    first = panel.rules.item(0)
    assert first.data(Qt.ItemDataRole.UserRole) == "account_match"
    first.setCheckState(Qt.CheckState.Unchecked)
    panel.rules.setCurrentRow(2)  # location
    panel.move_rule(-1)
    data = panel.rule_data()
    assert data["disabled"] == ["account_match"] and data["order"][:3] == ["account_match", "location",
                                                                           "account_rule"]
    panel.open_file(str(leads_file(tmp_path)))
    qtbot.waitUntil(lambda: panel.proposal is not None, timeout=10_000)
    table = panel.proposal.table.set_index("lead_id")
    assert table.loc["L1", "matched_by"] is None and table.loc["L1", "rep_id"] is None  # T3 has no rep
    w.grab().save(str(tmp_path / "leads.png"))


def test_saved_leads_reassigned_as_one_undo_step(grid8, open_window, qtbot, tmp_path):
    w = open_window(grid8)
    panel, saved = w.leads_panel, w.leads_panel.saved
    grid8.user = "alice"
    panel.open_file(str(leads_file(tmp_path)))
    qtbot.waitUntil(lambda: panel.proposal is not None, timeout=10_000)
    assert saved.table.rowCount() == 0 and "0 saved leads" in saved.count.text()
    panel.apply()  # L1, L2 to Ann (R1); L3 nobody (T2 has no rep)
    assert saved.table.rowCount() == 3 and saved.table.item(2, 0).text() == "L3"
    panel.tabs.setCurrentWidget(saved)
    for r in (0, 2):  # L1 and L3
        saved.table.setRangeSelected(_rows(saved.table, r), True)
    assert saved.selected_ids() == ["L1", "L3"]
    saved.rep.setCurrentIndex(saved.rep.findData("R2"))
    saved.reason.setText("Bob knows them")
    steps = w.undo_stack.count()
    saved.reassign_selected()
    assert grid8.leads["rep_id"].tolist() == ["R2", "R1", "R2"]
    assert grid8.leads["territory_id"].tolist() == ["T1", "T1", "T2"]  # Bob serves no territory: kept
    assert w.undo_stack.count() == steps + 1
    assert w.statusBar().currentMessage() == "2 leads reassigned to Bob (R2) (Ctrl+Z undoes it)"
    assert saved.table.item(0, 2).text() == "R2" and "by alice" in saved.table.item(0, 4).text()
    assert "reason: Bob knows them" in grid8.leads["explanation"].iloc[2]
    assert grid8.pending_audit[-1][0] == "reassign leads"
    w.undo_stack.undo()
    assert grid8.leads["rep_id"].fillna("-").tolist() == ["R1", "R1", "-"] and saved.table.item(0, 2).text() == "R1"
    assert grid8.pending_audit[-1][0] == "undo reassign leads"
    w.undo_stack.redo()
    assert grid8.leads["rep_id"].tolist() == ["R2", "R1", "R2"] and saved.table.item(2, 2).text() == "R2"
    assert grid8.pending_audit[-1] == grid8.pending_audit[-3]  # the redo logged the batch again
    w.undo_stack.undo()
    w.undo_stack.undo()  # Apply's undo: no saved leads
    assert saved.table.rowCount() == 0


def _rows(table, row):
    from PySide6.QtWidgets import QTableWidgetSelectionRange

    return QTableWidgetSelectionRange(row, 0, row, table.columnCount() - 1)


def test_saved_leads_filter(grid8, open_window, qtbot, tmp_path):
    w = open_window(grid8)
    panel, saved = w.leads_panel, w.leads_panel.saved
    panel.open_file(str(leads_file(tmp_path)))
    qtbot.waitUntil(lambda: panel.proposal is not None, timeout=10_000)
    panel.apply()
    saved.filter.setText("l")
    saved.filter.setText("l3")  # typing: one search after the last key
    assert saved.table.rowCount() == 3
    qtbot.waitUntil(lambda: saved.table.rowCount() == 1, timeout=2_000)
    assert saved.table.item(0, 0).text() == "L3"
    assert saved.count.text() == "Showing 1 of 3 saved leads (filter to find others)"
    saved.filter.setText("")
    qtbot.waitUntil(lambda: saved.table.rowCount() == 3, timeout=2_000)
    saved.reassign_selected()  # nothing selected: nothing happens, the status bar says why
    assert w.statusBar().currentMessage() == "Select saved leads and a rep to reassign them to"
