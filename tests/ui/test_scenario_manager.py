"""Scenario manager and Compare Scenarios dialog: each scenario edit is one undo step; the dialog shows
the hand-computed numbers of the 3x3 fixture (tests/services/test_compare.py)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services"))
from test_compare import lopsided, two_plans  # noqa: F401  (fixture)

from territory_desktop.services import scenarios as sc


@pytest.fixture
def window(open_window, two_plans):  # noqa: F811
    return open_window(two_plans)


def test_scenario_edits_are_one_undo_step_each(window):
    from territory_desktop.ui.scenario_manager import ScenarioManager, run_scenario_edit

    p = window.project
    manager = ScenarioManager(window)
    assert manager.table.rowCount() == 2
    sid = run_scenario_edit(window, lambda q: sc.create_scenario(q, "Third"), "New scenario Third")
    assert sid in p.plans and manager.table.rowCount() == 3
    assert window.undo_stack.count() == 1
    window.undo_stack.undo()
    assert sid not in p.plans and manager.table.rowCount() == 2
    window.undo_stack.redo()
    assert p.plans[sid].as_dict() == p.plans["base"].as_dict()
    # deleting the shown scenario is refused with a message and pushes nothing
    from territory_desktop.ui import plaintext

    shown = []
    original = plaintext.warning
    plaintext.warning = lambda parent, title, text: shown.append(text)
    try:
        assert run_scenario_edit(window, lambda q: sc.delete_scenario(q, "base"), "Delete") is None
    finally:
        plaintext.warning = original
    assert "switch to another one" in shown[0] and window.undo_stack.count() == 1
    assert window.menus["scenario"].actions()[0].text() == "&Manage Scenarios..."
    manager.close()


def test_compare_dialog_shows_the_numbers_and_exports(window, qtbot, tmp_path):
    from territory_desktop.ui.compare_dialog import CompareDialog

    moved = sc.resolve_scenario(window.project, "Moved")
    dialog = CompareDialog(window, "base", moved)
    qtbot.addWidget(dialog)
    deadline = time.time() + 30
    while dialog.comparison is None and time.time() < deadline:
        qtbot.wait(50)
    assert dialog.comparison is not None
    figures = {dialog.figures.itemAt(i, dialog.figures.ItemRole.LabelRole).widget().text():
               dialog.figures.itemAt(i, dialog.figures.ItemRole.FieldRole).widget().text()
               for i in range(dialog.figures.rowCount() - 1)}
    assert figures["Units moved"] == "2 of 9"
    assert figures["Accounts to another rep"] == "3 (60.0%)"
    assert figures["Revenue (T12M) to another rep"] == "1,500 (20.8%)"  # 1500 of 7200
    terr = dialog.tabs.widget(0)
    rows = {terr.item(i, 0).text(): terr.item(i, 3).text() for i in range(terr.rowCount())}
    assert rows == {"W": "6 → 4", "E": "3 → 5"}
    assert dialog.map.pixmap() is not None and not dialog.map.pixmap().isNull()
    assert dialog.export(".xlsx", str(tmp_path / "c.xlsx")).exists()
    dialog.export(".pdf", str(tmp_path / "c.pdf"))
    deadline = time.time() + 60
    while dialog.last_written != tmp_path / "c.pdf" and time.time() < deadline:
        qtbot.wait(50)
    pdf = dialog.last_written
    from pypdf import PdfReader

    assert len(PdfReader(str(pdf)).pages) >= 2


def test_kpis_follow_the_active_scenario(window, qtbot):
    """The KPI dock's sales per territory are recomputed under the shown scenario's plan: in 2026-Q1 the
    fixture has a2's 1000 and a4's 300, West's under base and East's under "Moved" (u1 and u4 move)."""
    from territory_desktop.ui.scenarios import SwitchScenarioCommand

    kpis = window.kpis
    window.docks["kpis"].show()

    def east_revenue():
        deadline = time.time() + 30
        while kpis.data is None and time.time() < deadline:
            qtbot.wait(50)
        table = kpis.data.table.set_index("group_id")["sales"]
        return float(table["W"]), float(table["E"])

    kpis.set_periods()
    kpis.period.setCurrentText("2026-Q1")
    kpis.refresh()
    before = east_revenue()
    window.undo_stack.push(SwitchScenarioCommand(window.state, sc.resolve_scenario(window.project, "Moved"), "Moved"))
    assert kpis.data is None  # dropped at the switch, recomputed
    after = east_revenue()
    assert (before, after) == ((1300.0, 0.0), (0.0, 1300.0))


def test_realign_action_adds_the_proposals_as_one_undo_step(open_window, lopsided, qtbot, monkeypatch):  # noqa: F811
    from territory_desktop.services.realign import RealignRequest
    from territory_desktop.ui import plaintext
    from territory_desktop.ui.realign_dialog import open_realign_dialog

    window = open_window(lopsided)
    shown = []
    monkeypatch.setattr(plaintext, "information", lambda parent, title, text: shown.append(text))
    req = RealignRequest("balance", measure="accounts", tolerance=0.05, max_accounts_moved=8, alternatives=2,
                         time_limit=2)
    open_realign_dialog(window, req)
    deadline = time.time() + 60
    while not shown and time.time() < deadline:
        qtbot.wait(50)
    assert len(window.project.plans) == 3 and "least disruption first" in shown[0]
    assert window.features.scenarios.count() == 3  # the toolbar's switcher lists them
    window.undo_stack.undo()
    assert list(window.project.plans) == ["base"] and window.features.scenarios.count() == 1


def test_diff_layer_marks_moved_units_flows_and_accounts_changing_rep_in_place(two_plans, qapp):  # noqa: F811
    """Moved (u1, u4 to East) plus East handed to a new rep r3: the layer hatches the 2 moved units, draws
    one flow (W -> E) and rings a3, the one account that changes rep while its unit (u8) stays."""
    from types import SimpleNamespace

    from test_compare import _reps

    from territory_desktop.services.compare import compare_scenarios
    from territory_desktop.ui.print.compare import install_diff_layer

    p = two_plans
    p.reps = _reps(["r1", "r2", "r3"])
    sid = sc.duplicate_scenario(p, sc.resolve_scenario(p, "Moved"), "Moved, new rep east")
    t = p.territories
    p.territories.loc[(t["scenario_id"] == sid) & (t["territory_id"] == "E"), "rep_id"] = "r3"
    renderer = SimpleNamespace(extras={}, layers=[])
    layer = install_diff_layer(renderer, p, compare_scenarios(p, "base", sid, route=False), "EPSG:5070")
    assert renderer.extras["diff"] is layer and [x.key for x in renderer.layers] == ["diff"]
    assert len(layer.arrows) == 1 and layer.arrows[0][4] == 2
    assert len(layer.accounts) == 1
    assert layer.path.elementCount() >= 2 * 5  # two closed squares
