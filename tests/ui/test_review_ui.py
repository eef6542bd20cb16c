"""Review flow, comments and audit log in the window: a frozen scenario refuses the brush, account moves
and territory edits; a draft's brush stroke reaches the audit log with the user; comments show on the map."""

from __future__ import annotations

import pyproj
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QMessageBox
from ui_helpers import centre_lonlat, drag, unit_id

from territory_desktop.services import editing
from territory_desktop.services.project import open_project, save_project
from territory_desktop.storage.audit import read_audit_file
from territory_desktop.ui.commands import AccountOverrideCommand


def widget_point(canvas, lon: float, lat: float) -> QPointF:
    """Where a lon/lat lies on the widget, computed with pyproj independently of the canvas's scene."""
    x, y = pyproj.Transformer.from_crs("EPSG:4326", canvas.scene.crs, always_xy=True).transform(lon, lat)
    return canvas.to_widget(QPointF(x, -y))


@pytest.fixture
def window(open_window, grid8, tmp_path, monkeypatch):
    monkeypatch.setenv("TERRITORY_DESKTOP_USER", "dana")
    path = tmp_path / "g.gpkg"
    save_project(grid8, path)
    return open_window(open_project(path))


def _brush_row(w, row: int, territory: str) -> None:
    canvas = w.canvas
    canvas.set_tool("brush")
    canvas.active_territory = territory
    canvas.brush_radius_px = 3
    drag(canvas, [widget_point(canvas, *centre_lonlat(i, row)) for i in (0, 1, 2)])


def test_a_frozen_scenario_refuses_edits_in_the_window(window, monkeypatch):
    w = window
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warnings.append(a) or QMessageBox.StandardButton.Ok)
    before = w.project.plan.as_dict()
    w.actions_["review_propose"].trigger()
    switcher = w.features.scenarios
    assert switcher.itemText(0).endswith("[proposed]")
    assert not w.actions_["review_propose"].isEnabled() and w.actions_["review_approve"].isEnabled()
    _brush_row(w, 1, "T2")
    assert w.project.plan.as_dict() == before and w.undo_stack.count() == 0
    assert "is proposed (by dana" in w.statusBar().currentMessage()
    assert not warnings  # no dialog in the middle of a stroke
    w.undo_stack.push(AccountOverrideCommand(w.project, {"A000": "T3"}))
    assert w.project.plan.account_overrides() == {} and len(warnings) == 1
    assert w.run_edit(lambda p: editing.rename_territory(p, "T1", "Changed"), "Rename") is None
    assert "is proposed" in warnings[-1][2] and "Changed" not in set(w.project.territories["name"])


def test_a_draft_brush_stroke_is_audited_with_the_user(window, monkeypatch):
    w = window
    w.actions_["review_propose"].trigger()
    w.actions_["review_send_back"].trigger()
    assert "[" not in w.features.scenarios.itemText(0)  # a draft is unmarked
    _brush_row(w, 1, "T2")
    assert w.save()
    rows = read_audit_file(w.project.path)
    moves = rows[rows["action"] == "assign unit"]
    assert sorted(moves["entity_id"]) == sorted(unit_id(i, 1) for i in (0, 1, 2))
    assert set(moves["user"]) == {"dana"} and set(moves["old_territory_id"]) == {"T1"}
    assert set(moves["territory_id"]) == {"T2"} and set(moves["scenario_id"]) == {"base"}
    reviews = rows[rows["action"].str.startswith("review")]
    assert list(reviews["details"]) == ["scenario base: draft -> proposed", "scenario base: proposed -> draft"]


def test_a_comment_marks_its_territory_on_the_map(window):
    w = window
    panel = w.dock_widget("comments")
    panel.select("territory", "T3")
    cid = panel.post("@Ann is T3 too small?")
    assert cid and panel.open_list.count() == 1
    assert w.project.comments.set_index("comment_id").loc[cid, "mentions"] == '["R1"]'  # Ann is rep R1
    markers = w.canvas.renderer.extras["comments"]
    assert markers.counts == [1]
    anchor = w.canvas.scene.label_point("T3")
    p = w.canvas.to_widget(QPointF(*anchor))
    image = w.canvas.grab().toImage()
    colour = QColor(image.pixel(int(p.x() + 1), int(p.y() - 25)))  # the bubble's corner, above the label
    assert abs(colour.red() - 0xE8) < 30 and abs(colour.green() - 0x59) < 30 and colour.blue() < 60
    panel.toggle_resolved()
    assert w.canvas.renderer.extras["comments"].counts == [] and panel.open_list.count() == 0


def test_the_name_set_in_the_window_is_recorded(window):
    from territory_desktop.ui.review_ui import set_user_name, take_step

    set_user_name(window, "Erin Planner")
    row = take_step(window, "propose")
    assert row["user"] == "Erin Planner" and window.settings.value("user/name") == "Erin Planner"


def test_a_marked_up_user_name_is_shown_as_text(window):
    from PySide6.QtCore import Qt

    from territory_desktop.ui.review_ui import set_user_name, take_step

    set_user_name(window, "<img src='x'>Eve")
    take_step(window, "propose")
    tip = window.features.scenarios.itemData(0, Qt.ItemDataRole.ToolTipRole)
    assert "&lt;img src='x'&gt;Eve" in tip and "<img" not in tip


def test_the_edit_menus_undo_refuses_a_quota_save_of_a_since_frozen_scenario(window, monkeypatch):
    from territory_desktop.services import review
    from territory_desktop.services.quotas import plan_quotas
    from territory_desktop.ui.quota_dialog import save_quota_set

    w = window
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warnings.append(a) or QMessageBox.StandardButton.Ok)
    result = plan_quotas(w.project, 900.0, "even", start="2027-01")
    assert save_quota_set(w, w.project, result) == len(w.project.scenario_territories())
    review.transition(w.project, "base", "propose")  # not through take_step: the save stays on the stack
    w.actions_["undo"].trigger()
    assert len(w.project.quotas) == len(w.project.scenario_territories()) and w.undo_stack.index() == 1
    assert "Undo of 'Set quotas 2027-01..2027-12 (even)' refused" in warnings[-1][2]
    assert "is proposed (by dana" in warnings[-1][2]
    review.transition(w.project, "base", "send-back")
    w.actions_["undo"].trigger()
    assert len(w.project.quotas) == 0 and w.undo_stack.index() == 0
    w.actions_["redo"].trigger()
    assert len(w.project.quotas) == len(w.project.scenario_territories())
