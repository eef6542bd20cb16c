"""Tools > Plan All Routes: the dialog (defaults, options) and a run in the worker that saves each rep."""

from __future__ import annotations

import os
import sqlite3
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "services"))

from batch_fixtures import small_project

from territory_desktop.services.project import open_project, save_project


def _window(open_window, tmp_path):
    path = tmp_path / "small.gpkg"
    save_project(small_project(), path)
    window = open_window(open_project(path))
    window.project.path = str(path)
    return window, path


def test_dialog_defaults_and_options(qtbot) -> None:
    from territory_desktop.ui.route_batch import PlanAllRoutesDialog

    dialog = PlanAllRoutesDialog(None, reps=40)
    qtbot.addWidget(dialog)
    dialog.resize(dialog.sizeHint())
    dialog.grab().save(os.environ.get("PLAN_ALL_PNG", str(Path(os.devnull))), "PNG")  # to look at
    opts = dialog.options()
    assert opts.start.weekday() == 0 and opts.start > date.today()  # next Monday
    assert (opts.weeks, opts.time_limit, opts.weekdays, opts.lunch) == (2, 30.0, (0, 1, 2, 3, 4), (690, 810, 30))
    assert opts.workers == (os.cpu_count() or 1) and opts.cluster is None and not opts.restart
    assert opts.traffic is not None
    dialog.where.setCurrentIndex(1)
    dialog.address.setText("tcp://10.0.0.5:8786")
    dialog.day_boxes[4].setChecked(False)
    dialog.traffic.setChecked(False)
    opts = dialog.options()
    assert opts.cluster == "tcp://10.0.0.5:8786" and opts.weekdays == (0, 1, 2, 3) and opts.traffic is None
    assert dialog.address.isVisibleTo(dialog) and not dialog.workers.isVisibleTo(dialog)


def test_plan_all_routes_in_the_window_saves_each_rep(open_window, qtbot, tmp_path, monkeypatch) -> None:
    from territory_desktop.services.route_batch import RouteBatchOptions
    from territory_desktop.ui import route_batch

    window, path = _window(open_window, tmp_path)
    assert "plan_all_routes" in window.actions_
    shown = []
    monkeypatch.setattr(route_batch.msg, "information", lambda _w, _t, text: shown.append(text))
    opts = RouteBatchOptions(date(2027, 3, 1), weeks=1, time_limit=2.0, workers=1)
    _worker, dialog = route_batch.plan_all_routes_ui(window, opts)
    qtbot.waitUntil(lambda: bool(shown), timeout=60000)
    assert not dialog.isVisible()
    assert shown[0].startswith("4 reps in") and "3 planned, 0 already planned (kept), 1 failed" in shown[0]
    assert "21 of 21 required visits planned" in shown[0] and "r4: rep 'r4' has no home location" in shown[0]
    with sqlite3.connect(path) as conn:  # saved to the file, rep by rep
        per_rep = dict(conn.execute("SELECT rep_id, COUNT(*) FROM planned_visits GROUP BY rep_id").fetchall())
    assert per_rep == {"r1": 7, "r2": 7, "r3": 7}
    assert not window.isWindowModified()
