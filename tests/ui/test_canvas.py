"""Canvas tools change the model as expected; undo/redo round trips; pixels at known map points."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from ui_helpers import COLOURS, NX, NY, centre_lonlat, click, column_territory, drag, unit_id

from territory_desktop.ui.canvas import MapCanvas
from territory_desktop.ui.renderer import MapRenderer
from territory_desktop.ui.scene import MapScene


@pytest.fixture
def canvas(qtbot, grid8):
    c = MapCanvas(grid8)
    qtbot.addWidget(c)
    c.resize(800, 500)
    c.show()
    qtbot.waitExposed(c)
    c.zoom_full()
    return c


def widget_point(canvas: MapCanvas, lon: float, lat: float) -> QPointF:
    """Where a lon/lat lies on the widget, computed with pyproj independently of the canvas's scene."""
    x, y = pyproj.Transformer.from_crs("EPSG:4326", canvas.scene.crs, always_xy=True).transform(lon, lat)
    return canvas.to_widget(QPointF(x, -y))


def pixel(canvas: MapCanvas, p: QPointF) -> QColor:
    image = canvas.grab().toImage()
    dpr = image.devicePixelRatio()
    return image.pixelColor(int(p.x() * dpr), int(p.y() * dpr))


def expected_fill(hex_colour: str, opacity: float = 0.85, background: str = "#f4f6f8") -> QColor:
    c, b = QColor(hex_colour), QColor(background)
    mix = [round(opacity * a + (1 - opacity) * z) for a, z in ((c.red(), b.red()), (c.green(), b.green()),
                                                               (c.blue(), b.blue()))]
    return QColor(*mix)


def close(a: QColor, b: QColor, tol: int = 6) -> bool:
    return max(abs(a.red() - b.red()), abs(a.green() - b.green()), abs(a.blue() - b.blue())) <= tol


def test_display_crs_is_us_albers_and_map_not_stretched(canvas):
    import pyproj

    assert canvas.scene.crs == "EPSG:5070"
    # the drawn offset between two corners of a unit has the same shape as in US Albers metres (no
    # stretching), computed here with pyproj; north is up
    a = widget_point(canvas, -100.0, 38.0)
    b = widget_point(canvas, -99.5, 38.5)
    to = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:5070", always_xy=True)
    (x1, x2), (y1, y2) = to.transform([-100.0, -99.5], [38.0, 38.5])
    assert b.y() < a.y()
    assert abs(b.y() - a.y()) / abs(b.x() - a.x()) == pytest.approx(abs(y2 - y1) / abs(x2 - x1), rel=0.01)


def test_pixels_show_territory_colours_at_unit_centres(canvas):
    for i in range(NX):
        p = widget_point(canvas, *centre_lonlat(i, 2))
        p += QPointF(0, 12)  # off the territory labels, still inside the unit
        assert close(pixel(canvas, p), expected_fill(COLOURS[column_territory(i)])), i


def test_renderer_paints_on_any_qpainter(grid8, qapp):
    scene = MapScene(grid8)
    renderer = MapRenderer(scene)
    image = QImage(400, 250, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor("white"))
    x0, y0, x1, y1 = scene.extent
    painter = QPainter(image)
    renderer.paint(painter, QRectF(x0, y0, x1 - x0, y1 - y0), QRectF(0, 0, 400, 250))
    painter.end()
    # the extent fits the image; the unit in column 7, row 0 (T3) is at the lower right
    x, y = pyproj.Transformer.from_crs("EPSG:4326", scene.crs, always_xy=True).transform(*centre_lonlat(7, 0))
    sx = 400 / (x1 - x0)
    sy = 250 / (y1 - y0)
    s = min(sx, sy)
    px = 200 + (x - (x0 + x1) / 2) * s
    py = 125 + (-y - (y0 + y1) / 2) * s
    assert close(image.pixelColor(int(px), int(py)), expected_fill(COLOURS["T3"]))


def test_click_select_and_modifiers(canvas):
    canvas.set_tool("select")
    click(canvas, widget_point(canvas, *centre_lonlat(2, 3)))
    assert canvas.selected_unit_ids() == [unit_id(2, 3)]
    click(canvas, widget_point(canvas, *centre_lonlat(5, 1)), Qt.KeyboardModifier.ShiftModifier)
    assert sorted(canvas.selected_unit_ids()) == sorted([unit_id(2, 3), unit_id(5, 1)])
    click(canvas, widget_point(canvas, *centre_lonlat(2, 3)), Qt.KeyboardModifier.ControlModifier)
    assert canvas.selected_unit_ids() == [unit_id(5, 1)]


def test_rectangle_select_matches_boxes_in_rectangle(canvas):
    canvas.set_tool("rect")
    # from the centre of (1, 1) to the centre of (3, 2): units of columns 1..3 and rows 1..2
    drag(canvas, [widget_point(canvas, *centre_lonlat(1, 1)), widget_point(canvas, *centre_lonlat(2, 2)),
                  widget_point(canvas, *centre_lonlat(3, 2))])
    expected = {unit_id(i, j) for i in (1, 2, 3) for j in (1, 2)}
    assert set(canvas.selected_unit_ids()) == expected


def test_lasso_selects_units_whose_interior_point_is_inside(canvas):
    canvas.set_tool("lasso")
    corners = [(-99.6, 38.1), (-98.1, 38.1), (-98.1, 39.4), (-99.6, 39.4)]  # around columns 1..3, rows 0..2
    drag(canvas, [widget_point(canvas, *c) for c in corners])
    poly = shapely.Polygon(corners)
    expected = {unit_id(i, j) for i in range(NX) for j in range(NY) if poly.contains(shapely.Point(centre_lonlat(i, j)))}
    assert expected and set(canvas.selected_unit_ids()) == expected


def test_brush_stroke_is_one_undo_step_and_round_trips(canvas, grid8):
    canvas.set_tool("brush")
    canvas.active_territory = "T2"
    canvas.brush_radius_px = 3
    before = grid8.plan.as_dict()
    row = 1
    points = [widget_point(canvas, *centre_lonlat(i, row)) for i in (0, 1, 2)]
    path = [points[0] + (points[1] - points[0]) * t / 5 for t in range(5)] + \
           [points[1] + (points[2] - points[1]) * t / 5 for t in range(6)]
    drag(canvas, path)
    painted = {unit_id(i, row) for i in (0, 1, 2)}
    after = grid8.plan.as_dict()
    assert {u for u in after if after[u] != before[u]} == painted
    assert all(after[u] == "T2" for u in painted)
    assert canvas.undo_stack.count() == 1  # one stroke, one step
    p = widget_point(canvas, *centre_lonlat(1, row))
    assert close(pixel(canvas, p), expected_fill(COLOURS["T2"]))
    canvas.undo_stack.undo()
    assert grid8.plan.as_dict() == before
    assert close(pixel(canvas, p), expected_fill(COLOURS["T1"]))
    canvas.undo_stack.redo()
    assert grid8.plan.as_dict() == after


def test_brush_leaves_locked_units_alone(canvas, grid8):
    locked = unit_id(1, 1)
    grid8.units.loc[grid8.units["unit_id"] == locked, "locked"] = True
    canvas.refresh_locks()
    canvas.set_tool("brush")
    canvas.active_territory = "T3"
    canvas.brush_radius_px = 3
    drag(canvas, [widget_point(canvas, *centre_lonlat(i, 1)) for i in (0, 1, 2)])
    assert grid8.plan.territory_of(locked) == "T1"
    assert grid8.plan.territory_of(unit_id(0, 1)) == "T3"


def test_assign_selection_and_incremental_dissolve(canvas, grid8):
    canvas.select_ids([unit_id(6, j) for j in range(NY)])
    assert canvas.assign_selection("T2") == NY
    # T2 now covers columns 3..6: its dissolved geometry has the area of those 20 boxes (projected)
    boxes = [shapely.box(-100 + i * 0.5, 38 + j * 0.5, -100 + (i + 1) * 0.5, 38 + (j + 1) * 0.5)
             for i in (3, 4, 5, 6) for j in range(NY)]
    t = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:5070", always_xy=True)
    expected = sum(shapely.transform(b, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))).area
                   for b in boxes)
    assert canvas.scene.territory_geometry("T2").area == pytest.approx(expected, rel=1e-6)
    assert len(shapely.get_parts(canvas.scene.territory_geometry("T3"))) == 1
    canvas.undo_stack.undo()
    assert {grid8.plan.territory_of(unit_id(6, j)) for j in range(NY)} == {"T3"}


def test_zoom_keeps_anchor_and_full_extent_shows_everything(canvas):
    anchor = QPointF(300, 200)
    before = canvas.to_map(anchor)
    canvas.zoom_by(2.0, anchor)
    after = canvas.to_map(anchor)
    assert (before - after).manhattanLength() < 1e-6 * canvas.px * 1000
    canvas.zoom_full()
    x0, y0, x1, y1 = canvas.scene.extent
    assert canvas.extent().contains(QRectF(x0, y0, x1 - x0, y1 - y0))
    canvas.zoom_to_territory("T3")
    corners = [canvas.to_map(widget_point(canvas, lon, lat)) for lon in (-97.0, -96.0) for lat in (38.0, 40.5)]
    assert all(canvas.extent().contains(c) for c in corners)
    top, bottom = widget_point(canvas, -96.5, 40.5).y(), widget_point(canvas, -96.5, 38.0).y()
    assert (bottom - top) == pytest.approx(canvas.height() / 1.3, rel=0.02)


def test_pan_tool_drags_the_map(canvas):
    canvas.set_tool("pan")
    c0 = QPointF(canvas.center)
    drag(canvas, [QPointF(400, 250), QPointF(450, 260), QPointF(500, 270)])
    assert canvas.center.x() == pytest.approx(c0.x() - 100 * canvas.px)
    assert canvas.center.y() == pytest.approx(c0.y() - 20 * canvas.px)


def test_partial_repaint_matches_full_paint(grid8, qapp):
    """A paint clipped to a rectangle (what a stroke repaints) gives the pixels of a full paint there."""
    from PySide6.QtCore import QRect

    scene = MapScene(grid8)
    renderer = MapRenderer(scene)
    x0, y0, x1, y1 = scene.extent
    extent, target = QRectF(x0, y0, x1 - x0, y1 - y0), QRectF(0, 0, 600, 400)
    full = QImage(600, 400, QImage.Format.Format_ARGB32_Premultiplied)
    part = QImage(600, 400, QImage.Format.Format_ARGB32_Premultiplied)
    part.fill(QColor("black"))
    clip = QRect(170, 90, 200, 150)
    for image, c in ((full, None), (part, clip)):
        painter = QPainter(image)
        if c is not None:
            painter.setClipRect(c)
        renderer.paint(painter, extent, target)
        painter.end()
    a, b = full.copy(clip), part.copy(clip)
    differing = sum(a.pixel(x, y) != b.pixel(x, y) for x in range(0, 200, 2) for y in range(0, 150, 2))
    assert differing <= 0.01 * 100 * 75  # antialiased lines crossing the clip edge may differ slightly
    assert part.pixelColor(10, 10) == QColor("black")  # nothing painted outside the clip


def test_incremental_dissolve_matches_a_fresh_union_after_many_changes(grid8):
    rng = np.random.default_rng(5)
    scene = MapScene(grid8)
    ids = scene.unit_ids.tolist()
    for _ in range(25):  # strokes, orphaning, and a territory that is not in the table yet
        chosen = rng.choice(ids, size=int(rng.integers(1, 6)), replace=False).tolist()
        target = [None, "T1", "T2", "T3", "T9"][int(rng.integers(5))]
        grid8.plan.assign(chosen, target)
        scene.apply_assignment(chosen)
    plan = grid8.plan.as_dict()
    for key in (None, "T1", "T2", "T3", "T9"):
        members = [i for i, u in enumerate(ids) if plan[u] == key]
        geom = scene.territory_geometry(key)
        if not members:
            assert geom is None, key
            continue
        expected = shapely.union_all(scene.geoms[members])
        assert shapely.symmetric_difference(geom, expected).area < 1e-6 * expected.area, key


def test_labels_hold_their_places_during_a_stroke_and_follow_the_shapes_after(canvas, grid8, qtbot):
    """Placing every label again after each mouse move stalled a stroke: during it the layout stays, at
    its end the labels are placed on the new shapes (T1's inside what is left of it)."""
    from PySide6.QtCore import QEvent
    from ui_helpers import _send

    renderer, scene = canvas.renderer, canvas.scene

    def layout() -> dict:
        return {label.key: label for label in renderer._label_layout(canvas.px, scene.level_for(canvas.px))}

    canvas.set_tool("brush")
    canvas.active_territory = "T2"
    canvas.brush_radius_px = 3
    before = layout()
    points = [widget_point(canvas, *centre_lonlat(i, j)) for i in (1, 2) for j in range(NY)]  # T1 but column 0
    left, held = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    _send(canvas, QEvent.Type.MouseButtonPress, points[0], left, left)
    for p in points[1:]:
        _send(canvas, QEvent.Type.MouseMove, p, held, left)
    assert {u for u, t in grid8.plan.as_dict().items() if t == "T1"} == {unit_id(0, j) for j in range(NY)}
    canvas.repaint()
    assert layout()["T1"] is before["T1"]  # the shapes changed, the layout did not
    _send(canvas, QEvent.Type.MouseButtonRelease, points[-1], left, held)
    qtbot.waitUntil(lambda: not renderer.hold_labels, timeout=1000)
    after = layout()["T1"]
    assert after is not before["T1"]
    column0 = shapely.union_all([scene.geoms[scene.index_of[unit_id(0, j)]] for j in range(NY)])
    assert column0.contains(shapely.Point(after.centre))
    assert not column0.contains(shapely.Point(before["T1"].centre))


def test_brush_step_repaints_every_pixel_that_changed(canvas, grid8):
    """A brush step repaints only the reassigned units' box (plus an outline's width): the old picture
    with just those areas painted again equals a full paint of the new plan."""
    from PySide6.QtCore import QRect

    canvas.set_tool("brush")
    canvas.active_territory = "T1"
    canvas.brush_radius_px = 3.0
    stroke = canvas.begin_stroke()  # labels held, as during a drag

    def render(clips: list[QRect] | None = None, image: QImage | None = None) -> QImage:
        image = image or QImage(canvas.size(), QImage.Format.Format_ARGB32_Premultiplied)
        for clip in clips or [None]:
            painter = QPainter(image)
            if clip is not None:
                painter.setClipRect(clip)
            canvas.renderer.paint(painter, canvas.extent(), QRectF(canvas.rect()))
            painter.end()
        return image

    before = render()
    asked: list[QRect] = []
    canvas.update = lambda *args: asked.extend(a for a in args if isinstance(a, QRect))
    lon, lat = centre_lonlat(4, 2)
    assert canvas.brush_at(widget_point(canvas, lon, lat), stroke) == 1
    assert asked and all(r.width() < canvas.width() / 3 for r in asked)  # not the territories' extent
    patched, full = render(asked, before.copy()), render()
    w, h = canvas.width(), canvas.height()
    differing = sum(patched.pixel(x, y) != full.pixel(x, y) for x in range(0, w, 2) for y in range(0, h, 2))
    changed = sum(before.pixel(x, y) != full.pixel(x, y) for x in range(0, w, 2) for y in range(0, h, 2))
    assert changed > 100 and differing <= 0.01 * changed
    del canvas.update
    canvas.end_stroke()
