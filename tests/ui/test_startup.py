"""Start-up: the GUI imports no heavy module it does not need for the first map, opens a project in a
worker with a progress bar, reads the history afterwards (and before any save), and the real process
reports its first paint through the start-up probe."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from PySide6.QtCore import QSettings

from territory_desktop.services.project import open_project, save_project

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("mapclassify", "matplotlib", "sklearn", "pyqtgraph", "scipy.optimize", "scipy.spatial", "ortools", "pyvrp")


def test_gui_module_imports_no_heavy_dependency():
    code = ("import sys, territory_desktop.ui.app, territory_desktop.ui.main_window; "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                       env=dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen"))
    assert r.stdout.strip() == "[]", r.stdout + r.stderr


def test_the_command_line_parser_imports_no_engine():
    """`territory-desktop gui` builds the whole parser first: registering a command must not import the
    balancer (0.5 s) or the solvers."""
    code = ("import sys, territory_desktop.cli as c; c.build_parser(); "
            f"print([m for m in {(*HEAVY, 'territory_desktop.engine.balance')!r} if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.stdout.strip() == "[]", r.stdout + r.stderr


def _with_history(project, tmp_path) -> str:
    project.sales = pd.DataFrame({"account_id": ["A000", "A001", "A010"], "period": ["2026-01", "2026-02", "2026-01"],
                                  "product": ["x", "x", "y"], "amount": [10.0, 20.0, 5.0]})
    path = str(tmp_path / "history.gpkg")
    save_project(project, path)
    return path


def test_map_first_open_keeps_history_for_saves(grid8, tmp_path):
    path = _with_history(grid8, tmp_path)
    project = open_project(path, history=False)
    assert project.history_pending and len(project.sales) == 0
    copy = str(tmp_path / "copy.gpkg")
    save_project(project, copy)  # a save reads the pending history first: nothing is lost
    assert not project.history_pending
    again = open_project(copy)
    assert sorted(again.sales["amount"].tolist()) == [5.0, 10.0, 20.0]


def test_open_in_background_shows_progress_then_map_then_history(qtbot, grid8, tmp_path):
    from territory_desktop.ui.main_window import MainWindow

    path = _with_history(grid8, tmp_path)
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), defer_tools=True)
    window.resize(1000, 700)
    window.show()
    qtbot.waitExposed(window)
    window.open_path_async(path)
    assert window._load_bar.isVisible()  # the progress bar shows while the worker reads the file
    qtbot.waitUntil(lambda: window.project is not None, timeout=20000)
    assert window.table_model.rowCount() == 3
    qtbot.waitUntil(lambda: not window.project.history_pending, timeout=20000)
    assert len(window.project.sales) == 3
    assert not window._load_bar.isVisible()
    qtbot.waitUntil(lambda: getattr(window, "balance_action", None) is not None, timeout=6000)  # tools follow
    window.undo_stack.setClean()
    window.close()


def test_real_process_reports_first_paint(grid8, tmp_path):
    path = _with_history(grid8, tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen", TERRITORY_DESKTOP_STARTUP_PROBE="1",
               HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    r = subprocess.run([sys.executable, "-m", "territory_desktop", "gui", path], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120, check=False)
    marks = json.loads(next(line for line in r.stdout.splitlines() if line.startswith("{")))
    assert r.returncode == 0
    assert marks["units"] == 40 and marks["territories"] == 3
    assert 0 < marks["window_shown_s"] < marks["first_paint_s"]


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run not installed (installer/system-packages.sh)")
def test_real_window_on_an_x_display(grid8, tmp_path):
    """Qt's xcb platform plugin loads (every library installer/system-packages.sh lists is there) and the
    window paints its map on a virtual X display."""
    path = _with_history(grid8, tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    env.update(PYTHONPATH=str(ROOT), TERRITORY_DESKTOP_STARTUP_PROBE="1", HOME=str(tmp_path),
               XDG_CONFIG_HOME=str(tmp_path))
    r = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, "-m", "territory_desktop",
                        "gui", path], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Could not load the Qt platform plugin" not in r.stderr
    marks = json.loads(next(line for line in r.stdout.splitlines() if line.startswith("{")))
    assert marks["territories"] == 3
