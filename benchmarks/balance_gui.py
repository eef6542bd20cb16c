"""Balancing GUI benchmark: the worker-thread run against the same service call made headless (the CLI
path), on the demo project (3,108 counties, 40 territories), and how responsive the window stays.

    python benchmarks/balance_gui.py [--project demo.gpkg] [--out FILE]

Cases (all workload_hours +/-2 %):
- ``rebalance``: a balanced 40-territory plan (built first, seed 0) after a planner moved 25 units
  from Kansas City to Omaha; rebalance moving at most 10 %.
- ``build``: build from scratch, 3 alternatives (seeds 0-2).
- ``build_anchored``: build from scratch anchored on the reps' homes (the dialog's default), 1 plan.
For each: headless seconds (``run_project_balance``, the service the worker calls, in this thread), GUI seconds (click
Run -> proposal dock filled and highlighted), the ratio, the longest stall of the GUI thread while the
worker ran (a 10 ms QTimer measures the gaps between its ticks; the proposal view built in the GUI
thread at the end is one of them, timed alone as ``proposal_view_ms``) and Cancel latency (click Cancel ->
run ended) on a long run. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _perturbed(project) -> None:
    from territory_desktop.services.balancing import BalanceOptions
    from territory_desktop.services.scenario_balance import propose_project_balance

    base = propose_project_balance(project, BalanceOptions(measures=["workload_hours"], mode="build", seed=0))
    project.plan.assign_many(base.assignment)
    terr = project.scenario_territories()
    tid = dict(zip(terr["name"], terr["territory_id"], strict=True))
    plan = project.plan.as_dict()
    cent = project.units.set_index("unit_id").geometry.representative_point()
    taker = [u for u, t in plan.items() if t == tid["Omaha"]]
    cx, cy = cent[taker].x.mean(), cent[taker].y.mean()
    donors = sorted((u for u, t in plan.items() if t == tid["Kansas City"]),
                    key=lambda u: (cent[u].x - cx) ** 2 + (cent[u].y - cy) ** 2)
    project.plan.assign_many({u: tid["Omaha"] for u in donors[:25]})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--project", help="a demo project .gpkg (default: built into a temporary folder)")
    ap.add_argument("--out", help="also write the JSON here")
    args = ap.parse_args()
    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from territory_desktop.services.balancing import BalanceOptions
    from territory_desktop.services.project import open_project
    from territory_desktop.services.scenario_balance import run_project_balance
    from territory_desktop.ui.balance_dialog import install_balance_ui, open_balance_dialog
    from territory_desktop.ui.main_window import MainWindow

    tmp = tempfile.mkdtemp()
    path = args.project
    if path is None:
        from territory_desktop.services.demo import build_demo

        path = str(Path(tmp) / "demo.gpkg")
        from territory_desktop.services.project import save_project

        save_project(build_demo(seed=7), path)
    results: dict = {"project": Path(path).name, "cases": {}}
    cases = {"rebalance": (BalanceOptions(measures=["workload_hours"], mode="rebalance", max_moved=0.1,
                                          time_limit=20), True),
             "build": (BalanceOptions(measures=["workload_hours"], mode="build", time_limit=20, alternatives=3),
                       False),
             "build_anchored": (BalanceOptions(measures=["workload_hours"], mode="build", time_limit=20,
                                               use_rep_homes=True), False)}
    for name, (opts, perturb) in cases.items():
        project = open_project(path)
        if perturb:
            _perturbed(project)
        t = time.perf_counter()
        run_project_balance(project, opts)  # the service the GUI worker calls, in this thread
        headless = time.perf_counter() - t
        w = MainWindow(project, settings=QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat))
        install_balance_ui(w)
        w.resize(1600, 1000)
        w.show()
        app.processEvents()
        d = open_balance_dialog(w)
        (d.mode_rebalance if opts.mode == "rebalance" else d.mode_build).setChecked(True)
        d.max_moved.setValue(opts.max_moved * 100)
        d.alternatives.setValue(opts.alternatives)
        d.time_limit.setValue(opts.time_limit)
        d.anchor.setChecked(opts.use_rep_homes)
        gaps: list[float] = []
        clock = QElapsedTimer()
        clock.start()
        last = [clock.elapsed()]

        def tick(clock=clock, gaps=gaps, last=last) -> None:
            now = clock.elapsed()
            gaps.append(now - last[0])
            last[0] = now

        timer = QTimer(interval=10, timeout=tick)
        timer.start()
        t = time.perf_counter()
        d.run_button.click()
        while d.worker is not None:
            app.processEvents()
            time.sleep(0.002)
        app.processEvents()
        gui = time.perf_counter() - t
        timer.stop()
        panel = w.balance_panel
        t = time.perf_counter()
        panel.set_run(panel.run)  # the GUI-thread share: change table, scores, map overlays
        view_ms = (time.perf_counter() - t) * 1000
        results["cases"][name] = {
            "units": len(project.units), "territories": len(project.scenario_territories()),
            "plans": len(panel.run.proposals), "headless_s": round(headless, 2), "gui_s": round(gui, 2),
            "gui_over_headless": round(gui / headless, 2),
            "gui_stall_max_ms": round(max(gaps, default=0.0) - 10, 1),
            "gui_stall_p95_ms": round(sorted(gaps)[int(0.95 * (len(gaps) - 1))] - 10, 1) if gaps else None,
            "proposal_view_ms": round(view_ms, 1),
            "units_moved": len(panel.proposal.changes),
            "within_tolerance": panel.proposal.summary.within_tolerance,
            "reps_outside": len(panel.proposal.warnings),
        }
        panel.discard()
        w.undo_stack.setClean()
        w.close()
    # Cancel latency: +/-0.1 % from scratch with 20 alternatives runs for minutes; cancel after 2 s
    project = open_project(path)
    w = MainWindow(project, settings=QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat))
    install_balance_ui(w)
    d = open_balance_dialog(w)
    d.mode_build.setChecked(True)
    d.tolerances["workload_hours"].setValue(0.1)
    d.alternatives.setValue(20)
    d.time_limit.setValue(60)
    d.run_button.click()
    t = time.perf_counter()
    while time.perf_counter() - t < 2.0:
        app.processEvents()
        time.sleep(0.01)
    running = d.worker is not None
    t = time.perf_counter()
    d.cancel_button.click()
    while d.worker is not None:
        app.processEvents()
        time.sleep(0.002)
    results["cancel"] = {"was_running_after_2s": running, "latency_s": round(time.perf_counter() - t, 3),
                         "status": d.status.text()}
    w.close()
    text = json.dumps(results, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
