"""Solve one VRPLIB/Solomon VRPTW instance with our routing engine and print the solution.

    python benchmarks/vrptw.py INSTANCE.vrp --time-limit 10 --json
    -> {"routes": [[...], ...], "cost": 1637.7, "seconds": 10.0}

Customers are numbered as in the .sol files (VRPLIB node id minus one; depot 0 not listed) and
distances follow the DIMACS convention floor(10 * euclid) / 10. ``--backend`` picks the solver behind
our interface (default auto = PyVRP); the solution is checked by the independent checker.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import vrplib

from territory_desktop.engine.routing import BACKENDS, check_solution, dimacs_instance, solve_vrptw
from territory_desktop.engine.routing.instance import RoutingInstance


def load_instance(path: str) -> RoutingInstance:
    """Read a VRPLIB VRPTW file into a DIMACS-scaled instance (values times 10, integers)."""
    d = vrplib.read_instance(path)
    return dimacs_instance(d["node_coord"], d["demand"], d["capacity"], d["time_window"],
                           d.get("service_time", 0), int(d.get("vehicles", len(d["demand"]) - 1)),
                           name=str(d.get("name", path)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("instance", help="VRPLIB .vrp file with TIME_WINDOW section")
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds of search (default 10)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--backend", choices=BACKENDS, default="auto")
    ap.add_argument("--json", action="store_true", help="print only the JSON line")
    args = ap.parse_args(argv)
    inst = load_instance(args.instance)
    t0 = time.perf_counter()
    res = solve_vrptw(inst, args.time_limit, args.seed, backend=args.backend)
    seconds = time.perf_counter() - t0
    rep = check_solution(inst, res.routes, res.skipped)
    out = {"routes": res.routes, "cost": round(rep.distance / 10, 1), "seconds": round(seconds, 2)}
    if args.json:
        print(json.dumps(out))
    else:
        for k, r in enumerate(out["routes"], 1):
            print(f"Route #{k}: {' '.join(map(str, r))}")
        print(f"Cost {out['cost']}  ({len(res.routes)} routes, {out['seconds']} s, backend {res.backend})")
    if not rep.feasible:
        print("infeasible: " + "; ".join(rep.problems[:5]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
