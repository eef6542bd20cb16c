"""Is the demo credible? Generate it, balance on route workload, plan every rep for 4 weeks, report coverage.

    nice -n 5 python benchmarks/demo_coverage.py [--dir /tmp/demo-coverage] [--seed 7] [--workers 2] \
        [--time-limit 30] [--project EXISTING.gpkg] > demo_coverage.json

Every step is the CLI in a subprocess, as a planner would type it (README, "The demo project"):

1. ``demo DIR/demo.gpkg --force`` (skipped with ``--project``: a copy of that file is used);
2. ``balance --project P --weight route_workload --tolerance 0.10 --rep-homes --max-moved 0.1 --json``
   (rebalance the alignment on route workload), then ``scenario activate`` of the new scenario;
3. ``size --project P --coverage 0.95 --json``;
4. ``route --project P --all --start 2026-11-30 --weeks 4 --workers N --json`` (the batch runner).

It prints JSON: the balance scores, ``reps_needed`` and the route loads of the balanced territories, the
coverage over all reps (min, p10, median, max, every rep), and per territory the planned hours of the 4
weeks (driving + service of the visits planned) beside the estimator's hours for the same visits
(``services.workload.home_route_workload``: visits per week = visits planned / 4), with the error.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
START, WEEKS = "2026-11-30", 4


def cli(*args: str) -> str:
    """Run ``territory-desktop ARGS`` in a subprocess (this checkout), return its stdout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "territory_desktop", *args], env=env, capture_output=True,
                          text=True, check=False)
    if done.returncode:
        raise SystemExit(f"territory-desktop {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def _dist(values: list[float]) -> dict:
    v = np.asarray(values, dtype=float)
    return {"min": round(float(v.min()), 1), "p10": round(float(np.percentile(v, 10)), 1),
            "median": round(float(np.median(v)), 1), "max": round(float(v.max()), 1)}


def hours_per_territory(path: Path, route: dict) -> list[dict]:
    """Planned hours (driving + service of the planned visits, 4 weeks) and the estimate on the same
    visits, per territory of the active scenario."""
    from territory_desktop.services.project import open_project
    from territory_desktop.services.workload import home_route_workload

    project = open_project(path)
    acc = project.accounts.set_index("account_id")
    terr = project.scenario_territories(project.active_scenario)
    tid_of = dict(zip(terr["rep_id"], terr["territory_id"], strict=False))
    homes = project.reps.set_index("rep_id").geometry
    pv = project.planned_visits
    rows = []
    for entry in route["reps"]:
        if "error" in entry:
            continue
        rep = entry["rep_id"]
        counts = pv[pv["rep_id"].astype(str) == rep]["account_id"].value_counts()
        a = acc.loc[counts.index]
        service_h = float((a["service_minutes"].to_numpy(float) * counts.to_numpy()).sum()) / 60
        planned = entry["drive_hours"] + service_h
        home = (float(homes[rep].x), float(homes[rep].y))
        est = home_route_workload(home, a.geometry.x.to_numpy(), a.geometry.y.to_numpy(),
                                  counts.to_numpy(float) / WEEKS, a["service_minutes"].to_numpy(float))
        estimated = est.total_h * WEEKS
        rows.append({"territory_id": tid_of.get(rep), "rep_id": rep, "planned_visits": entry["planned_visits"],
                     "planned_hours": round(planned, 1), "of_which_driving": round(entry["drive_hours"], 1),
                     "estimated_hours": round(estimated, 1),
                     "error_pct": round(100 * (estimated / planned - 1), 1) if planned else None})
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/demo-coverage"), help="where the project is written")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--project", type=Path, help="use a copy of this demo project instead of generating one")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--time-limit", type=float, default=30.0, help="planner seconds per rep (route's default 30)")
    args = ap.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    path = args.dir / "demo.gpkg"
    t0, load0 = time.perf_counter(), os.getloadavg()[0]
    if args.project:
        shutil.copyfile(args.project, path)
    else:
        cli("demo", str(path), "--seed", str(args.seed), "--force")
    t_demo = time.perf_counter() - t0
    balance = json.loads(cli("balance", "--project", str(path), "--weight", "route_workload", "--tolerance", "0.10",
                             "--rep-homes", "--max-moved", "0.1", "--json", "--quiet"))
    cli("scenario", "activate", "--project", str(path), "--scenario", balance["scenario"])
    size = json.loads(cli("size", "--project", str(path), "--coverage", "0.95", "--json"))
    t1 = time.perf_counter()
    route = json.loads(cli("route", "--project", str(path), "--all", "--start", START, "--weeks", str(WEEKS),
                           "--workers", str(args.workers), "--time-limit", str(args.time_limit), "--restart",
                           "--json"))
    t_route = time.perf_counter() - t1
    reps = [e for e in route["reps"] if "error" not in e]
    coverage = {e["rep_id"]: e["coverage_pct"] for e in reps}
    hours = hours_per_territory(path, route)
    errors = [abs(h["error_pct"]) for h in hours if h["error_pct"] is not None]
    loads = [t["load_pct"] / size["coverage"] for t in size["territories"]]
    out = {
        "seed": args.seed, "demo_seconds": round(t_demo, 1), "route_seconds": round(t_route, 1),
        "workers": args.workers, "time_limit": args.time_limit,
        "load_average": [round(load0, 2), round(os.getloadavg()[0], 2)],
        "balance": {"scenario": balance["scenario"], "mode": balance["mode"], "scores": balance["balance"],
                    "units_moved": balance["disruption"]["units_moved"]},
        "size": {"reps_now": size["reps_now"], "reps_needed": size["reps_needed"],
                 "total_route_workload_hours": size["total_route_workload_hours"],
                 "territories_over_capacity": size["territories_over_capacity"],
                 "route_load_pct_at_full_coverage": _dist(loads)},
        "coverage": {**_dist(list(coverage.values())), "reps": len(coverage),
                     "reps_below_95": sorted(r for r, c in coverage.items() if c < 95),
                     "failed_reps": [e["rep_id"] for e in route["reps"] if "error" in e],
                     "planned_visits": sum(e["planned_visits"] for e in reps),
                     "required_visits": sum(e["required_visits"] for e in reps), "per_rep": coverage},
        "estimator": {"mean_abs_error_pct": round(float(np.mean(errors)), 1) if errors else None,
                      "max_abs_error_pct": round(float(np.max(errors)), 1) if errors else None,
                      "within_10pct": sum(e <= 10 for e in errors), "territories": len(errors)},
        "hours": hours,
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
