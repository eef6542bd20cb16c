"""Balancing GUI: the dialog runs the balancer in a worker, the proposal lists exactly the units whose
territory differs (diffed here by plain loops), totals equal plain sums, Apply is ONE undo step that
restores the plan exactly, Save as scenario leaves the plan alone, Cancel stops a run, infeasible
requests show their message (and the best plan on request)."""

from __future__ import annotations

import time

import networkx as nx
import pandas as pd
import pytest
import shapely
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter
from PySide6.QtWidgets import QMessageBox
from ui_helpers import NX, NY, unit_id

from territory_desktop.models import Plan, Project
from territory_desktop.ui.balance_dialog import install_balance_ui, open_balance_dialog
from territory_desktop.ui.balance_proposal import OVERLAY_PREFIX


@pytest.fixture(autouse=True)
def no_modal_boxes(monkeypatch):
    """A message box nobody expected would block the test: record it and answer No instead."""
    for name in ("question", "warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, name, lambda *a, _n=name, **k: pytest.fail(f"unexpected {_n}: {a[2]}"))


@pytest.fixture
def window(open_window, grid8):
    w = open_window(grid8)
    w.action_balance = install_balance_ui(w)  # idempotent: returns the action the window installed
    return w


def run_dialog(qtbot, window, setup=None, timeout_ms: int = 30000):
    """Open the dialog, let ``setup(dialog)`` set options, click Run and wait for the worker to end."""
    dialog = open_balance_dialog(window)
    if setup is not None:
        setup(dialog)
    dialog.run_button.click()
    assert dialog.worker is not None  # the run happens in a worker, not in the click handler
    qtbot.waitUntil(lambda: dialog.worker is None, timeout=timeout_ms)
    return dialog


def workload(row) -> float:
    return 52.0 / row.visit_frequency_weeks * row.service_minutes / 60.0 if row.visit_frequency_weeks > 0 else 0.0


def plain_totals(project, assignment: dict) -> dict[str, dict[str, float]]:
    """Per territory: accounts and workload hours of its units' accounts, by a plain loop."""
    out: dict[str, dict[str, float]] = {}
    for row in project.accounts.itertuples():
        t = assignment[row.unit_id]
        d = out.setdefault(t, {"accounts": 0.0, "workload_hours": 0.0})
        d["accounts"] += 1
        d["workload_hours"] += workload(row)
    return out


def queen_graph() -> nx.Graph:
    g = nx.Graph()
    for i in range(NX):
        for j in range(NY):
            for di in (-1, 0, 1):
                for dj in (-1, 0, 1):
                    if (di or dj) and 0 <= i + di < NX and 0 <= j + dj < NY:
                        g.add_edge(unit_id(i, j), unit_id(i + di, j + dj))
    return g


def test_menu_action_and_shortcut(window):
    tools = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "Tools")
    assert window.action_balance in tools.actions()
    assert window.action_balance.shortcut() == QKeySequence("Ctrl+B")
    clashes = [a.text() for a in window.findChildren(type(window.action_balance))
               if a is not window.action_balance and a.shortcut() == QKeySequence("Ctrl+B")]
    assert clashes == []
    assert install_balance_ui(window) is window.action_balance  # a second call adds nothing
    assert sum(a is window.action_balance for a in tools.actions()) == 1


def test_proposal_lists_independent_diff_and_highlights(qtbot, window, grid8):
    before = dict(grid8.plan.as_dict())
    dialog = run_dialog(qtbot, window, lambda d: d.max_moved.setValue(30.0))
    panel = window.balance_panel
    assert window.balance_dock.isVisible() and dialog.result is not None
    proposal = panel.proposal
    assert grid8.plan.as_dict() == before  # a proposal changes nothing yet
    diff = {u for u in before if proposal.assignment[u] != before[u]}
    assert diff and set(proposal.changes) == diff
    # balanced within +/-2 % by plain sums, every territory in one piece (networkx, queen contiguity)
    after = plain_totals(grid8, proposal.assignment)
    mean = sum(t["workload_hours"] for t in after.values()) / 3
    assert all(abs(t["workload_hours"] / mean - 1) <= 0.02 + 1e-9 for t in after.values())
    g = queen_graph()
    for t in set(proposal.assignment.values()):
        assert nx.is_connected(g.subgraph([u for u, v in proposal.assignment.items() if v == t])), t
    # the table: one row per territory, units in/out and before/after equal plain counts and sums
    frame = panel.frame.set_index("territory_id")
    old = plain_totals(grid8, before)
    for t in ("T1", "T2", "T3"):
        assert frame.loc[t, "units_in"] == sum(1 for u in diff if proposal.assignment[u] == t)
        assert frame.loc[t, "units_out"] == sum(1 for u in diff if before[u] == t)
        for m in ("workload_hours", "accounts"):
            assert frame.loc[t, f"{m}_before"] == pytest.approx(old[t][m])
            assert frame.loc[t, f"{m}_after"] == pytest.approx(after[t][m])
        assert frame.loc[t, "workload_hours_dev_pct"] == pytest.approx((after[t]["workload_hours"] / mean - 1) * 100)
    assert panel.table.rowCount() == 3
    headers = [panel.table.horizontalHeaderItem(c).text() for c in range(panel.table.columnCount())]
    assert "Units in" in headers and "Hours after" in headers
    # the map: every moved unit is covered by its destination's overlay, painted in that colour
    overlays = {k: v for k, v in window.canvas.renderer.overlays.items()
                if k.startswith(OVERLAY_PREFIX) and not k.startswith(OVERLAY_PREFIX + "#")}  # the new fills
    assert set(overlays) == {OVERLAY_PREFIX + proposal.assignment[u] for u in diff}
    canvas = window.canvas
    image = QImage(canvas.size(), QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    canvas.renderer.paint(painter, canvas.extent(), image.rect().toRectF())
    painter.end()
    for u in diff:
        c = shapely.centroid(canvas.scene.geoms[canvas.scene.index_of[u]])
        p = canvas.to_widget(QPointF(c.x, c.y)).toPoint()
        from collections import Counter

        patch = Counter(image.pixel(p.x() + dx, p.y() + dy) for dx in range(-3, 4) for dy in range(-3, 4))
        got = QColor.fromRgb(patch.most_common(1)[0][0])  # the fill, not a line of the moved-units hatch
        want = canvas.scene.colour_of(proposal.assignment[u])
        assert max(abs(got.red() - want.red()), abs(got.green() - want.green()),
                   abs(got.blue() - want.blue())) < 40, (u, got.name(), want.name())


def test_apply_is_one_undo_step(qtbot, window, grid8):
    before = dict(grid8.plan.as_dict())
    run_dialog(qtbot, window, lambda d: d.max_moved.setValue(30.0))
    panel = window.balance_panel
    proposal = panel.proposal
    n = len(proposal.changes)
    assert panel.apply()
    assert grid8.plan.as_dict() == proposal.assignment
    assert window.undo_stack.count() == 1
    assert window.undo_stack.undoText() == f"Apply balance: {n} units moved"
    assert not [k for k in window.canvas.renderer.overlays if k.startswith(OVERLAY_PREFIX)]
    assert window.isWindowModified()
    window.undo_stack.undo()
    assert grid8.plan.as_dict() == before
    # the map follows the plan through the undo: scene assignment equals the plan again
    assert dict(zip(window.canvas.scene.unit_ids, window.canvas.scene.unit_territory, strict=True)) == before
    window.undo_stack.redo()
    assert grid8.plan.as_dict() == proposal.assignment


def test_save_as_scenario_and_discard(qtbot, window, grid8):
    before = dict(grid8.plan.as_dict())
    run_dialog(qtbot, window, lambda d: d.max_moved.setValue(30.0))
    proposal = window.balance_panel.proposal
    sid = window.balance_panel.save_as_scenario()
    assert sid in grid8.plans and sid != "base"
    assert grid8.plans[sid].as_dict() == proposal.assignment
    assert grid8.plan.as_dict() == before and window.undo_stack.count() == 0
    assert set(grid8.territories.loc[grid8.territories["scenario_id"] == sid, "territory_id"]) == {"T1", "T2", "T3"}
    run_dialog(qtbot, window, lambda d: d.max_moved.setValue(30.0))
    assert [k for k in window.canvas.renderer.overlays if k.startswith(OVERLAY_PREFIX)]
    window.balance_panel.discard_button.click()
    assert not [k for k in window.canvas.renderer.overlays if k.startswith(OVERLAY_PREFIX)]
    assert not window.balance_dock.isVisible() and grid8.plan.as_dict() == before
    # closing the dock with its X discards too; raising another tab does not
    run_dialog(qtbot, window, lambda d: d.max_moved.setValue(30.0))
    window.docks["territories"].raise_()
    assert window.balance_panel.run is not None
    window.balance_dock.close()
    assert window.balance_panel.run is None
    assert not [k for k in window.canvas.renderer.overlays if k.startswith(OVERLAY_PREFIX)]


def test_proposal_of_a_closed_project_is_not_applied(qtbot, window, grid8, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    run_dialog(qtbot, window, lambda d: d.max_moved.setValue(30.0))
    other = Project(name="other", units=grid8.units.copy(), accounts=grid8.accounts.copy(), reps=grid8.reps.copy(),
                    territories=grid8.territories.copy(), plans={"base": Plan(grid8.plan.as_dict())})
    window.set_project(other)
    before = other.plan.as_dict()
    assert window.balance_panel.run is None and not shown  # discarded as the other project opened (state event)
    assert not window.balance_panel.apply()
    assert other.plan.as_dict() == before and window.undo_stack.count() == 0


def test_alternatives_can_be_picked(qtbot, window):
    def setup(d):
        d.mode_build.setChecked(True)
        d.alternatives.setValue(3)
    run_dialog(qtbot, window, setup)
    panel = window.balance_panel
    assert panel.choice.count() == 3 and panel.choice.isVisibleTo(panel)
    seeds = [p.seed for p in panel.run.proposals]
    assert sorted(seeds) == [0, 1, 2]
    keys = [(not p.summary.within_tolerance, p.summary.scores.cut_edges, p.summary.units_moved, p.seed)
            for p in panel.run.proposals]
    assert keys == sorted(keys)  # best first, by the service's one ranking
    panel.choice.setCurrentIndex(2)
    assert panel.proposal is panel.run.proposals[2]
    chosen = panel.proposal
    assert panel.frame["units_in"].sum() == len(chosen.changes)
    highlighted = {k for k in panel.window.canvas.renderer.overlays
                   if k.startswith(OVERLAY_PREFIX) and not k.startswith(OVERLAY_PREFIX + "#")}
    assert highlighted == {OVERLAY_PREFIX + new for _old, new in chosen.changes.values()}


def test_cancel_stops_a_run(qtbot, window, grid8):
    """20 plans at +/-0.1 % take ~1.5 s each on the grid; Cancel must end the run within a second or two."""
    before = dict(grid8.plan.as_dict())
    dialog = open_balance_dialog(window)
    dialog.mode_build.setChecked(True)
    dialog.tolerances["workload_hours"].setValue(0.1)
    dialog.time_limit.setValue(60)
    dialog.alternatives.setValue(20)
    dialog.run_button.click()
    # the GUI thread stays free: the elapsed-time clock in the status line ticks while the worker runs
    qtbot.waitUntil(lambda: dialog.status.text().endswith("(1 s)"), timeout=10000)
    # the job reports progress (its first report may come after the first second on a slow machine)
    qtbot.waitUntil(lambda: dialog._message != "starting", timeout=10000)
    worker = dialog.worker
    assert worker is not None
    t0 = time.perf_counter()
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: dialog.worker is None, timeout=5000)
    assert time.perf_counter() - t0 < 3.0
    assert worker.stop.is_set() and "Cancelled" in dialog.status.text()
    assert dialog.result is None and dialog.isVisible()
    assert grid8.plan.as_dict() == before and getattr(window, "balance_panel", None) is None


def test_infeasible_shows_message(qtbot, window, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    run_dialog(qtbot, window, lambda d: (d.mode_build.setChecked(True), d.k.setValue(40)))
    assert len(shown) == 1 and "more than a whole territory may hold" in shown[0] and "unit c" in shown[0]
    assert getattr(window, "balance_panel", None) is None


def test_infeasible_offers_best_plan(qtbot, window, grid8, monkeypatch):
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes)
    before = dict(grid8.plan.as_dict())
    run_dialog(qtbot, window, lambda d: (d.max_moved.setValue(5.0), d.tolerances["workload_hours"].setValue(0.5)))
    assert len(asked) == 1 and "could not rebalance" in asked[0] and "Look at the best plan" in asked[0]
    panel = window.balance_panel
    proposal = panel.proposal
    assert set(proposal.changes) == {u for u in before if proposal.assignment[u] != before[u]}
    assert "Not within tolerance" in panel.summary.text()
    assert len(proposal.changes) <= 2  # 5 % of 40 units


def test_closing_the_dialog_cancels_the_run(qtbot, window):
    from territory_desktop.ui import workers

    dialog = open_balance_dialog(window)
    dialog.mode_build.setChecked(True)
    dialog.tolerances["workload_hours"].setValue(0.1)
    dialog.alternatives.setValue(20)
    dialog.run_button.click()
    worker = dialog.worker
    qtbot.waitUntil(lambda: dialog._message != "starting", timeout=5000)  # the job is running
    dialog.reject()
    assert worker.stop.is_set() and not dialog.isVisible()
    qtbot.waitUntil(lambda: worker not in workers._alive, timeout=5000)
    assert getattr(window, "balance_panel", None) is None


def test_worker_signals(qtbot):
    """Every new message reaches the GUI, repeats of one message are throttled, errors come back."""
    from territory_desktop.ui.workers import Worker, start

    def job(progress, stop):
        for i in range(200):
            progress(i / 200, "same")
        progress(0.5, "other")
        return 42

    got, done = [], []
    worker = Worker(job, min_interval=10.0)
    worker.signals.progress.connect(lambda f, m: got.append(m))
    worker.signals.finished.connect(done.append)
    start(worker)
    qtbot.waitUntil(lambda: done == [42], timeout=5000)
    assert got == ["same", "other"]

    def bad(progress, stop):
        raise ValueError("broken input")

    failed = []
    worker = Worker(bad)
    worker.signals.failed.connect(failed.append)
    start(worker)
    qtbot.waitUntil(lambda: len(failed) == 1, timeout=5000)
    assert isinstance(failed[0], ValueError) and str(failed[0]) == "broken input"



def test_locked_units_stay_unless_told(qtbot, window, grid8, monkeypatch):
    """Locked units never move; with "Keep locked units" off the balancer sees no lock (the project's
    locks stay as they are)."""
    locked = [unit_id(2, 0), unit_id(2, 4), unit_id(3, 2)]
    grid8.units["locked"] = grid8.units["unit_id"].isin(locked)
    run_dialog(qtbot, window, lambda d: d.max_moved.setValue(30.0))
    moved = set(window.balance_panel.proposal.changes)
    assert moved and not moved & set(locked)
    window.balance_panel.discard()
    import territory_desktop.ui.balance_dialog as bd

    seen = []
    real = bd.run_project_balance
    monkeypatch.setattr(bd, "run_project_balance",
                        lambda project, *a, **k: seen.append(int(project.units["locked"].sum())) or real(project, *a, **k))
    run_dialog(qtbot, window, lambda d: (d.max_moved.setValue(30.0), d.keep_locked.setChecked(False)))
    assert seen == [0]
    assert grid8.units["locked"].sum() == len(locked)  # the dialog does not touch the project's locks


def test_anchor_on_rep_homes_is_offered_only_when_every_territory_has_a_rep(qtbot, window, grid8):
    dialog = open_balance_dialog(window)
    assert dialog.anchor.isVisibleTo(dialog) and not dialog.anchor.isChecked()  # T2, T3 have no rep
    dialog.close()
    grid8.territories["rep_id"] = ["R1", "R2", "R3"]
    extra = grid8.reps.iloc[[1]].copy()
    extra["rep_id"], extra["name"] = "R3", "Cy"
    grid8.reps = type(grid8.reps)(pd.concat([grid8.reps, extra], ignore_index=True), crs=grid8.reps.crs)
    dialog = open_balance_dialog(window)
    dialog.mode_build.setChecked(True)
    assert dialog.anchor.isEnabled() and dialog.anchor.isChecked()  # the default when it can anchor
    assert dialog.options().use_rep_homes
    dialog.k.setValue(4)  # anchoring needs one territory per rep
    assert not dialog.anchor.isEnabled() and not dialog.options().use_rep_homes
    dialog.k.setValue(3)
    dialog.mode_rebalance.setChecked(True)
    assert not dialog.options().use_rep_homes


def test_apply_warns_when_a_rep_ends_outside_their_territory(qtbot, window, grid8, monkeypatch):
    import shapely

    grid8.reps.loc[grid8.reps["rep_id"] == "R1", "geometry"] = shapely.Point(-96.3, 38.3)  # in T3's column 7
    run_dialog(qtbot, window, lambda d: d.max_moved.setValue(30.0))
    panel = window.balance_panel
    home_unit = unit_id(7, 0)
    assert panel.proposal.assignment[home_unit] != "T1"  # independently: R1's home stays outside T1
    assert any(w.startswith("rep R1 of Terr T1 (T1) lives in") for w in panel.proposal.warnings)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    before = dict(grid8.plan.as_dict())
    assert not panel.apply() and grid8.plan.as_dict() == before
    assert len(asked) == 1 and "rep R1 of Terr T1 (T1) lives in" in asked[0]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    from territory_desktop.services.scenario_balance import ProposalOutcome

    outcomes = []
    panel.closed.connect(outcomes.append)
    assert panel.apply() and window.undo_stack.count() == 1
    assert outcomes == [ProposalOutcome.APPLIED]


def test_search_choices_reach_the_options(qtbot, window, tmp_path, monkeypatch):
    """#17: objective, edge lengths (a CSV picked in a file dialog) and the whole-time search."""
    from PySide6.QtWidgets import QFileDialog

    dialog = open_balance_dialog(window)
    assert not dialog.lengths.isEnabled()  # compact needs no lengths
    assert dialog.options().objective == "compact" and dialog.options().edge_lengths is None
    dialog.objective.setCurrentIndex(dialog.objective.findData("diameter"))
    assert dialog.lengths.isEnabled()
    csv = tmp_path / "lengths.csv"
    csv.write_text("from,to,length\n")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(csv), ""))
    index = dialog.lengths.findData("file")
    dialog.lengths.setCurrentIndex(index)
    dialog.lengths.activated.emit(index)
    dialog.whole_time.setChecked(True)
    opts = dialog.options()
    assert (opts.objective, opts.edge_lengths, opts.use_time_limit) == ("diameter", str(csv), True)
    assert "lengths.csv" in dialog.lengths.currentText()
    dialog.lengths.setCurrentIndex(dialog.lengths.findData("great-circle"))
    assert dialog.options().edge_lengths == "great-circle"
    # searches at once, one per core: only for a whole-time search that builds
    dialog.mode_build.setChecked(True)
    assert dialog.cores.isEnabled() and dialog.options().workers == dialog.cores.value() >= 1
    dialog.cores.setValue(1)
    assert dialog.options().workers == 1
    dialog.whole_time.setChecked(False)
    assert not dialog.cores.isEnabled()
    dialog.whole_time.setChecked(True)
    dialog.mode_rebalance.setChecked(True)
    assert not dialog.cores.isEnabled()
    dialog.reject()


def test_stop_keeps_the_best_plan_so_far(qtbot, window):
    """#17: Stop ends a whole-time search early and opens its best plan (Cancel would keep nothing)."""
    dialog = open_balance_dialog(window)
    dialog.mode_build.setChecked(True)
    dialog.whole_time.setChecked(True)
    dialog.time_limit.setValue(600)
    started = time.monotonic()
    dialog.run_button.click()
    assert dialog.stop_button.isVisible()
    qtbot.waitUntil(lambda: "so far" in dialog._message, timeout=30000)  # the anytime search reports
    dialog.stop_button.click()
    qtbot.waitUntil(lambda: dialog.worker is None, timeout=30000)
    assert time.monotonic() - started < 120
    assert dialog.result is not None and not dialog.stop_button.isVisible()
    summary = dialog.result.proposals[0].summary
    assert summary.stopped == "stopped" and summary.within_tolerance
