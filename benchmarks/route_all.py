"""``route --all``: the demo's reps planned serially (``--workers 1``) and on a local process pool
(``--workers 2``), then a measured extrapolation to 5,000 reps on N cluster workers (time and cost per night).

    nice -n 10 python benchmarks/route_all.py --project demo/demo.gpkg [--weeks 2] [--time-limit 5] \
        [--workers 2] [--price 0.045] > route_all.json

Each run is the CLI in a subprocess on its own copy of the project (so the saves are part of the time):
wall seconds, CPU seconds of the process and its pool workers, and the reps' planned/required visits.
The parent's own costs per rep (preparing a rep's input, storing its rows into a planned-visit table the
size of 5,000 reps' plans, and a save of that table) are measured in this process. The extrapolation:

    wall(N) = max(ceil(reps / N) x solve_s / efficiency, reps x parent_s)     (the parent prepares, stores
                                                                               and saves while the workers
                                                                               solve: parent_s = 6/5 x the
                                                                               preparation, as storing and
                                                                               saving take at most 1/6)
    cost(N) = N x wall(N) / 3600 x price                                      (price per vCPU-hour; one
                                                                               worker = one vCPU)

with ``solve_s`` the mean seconds of a rep's task and ``efficiency`` the measured pool speed-up / workers.
The machine is shared: every timing here is noisy; the load average is printed with each run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
START = "2027-03-01"


def _children_cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def run_cli(project: Path, weeks: int, time_limit: float, workers: int) -> dict:
    """One ``route --all`` run on a copy of ``project``: wall and CPU seconds, per-rep task seconds."""
    cmd = [sys.executable, "-m", "territory_desktop", "route", "--project", str(project), "--all", "--start", START,
           "--weeks", str(weeks), "--time-limit", str(time_limit), "--workers", str(workers), "--restart", "--json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0, c0, load = time.perf_counter(), _children_cpu(), os.getloadavg()[0]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - c0
    result = json.loads(done.stdout)
    reps = [e for e in result["reps"] if "error" not in e]
    tasks = [e["seconds"] for e in reps]
    return {"workers": workers, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "load_average_1min_before": round(load, 1), "load_average_1min_after": round(os.getloadavg()[0], 1),
            "reps_planned": len(reps), "reps_failed": len(result["reps"]) - len(reps),
            "planned_visits": sum(e["planned_visits"] for e in reps),
            "required_visits": sum(e["required_visits"] for e in reps),
            "mean_task_s": round(sum(tasks) / max(len(tasks), 1), 2), "max_task_s": max(tasks, default=0.0),
            "rows": result}


def parent_costs(project_path: Path, weeks: int, reps_target: int, rows_per_rep: float) -> dict:
    """The parent's seconds per rep: preparing a rep's input, and storing + saving a rep's rows when the
    planned-visit table already holds ``reps_target`` reps' plans."""
    import pandas as pd

    from territory_desktop.engine.travel import TrafficProfile
    from territory_desktop.models import TerritoryError
    from territory_desktop.services.project import open_project, save_project
    from territory_desktop.services.route_batch import RouteBatchOptions, _task_args
    from territory_desktop.services.routing import planning_tables, store_rep_rows

    project = open_project(project_path, for_writing=True)
    t0 = time.perf_counter()
    tables = planning_tables(project)
    tables_s = time.perf_counter() - t0
    opts = RouteBatchOptions(date.fromisoformat(START), weeks, traffic=TrafficProfile())
    reps = [str(r) for r in project.reps["rep_id"]]
    t0, inputs = time.perf_counter(), []
    for r in reps:
        with contextlib.suppress(TerritoryError):  # a rep that cannot be planned (no home) costs no more
            inputs.append(_task_args(project, r, opts, tables)[0])
    prepare_s = (time.perf_counter() - t0) / len(reps)
    n = int(reps_target * rows_per_rep)
    big = pd.DataFrame({"rep_id": [f"X{k % reps_target:05d}" for k in range(n)], "account_id": "A00001",
                        "date": START, "sequence": 1, "arrive_minute": 600, "depart_minute": 630, "status": "planned"})
    project.planned_visits = big
    project.mark_dirty("planned_visits")
    save_project(project)
    one = big.iloc[: max(1, round(rows_per_rep))].drop(columns="fid", errors="ignore").assign(rep_id=reps[0])
    store_s = save_s = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        store_rep_rows(project, reps[0], one)
        t1 = time.perf_counter()
        save_project(project)
        store_s, save_s = store_s + (t1 - t0) / 3, save_s + (time.perf_counter() - t1) / 3
    return {"tables_once_s": round(tables_s, 3), "prepare_per_rep_s": round(prepare_s, 4),
            "mean_accounts_per_rep": round(sum(len(i.accounts) for i in inputs) / len(inputs), 1),
            "planned_visit_rows_in_table": n, "store_one_rep_s": round(store_s, 4),
            "save_s": round(save_s, 4)}


def extrapolate(reps: int, solve_s: float, efficiency: float, parent_s: float, price: float,
                workers: tuple[int, ...] = (16, 64, 256, 1024)) -> list[dict]:
    """wall(N) and cost(N) of ``reps`` reps (see the module's docstring)."""
    out = []
    for n in workers:
        solving = math.ceil(reps / n) * solve_s / efficiency
        wall = max(solving, reps * parent_s)
        out.append({"workers": n, "wall_min": round(wall / 60, 1), "bound_by": "solves" if solving >= reps * parent_s
                    else "parent (prepare + save)", "cost_usd": round(n * wall / 3600 * price, 2)})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--project", default=str(ROOT / "demo" / "demo.gpkg"))
    ap.add_argument("--weeks", type=int, default=2)
    ap.add_argument("--time-limit", type=float, default=5.0, help="route --time-limit per rep (default 5 s)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5000, help="reps of the extrapolation (default 5000)")
    ap.add_argument("--price", type=float, default=0.045,
                    help="USD per vCPU-hour of the extrapolation's cluster (default 0.045: an assumed on-demand "
                         "compute-optimised list price; give yours)")
    ap.add_argument("--runs", metavar="EARLIER.json", help="reuse the serial and pool runs of an earlier output")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        copies = [Path(tmp) / f"run{k}.gpkg" for k in range(3)]
        for c in copies:
            shutil.copy(args.project, c)
        if args.runs:  # the serial and pool runs of an earlier output (to measure the parent again)
            earlier = json.loads(Path(args.runs).read_text())
            serial, pool = earlier["serial"], earlier["pool"]
            serial["rows"] = pool["rows"] = earlier.get("rows", {"reps": []})
        else:
            serial = run_cli(copies[0], args.weeks, args.time_limit, 1)
            pool = run_cli(copies[1], args.weeks, args.time_limit, args.workers)
        rows_per_rep = serial["planned_visits"] / max(serial["reps_planned"], 1)
        parent = parent_costs(copies[2], args.weeks, args.reps, rows_per_rep)
    speedup = serial["wall_s"] / pool["wall_s"]
    efficiency = min(1.0, speedup / args.workers)
    # a flush (store the finished reps' rows + save) comes at most every 5 x its duration
    # (services.route_batch._Saver): at most 1/6 of the parent's time
    parent_s = parent["prepare_per_rep_s"] * 6 / 5
    counts = [[(e["rep_id"], e.get("planned_visits"), e.get("required_visits")) for e in run["rows"]["reps"]]
              for run in (serial, pool)]
    same = earlier["same_visit_counts_serial_and_pool"] if args.runs else counts[0] == counts[1]
    for run in (serial, pool):
        run.pop("rows")
    print(json.dumps({
        "project": args.project, "weeks": args.weeks, "time_limit_per_rep_s": args.time_limit,
        "cpu_count": os.cpu_count(), "serial": serial, "pool": pool, "speedup": round(speedup, 2),
        "efficiency": round(efficiency, 2), "same_visit_counts_serial_and_pool": same, "parent": parent,
        "extrapolation": {
            "reps": args.reps, "price_usd_per_vcpu_hour": args.price, "solve_s_per_rep": serial["mean_task_s"],
            "at_this_time_limit": extrapolate(args.reps, serial["mean_task_s"], efficiency, parent_s, args.price),
            "at_the_default_30_s": extrapolate(args.reps, 30.0, efficiency, parent_s, args.price)},
    }, indent=1))


if __name__ == "__main__":
    main()
