"""Solomon VRPTW benchmark: our engine against peers, all 56 instances, checked independently.

    python benchmarks/solomon.py [--dir ../shared/benchmarks/solomon] [--jobs 1] [--only R101,C101]

Solvers per instance (same run, same machine): ours (solve_vrptw, backend auto = PyVRP) at 10 s and 1 s,
our OR-Tools backend tuned (parallel cheapest insertion + guided local search) at 10 s and 1 s,
OR-Tools with default search settings at 10 s, and pyvroom (exploration level 5, 1 thread).
Every solution is re-checked by ``check_solution`` (capacity, windows, each customer once); a gap
is (cost - bks) / bks on DIMACS distances and only feasible solutions count. Prints JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vrptw import load_instance

from territory_desktop.engine.routing import check_solution, solve_vrptw
from territory_desktop.engine.routing.instance import RoutingInstance
from territory_desktop.models import InfeasibleError

DEFAULT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "benchmarks", "solomon")


def solve_vroom(inst: RoutingInstance, threads: int = 1) -> tuple[list[list[int]], list[int]]:
    """pyvroom on the same integer (x10) matrix; returns routes and unassigned customers."""
    import vroom

    prob = vroom.Input()
    prob.set_durations_matrix(profile="car", matrix_input=inst.duration.tolist())
    for v in range(inst.num_vehicles):
        prob.add_vehicle(vroom.Vehicle(id=v, start=0, end=0, capacity=[int(inst.capacity or 10**9)],
                                       time_window=vroom.TimeWindow(int(inst.tw_early[0]), int(inst.tw_late[0]))))
    for i in range(1, inst.num_clients + 1):
        prob.add_job(vroom.Job(id=i, location=i, default_service=int(inst.service[i]),
                               delivery=[int(inst.demand[i]) if inst.demand is not None else 0],
                               time_windows=[vroom.TimeWindow(int(inst.tw_early[i]), int(inst.tw_late[i]))]))
    sol = prob.solve(exploration_level=5, nb_threads=threads)
    df = sol.routes
    routes = []
    for _, grp in df[df["type"] == "job"].groupby("vehicle_id", sort=True):
        routes.append([int(x) for x in grp["id"]])
    served = {c for r in routes for c in r}
    return routes, [i for i in range(1, inst.num_clients + 1) if i not in served]


def run_one(inst: RoutingInstance, solver: str, limit: float, bks: float) -> dict:
    t0 = time.perf_counter()
    routes: list[list[int]] = []
    skipped: list[int] = []
    try:
        if solver == "vroom":
            routes, unassigned = solve_vroom(inst)
            if unassigned:
                return {"feasible": False, "cost": None, "gap_pct": None, "seconds": round(time.perf_counter() - t0, 2),
                        "note": f"{len(unassigned)} customers unassigned"}
        else:
            res = solve_vrptw(inst, limit, seed=0, backend=solver)
            routes, skipped = res.routes, res.skipped
    except InfeasibleError as exc:
        return {"feasible": False, "cost": None, "gap_pct": None, "seconds": round(time.perf_counter() - t0, 2),
                "note": str(exc)[:120]}
    seconds = time.perf_counter() - t0
    rep = check_solution(inst, routes, skipped)
    cost = rep.distance / 10
    row = {"feasible": rep.feasible, "cost": cost, "vehicles": len([r for r in routes if r]),
           "gap_pct": round(100 * (cost - bks) / bks, 3) if rep.feasible else None, "seconds": round(seconds, 2)}
    if not rep.feasible:
        row["note"] = "; ".join(rep.problems[:3])
    return row


SOLVERS = [("ours_10s", "auto", 10.0), ("ours_1s", "auto", 1.0), ("ortools_tuned_10s", "ortools", 10.0),
           ("ortools_tuned_1s", "ortools", 1.0), ("ortools_default_10s", "ortools-default", 10.0),
           ("vroom", "vroom", 0.0)]


def bench_instance(args: tuple[str, str, float, float]) -> dict:
    path, name, bks, scale = args
    inst = load_instance(path)
    row = {"instance": name, "bks": bks}
    for key, solver, limit in SOLVERS:
        row[key] = run_one(inst, solver, limit * scale, bks)
        print(f"{name} {key}: {row[key]}", file=sys.stderr, flush=True)
    return row


def summarise(rows: list[dict]) -> dict:
    out = {}
    for key, _, _ in SOLVERS:
        cells = [r[key] for r in rows]
        gaps = [c["gap_pct"] for c in cells if c["feasible"]]
        out[key] = {"instances": len(cells), "feasible": len(gaps),
                    "mean_gap_pct": round(statistics.fmean(gaps), 3) if gaps else None,
                    "max_gap_pct": round(max(gaps), 3) if gaps else None,
                    "mean_seconds": round(statistics.fmean(c["seconds"] for c in cells), 2)}
    ours = out["ours_10s"]["mean_gap_pct"]
    for cell in out.values():
        g = cell["mean_gap_pct"]
        cell["gap_minus_ours_10s_pct"] = round(g - ours, 3) if g is not None and ours is not None else None
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default=DEFAULT_DIR, help="folder with *.vrp and bks_distance_dimacs.csv")
    ap.add_argument("--jobs", type=int, default=1, help="instances in parallel (1 = fair timing)")
    ap.add_argument("--only", default="", help="comma-separated instance names (default: all)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every time limit (smoke tests)")
    args = ap.parse_args(argv)
    with open(os.path.join(args.dir, "bks_distance_dimacs.csv")) as fh:
        bks = {r["instance"]: float(r["cost"]) for r in csv.DictReader(fh)}
    names = sorted(bks) if not args.only else args.only.split(",")
    tasks = [(os.path.join(args.dir, f"{n}.vrp"), n, bks[n], args.scale) for n in names]
    t0 = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            rows = list(pool.map(bench_instance, tasks))
    else:
        rows = [bench_instance(t) for t in tasks]
    print(json.dumps({"benchmark": "solomon-vrptw", "instances": len(rows), "wall_seconds": round(time.perf_counter() - t0, 1),
                      "summary": summarise(rows), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
