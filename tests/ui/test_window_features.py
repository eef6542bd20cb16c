"""Window features of issue #10 items 13-16: File > New then import, File > Close, Find (Ctrl+F), right-click
menus that never change the active territory, hover identify, Help > About and Manual, the account rule
form and the territory table export. Expected values come from the grid fixture's layout (T1 = columns 0-2,
T2 = 3-5, T3 = 6-7; account k-n lies in unit k), computed here."""

from __future__ import annotations

import pandas as pd
import pyproj
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox
from ui_helpers import NX, NY, centre_lonlat, column_territory, drag, unit_id

from territory_desktop.models import InvalidInputError


def widget_point(canvas, lon: float, lat: float) -> QPointF:
    x, y = pyproj.Transformer.from_crs("EPSG:4326", canvas.scene.crs, always_xy=True).transform(lon, lat)
    return canvas.to_widget(QPointF(x, -y))


def units_of(territory: str) -> set[str]:
    return {unit_id(i, j) for i in range(NX) for j in range(NY) if column_territory(i) == territory}


@pytest.fixture
def window(open_window, grid8):
    return open_window(grid8)


# ---- File > New, Close
def test_new_project_then_import_units(window, tmp_path, monkeypatch, make_grid):
    from territory_desktop.ui import import_dialogs

    path = tmp_path / "units.geojson"
    make_grid(4, 2).to_file(path, driver="GeoJSON")
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(path)], ""))
    monkeypatch.setattr(import_dialogs.UnitColumnsDialog, "exec", lambda self: 1)
    monkeypatch.setattr(import_dialogs.UnitColumnsDialog, "values", lambda self: ("unit_id", "name"))
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: None)
    monkeypatch.setattr(import_dialogs.ImportModeDialog, "exec", lambda self: 1)  # accept the default: upsert
    monkeypatch.setattr(QMessageBox, "exec", lambda self: 0)  # the import report box
    window.actions_["new"].trigger()
    project = window.project
    assert project.name == "Untitled" and project.path is None
    assert len(project.units) == 8 and len(window.canvas.scene.unit_ids) == 8
    assert window.isWindowModified() and not window.undo_stack.isClean()


def test_new_project_is_empty_and_close_shows_none(window, grid8):
    from territory_desktop.ui.features import close_project, new_project

    project = new_project(window, ask_import=False)
    assert window.project is project and len(project.units) == 0 and window.table_model.rowCount() == 0
    assert window.windowTitle().startswith("Untitled")
    assert close_project(window)
    assert window.project is None and window.canvas.renderer is None and window.state.project is None
    assert window.windowTitle().startswith("No project")


def test_close_asks_before_losing_changes(window, grid8, monkeypatch):
    from territory_desktop.ui.features import close_project

    window.canvas.select_ids([unit_id(0, 0)])
    window.assign_selection("T2")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Cancel)
    assert not close_project(window)
    assert window.project is grid8


# ---- Find
def test_search_ranks_and_names_the_units_to_zoom_to(grid8):
    from territory_desktop.services.search import search

    hits = search(grid8, "acct 3-1")
    assert (hits[0].kind, hits[0].id, hits[0].unit_ids) == ("account", "A031", (unit_id(3, 0),))
    t2 = next(h for h in search(grid8, "terr t2") if h.kind == "territory")
    assert t2.rank == 0 and set(t2.unit_ids) == units_of("T2")
    ann = search(grid8, "Ann")[0]
    assert (ann.kind, ann.id) == ("rep", "R1") and set(ann.unit_ids) == units_of("T1")
    # Bob has no territory: his home (-97.6, 39.6) lies in column 4 (-98.0..-97.5), row 3 (39.5..40.0)
    bob = search(grid8, "bob")[0]
    assert bob.unit_ids == (unit_id(4, 3),)
    ranks = [h.rank for h in search(grid8, "c1r1")]
    assert ranks == sorted(ranks) and search(grid8, "c1r1")[0].id == "c1r1"
    assert search(grid8, "   ") == [] and search(grid8, "zzz-nothing") == []


def test_find_box_zooms_to_a_territory_without_making_it_active(window, grid8, qtbot):
    box = window.features.search
    window.activateWindow()
    qtbot.waitActive(window)
    window.set_active_territory("T1")
    window.actions_["find"].trigger()
    assert box.hasFocus() or QApplication.focusWidget() is box
    hits = box.update_hits("Terr T3")
    box.go_to(hits[0])
    assert set(window.canvas.selected_unit_ids()) == units_of("T3")
    assert window.canvas.active_territory == "T1"
    extent = window.canvas.extent()
    for i in (6, 7):
        for j in (0, NY - 1):
            assert extent.contains(window.canvas.to_map(widget_point(window.canvas, *centre_lonlat(i, j))))
    west = window.canvas.to_map(widget_point(window.canvas, *centre_lonlat(0, 2)))
    assert not extent.contains(west)  # zoomed in: column 0 is off the map


# ---- right-click menus
def _texts(menu) -> list[str]:
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def test_map_menu_names_the_unit_and_assigns_it(window, grid8):
    from territory_desktop.ui.context_menus import map_menu

    window.set_active_territory("T2")
    p = widget_point(window.canvas, *centre_lonlat(0, 0))
    menu = map_menu(window, p)
    texts = _texts(menu)
    assert texts[0] == f"Unit {unit_id(0, 0)} ({unit_id(0, 0)}) — Terr T1"
    assert f"Assign unit {unit_id(0, 0)} to Terr T2" in texts and "Zoom to Terr T1" in texts
    next(a for a in menu.actions() if a.text().startswith("Assign")).trigger()
    assert grid8.plan.territory_of(unit_id(0, 0)) == "T2" and window.canvas.active_territory == "T2"
    window.undo_stack.undo()
    assert grid8.plan.territory_of(unit_id(0, 0)) == "T1"


def test_right_click_on_the_map_keeps_selection_and_active_territory(window):
    canvas = window.canvas
    canvas.set_tool("select")
    window.set_active_territory("T3")
    canvas.select_ids([unit_id(7, 4)])
    drag(canvas, [widget_point(canvas, *centre_lonlat(1, 1))], button=Qt.MouseButton.RightButton)
    assert canvas.selected_unit_ids() == [unit_id(7, 4)] and canvas.active_territory == "T3"


def test_right_click_on_the_table_keeps_the_active_territory(window):
    table = window.territory_panel.table
    window.set_active_territory("T1")
    window.territory_panel.select_territory("T1")
    row = next(r for r in range(table.model().rowCount()) if table.model().index(r, 0).data() == "Terr T3")
    pos = table.visualRect(table.model().index(row, 0)).center()
    for kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease):
        QApplication.sendEvent(table.viewport(), QMouseEvent(kind, QPointF(pos), table.viewport().mapToGlobal(pos),
                                                             Qt.MouseButton.RightButton,
                                                             Qt.MouseButton.RightButton if kind == QEvent.Type.MouseButtonPress
                                                             else Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    assert window.canvas.active_territory == "T1" and window.active_combo.currentData() == "T1"
    menu = window.features.table_right_click.menu
    assert menu is not None and _texts(menu)[:3] == ["Terr T3 (T3)", "Zoom to Terr T3", "Make Terr T3 the Active Territory"]
    menu.close()


def test_table_menu_renames_its_own_row(window, grid8, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    from territory_desktop.ui.context_menus import table_menu

    window.set_active_territory("T1")
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Coast", True))
    menu = table_menu(window, "T3")
    next(a for a in menu.actions() if a.text() == "Rename...").trigger()
    names = grid8.scenario_territories().set_index("territory_id")["name"]
    assert names["T3"] == "Coast" and names["T1"] == "Terr T1"


# ---- hover identify
def test_hover_identify_names_unit_territory_rep_and_totals(window, grid8):
    canvas = window.canvas
    p = widget_point(canvas, *centre_lonlat(1, 2))
    canvas._mouse = p  # where the mouse rests (the move event itself is what the other tests send)
    text = window.features.hover.identify()
    u = unit_id(1, 2)
    acc = grid8.accounts[grid8.accounts["unit_id"] == u]
    hours = sum(52 / f * m / 60 for f, m in zip(acc["visit_frequency_weeks"], acc["service_minutes"], strict=True)
                if f > 0)
    t1 = grid8.accounts[grid8.accounts["unit_id"].isin(units_of("T1"))]
    assert f"<b>Unit {u}</b> ({u})" in text and f"{len(acc)} accounts · {hours:,.0f} h/yr" in text
    assert "<b>Terr T1</b> (T1) · rep Ann" in text and f"{len(units_of('T1'))} units · {len(t1)} accounts" in text
    canvas._mouse = QPointF(-1, -1)
    assert window.features.hover.identify() == ""


# ---- Help
def test_about_lists_version_and_licences(window):
    import importlib.metadata as md

    from territory_desktop.ui.help import AboutDialog

    dialog = AboutDialog(window)
    text = dialog.browser.toPlainText()
    assert dialog.version == md.version("territory-desktop")
    names = {lib.name.lower(): lib for lib in dialog.libraries}
    assert names["pyside6"].licence.startswith("LGPL-3.0") and names["shapely"].licence == "BSD-3-Clause"
    assert "PySide6" in text and md.version("shapely") in text
    dialog.close()


def test_manual_renders_the_readme_and_follows_section_links(window):
    from territory_desktop.ui.help import README, ManualDialog

    dialog = ManualDialog(window)
    dialog.resize(900, 500)
    dialog.show()
    assert "The project file" in dialog.sections
    assert "Importing data" in dialog.browser.toPlainText()
    assert README.read_text().count("\n## ") == len(dialog.sections)
    assert dialog.show_section("the-project-file")
    assert dialog.browser.verticalScrollBar().value() > 0
    dialog.close()


# ---- account rule form
def test_rule_form_builds_the_rule(qtbot, grid8):
    from territory_desktop.services.metrics import account_owners
    from territory_desktop.ui.dialogs import NewTerritoryDialog

    dialog = NewTerritoryDialog(None, [("R1", "Ann")], grid8.accounts)
    qtbot.addWidget(dialog)
    dialog.name.setText("Key health")
    dialog.kind.setCurrentIndex(dialog.kind.findData("account"))
    row = dialog.rules.rows[0]
    assert "Healthcare" in [row.value.itemText(k) for k in range(row.value.count())]  # offered values
    row.value.setEditText("Healthcare")
    second = dialog.rules.add_row()
    second.field.setCurrentIndex(second.field.findData("size_class"))
    second.operator.setCurrentIndex(second.operator.findData("in"))
    second.value.setEditText("Enterprise, Mid")
    values = dialog.values()
    assert values["rule"] == {"industry": ["Healthcare"], "size_class": ["Enterprise", "Mid"]}
    from territory_desktop.services import editing

    tid = editing.create_territory(grid8, **values)
    owners = account_owners(grid8)
    a = grid8.accounts
    expected = set(a.loc[(a["industry"] == "Healthcare") & (a["size_class"] == "Enterprise"), "account_id"])
    assert expected and set(owners[owners == tid].index) == expected


def test_rule_form_names_an_empty_condition(qtbot, grid8):
    from territory_desktop.ui.dialogs import NewTerritoryDialog

    dialog = NewTerritoryDialog(None, [], grid8.accounts)
    qtbot.addWidget(dialog)
    dialog.kind.setCurrentIndex(dialog.kind.findData("account"))
    dialog.rules.rows[0].value.setEditText("  ")
    with pytest.raises(InvalidInputError, match="condition 1 \\(Industry\\): no value"):
        dialog.values()


# ---- territory table export
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_table_matches_independent_totals(window, grid8, tmp_path, suffix):
    from territory_desktop.ui.features import export_table

    grid8.territories.loc[grid8.territories["territory_id"] == "T2", "name"] = "=HYPERLINK(\"x\")"
    out = export_table(window, str(tmp_path / f"t{suffix}"))
    got = pd.read_csv(out) if suffix == ".csv" else pd.read_excel(out)
    assert list(got.columns)[:5] == ["Territory ID", "Territory", "Parent", "Rep ID", "Rep"]
    by_id = got.set_index("Territory ID")
    for t in ("T1", "T2", "T3"):
        acc = grid8.accounts[grid8.accounts["unit_id"].isin(units_of(t))]
        hours = sum(52 / f * m / 60 for f, m in zip(acc["visit_frequency_weeks"], acc["service_minutes"],
                                                    strict=True) if f > 0)
        assert by_id.loc[t, "Units"] == len(units_of(t)) and by_id.loc[t, "Accounts"] == len(acc)
        assert by_id.loc[t, "Workload (h/yr)"] == pytest.approx(hours, abs=0.051)  # rounded to 0.1 h
        assert by_id.loc[t, "Potential"] == pytest.approx(acc["potential"].sum())
    assert by_id.loc["T1", "Rep"] == "Ann" and by_id.loc["T2", "Territory"] == "'=HYPERLINK(\"x\")"


def test_export_table_refuses_another_suffix(window, tmp_path, monkeypatch):
    from territory_desktop.ui.features import export_table

    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _w, _t, text: warned.append(text))
    assert export_table(window, str(tmp_path / "t.ods")) is None
    assert warned and "'t.ods': choose a .csv or .xlsx file name" in warned[0]


def test_menu_key_on_the_table_opens_the_current_rows_menu(window):
    from PySide6.QtGui import QContextMenuEvent

    table = window.territory_panel.table
    window.territory_panel.select_territory("T2")
    window.set_active_territory("T2")
    rect = table.visualRect(table.currentIndex())
    event = QContextMenuEvent(QContextMenuEvent.Reason.Keyboard, rect.center(), table.viewport().mapToGlobal(rect.center()))
    QApplication.sendEvent(table.viewport(), event)
    menu = window.features.table_right_click.menu
    assert menu is not None and _texts(menu)[0] == "Terr T2 (T2)"
    menu.close()


def test_every_table_export_asks_with_one_dialog_listing_the_suggested_kind_first(window, tmp_path, monkeypatch):
    from territory_desktop.ui.features import export_table

    asked = []

    def save_name(_parent, title, suggested, filters):
        asked.append((title, suggested, filters))
        return str(tmp_path / "chosen.csv"), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    out = export_table(window)  # no path: the dialog asks
    title, suggested, filters = asked[0]
    assert title == "Export territory table" and suggested.endswith(".xlsx")
    assert filters == "Excel workbooks (*.xlsx);;CSV files (*.csv)"
    assert out is not None and out.name == "chosen.csv" and len(pd.read_csv(out)) == 3  # T1, T2, T3
    from territory_desktop.ui.dialogs import ask_table_path

    assert ask_table_path(window, "Export route plan", "routes-R1.csv") == str(tmp_path / "chosen.csv")
    assert asked[1][2] == "CSV files (*.csv);;Excel workbooks (*.xlsx)"
