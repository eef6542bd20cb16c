"""Start-up time of the real GUI process: ``python -m territory_desktop gui PROJECT`` under
QT_QPA_PLATFORM=offscreen with TERRITORY_DESKTOP_STARTUP_PROBE set, which makes the application print
its timings as JSON once the map of the project has been painted for the first time, and quit.

    python benchmarks/startup.py [--project demo.gpkg] [--runs 3] [--out FILE]

Per run, seconds since the launch (``time.time()`` just before the process is spawned, handed to the
child as TERRITORY_DESKTOP_LAUNCH_TIME): ``window_shown_s`` (the main window is on screen, empty, with its
progress bar), ``first_paint_s`` (the map of the project painted), and ``seen_by_parent_s`` (when this
script read the line: includes the pipe). Also the number of modules loaded at first paint, the
machine's load average at the start of each run and, right after each run, ``baseline_import_s``: a bare
``python -c "import geopandas, PySide6.QtWidgets"`` (the machine is shared: read the start-up against it).
The first run is a cold start for the page cache of a new file; the median of the runs is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_run(project: str, timeout: float = 120.0) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TERRITORY_DESKTOP_STARTUP_PROBE="1",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with tempfile.TemporaryDirectory() as home:  # fresh QSettings: no remembered layers or window state
        env["XDG_CONFIG_HOME"] = home  # QSettings only: HOME stays, so the font cache is warm as for a user
        load = os.getloadavg()[0]
        t0 = time.time()
        env["TERRITORY_DESKTOP_LAUNCH_TIME"] = repr(t0)
        proc = subprocess.Popen([sys.executable, "-m", "territory_desktop", "gui", project], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            marks = None
            for line in proc.stdout:
                if line.startswith("{") and "first_paint_s" in line:
                    marks = json.loads(line)
                    marks["seen_by_parent_s"] = round(time.time() - t0, 3)
                    break
            proc.wait(timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
    if marks is None:
        raise RuntimeError(f"the GUI exited with code {proc.returncode} before painting the map")
    marks["load_average_1min"] = round(load, 2)
    return marks


def baseline_import(timeout: float = 120.0) -> float:
    """Seconds for a bare ``python -c "import geopandas, PySide6.QtWidgets"``: the floor any start-up
    pays, measured in the same conditions (a yardstick for how loaded the machine is)."""
    t0 = time.time()
    subprocess.run([sys.executable, "-c", "import geopandas, PySide6.QtWidgets"], check=True, timeout=timeout,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return round(time.time() - t0, 3)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--project", help="a project .gpkg (default: the demo, built into a temporary folder)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", help="also write the JSON here")
    args = ap.parse_args()
    scratch = tempfile.TemporaryDirectory()
    project = args.project
    if project is None:
        project = os.path.join(scratch.name, "demo.gpkg")
        subprocess.run([sys.executable, "-m", "territory_desktop", "demo", project], check=True, cwd=ROOT,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.DEVNULL)
    runs = []
    for _ in range(args.runs):
        run = one_run(project)
        run["baseline_import_s"] = baseline_import()
        runs.append(run)
    result = {"project": Path(project).name, "target_s": 3.0, "runs": runs,
              "median_first_paint_s": round(statistics.median(r["first_paint_s"] for r in runs), 3),
              "median_window_shown_s": round(statistics.median(r["window_shown_s"] for r in runs), 3)}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
