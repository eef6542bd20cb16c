"""The validation overlay and list follow the plan (cleared at once on a change, re-checked after it), and a
change that leaves a territory in more pieces says so in the status bar."""

from __future__ import annotations

from test_canvas import pixel, widget_point
from ui_helpers import centre_lonlat, unit_id

from territory_desktop.ui.commands import AssignUnitsCommand


def items(window) -> list[str]:
    return [window.validation.list.item(i).text() for i in range(window.validation.list.count())]


def test_overlay_and_list_follow_every_plan_change(open_window, grid8, qtbot):
    window = open_window(grid8)
    overlays = window.canvas.renderer.overlays
    u = unit_id(1, 2)  # inside Terr T1 (blue), surrounded by T1 units
    window.undo_stack.push(AssignUnitsCommand(grid8, {u: None}))
    window.validate()
    qtbot.waitUntil(lambda: any("orphan" in t for t in items(window)), timeout=10000)
    at = widget_point(window.canvas, *centre_lonlat(1, 2))
    red = pixel(window.canvas, at)
    assert red.red() > red.blue() + 60  # the orphan under the red overlay

    window.undo_stack.undo()  # the unit is back in T1: the old problems must not stay on the map
    assert "validation" not in overlays and items(window) == []
    qtbot.waitUntil(lambda: window.validation.summary.text().startswith("No problems"), timeout=10000)
    blue = pixel(window.canvas, at)
    assert blue.blue() > blue.red() + 60  # plain T1 fill again

    window.undo_stack.push(AssignUnitsCommand(grid8, {u: "T3"}))  # a new problem after the check
    assert "validation" not in overlays
    qtbot.waitUntil(lambda: any("Terr T3: detached piece of 1 unit" in t for t in items(window)), timeout=10000)
    assert any("Terr T1: hole" in t for t in items(window))
    assert not overlays["validation"].path.isEmpty()


def test_a_change_that_splits_a_territory_is_reported(open_window, grid8, qtbot):
    window = open_window(grid8)
    view = window.validation_view
    qtbot.waitUntil(lambda: view.adjacency is not None, timeout=10000)
    window.undo_stack.push(AssignUnitsCommand(grid8, {unit_id(1, 2): "T3"}))
    qtbot.waitUntil(lambda: "pieces" in window.statusBar().currentMessage(), timeout=3000)
    message = window.statusBar().currentMessage()
    assert "Terr T3 is now in 2 pieces (detached: 1 unit)" in message
    window.statusBar().clearMessage()
    window.undo_stack.push(AssignUnitsCommand(grid8, {unit_id(0, 0): "T1"}))  # no change in pieces: no word
    qtbot.wait(400)
    assert window.statusBar().currentMessage() == ""
