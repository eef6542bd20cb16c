"""How the map and the window look: automatic colours, a label for every territory (inside or with a
leader line), the selection visible on every fill colour, the default layout at 1600x1000 and its
memory, the Routes layer and the tool name at start-up."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from PySide6.QtCore import QPointF, QRectF, QSettings, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from ui_helpers import NX, NY, column_territory, unit_id

from territory_desktop.engine.colouring import PALETTE
from territory_desktop.services import editing
from territory_desktop.ui.map_labels import layout_labels
from territory_desktop.ui.renderer import MapRenderer, selection_overlay
from territory_desktop.ui.scene import MapScene


def render_full(renderer, scene, w: int, h: int):
    """The whole scene painted on a white ``w`` x ``h`` image; returns (image, drawing->pixel transform)."""
    from territory_desktop.ui.renderer import view_transform

    x0, y0, x1, y1 = scene.extent
    extent, target = QRectF(x0, y0, x1 - x0, y1 - y0), QRectF(0, 0, w, h)
    image = QImage(w, h, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    renderer.paint(painter, extent, target)
    painter.end()
    return image, view_transform(extent, target)


def test_auto_colour_gives_touching_territories_different_colours(grid8):
    grid8.territories["colour"] = "#4e79a7"  # everything one colour, as a badly coloured file might be
    colours = editing.auto_colour_territories(grid8)
    assert set(colours) == {"T1", "T2", "T3"}
    assert len(set(colours.values())) == 3 and set(colours.values()) <= set(PALETTE)
    rows = grid8.territories.set_index("territory_id")["colour"]
    assert rows.to_dict() == colours


def _measure(renderer):
    def measure(text, size):
        image = renderer._label_image(text, 1.0, size)
        return float(image.width()), float(image.height())
    return measure


def test_every_territory_gets_a_label_inside_or_with_a_leader(grid8, qapp):
    grid8.plan.assign([unit_id(i, j) for i in (6, 7) for j in range(NY)], "T2")
    grid8.plan.assign([unit_id(7, 4)], "T3")  # T3 is one unit, too small for its name
    grid8.territories.loc[grid8.territories["territory_id"] == "T3", "name"] = "A rather long territory name"
    scene = MapScene(grid8)
    renderer = MapRenderer(scene)
    x0, y0, x1, y1 = scene.extent
    px = max((x1 - x0) / 700, (y1 - y0) / 450)
    level = scene.level_for(px)
    labels = {label.key: label for label in layout_labels(scene, scene.names, _measure(renderer), px, level)}
    assert set(labels) == {"T1", "T2", "T3"}
    for key in ("T1", "T2"):  # inside: the whole box lies in the territory
        label = labels[key]
        assert label.anchor is None
        w, h = label.box
        cx, cy = label.centre
        box = shapely.box(cx - w / 2 * px, cy - h / 2 * px, cx + w / 2 * px, cy + h / 2 * px)
        assert scene.territory_geometry(key).contains(box)
    t3 = labels["T3"]
    assert t3.anchor is not None and scene.territory_geometry("T3").contains(shapely.Point(*t3.anchor))
    boxes = [shapely.box(lb.centre[0] - lb.box[0] / 2 * px, lb.centre[1] - lb.box[1] / 2 * px,
                         lb.centre[0] + lb.box[0] / 2 * px, lb.centre[1] + lb.box[1] / 2 * px) for lb in labels.values()]
    assert all(not a.intersects(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_leader_line_is_drawn(grid8, qapp):
    grid8.plan.assign([unit_id(7, 4)], "T3")
    grid8.plan.assign([unit_id(i, j) for i in (6, 7) for j in range(NY) if (i, j) != (7, 4)], "T2")
    grid8.territories.loc[grid8.territories["territory_id"] == "T3", "name"] = "A rather long territory name"
    scene = MapScene(grid8)
    renderer = MapRenderer(scene)
    for layer in renderer.layers:
        layer.visible = layer.key in ("labels",)
    image, t = render_full(renderer, scene, 700, 450)
    label = next(lb for lb in renderer._label_layout(1.0 / t.m11(), scene.level_for(1.0 / t.m11())) if lb.key == "T3")
    a = t.map(QPointF(*label.anchor))
    assert QColor(image.pixel(int(a.x()), int(a.y()))).lightness() < 100  # the dot at the anchor


@pytest.mark.parametrize("fill", [*PALETTE, "#1d1d1d", "#ffffff"])
def test_selection_is_visible_on_every_fill_colour(grid8, qapp, fill):
    grid8.territories["colour"] = fill
    scene = MapScene(grid8)
    renderer = MapRenderer(scene)
    for layer in renderer.layers:
        layer.visible = layer.key == "units"
    renderer.layer("units").opacity = 1.0
    before, t = render_full(renderer, scene, 400, 250)
    from territory_desktop.ui.geometry import geometries_to_path

    u = scene.index_of[unit_id(3, 2)]
    renderer.overlays["selection"] = selection_overlay(geometries_to_path(scene.geoms[[u]], flip_y=False))
    after, _t = render_full(renderer, scene, 400, 250)
    bx0, by0, bx1, by1 = scene.geoms[u].bounds
    a, b = t.map(QPointF(bx0, by0)), t.map(QPointF(bx1, by1))
    changed = []
    for x in range(int(a.x()) - 2, int(b.x()) + 3):
        for y in range(int(a.y()) - 2, int(b.y()) + 3):
            p, q = QColor(before.pixel(x, y)), QColor(after.pixel(x, y))
            changed.append(max(abs(p.red() - q.red()), abs(p.green() - q.green()), abs(p.blue() - q.blue())))
    changed = np.array(changed)
    assert (changed > 60).mean() > 0.2  # a fifth of the unit box changes clearly (hatch, outline), on any fill


def test_default_layout_puts_the_map_first(open_window, grid8, qtbot):
    window = open_window(grid8, size=(1600, 1000))
    qtbot.wait(50)
    assert window.canvas.width() >= 0.6 * window.width()
    table = window.territory_panel.table
    header = table.horizontalHeader()
    viewport = table.viewport().width()
    from territory_desktop.ui.territory_model import COLUMNS

    keys = [k for k, _ in COLUMNS]
    for key in ("name", "rep", "workload_hours", "workload_deviation_pct"):
        i = keys.index(key)
        assert not header.isSectionHidden(i)
        assert header.sectionViewportPosition(i) + header.sectionSize(i) <= viewport, key
    assert not table.horizontalScrollBar().isVisible()
    tree = window.territory_panel.tree
    assert tree.textElideMode() == Qt.TextElideMode.ElideNone
    assert tree.isColumnHidden(1)  # Level: the indentation says it
    name_width = tree.fontMetrics().horizontalAdvance("Terr T1")
    assert tree.header().sectionSize(0) >= name_width + tree.indentation()  # names in full
    item = tree.model().item(0, 2)
    assert int(item.textAlignment()) & int(Qt.AlignmentFlag.AlignRight)


def test_dock_layout_is_remembered(qtbot, grid8, tmp_path):
    from territory_desktop.ui.main_window import MainWindow

    settings = str(tmp_path / "layout.ini")

    def make():
        w = MainWindow(grid8, settings=QSettings(settings, QSettings.Format.IniFormat))
        w.resize(1600, 1000)
        w.show()
        qtbot.waitExposed(w)
        return w

    first = make()
    first.resizeDocks([first.docks["territories"]], [620], Qt.Orientation.Horizontal)
    first.territory_panel.table.horizontalHeader().setSectionHidden(2, False)  # show Units
    qtbot.wait(50)
    width = first.docks["territories"].width()
    first.undo_stack.setClean()
    first.close()
    second = make()
    qtbot.wait(50)
    assert abs(second.docks["territories"].width() - width) <= 4
    assert not second.territory_panel.table.horizontalHeader().isSectionHidden(2)
    second.undo_stack.setClean()
    second.close()


def test_routes_layer_is_not_first_nor_ticked_and_tool_is_named(open_window, grid8):
    window = open_window(grid8)
    first = window.layer_panel.list.item(0)
    assert first.data(Qt.ItemDataRole.UserRole) == "labels"
    routes = [window.layer_panel.list.item(i) for i in range(window.layer_panel.list.count())
              if window.layer_panel.list.item(i).data(Qt.ItemDataRole.UserRole) == "routes"]
    assert routes and routes[0].checkState() == Qt.CheckState.Unchecked
    assert window.tool_label.text().startswith("Pan")


def test_routes_dock_takes_a_third_of_the_height(open_window, grid8, qtbot):
    from territory_desktop.ui.routes import show_dock

    window = open_window(grid8, size=(1600, 1000))
    show_dock(window)
    qtbot.wait(50)
    assert window.docks["routes"].height() <= 0.38 * window.height()
    assert window.canvas.height() >= 0.5 * window.height()


def test_label_of_each_territory_is_on_the_map(open_window, grid8):
    window = open_window(grid8)
    window.canvas.zoom_full()
    image = window.canvas.grab().toImage()
    renderer = window.canvas.renderer
    placed = renderer._label_layout(window.canvas.px, window.canvas.scene.level_for(window.canvas.px))
    assert {lb.key for lb in placed} == {"T1", "T2", "T3"}
    dpr = image.devicePixelRatio()
    for label in placed:
        c = window.canvas.to_widget(QPointF(*label.centre))
        dark = sum(QColor(image.pixel(int((c.x() + dx) * dpr), int((c.y() + dy) * dpr))).lightness() < 80
                   for dx in range(-15, 16) for dy in (-2, 0, 2))
        assert dark >= 3, label.key  # dark text pixels where each label is placed


def test_proposal_shows_new_fills_hatched_moves_and_thin_old_boundaries(grid8, qapp):
    from collections import Counter

    from territory_desktop.ui.proposal_view import proposal_overlays, touched_territories

    scene = MapScene(grid8)
    renderer = MapRenderer(scene)
    for layer in renderer.layers:
        layer.visible = layer.key in ("units", "territories")
    renderer.layer("units").opacity = 1.0
    changes = {unit_id(3, j): ("T2", "T1") for j in range(NY)}  # column 3 joins T1
    overlays, _shapes = proposal_overlays(scene, changes)
    renderer.muted_outlines = touched_territories(scene, changes)
    assert renderer.muted_outlines == {"T1", "T2"}
    assert set(overlays) == {"balance:T1", "balance:#moved", "balance:#old", "balance:#new"}
    assert overlays["balance:#moved"].style == Qt.BrushStyle.BDiagPattern
    renderer.overlays.update(overlays)
    image, t = render_full(renderer, scene, 800, 500)

    def edge_point(a: str, b: str):
        """Pixel at the middle of the border shared by units ``a`` and ``b``."""
        border = shapely.intersection(scene.geoms[scene.index_of[a]], scene.geoms[scene.index_of[b]])
        m = border.interpolate(0.5, normalized=True)
        return t.map(QPointF(m.x, m.y)).toPoint()

    c = shapely.centroid(scene.geoms[scene.index_of[unit_id(3, 2)]])
    centre = t.map(QPointF(c.x, c.y)).toPoint()
    patch = Counter(image.pixel(centre.x() + dx, centre.y() + dy) for dx in range(-4, 5) for dy in range(-4, 5))
    fill = QColor.fromRgb(patch.most_common(1)[0][0])
    assert fill == QColor("#1f77b4")  # the moved unit in the colour of the territory it joins
    assert any(QColor.fromRgb(c).lightness() < fill.lightness() - 15 for c in patch)  # and hatched

    def darkness_along(a: str, b: str) -> np.ndarray:
        """Lightness of the darkest pixel across the border of units a and b, at 40 points along it."""
        border = shapely.intersection(scene.geoms[scene.index_of[a]], scene.geoms[scene.index_of[b]])
        out = []
        for f in np.linspace(0.1, 0.9, 40):
            m = border.interpolate(f, normalized=True)
            p = t.map(QPointF(m.x, m.y)).toPoint()
            out.append(min(QColor(image.pixel(p.x() + dx, p.y())).lightness() for dx in range(-1, 2)))
        return np.array(out)

    old_line = darkness_along(unit_id(2, 1), unit_id(3, 1))
    new_line = darkness_along(unit_id(3, 1), unit_id(4, 1))
    assert (new_line < 62).all()  # the new T1/T2 boundary: a continuous dark outline
    assert (old_line >= 70).mean() >= 0.15  # the old one: dashed, with gaps
    assert old_line.mean() > new_line.mean() + 8


def test_proposal_labels_name_the_proposed_territories(open_window, grid8, tmp_path):
    """While a proposal is shown each name sits in the area its territory would have after Apply: here
    T1 (columns 0-2) and T3 (columns 6-7) swap areas."""
    from territory_desktop.ui.balance_proposal import clear_highlight
    from territory_desktop.ui.proposal_view import show_proposal_on

    window = open_window(grid8)
    canvas = window.canvas
    canvas.zoom_full()
    swap = {"T1": "T3", "T3": "T1"}
    changes = {unit_id(i, j): (column_territory(i), swap[column_territory(i)])
               for i in (0, 1, 2, 6, 7) for j in range(NY)}
    show_proposal_on(canvas, changes)
    image = canvas.grab().toImage()
    image.save(str(tmp_path / "proposal-labels.png"))
    scene = canvas.scene
    area = {t: shapely.union_all([scene.geoms[scene.index_of[unit_id(i, j)]] for i in cols for j in range(NY)])
            for t, cols in (("T1", (6, 7)), ("T2", (3, 4, 5)), ("T3", (0, 1, 2)))}  # after Apply
    placed = canvas.renderer._label_layout(canvas.px, scene.level_for(canvas.px))
    assert {lb.key for lb in placed} == {"T1", "T2", "T3"}
    dpr = image.devicePixelRatio()
    for label in placed:
        point = label.anchor if label.anchor is not None else label.centre  # a leader line starts inside
        assert area[label.key].contains(shapely.Point(point)), label.key
        c = canvas.to_widget(QPointF(*label.centre))
        dark = sum(QColor(image.pixel(int((c.x() + dx) * dpr), int((c.y() + dy) * dpr))).lightness() < 80
                   for dx in range(-15, 16) for dy in (-2, 0, 2))
        assert dark >= 3, label.key  # the name is drawn there
    clear_highlight(canvas)
    placed = canvas.renderer._label_layout(canvas.px, scene.level_for(canvas.px))
    now = {t: shapely.union_all([scene.geoms[scene.index_of[unit_id(i, j)]] for i in range(NX) for j in range(NY)
                                 if column_territory(i) == t]) for t in ("T1", "T2", "T3")}
    for label in placed:  # discarded: the names are back on the current plan
        assert now[label.key].contains(shapely.Point(label.anchor or label.centre)), label.key
