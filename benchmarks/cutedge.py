"""Minimum cut-edge districting (Validi & Buchanan 2022): our balancer against the proven optima.

    python benchmarks/cutedge.py GRAPH.json --k K --tolerance 0.005 --time-limit S --out PLAN.csv [--json]
    python benchmarks/cutedge.py ../shared/benchmarks/cutedge --time-limit 30 --json     # every instance

GRAPH.json is a networkx adjacency JSON (DeFord's dual graphs); the population is ``TOTPOP``. The engine
builds K districts (objective ``compact`` = fewest cut edges, ``--time-limit`` used in full,
``--workers`` seeds at once, one per core, the best kept, as ``balance --workers`` runs them). Checked
independently with networkx and plain sums: every district connected, every population in [L, U] with
L = ceil((1 - tol) P / K) and U = floor((1 + tol) P / K), and the cut edges counted on the graph's edges.
The gap is cut / optimum - 1 against ``optima.csv`` (next to the graph, or ``--optima``). PLAN.csv has
the columns ``node,district`` (the graph's node ids); with several graphs ``--out`` is a folder. Without
``--k`` the K of ``optima.csv`` is used. Coordinates (``C_X``/``C_Y``, else
``INTPTLON10``/``INTPTLAT10``) are used when present (``--no-coords``: derived from the graph).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
from networkx.readwrite import json_graph

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from districting import (
    contiguous,
    cut_edges,
    graph_arrays,
    inputs,
    loads,
    plan_path,
    report,
    run_engine,
    write_plan,
)

from territory_desktop.engine.balance import BalanceProblem


def read_graph(path: Path):
    with open(path) as f:
        return json_graph.adjacency_graph(json.load(f))


def coordinates(g, nodes: list) -> np.ndarray | None:
    """Unit centres in metres (equirectangular around the mean latitude), or None without them."""
    def pair(v):
        d = g.nodes[v]
        if "C_X" in d and "C_Y" in d:
            return float(d["C_X"]), float(d["C_Y"])
        if "INTPTLON10" in d:
            return float(d["INTPTLON10"]), float(d["INTPTLAT10"])
        return None
    pts = [pair(v) for v in nodes]
    if any(p is None for p in pts):
        return None
    lon, lat = np.array(pts).T
    return np.column_stack([lon * np.cos(np.radians(lat.mean())), lat]) * 111_195.0


def optima(path: Path, table: str | None) -> dict[str, dict]:
    file = Path(table) if table else path.parent / "optima.csv"
    if not file.exists():
        return {}
    with open(file) as f:
        return {row["file"]: row for row in csv.DictReader(f)}


def solve(path: Path, args, many: bool) -> dict:
    g = read_graph(path)
    best = optima(path, args.optima).get(path.name, {})
    k = args.k or int(best.get("k", 0))
    if k < 1:
        raise SystemExit(f"{path}: give --k (no optima.csv row for {path.name})")
    nodes, adj, w, _ = graph_arrays(g, ["TOTPOP"])
    xy = None if args.no_coords else coordinates(g, nodes)
    problem = BalanceProblem(adj, w, ["TOTPOP"], [args.tolerance], xy, k, unit_names=[str(v) for v in nodes])
    run = run_engine(problem, args.time_limit, "compact", args.workers)
    labels = run["labels"]
    total = float(w.sum())
    lo, hi = math.ceil((1 - args.tolerance) * total / k), math.floor((1 + args.tolerance) * total / k)
    if best.get("L") and int(best["k"]) == k:
        lo, hi = int(best["L"]), int(best["U"])  # the published bounds
    pops = loads(g, nodes, labels, k, "TOTPOP")
    district = {v: int(labels[i]) for i, v in enumerate(nodes)}
    cut = cut_edges(g, district)
    conn = contiguous(g, nodes, labels, k)
    within = all(lo <= x <= hi for x in pops)
    opt = int(best["opt"]) if best.get("opt") else None
    out = plan_path(args.out, path.stem, many)
    if out:
        write_plan(nodes, labels, out)
    return {"instance": path.stem, "n": len(nodes), "k": k, "L": lo, "U": hi, "feasible": conn and within,
            "contiguous": conn, "within_bounds": within, "min_pop": min(pops), "max_pop": max(pops),
            "cut_edges": cut, "optimum": opt, "gap": None if opt is None else round(cut / opt - 1, 4),
            "seconds": round(run["seconds"], 2), "stopped": run["stopped"], "steps": run["steps"],
            "runs": run["runs"], "plan": out}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("graphs", nargs="+", metavar="GRAPH.json", help="graph files or folders of them")
    ap.add_argument("--k", type=int, help="number of districts (default: from optima.csv)")
    ap.add_argument("--tolerance", type=float, default=0.005)
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--out", metavar="PLAN.csv")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--optima", help="optima.csv (default: next to the graph)")
    ap.add_argument("--workers", type=int, default=2, help="seeds searched at once, one per core (default 2)")
    ap.add_argument("--no-coords", action="store_true", help="ignore the coordinates in the graph")
    args = ap.parse_args(argv)
    paths = inputs(args.graphs, ".json")
    rows = [solve(p, args, len(paths) > 1) for p in paths]
    report(rows, args.json, {"time_limit": args.time_limit, "workers": args.workers,
                             "load_average": os.getloadavg()[0]},
           lambda r: (f"{r['instance']}: k={r['k']} {'feasible' if r['feasible'] else 'INFEASIBLE'} "
                      f"cut {r['cut_edges']} (optimum {r['optimum']}, gap "
                      f"{'n/a' if r['gap'] is None else format(r['gap'], '.1%')}) {r['seconds']} s"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
