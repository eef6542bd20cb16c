"""Territory table model: the cells the view shows equal independently computed and formatted totals,
before and after an edit, and the scene's lazily dissolved territories equal a plain union."""

from __future__ import annotations

import pytest
import shapely
from PySide6.QtCore import Qt
from ui_helpers import NY, unit_id

from territory_desktop.ui.commands import AssignUnitsCommand
from territory_desktop.ui.territory_model import COLUMNS, ID_ROLE, SORT_ROLE, TerritoryTableModel


def expected_rows(project) -> dict[str, dict[str, float]]:
    """Units, accounts, workload (52 / weeks * minutes / 60) and potential per territory, by plain loops."""
    plan = project.plan.as_dict()
    rows = {t: {"units": 0, "accounts": 0, "workload_hours": 0.0, "potential": 0.0} for t in ("T1", "T2", "T3")}
    for t in plan.values():
        rows[t]["units"] += 1
    for a in project.accounts.itertuples():
        r = rows[plan[a.unit_id]]
        r["accounts"] += 1
        r["workload_hours"] += 52.0 / a.visit_frequency_weeks * a.service_minutes / 60.0 if a.visit_frequency_weeks else 0
        r["potential"] += a.potential
    mean = sum(r["workload_hours"] for r in rows.values()) / len(rows)
    for r in rows.values():
        r["dev"] = (r["workload_hours"] - mean) / mean * 100.0
    return rows


def cell(model, row: int, key: str, role=Qt.ItemDataRole.DisplayRole):
    column = [k for k, _ in COLUMNS].index(key)
    return model.data(model.index(row, column), role)


def assert_cells(model, project) -> None:
    expected = expected_rows(project)
    assert model.rowCount() == 3
    for row in range(model.rowCount()):
        tid = cell(model, row, "name", ID_ROLE)
        e = expected[tid]
        assert cell(model, row, "name") == f"Terr {tid}"
        assert cell(model, row, "units") == f"{e['units']:,}"
        assert cell(model, row, "accounts") == f"{e['accounts']:,}"
        assert cell(model, row, "workload_hours") == f"{e['workload_hours']:,.0f}"
        assert cell(model, row, "workload_deviation_pct") == f"{e['dev']:+.1f}"
        assert cell(model, row, "workload_hours", SORT_ROLE) == pytest.approx(e["workload_hours"])
        assert cell(model, row, "potential", SORT_ROLE) == pytest.approx(e["potential"])
        right = cell(model, row, "units", Qt.ItemDataRole.TextAlignmentRole)
        assert right & int(Qt.AlignmentFlag.AlignRight)
        assert cell(model, row, "name", Qt.ItemDataRole.TextAlignmentRole) is None


def test_cells_equal_independent_totals(qapp, grid8):
    model = TerritoryTableModel(grid8)
    assert_cells(model, grid8)
    assert cell(model, 0, "rep") == "Ann"  # T1's rep R1, by name
    assert cell(model, 1, "rep") == ""


def test_cells_follow_an_edit_and_its_undo(qapp, grid8):
    from PySide6.QtGui import QUndoStack

    model = TerritoryTableModel(grid8)
    stack = QUndoStack()
    stack.push(AssignUnitsCommand(grid8, {unit_id(3, j): "T1" for j in range(NY)}))
    model.refresh()
    assert_cells(model, grid8)
    assert cell(model, 0, "units") == f"{4 * NY}"
    stack.undo()
    model.refresh()
    assert_cells(model, grid8)
    assert cell(model, 0, "units") == f"{3 * NY}"


def test_incremental_refresh_equals_independent_totals_and_a_fresh_model(qapp, grid8):
    """``refresh(units=...)`` moves only the reassigned units' measures: after each edit its cells equal
    the hand-computed totals and those of a model computed from scratch (route columns too)."""
    model = TerritoryTableModel(grid8)
    live = model._live
    roles = (Qt.ItemDataRole.DisplayRole, SORT_ROLE, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.ToolTipRole)
    edits = [{unit_id(3, j): "T1" for j in range(NY)}, {unit_id(0, 0): "T3", unit_id(7, 4): "T2"},
             {unit_id(3, j): "T2" for j in range(NY)}]
    for changes in edits:
        grid8.plan.assign_many(changes)
        model.refresh(units=list(changes))
        assert_cells(model, grid8)
        fresh = TerritoryTableModel(grid8)
        for role in roles:
            for r in range(model.rowCount()):
                for c in range(model.columnCount()):
                    assert model.data(model.index(r, c), role) == fresh.data(fresh.index(r, c), role), (role, r, c)
    assert model._live is live  # moved along, never rebuilt


def test_window_table_shows_new_numbers_soon_after_undo(open_window, grid8, qtbot):
    window = open_window(grid8)
    window.undo_stack.push(AssignUnitsCommand(grid8, {unit_id(3, j): "T1" for j in range(NY)}))
    window.undo_stack.undo()
    model = window.table_model
    qtbot.waitUntil(lambda: cell(model, 0, "units") == f"{3 * NY}", timeout=1000)
    assert_cells(model, grid8)


def test_lazy_dissolve_equals_plain_union(qapp, grid8):
    from territory_desktop.ui.scene import MapScene

    scene = MapScene(grid8)
    scene.prepare_coverage((0, 1))
    scene.apply_assignment([unit_id(3, j) for j in range(NY)])
    for key in ("T1", "T2", "T3"):
        members = [i for i, u in enumerate(scene.unit_ids) if grid8.plan.territory_of(u) == key]
        plain = shapely.union_all(scene.geoms[members])
        assert scene.territory_geometry(key).symmetric_difference(plain).area == pytest.approx(0, abs=1e-6 * plain.area)
        assert scene.bounds[key] == pytest.approx(plain.bounds)
        coarse = scene.level_geometry(key, 0)
        assert coarse.symmetric_difference(plain).area < 0.01 * plain.area
        x, y = scene.label_point(key)
        assert plain.contains(shapely.Point(x, y))


def test_route_columns_show_the_route_workload_service(qapp, grid8):
    from territory_desktop.services.workload import territory_route_table

    model = TerritoryTableModel(grid8)
    table = territory_route_table(grid8)
    assert list(table.index) == ["T1"]  # the only territory with a rep (R1, capacity 1600 h)
    for row in range(model.rowCount()):
        tid = cell(model, row, "name", ID_ROLE)
        if tid == "T1":
            hours = table.loc["T1", "route_workload_hours"]
            assert cell(model, row, "route_workload_hours") == f"{hours:,.0f}"
            assert cell(model, row, "route_load_pct") == f"{100 * hours / 1600.0:,.0f}"
            assert cell(model, row, "route_load_pct", SORT_ROLE) == pytest.approx(100 * hours / 1600.0, abs=0.06)
        else:  # no rep, no home: no route workload, and it sorts below every territory that has one
            assert cell(model, row, "route_workload_hours") == ""
            assert cell(model, row, "route_load_pct", SORT_ROLE) == -1.0


def test_window_table_after_undo_of_a_large_edit_then_its_route_columns(open_window, grid8, qtbot):
    """Undo of an edit moving half the map: when undo() returns, the table holds (and has painted) the
    restored units, accounts, workload, potential and deviation (summed by plain loops) and the
    service's route workload for the restored plan."""
    from territory_desktop.services.workload import territory_route_table
    from territory_desktop.ui.territory_model import PENDING_COLOUR

    window = open_window(grid8)
    model = window.table_model
    restored = territory_route_table(grid8).loc["T1", "route_workload_hours"]
    moved = {unit_id(i, j): "T1" for i in range(3, 8) for j in range(NY)}  # all of T2 and T3: 25 units
    window.undo_stack.push(AssignUnitsCommand(grid8, moved, "half the map"))
    row = next(r for r in range(model.rowCount()) if cell(model, r, "name", ID_ROLE) == "T1")
    edited = territory_route_table(grid8).loc["T1", "route_workload_hours"]
    assert cell(model, row, "units") == f"{8 * NY}" and cell(model, row, "route_workload_hours") == f"{edited:,.0f}"
    assert edited > restored  # the edit gave T1 more accounts to drive to
    window.undo_stack.undo()
    assert model.rowCount() == 3 and not model.route_pending
    assert cell(model, row, "units") == f"{3 * NY}"
    assert_cells(model, grid8)
    assert cell(model, row, "route_workload_hours") == f"{restored:,.0f}"
    assert cell(model, row, "route_load_pct") == f"{100 * restored / 1600.0:,.0f}"
    assert cell(model, row, "route_workload_hours", Qt.ItemDataRole.ForegroundRole) != PENDING_COLOUR


def test_deferred_route_columns_show_the_last_numbers_greyed_then_the_new_ones(qapp, grid8, qtbot):
    """refresh(defer_route=True), the live refresh of a brush stroke: totals at once; the route cells keep
    the last numbers, greyed, until the next event-loop turn puts the service's numbers in."""
    from territory_desktop.services.workload import territory_route_table
    from territory_desktop.ui.territory_model import PENDING_COLOUR

    model = TerritoryTableModel(grid8)
    before = territory_route_table(grid8).loc["T1", "route_workload_hours"]
    grid8.plan.assign_many({unit_id(i, j): "T1" for i in (3, 4) for j in range(NY)})
    after = territory_route_table(grid8).loc["T1", "route_workload_hours"]
    ready = []
    model.routeReady.connect(lambda: ready.append(True))
    model.refresh(defer_route=True)
    row = next(r for r in range(model.rowCount()) if cell(model, r, "name", ID_ROLE) == "T1")
    assert_cells(model, grid8)
    assert model.route_pending and not ready
    assert cell(model, row, "route_workload_hours") == f"{before:,.0f}" != f"{after:,.0f}"
    assert cell(model, row, "route_load_pct", Qt.ItemDataRole.ForegroundRole) == PENDING_COLOUR
    qtbot.waitUntil(lambda: bool(ready), timeout=1000)
    assert not model.route_pending
    assert cell(model, row, "route_workload_hours") == f"{after:,.0f}"
    assert cell(model, row, "route_load_pct", Qt.ItemDataRole.ForegroundRole) != PENDING_COLOUR
    assert_cells(model, grid8)


def test_deferred_route_greys_only_the_territories_the_edit_touched(qapp, grid8, qtbot):
    """A live refresh from reassigned units re-estimates (and greys meanwhile) only the route cells of the
    territories the units left or joined; afterwards every row holds the service's route workload."""
    from territory_desktop.services.workload import territory_route_table
    from territory_desktop.ui.territory_model import PENDING_COLOUR

    model = TerritoryTableModel(grid8)
    changes = {unit_id(3, j): "T1" for j in range(NY)}  # from T2 to T1; T3 untouched
    grid8.plan.assign_many(changes)
    model.refresh(defer_route=True, units=list(changes))
    rows = {cell(model, r, "name", ID_ROLE): r for r in range(model.rowCount())}

    def colour(tid):
        return cell(model, rows[tid], "route_workload_hours", Qt.ItemDataRole.ForegroundRole)

    assert model.route_pending and colour("T1") == colour("T2") == PENDING_COLOUR and colour("T3") is None
    qtbot.waitUntil(lambda: not model.route_pending, timeout=1000)
    assert colour("T1") is None and colour("T2") is None
    table = territory_route_table(grid8)
    for tid, r in rows.items():
        hours = table["route_workload_hours"].get(tid)
        assert cell(model, r, "route_workload_hours") == ("" if hours is None else f"{hours:,.0f}")


def test_refresh_signals_only_the_rows_that_changed(qapp, grid8):
    """Moving a unit from T2 to T3 keeps the total workload and so the mean: T1's row is unchanged and
    not signalled; T2's and T3's are."""
    model = TerritoryTableModel(grid8)
    rows: set[int] = set()
    model.dataChanged.connect(lambda a, b, *_: rows.update(range(a.row(), b.row() + 1)))
    grid8.plan.assign_many({unit_id(5, 0): "T3"})
    model.refresh()
    ids = {cell(model, r, "name", ID_ROLE): r for r in range(model.rowCount())}
    assert rows == {ids["T2"], ids["T3"]}
    assert_cells(model, grid8)
    rows.clear()
    model.refresh()  # nothing changed: nothing signalled
    assert rows == set()


def test_held_route_columns_stay_greyed_until_released(qapp, grid8, qtbot):
    """During a brush stroke (``hold_route``) the deferred route cells stay greyed with the last numbers
    however long the event loop runs; ``release_route`` (the stroke's end) puts the service's numbers in."""
    from territory_desktop.services.workload import territory_route_table
    from territory_desktop.ui.territory_model import PENDING_COLOUR

    model = TerritoryTableModel(grid8)
    before = territory_route_table(grid8).loc["T1", "route_workload_hours"]
    grid8.plan.assign_many({unit_id(i, j): "T1" for i in (3, 4) for j in range(NY)})
    after = territory_route_table(grid8).loc["T1", "route_workload_hours"]
    model.hold_route = True
    model.refresh(defer_route=True)
    row = next(r for r in range(model.rowCount()) if cell(model, r, "name", ID_ROLE) == "T1")
    qtbot.wait(60)  # longer than the route delay: a held refresh does not fill them
    assert model.route_pending and cell(model, row, "route_workload_hours") == f"{before:,.0f}"
    assert cell(model, row, "route_load_pct", Qt.ItemDataRole.ForegroundRole) == PENDING_COLOUR
    model.release_route(delay_ms=0)
    qtbot.waitUntil(lambda: not model.route_pending, timeout=1000)
    assert cell(model, row, "route_workload_hours") == f"{after:,.0f}" != f"{before:,.0f}"
    assert_cells(model, grid8)


def test_scene_reports_the_reassigned_units_box(qapp, grid8):
    """``last_units_bounds`` (what a brush step repaints) is the box of the reassigned units' geometries."""
    from territory_desktop.ui.scene import MapScene

    scene = MapScene(grid8)
    moved = [unit_id(3, 1), unit_id(4, 2)]
    grid8.plan.assign_many(dict.fromkeys(moved, "T1"))
    scene.apply_assignment(moved)
    geoms = [scene.geoms[scene.index_of[u]] for u in moved]
    assert scene.last_units_bounds == pytest.approx(shapely.total_bounds(geoms))
    assert scene.last_units_bounds[2] - scene.last_units_bounds[0] < \
        scene.last_change_bounds[2] - scene.last_change_bounds[0]


def test_window_stroke_holds_route_columns_until_release(open_window, grid8, qtbot):
    """During a brush stroke the window's totals follow (throttled) while the route columns wait greyed;
    after the release they hold the service's route workload for the new plan."""
    from PySide6.QtCore import QPointF

    from territory_desktop.services.workload import territory_route_table

    window = open_window(grid8)
    canvas, model = window.canvas, window.table_model
    canvas.set_tool("brush")
    canvas.active_territory = "T1"
    canvas.brush_radius_px = 3.0
    stroke = canvas.begin_stroke()
    c = canvas.scene.geoms[canvas.scene.index_of[unit_id(3, 2)]].centroid
    assert canvas.brush_at(canvas.to_widget(QPointF(c.x, c.y)), stroke) == 1
    row = next(r for r in range(model.rowCount()) if cell(model, r, "name", ID_ROLE) == "T1")
    qtbot.waitUntil(lambda: cell(model, row, "units") == f"{3 * NY + 1}", timeout=2000)
    qtbot.wait(50)
    assert model.route_pending  # held while the stroke goes on
    canvas.end_stroke()
    qtbot.waitUntil(lambda: not model.route_pending, timeout=2000)
    hours = territory_route_table(grid8).loc["T1", "route_workload_hours"]
    assert cell(model, row, "route_workload_hours") == f"{hours:,.0f}"
    assert_cells(model, grid8)
