"""Set Quotas...: the preview is plan_quotas' numbers; Save is one undo step (undo, redo, replace); the
stored set survives a reopen; a clash asks first; a frozen scenario refuses."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QMessageBox, QWidget

from territory_desktop.services.project import open_project, save_project
from territory_desktop.services.quotas import plan_quotas
from territory_desktop.ui.quota_dialog import PREVIEW_COLUMNS, SetQuotasDialog

Yes, No = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No


class FakeKpis:
    data, quotas_file = "shown", None

    def __init__(self):
        self.refreshed = 0

    def refresh(self):
        self.refreshed += 1


class FakeWindow:
    def __init__(self, project):
        self.project = project
        self.undo_stack = QUndoStack()
        self.kpis = FakeKpis()


@pytest.fixture
def project(grid_project):
    grid_project.territories["rep_id"] = ["r1", None]  # W: a1 100 + a2 50 potential, E: a3 25 + a4 10
    return grid_project


def dialog_for(qtbot, window, method="potential", total=1000.0, new_rep=None):
    dialog = SetQuotasDialog(window)
    qtbot.addWidget(dialog)
    dialog.start.setDate(dialog.start.date().fromString("2027-01", "yyyy-MM"))
    dialog.method.setCurrentText(method)
    dialog.total.setValue(total)
    if new_rep:
        dialog.set_new_rep(*new_rep)
    dialog.recompute()
    qtbot.waitUntil(lambda: dialog.result is not None or dialog.error is not None, timeout=5000)
    return dialog


def cells(dialog, column):
    j = PREVIEW_COLUMNS.index(column)
    return [dialog.preview.item(i, j).text() for i in range(dialog.preview.rowCount())]


def test_preview_is_plan_quotas(qtbot, project):
    dialog = dialog_for(qtbot, FakeWindow(project), new_rep=("r1", "2027-01"))
    assert dialog.inputs() == {"total": 1000.0, "method": "potential", "blend": None, "new_reps": {"r1": "2027-01"},
                               "ramp": 3, "start": "2027-01"}
    assert dialog.result == plan_quotas(project, 1000.0, "potential", new_reps={"r1": "2027-01"}, start="2027-01")
    west = 1000 * 150 / 185  # by hand: W's share of the potential
    assert cells(dialog, "Territory") == ["W", "E"] and cells(dialog, "Rep") == ["r1", ""]
    assert dialog.preview.horizontalHeaderItem(3).text() == "Basis (potential)"
    assert cells(dialog, "Basis") == ["150", "35"]
    assert cells(dialog, "Share %") == [f"{100 * 150 / 185:.2f}", f"{100 * 35 / 185:.2f}"]
    assert cells(dialog, "Quota") == ["811", "189"]  # 810.81 and 189.19 in whole units
    assert dialog.preview.item(0, PREVIEW_COLUMNS.index("Quota")).toolTip().startswith(f"{west:,.2f}")
    assert cells(dialog, "Month 1 (ramped)") == [f"{west / 12 / 3:,.0f}", "-"]  # month 1 of a 3-month ramp: a third
    ramped = 1000 - west / 12  # the ramp's first two months lose a twelfth of W's quota: 932.43
    assert f"total 1,000; after ramps {ramped:,.0f} (basis" in dialog.summary.text() and ".43" not in \
        dialog.summary.text()
    dialog.method.setCurrentText("blend")
    assert dialog.blend.isVisibleTo(dialog) and dialog.save_button.isEnabled() is False


def test_save_undo_redo_replace_and_reopen(qtbot, project, tmp_path, monkeypatch):
    window = FakeWindow(project)
    dialog_for(qtbot, window, method="even").save()
    assert project.quotas["quota"].tolist() == [500.0, 500.0] and window.undo_stack.count() == 1
    assert "quotas" in project.dirty
    window.undo_stack.undo()
    assert len(project.quotas) == 0
    window.undo_stack.redo()
    assert project.quotas["method"].tolist() == ["even", "even"]
    assert window.kpis.refreshed == 3  # the KPI dock's attainment follows save, undo and redo
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or No)
    dialog_for(qtbot, window).save()  # the same scenario and months: asked, No keeps the set
    assert "already has quotas for 2027-01..2027-12 (2 territories, by even" in asked[0]
    assert project.quotas["method"].tolist() == ["even", "even"] and window.undo_stack.count() == 1
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: Yes)
    dialog_for(qtbot, window).save()
    assert project.quotas["method"].tolist() == ["potential"] * 2 and window.undo_stack.count() == 2
    window.undo_stack.undo()  # the replaced set is back
    assert project.quotas["quota"].tolist() == [500.0, 500.0]
    window.undo_stack.redo()
    save_project(project, tmp_path / "p.gpkg")
    again = open_project(tmp_path / "p.gpkg").quotas
    assert again["quota"].tolist() == pytest.approx([1000 * 150 / 185, 1000 * 35 / 185], abs=0.005)  # to the cent
    assert set(again["period"]) == {"2027-01..2027-12"}


def test_a_frozen_scenario_refuses(qtbot, project, monkeypatch):
    from territory_desktop.services.review import transition

    transition(project, "base", "propose")
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warned.append(a[2]) or QMessageBox.StandardButton.Ok)
    window = FakeWindow(project)
    dialog_for(qtbot, window).save()
    assert "is proposed" in warned[0] and len(project.quotas) == 0 and window.undo_stack.count() == 0


def test_errors_are_shown_not_saved(qtbot, project):
    dialog = dialog_for(qtbot, FakeWindow(project), method="blend")
    for spin in dialog.weights.values():
        spin.setValue(0.0)
    dialog.recompute()
    qtbot.waitUntil(lambda: dialog.error is not None, timeout=5000)
    assert dialog.error == "give the blend as METHOD=WEIGHT items with a positive total weight"
    assert not dialog.save_button.isEnabled() and dialog.preview.rowCount() == 0


class WidgetWindow(QWidget):
    """A window stand-in that can parent the dialog, with the extension point the installer uses."""

    def __init__(self, project):
        super().__init__()
        self.project, self.undo_stack, self.kpis, self.actions_ = project, QUndoStack(), None, {}

    def add_action(self, menu, key, action):
        self.actions_[(menu, key)] = action


def test_tools_menu_and_the_kpi_dock_open_the_dialog(qtbot, project):
    from territory_desktop.ui.kpi_dock import KpiDock
    from territory_desktop.ui.quota_dialog import install_quota_ui

    window = WidgetWindow(project)
    qtbot.addWidget(window)
    install_quota_ui(window)
    window.actions_[("tools", "set_quotas")].trigger()
    dock = KpiDock(window)
    qtbot.addWidget(dock)
    dock.set_quotas_button.click()
    dialogs = window.findChildren(SetQuotasDialog)
    assert len(dialogs) == 2 and all(d.isVisible() for d in dialogs)
    qtbot.waitUntil(lambda: all(d.result is not None for d in dialogs), timeout=5000)
    dialogs[0].save()
    assert window.undo_stack.count() == 1 and not dialogs[0].isVisible() and "quotas" in project.dirty
    for d in dialogs:
        d.close()


def test_closing_while_the_preview_runs(qtbot, project):
    from territory_desktop.ui.quota_dialog import open_quota_dialog

    window = WidgetWindow(project)
    qtbot.addWidget(window)
    dialog = open_quota_dialog(window)
    dialog.close()  # deleted on close: the preview's result, delivered afterwards, is dropped (no error)
    # the preview may end before a signal spy could be connected: wait for the pool, then deliver its signal
    assert QThreadPool.globalInstance().waitForDone(10000)
    qtbot.wait(50)
    qtbot.waitUntil(lambda: not window.findChildren(SetQuotasDialog), timeout=5000)


def test_the_total_starts_from_last_years_sales_else_potential_else_a_stored_set(qtbot, project):
    import pandas as pd

    project.sales = pd.DataFrame({"account_id": ["a1", "a3", "a2"], "period": ["2025-01", "2025-07", "2026-02"],
                                  "product": "x", "amount": [1_234_000.0, 5_678.0, 9.0]})
    dialog = SetQuotasDialog(FakeWindow(project))
    qtbot.addWidget(dialog)
    assert dialog.total.value() == 1_240_000.0  # 2025: 1,239,678, three significant figures
    assert dialog.total.text() == "1,240,000" and "2025 sales: 1,239,678" in dialog.total_hint.text()
    project.sales = project.sales.iloc[:0]
    dialog = SetQuotasDialog(FakeWindow(project))
    qtbot.addWidget(dialog)
    assert dialog.total.value() == 185.0 and "potential" in dialog.total_hint.text()
    dialog_for(qtbot, FakeWindow(project), method="even", total=4321.0).save()
    dialog = SetQuotasDialog(FakeWindow(project))
    qtbot.addWidget(dialog)
    assert dialog.total.value() == 4321.0 and "stored quotas 2027-01..2027-12 (by even)" in dialog.total_hint.text()


def test_undo_and_redo_of_a_save_are_refused_once_its_scenario_is_frozen(qtbot, project):
    """The review step in the window clears the undo history, but a scenario can be frozen with the save
    still on the stack (``review.transition`` from elsewhere): undo and redo then refuse, saying why."""
    from territory_desktop.services.review import transition
    from territory_desktop.ui.commands import PlanUndoStack

    window = FakeWindow(project)
    window.undo_stack = PlanUndoStack()
    refused = []
    window.undo_stack.refused.connect(lambda reason, stroke: refused.append(reason))
    dialog_for(qtbot, window, method="even").save()
    transition(project, "base", "propose")
    window.undo_stack.undo()
    assert project.quotas["quota"].tolist() == [500.0, 500.0] and window.undo_stack.index() == 1
    assert refused[0].startswith("Undo of 'Set quotas 2027-01..2027-12 (even)' refused: the quotas "
                                 "2027-01..2027-12 stay as they are: scenario 'base' is proposed")
    transition(project, "base", "send-back")
    window.undo_stack.undo()  # a draft again: undone
    assert len(project.quotas) == 0 and window.undo_stack.index() == 0
    transition(project, "base", "propose")
    window.undo_stack.redo()
    assert len(project.quotas) == 0 and window.undo_stack.index() == 0 and refused[-1].startswith("Redo of")
