"""Main window: table totals equal independently summed totals, live updates, modified flag,
territory edits with undo, a broken project file gives an error dialog (no crash)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox
from ui_helpers import NY, unit_id

from territory_desktop.ui.main_window import MainWindow
from territory_desktop.ui.territory_model import COLUMNS


@pytest.fixture
def window(qtbot, grid8, tmp_path):
    w = MainWindow(grid8, settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.undo_stack.setClean()  # closing a modified window would ask to save
    w.close()
    w.deleteLater()


def independent_totals(project) -> dict[str, dict[str, float]]:
    """Per territory: units, accounts, workload (52 / weeks * minutes / 60) and potential, by plain loops."""
    plan = project.plan.as_dict()
    out: dict[str, dict[str, float]] = {}
    for t in set(plan.values()):
        out[t] = {"units": sum(1 for v in plan.values() if v == t), "accounts": 0, "workload_hours": 0.0,
                  "potential": 0.0}
    for row in project.accounts.itertuples():
        t = plan[row.unit_id]
        out[t]["accounts"] += 1
        if row.visit_frequency_weeks > 0:
            out[t]["workload_hours"] += 52.0 / row.visit_frequency_weeks * row.service_minutes / 60.0
        out[t]["potential"] += row.potential
    return out


def table_values(window) -> dict[str, dict[str, float]]:
    frame = window.table_model.frame
    return {r.territory_id: {"units": r.units, "accounts": r.accounts, "workload_hours": r.workload_hours,
                             "potential": r.potential} for r in frame.itertuples()}


def assert_totals_match(window, project) -> None:
    expected = independent_totals(project)
    got = table_values(window)
    assert set(got) == set(expected)
    for t, values in expected.items():
        for key, value in values.items():
            assert got[t][key] == pytest.approx(value), (t, key)


def test_table_totals_equal_independent_sums(window, grid8):
    assert window.table_model.rowCount() == 3
    assert window.table_model.columnCount() == len(COLUMNS)
    assert_totals_match(window, grid8)


def test_table_updates_live_after_assignment_and_undo(window, grid8, qtbot):
    window.canvas.select_ids([unit_id(6, j) for j in range(NY)])
    window.assign_selection("T1")
    qtbot.waitUntil(lambda: table_values(window)["T3"]["units"] == 5, timeout=2000)
    assert_totals_match(window, grid8)
    assert window.isWindowModified()
    window.undo_stack.undo()
    qtbot.waitUntil(lambda: table_values(window)["T3"]["units"] == 10, timeout=2000)
    assert_totals_match(window, grid8)
    assert not window.isWindowModified()


def test_a_command_and_its_undo_show_their_totals_before_the_map_repaints(window, grid8, qtbot):
    """No debounce for a discrete command: when push()/undo() return, the table holds (and has painted) the
    new totals, route columns included, while the map's repaint is still queued for the next event-loop
    turn."""
    from territory_desktop.ui.commands import AssignUnitsCommand

    qtbot.wait(50)  # start-up repaints done
    painted = {"table": 0, "map": 0}
    table_paint, map_paint = window.territory_panel.table.paintEvent, window.canvas.paintEvent

    def count(key, paint):
        def wrapped(event):
            painted[key] += 1
            paint(event)
        return wrapped

    window.territory_panel.table.paintEvent = count("table", table_paint)
    window.canvas.paintEvent = count("map", map_paint)
    column = {unit_id(6, j): "T1" for j in range(NY)}
    window.undo_stack.push(AssignUnitsCommand(grid8, column, "column 6"))
    assert table_values(window)["T3"]["units"] == 5  # no event loop has run since the push
    assert_totals_match(window, grid8)
    assert painted == {"table": 1, "map": 0}
    assert not window.table_model.route_pending  # the route columns too
    window.undo_stack.undo()
    assert table_values(window)["T3"]["units"] == 10
    assert painted == {"table": 2, "map": 0}
    qtbot.waitUntil(lambda: painted["map"] > 0, timeout=2000)  # the map follows
    assert_totals_match(window, grid8)


def test_brush_stroke_totals_are_throttled_not_immediate(window, grid8, qtbot):
    from territory_desktop.ui.commands import AssignUnitsCommand

    stroke = window.canvas.begin_stroke()
    window.undo_stack.push(AssignUnitsCommand(grid8, {unit_id(6, 0): "T1"}, stroke=stroke))
    assert table_values(window)["T3"]["units"] == 10  # a stroke refreshes at most every 120 ms
    assert window._totals_timer.isActive() and window._totals_timer.interval() == 120
    window.canvas._stroke = None
    qtbot.waitUntil(lambda: table_values(window)["T3"]["units"] == 9, timeout=2000)
    assert_totals_match(window, grid8)


def test_stroke_totals_refresh_in_the_turn_after_a_map_paint(window, grid8, qtbot):
    """During a stroke the throttled refresh waits for the map's next paint, so the two never stall one
    event-loop turn together (without a paint a 40 ms fallback refreshes)."""
    from territory_desktop.ui.commands import AssignUnitsCommand

    stroke = window.canvas.begin_stroke()
    window.undo_stack.push(AssignUnitsCommand(grid8, {unit_id(6, 0): "T1"}, stroke=stroke))
    qtbot.waitUntil(lambda: window._totals_due, timeout=2000)  # the 120 ms are up
    window._totals_fallback.stop()  # this test paints itself
    assert table_values(window)["T3"]["units"] == 10  # no paint yet: no refresh
    window.canvas.repaint()
    assert table_values(window)["T3"]["units"] == 10  # not in the paint's own turn...
    qtbot.waitUntil(lambda: table_values(window)["T3"]["units"] == 9, timeout=1000)  # ...but right after
    window.canvas._stroke = None
    assert_totals_match(window, grid8)


def test_selection_totals_in_status_bar(window, grid8):
    ids = [unit_id(0, 0), unit_id(1, 0)]
    window.canvas.select_ids(ids)
    acc = grid8.accounts[grid8.accounts["unit_id"].isin(ids)]
    freq = acc["visit_frequency_weeks"].to_numpy(float)
    hours = float(np.sum(np.where(freq > 0, 52.0 / np.where(freq > 0, freq, 1) * acc["service_minutes"] / 60.0, 0)))
    totals = window.selection_totals(ids)
    assert totals["accounts"] == len(acc)
    assert totals["workload_hours"] == pytest.approx(hours)
    assert f"{len(acc):,} accounts" in window.selection_label.text()


def test_territory_edits_undo(window, grid8):
    before = grid8.territories.copy()
    window.run_edit(lambda p: __import__("territory_desktop.services.editing", fromlist=["x"])
                    .merge_territories(p, "T2", ["T3"]), "Merge")
    assert set(grid8.scenario_territories()["territory_id"]) == {"T1", "T2"}
    assert table_values(window)["T2"]["units"] == 25
    assert_totals_match(window, grid8)
    window.undo_stack.undo()
    assert grid8.territories.reset_index(drop=True).equals(before.reset_index(drop=True))
    assert grid8.plan.territory_of(unit_id(7, 0)) == "T3"
    assert window.table_model.rowCount() == 3
    window.undo_stack.redo()
    assert grid8.plan.territory_of(unit_id(7, 0)) == "T2"


def test_refused_edit_shows_a_warning_and_changes_nothing(window, grid8, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    from territory_desktop.services import editing

    window.run_edit(lambda p: editing.recolour_territory(p, "T1", "not-a-colour"), "Recolour")
    assert shown and "not-a-colour" in shown[0]
    assert window.undo_stack.count() == 0


def test_broken_project_file_gives_clear_error_dialog(window, tmp_path, monkeypatch, grid8):
    broken = tmp_path / "broken.gpkg"
    broken.write_bytes(b"this is not a geopackage at all" * 10)
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a: shown.append((title, text)))
    assert window.open_path(str(broken)) is False
    assert len(shown) == 1
    title, text = shown[0]
    assert title == "Cannot open project"
    assert "broken.gpkg" in text
    assert window.project is grid8  # the open project is untouched


def test_ask_before_losing_unsaved_work(window, monkeypatch):
    window.canvas.select_ids([unit_id(0, 0)])
    window.assign_selection("T3")
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[1]) or QMessageBox.StandardButton.Cancel)
    assert window.maybe_save() is False
    assert asked == ["Unsaved changes"]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    assert window.maybe_save() is True


def test_choropleth_and_layers(window, grid8):
    window.apply_choropleth("potential", "quantiles", 4)
    layer = window.canvas.renderer.extras["choropleth"]
    assert sorted(np.unique(layer.classes.index)) == [0, 1, 2, 3]
    assert "Potential" in window.legend.text()
    window.canvas.grab()  # paints without error with choropleth, labels and reps on
    for key in ("heatmap", "accounts"):
        window.canvas.renderer.layer(key).visible = True
    window.canvas.grab()


def test_validation_lists_orphans(window, grid8, qtbot):
    import re

    import pyproj
    from PySide6.QtCore import Qt

    orphan = unit_id(4, 2)  # the middle of T2 (columns 3-5): T2 then has a hole of exactly this unit
    grid8.plan.assign([orphan], None)
    window.validate()
    lst = window.validation.list
    qtbot.waitUntil(lambda: lst.count() > 0, timeout=10000)  # the check runs in a worker
    items = [(lst.item(i).text(), lst.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(lst.count())]
    assert items[0] == ("1 orphan unit(s) (no territory)", [orphan])
    assert len(items) == 2 and items[1][1] == [orphan]
    m = re.fullmatch(r"Terr T2: hole of ([\d,]+) km² \(1 unit\(s\) inside\)", items[1][0])
    assert m, items[1][0]
    unit = grid8.units.set_index("unit_id").geometry[orphan]
    geodesic_km2 = abs(pyproj.Geod(ellps="WGS84").geometry_area_perimeter(unit)[0]) / 1e6
    assert float(m.group(1).replace(",", "")) == pytest.approx(geodesic_km2, abs=1.0)


def test_hierarchy_rolls_up_children(window, grid8):
    from territory_desktop.services import editing
    from territory_desktop.ui.territory_model import ID_ROLE, hierarchy_model

    district = window.run_edit(lambda p: editing.create_territory(p, "Central", level="district"), "New district")
    window.run_edit(lambda p: (editing.set_parent(p, "T1", district), editing.set_parent(p, "T2", district)),
                    "Parent")
    model = hierarchy_model(grid8)
    rows = {model.item(r, 0).data(ID_ROLE): r for r in range(model.rowCount())}
    assert set(rows) == {district, "T3"}  # T1 and T2 sit under the district
    item = model.item(rows[district], 0)
    assert {item.child(r, 0).data(ID_ROLE) for r in range(item.rowCount())} == {"T1", "T2"}
    expected = independent_totals(grid8)
    units = expected["T1"]["units"] + expected["T2"]["units"]
    accounts = expected["T1"]["accounts"] + expected["T2"]["accounts"]
    assert model.item(rows[district], 2).text() == f"{units:,}"
    assert model.item(rows[district], 3).text() == f"{accounts:,}"


def test_background_open_of_broken_file_reports_error(window, tmp_path, monkeypatch, qtbot):
    broken = tmp_path / "bad.gpkg"
    broken.write_bytes(b"\x00" * 100)
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a: shown.append(text))
    window.open_path_async(str(broken))
    qtbot.waitUntil(lambda: bool(shown), timeout=10000)
    assert "bad.gpkg" in shown[0]


def test_layer_panel_controls_visibility_opacity_and_order(window):
    from PySide6.QtCore import Qt

    panel, renderer = window.layer_panel, window.canvas.renderer
    keys = [panel.list.item(r).data(Qt.ItemDataRole.UserRole) for r in range(panel.list.count())]
    assert keys == [layer.key for layer in reversed(renderer.layers)]  # top of the list is drawn last
    row = keys.index("heatmap")
    panel.list.item(row).setCheckState(Qt.CheckState.Checked)
    assert renderer.layer("heatmap").visible
    panel.list.setCurrentRow(row)
    panel.opacity.setValue(40)
    assert renderer.layer("heatmap").opacity == pytest.approx(0.4)
    order = [layer.key for layer in renderer.layers]
    panel._move(-1)  # one step up the list = drawn one step later
    new_order = [layer.key for layer in renderer.layers]
    i = order.index("heatmap")
    assert new_order[i + 1] == "heatmap" and new_order[i] == order[i + 1]


def test_save_as_then_save_marks_clean_and_reopens_same_plan(window, grid8, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    window.canvas.select_ids([unit_id(0, 0)])
    window.assign_selection("T3")
    assert window.isWindowModified()
    target = tmp_path / "saved.gpkg"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    assert window.save_as() is True
    assert not window.isWindowModified()
    assert str(target.resolve()) in window.recent_files()
    assert window.open_path(str(target))
    assert window.project.plan.as_dict() == grid8.plan.as_dict()
    assert window.project.plan.territory_of(unit_id(0, 0)) == "T3"


def test_move_accounts_is_an_undoable_override(window, grid8, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    window.canvas.select_ids([unit_id(0, 0)])
    window.set_active_territory("T3")
    prefilled = []

    def fake(parent, title, label, text=""):
        prefilled.append(text)
        return "A000", True

    monkeypatch.setattr(QInputDialog, "getText", fake)
    window.move_account()
    assert prefilled == ["A000, A001"]  # the accounts of the selected unit
    assert grid8.plan.account_overrides() == {"A000": "T3"}
    window._refresh_totals()
    assert_totals_after_override = table_values(window)
    expected = independent_totals(grid8)
    acc = grid8.accounts.set_index("account_id").loc["A000"]
    hours = 52.0 / acc["visit_frequency_weeks"] * acc["service_minutes"] / 60.0 if acc["visit_frequency_weeks"] else 0
    assert assert_totals_after_override["T3"]["accounts"] == expected["T3"]["accounts"] + 1
    assert assert_totals_after_override["T1"]["workload_hours"] == pytest.approx(expected["T1"]["workload_hours"] - hours)
    window.undo_stack.undo()
    assert grid8.plan.account_overrides() == {}


def test_dropped_csv_imports_accounts_and_marks_modified(window, grid8, tmp_path, monkeypatch):
    from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QInputDialog

    csv = tmp_path / "accounts.csv"
    csv.write_text("account_id,name,lat,lon,potential\nX1,One,38.25,-99.75,100\nX2,Two,40.25,-96.25,250\n")
    from territory_desktop.ui.import_dialogs import ImportModeDialog

    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("accounts", True))
    monkeypatch.setattr(ImportModeDialog, "exec", lambda self: self.set_mode("replace") or 1)
    shown = []
    monkeypatch.setattr(QMessageBox, "exec", lambda self: shown.append(self.text()))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(csv))])
    event = QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(QPoint(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    enter.setAccepted(False)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    window.dropEvent(event)
    assert shown and "2 accounts" in shown[0] and "replace: 2 added, 0 updated, 80 removed" in shown[0]
    assert sorted(window.project.accounts["account_id"]) == ["X1", "X2"]
    owners = dict(zip(window.project.accounts["account_id"], window.project.accounts["unit_id"], strict=True))
    assert owners == {"X1": unit_id(0, 0), "X2": unit_id(7, 4)}
    assert window.isWindowModified()
    assert table_values(window)["T3"]["accounts"] == 1 and table_values(window)["T1"]["potential"] == 100


def test_account_dots_take_the_owner_colour(window, grid8):
    import pyproj
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QColor

    window.canvas.renderer.layer("accounts").visible = True
    window.canvas.renderer.layer("labels").visible = False
    window._layers_changed()
    acc = grid8.accounts.set_index("account_id").loc["A000"].geometry
    x, y = pyproj.Transformer.from_crs("EPSG:4326", window.canvas.scene.crs, always_xy=True).transform(acc.x, acc.y)
    p = window.canvas.to_widget(QPointF(x, -y))

    def colour_at() -> QColor:
        image = window.canvas.grab().toImage()
        return image.pixelColor(round(p.x() * image.devicePixelRatio()), round(p.y() * image.devicePixelRatio()))

    def near(c: QColor, hex_colour: str) -> bool:
        e = QColor(hex_colour)
        return max(abs(c.red() - e.red()), abs(c.green() - e.green()), abs(c.blue() - e.blue())) <= 40

    assert near(colour_at(), "#1f77b4")  # T1 owns it geographically
    window.undo_stack.push(__import__("territory_desktop.ui.commands", fromlist=["x"])
                           .AccountOverrideCommand(grid8, {"A000": "T3"}))
    window._refresh_totals()
    assert near(colour_at(), "#2ca02c")  # now T3's, drawn in T3's colour inside T1


def test_set_parent_and_rep_from_the_menu(window, grid8, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    from territory_desktop.services import editing

    district = window.run_edit(lambda p: editing.create_territory(p, "North", level="district"), "New district")
    window.territory_panel.select_territory("T2")
    monkeypatch.setattr(QInputDialog, "getItem", lambda parent, title, label, items, *a: (
        next(i for i in items if district in i) if title == "Set parent" else "Bob (R2)", True))
    window.set_parent()
    window.set_rep()
    terr = grid8.territories.set_index("territory_id")
    assert terr.loc["T2", "parent_id"] == district and terr.loc["T2", "rep_id"] == "R2"
    assert window.table_model.frame.set_index("territory_id").loc["T2", "rep"] == "Bob"
    window.undo_stack.undo()
    assert pd.isna(grid8.territories.set_index("territory_id").loc["T2", "rep_id"])


def test_highlight_follows_the_territory_without_rebuilding_it_when_unchanged(window, grid8):
    """The highlighted territory's outline follows its shape as the map draws it, without a rebuild per
    refresh (each refresh of a stroke used to dissolve it again and repaint the stroke's area)."""
    window.set_active_territory("T1")
    renderer, scene = window.canvas.renderer, window.canvas.scene
    overlay = renderer.overlays["territory"]
    level = scene.level_for(window.canvas.px)
    before = overlay.resolve(scene, level).boundingRect()
    window._refresh_totals()
    assert renderer.overlays["territory"] is overlay
    grid8.plan.assign_many({unit_id(3, 0): "T1"})
    window._refresh_totals()
    assert renderer.overlays["territory"] is overlay  # the same overlay...
    grown = overlay.resolve(scene, level).boundingRect()
    assert grown.width() > before.width()  # ...outlines the grown territory
    assert overlay.resolve(scene, level) is scene.territory_path("T1", level)  # the map's own cached path
    window.set_active_territory("T2")
    assert renderer.overlays["territory"].resolve(scene, level) is scene.territory_path("T2", level)


def test_totals_refresh_moves_the_reassigned_units_and_a_timer_with_nothing_owed_does_nothing(window, grid8,
                                                                                              monkeypatch):
    """The window hands the model the units reassigned since its last refresh (the live snapshot moves
    just those); a timer's refresh that nothing asked for since (the stroke's post-paint timer and its
    fallback could both fire) does not run, so it cannot recompute everything from scratch; an account
    override asks for a full recompute."""
    from territory_desktop.ui.commands import AccountOverrideCommand

    window._refresh_totals()
    calls = []
    original = window.table_model.refresh
    monkeypatch.setattr(window.table_model, "refresh", lambda **kw: (calls.append(kw), original(**kw)))
    window._refresh_owed()
    assert calls == []
    grid8.plan.assign_many({unit_id(3, 0): "T1", unit_id(3, 1): "T1"})
    window._refresh_owed()
    assert calls == [{"defer_route": True, "units": {unit_id(3, 0), unit_id(3, 1)}}]
    assert window.table_model.frame.set_index("territory_id").loc["T1", "units"] == 3 * NY + 2
    calls.clear()
    window.undo_stack.push(AccountOverrideCommand(grid8, {grid8.accounts["account_id"].iloc[0]: "T3"}))
    window._refresh_owed()
    assert calls and calls[-1]["units"] is None
