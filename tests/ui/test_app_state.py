"""The application state (#12 item 6): events with subscribe and unsubscribe, no Plan listener left behind
by set_project, the scenario switcher (map, table and undo follow the active scenario), docks following the
project through the state, printing another scenario without changing the active one."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest
from ui_helpers import NX, NY, unit_id

from territory_desktop.models import InvalidInputError, Plan
from territory_desktop.ui.state import AppState

STATE_FILE = Path(__file__).parents[2] / "territory_desktop" / "ui" / "state.py"


def test_state_module_imports_no_qt():
    tree = ast.parse(STATE_FILE.read_text())
    modules = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    modules += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert modules and not [m for m in modules if m.startswith(("PySide6", "shiboken6", "pyqtgraph"))]


def test_events_subscribe_and_unsubscribe(grid8):
    state = AppState()
    seen = []
    off = state.project_changed.connect(lambda p: seen.append(("project", p.name if p else None)))
    state.selection_changed.connect(lambda ids: seen.append(("selection", ids)))
    state.set_project(grid8)
    state.set_selection(["c0r0", "c1r0"])
    state.set_selection(["c0r0", "c1r0"])  # unchanged: no event
    off()
    state.set_project(None)
    assert seen == [("project", "grid8"), ("selection", ()), ("selection", ("c0r0", "c1r0")), ("selection", ())]
    assert len(state.project_changed) == 0 and len(state.selection_changed) == 1


def test_scenario_switch_is_checked_and_announced(grid8):
    state = AppState()
    state.set_project(grid8)
    with pytest.raises(InvalidInputError, match="no scenario 'nope'; the project has: base"):
        state.set_scenario("nope")
    grid8.plans["alt"] = Plan(grid8.plan.as_dict())
    got = []
    state.scenario_changed.connect(got.append)
    state.set_scenario("alt")
    state.set_scenario("alt")  # already active: no event
    assert got == ["alt"] and grid8.active_scenario == "alt" and "scenarios" in grid8.dirty


def test_jobs_are_listed_while_running():
    state = AppState()
    seen = []
    state.jobs_changed.connect(seen.append)
    a = state.job_started("Balancing")
    b = state.job_started("Routing")
    state.job_ended(a)
    state.job_ended(a)  # twice: one event only
    assert seen == [{a: "Balancing"}, {a: "Balancing", b: "Routing"}, {b: "Routing"}]


def test_plan_remove_listener():
    plan = Plan({"u1": "T1"})
    calls = []
    listener = calls.append
    plan.on_assignment_changed(listener)
    plan.on_account_override_changed(listener)
    assert plan.listener_count() == 2
    assert plan.remove_listener(listener) and plan.listener_count() == 0
    assert not plan.remove_listener(listener)
    plan.assign(["u1"], "T2")
    plan.set_account_overrides({"a1": "T2"})
    assert calls == []


def test_set_project_leaves_no_listener_behind(open_window, grid8, make_grid):
    from territory_desktop.models import Project

    window = open_window(grid8)
    plan = grid8.plan
    after_first = plan.listener_count()
    state_listeners = window.state.listener_count()
    for _ in range(5):
        window.set_project(grid8)
    assert plan.listener_count() == after_first == 2  # the canvas's bridge: units and accounts
    other = Project(name="other", units=make_grid(), plans={"base": Plan({f"u{k}": None for k in range(9)})})
    window.set_project(other)
    assert plan.listener_count() == 0 and other.plan.listener_count() == 2
    window.set_project(None)
    assert other.plan.listener_count() == 0
    assert window.state.listener_count() == state_listeners


def _with_alt_scenario(project):
    """Scenario 'alt' (name 'Alternative'): the same territories, every unit in T1."""
    alt = project.territories.assign(scenario_id="alt")
    project.territories = pd.concat([project.territories, alt], ignore_index=True)
    project.scenarios = pd.concat([project.scenarios, pd.DataFrame([{
        "scenario_id": "alt", "name": "Alternative", "description": "", "parent_id": "base", "created": ""}])],
        ignore_index=True)
    project.plans["alt"] = Plan({unit_id(i, j): "T1" for i in range(NX) for j in range(NY)})
    return project


def test_scenario_switcher_shows_the_scenario_and_undo_switches_back(open_window, grid8):
    window = open_window(_with_alt_scenario(grid8))
    switcher = window.features.scenarios
    assert [switcher.itemText(k) for k in range(switcher.count())] == ["Base", "Alternative"]
    assert switcher.isEnabled()
    switcher.activated.emit(switcher.findData("alt"))
    assert grid8.active_scenario == "alt" and switcher.currentData() == "alt"
    frame = window.table_model.frame.set_index("territory_id")
    assert frame.loc["T1", "units"] == NX * NY and frame.loc["T2", "units"] == 0  # 40 units, counted here
    assert set(window.canvas.scene.unit_territory) == {"T1"}
    # an edit now goes to the alternative plan, not the base one
    window.canvas.select_ids([unit_id(7, 0)])
    window.assign_selection("T3")
    assert grid8.plans["alt"].territory_of(unit_id(7, 0)) == "T3"
    assert grid8.plans["base"].territory_of(unit_id(7, 0)) == "T3"  # T3 there already (column 7)
    assert grid8.plans["base"].territory_of(unit_id(0, 0)) == "T1"
    window.undo_stack.undo()  # the assignment, on 'alt'
    assert grid8.plans["alt"].territory_of(unit_id(7, 0)) == "T1"
    window.undo_stack.undo()  # the switch
    assert grid8.active_scenario == "base" and switcher.currentData() == "base"
    assert window.table_model.frame.set_index("territory_id").loc["T1", "units"] == 3 * NY


def test_saved_scenario_appears_in_the_switcher(open_window, grid8):
    window = open_window(grid8)
    switcher = window.features.scenarios
    assert switcher.count() == 1 and not switcher.isEnabled()
    _with_alt_scenario(grid8)
    window.state.scenarios_edited()
    assert switcher.count() == 2 and switcher.isEnabled()


def test_printing_another_scenario_keeps_the_active_one(open_window, grid8, tmp_path):
    from pypdf import PdfReader

    from territory_desktop.ui.print import PrintOptions, export_map

    _with_alt_scenario(grid8)
    out = tmp_path / "alt.pdf"
    export_map(grid8, out, PrintOptions(scenario="alt"))
    assert grid8.active_scenario == "base"
    text = " ".join(PdfReader(str(out)).pages[0].extract_text().split())
    assert "scenario Alternative" in text


def test_routes_dock_follows_the_project_through_the_state(open_window, grid8, make_grid):
    from territory_desktop.models import Project

    window = open_window(grid8)
    dock = window.routes_dock
    dock.rep_plan = object()  # any plan: a new project must drop it
    window.canvas.pan_by(30, 10)  # panning is no project change
    assert dock.rep_plan is not None
    other = Project(name="other", units=make_grid(), plans={"base": Plan({f"u{k}": None for k in range(9)})})
    window.set_project(other)
    assert dock.rep_plan is None
    assert any(layer.key == "routes" for layer in window.canvas.renderer.layers)


def _balance(qtbot, window):
    from territory_desktop.ui.balance_dialog import open_balance_dialog

    dialog = open_balance_dialog(window)
    dialog.max_moved.setValue(30.0)
    dialog.run_button.click()
    assert list(window.state.jobs.values()) == ["Balancing territories"]  # listed while it runs
    qtbot.waitUntil(lambda: dialog.worker is None, timeout=30000)
    assert window.state.jobs == {}
    return window.balance_panel


def test_a_scenario_saved_from_a_proposal_can_be_viewed(open_window, grid8, qtbot):
    window = open_window(grid8)
    panel = _balance(qtbot, window)
    proposal = panel.proposal
    sid = panel.save_as_scenario()
    switcher = window.features.scenarios
    k = switcher.findData(sid)
    assert k >= 0 and not window.undo_stack.isClean()
    switcher.activated.emit(k)
    assert grid8.active_scenario == sid
    assert dict(zip(window.canvas.scene.unit_ids, window.canvas.scene.unit_territory, strict=True)) == \
        proposal.assignment


def test_a_proposal_is_dropped_when_another_project_opens(open_window, grid8, qtbot, make_grid):
    from territory_desktop.models import Project

    window = open_window(grid8)
    panel = _balance(qtbot, window)
    assert panel.run is not None
    window.set_project(Project(name="other", units=make_grid(), plans={"base": Plan({})}))
    assert panel.run is None and not window.balance_dock.isVisible()


def test_cycles_are_collected_in_the_gui_thread_only(qtbot):
    """Automatic collection is off; the GUI-thread timer's check collects once a threshold is crossed."""
    import gc
    import weakref

    from PySide6.QtCore import QObject

    from territory_desktop.ui.workers import GuiThreadGarbageCollector

    class Cycle:
        pass

    parent = QObject()
    thresholds = gc.get_threshold()
    collector = GuiThreadGarbageCollector(parent, interval_ms=10_000)
    try:
        assert not gc.isenabled() and collector.timer.isActive()
        gc.collect()
        # thresholds no count reaches: nothing is collected (a thread left by another test may allocate)
        gc.set_threshold(10**9, 10**9, 10**9)
        a = Cycle()
        a.me = a
        alive = weakref.ref(a)
        del a
        collector.check()
        survived = alive() is not None
        gc.set_threshold(50, 10**9, 10**9)
        for _ in range(60):  # cross generation 0's threshold
            b = Cycle()
            b.me = b
            del b
        collector.check()
        assert survived and alive() is None
    finally:
        collector.timer.stop()
        gc.set_threshold(*thresholds)
        gc.enable()


def test_settle_freezes_the_live_objects_and_thaws_them_for_the_next_project(qapp):
    """settle() moves what is alive to the permanent generation (a full collection then skips it) and,
    called again (another project shown), collects what the earlier call froze before freezing again."""
    import gc
    import weakref

    from PySide6.QtCore import QObject

    from territory_desktop.ui.workers import GuiThreadGarbageCollector

    class Cycle:
        pass

    parent = QObject()
    collector = GuiThreadGarbageCollector(parent, interval_ms=10_000)
    try:
        a = Cycle()
        a.me = a
        alive = weakref.ref(a)
        collector.settle()
        assert gc.get_freeze_count() > 0
        del a
        gc.collect()
        assert alive() is not None  # frozen: the collector does not look at it
        collector.settle()  # the next project: the old objects are thawed and collected
        assert alive() is None and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        collector.timer.stop()
        gc.enable()
