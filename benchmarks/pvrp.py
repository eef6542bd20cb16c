"""Periodic VRP benchmark (Cordeau, Gendreau & Laporte 1997): our periodic planner on one instance.

    python benchmarks/pvrp.py INSTANCE.txt --time-limit S --res OUT.res [--json] [--seed 0]

Reads the Cordeau format, plans with ``solve_periodic`` for S seconds, writes OUT.res (line 1 the total
cost, then one line per route ``day vehicle duration load 0 c1 ... ck 0``), reads OUT.res back and checks
it with the independent checker (every customer f times on an allowed combination, at most m routes a
day, load <= Q, duration <= D, cost recomputed in double precision), and reports the gap to the best known
cost in ``bks.csv`` beside the instance. ``--json`` prints one JSON object; otherwise a short summary.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

import territory_desktop.engine.routing.periodic as pvrp


def parse_cordeau(text: str, name: str = "") -> pvrp.PeriodicProblem:
    """The Cordeau text format (see the benchmark's README) as a periodic problem; node i = location i."""
    lines = [ln.split() for ln in text.splitlines() if ln.strip()]
    _, m, n, t = (int(v) for v in lines[0][:4])
    days = [pvrp.PeriodicDay(max_duration=float(d) if float(d) > 0 else math.inf, capacity=float(q))
            for d, q in (ln[:2] for ln in lines[1:1 + t])]
    nodes = lines[1 + t:2 + t + n]
    xy = np.array([[float(v[1]), float(v[2])] for v in nodes])
    accounts = []
    for v in nodes[1:]:
        freq, count = int(v[5]), int(v[6])
        combos = tuple(pvrp.combinations_from_mask(int(c), t) for c in v[7:7 + count])
        if any(len(c) != freq for c in combos):
            raise ValueError(f"{name}: customer {v[0]} has a combination that is not {freq} days")
        accounts.append(pvrp.PeriodicAccount(location=int(v[0]), combinations=combos, service=float(v[3]),
                                             demand=float(v[4]), name=v[0]))
    dist = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    depot = pvrp.PeriodicRep(home=0, vehicles=m, name="depot")
    return pvrp.PeriodicProblem(dist, dist, accounts, [depot], days, name=name)


def route_lines(problem: pvrp.PeriodicProblem, routes: list[pvrp.PeriodicRoute]) -> list[str]:
    """``day vehicle duration load 0 c1 ... ck 0`` per route, vehicles numbered 1..m within each day."""
    out, count = [], {}
    for r in sorted(routes, key=lambda r: (r.day, r.vehicle)):
        k = count.get(r.day, 0) + 1
        count[r.day] = k
        nodes = [0] + [problem.accounts[a].location for a in r.accounts] + [0]
        _, duration = problem.route_totals(r.rep, r.accounts)
        load = sum(problem.accounts[a].demand for a in r.accounts)
        out.append(f"{r.day + 1} {k} {duration:.2f} {load:g} " + " ".join(str(v) for v in nodes))
    return out


def read_res(text: str) -> tuple[float, list[pvrp.PeriodicRoute]]:
    """A .res file back as (stated cost, routes); customer c = account c - 1."""
    lines = [ln.split() for ln in text.splitlines() if ln.strip()]
    routes = []
    for ln in lines[1:]:
        custs = [int(v) for v in ln[4:] if int(v) != 0]
        routes.append(pvrp.PeriodicRoute(int(ln[0]) - 1, 0, int(ln[1]) - 1, [c - 1 for c in custs]))
    return float(lines[0][0]), routes


def best_known(instance: Path) -> float | None:
    path = instance.parent / "bks.csv"
    if not path.exists():
        return None
    with path.open() as fh:
        for row in csv.DictReader(fh):
            if row["instance"] == instance.stem:
                return float(row["best_known_cost"])
    return None


def run(instance: Path, time_limit: float, res: Path, seed: int = 0) -> dict:
    problem = parse_cordeau(instance.read_text(), instance.stem)
    t0 = time.perf_counter()
    sol = pvrp.solve_periodic(problem, time_limit=time_limit, seed=seed)
    seconds = time.perf_counter() - t0
    res.write_text("\n".join([f"{sol.cost:.2f}", *route_lines(problem, sol.routes)]) + "\n")
    stated, routes = read_res(res.read_text())
    check = pvrp.check_periodic(problem, routes)
    if abs(stated - check.cost) > 0.01:
        check.problems.append(f"stated cost {stated:.2f} differs from the recomputed {check.cost:.4f}")
    bks = best_known(instance)
    return {"instance": instance.stem, "customers": len(problem.accounts), "days": problem.num_days,
            "vehicles_per_day": problem.reps[0].vehicles, "time_limit_s": time_limit,
            "seconds": round(seconds, 2), "cost": round(check.cost, 4), "best_known": bks,
            "gap_pct": None if bks is None else round(100 * (check.cost - bks) / bks, 3),
            "feasible": check.feasible, "problems": check.problems[:20], "routes": len(routes),
            "outer_iterations": sol.iterations, "res": str(res)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("instance", type=Path)
    ap.add_argument("--time-limit", type=float, required=True, help="seconds for the planner")
    ap.add_argument("--res", type=Path, required=True, help="where to write the solution (.res)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    out = run(args.instance, args.time_limit, args.res, args.seed)
    if args.json:
        print(json.dumps(out))
    else:
        gap = "n/a" if out["gap_pct"] is None else f"{out['gap_pct']:+.2f} %"
        state = "feasible" if out["feasible"] else "INFEASIBLE: " + "; ".join(out["problems"][:3])
        print(f"{out['instance']}: cost {out['cost']:.2f} (best known {out['best_known']}), gap {gap}, "
              f"{state}, {out['seconds']} s")
    return 0 if out["feasible"] else 1


if __name__ == "__main__":
    sys.exit(main())
