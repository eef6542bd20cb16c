"""Delivery territory design (Aly, Gabor & Sleptchenko 2024): our balancer against the best known plans.

    python benchmarks/dtdp.py INSTANCE.graphml --time-limit S --objective diameter --out PLAN.csv [--json]
    python benchmarks/dtdp.py ../shared/benchmarks/dtdp/group1 ../shared/benchmarks/dtdp/group2 --time-limit 10

Each GraphML instance: p = 10 districts, every district connected and within (1 +/- 0.05) x total / 10
on each of ``n_customers``, ``demand`` and ``workload``; edges carry ``distance``. The engine gets the
edge distances as its edge lengths, the x/y coordinates when the instance has them (the grids have
none: the engine derives a layout from the graph) and the chosen objective, with ``--time-limit``
used in full (one seed per ``--workers`` process, the best kept). Checked independently with networkx
and plain sums: contiguity, the bounds on the three measures and the largest district diameter (the
longest shortest path, on the whole graph and the ``distance`` weights, between two units of one
district). The gap is diameter / best known - 1 against ``bks.csv`` (next to the instance folder, or
``--bks``). PLAN.csv has the columns ``node,district`` (GraphML node ids); with several instances
``--out`` is a folder.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

import networkx as nx
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from districting import contiguous, graph_arrays, inputs, loads, plan_path, report, run_engine, write_plan

from territory_desktop.engine.balance import BalanceProblem

MEASURES = ["n_customers", "demand", "workload"]
K = 10
TOLERANCE = 0.05


def best_known(path: Path, table: str | None) -> dict[str, float]:
    for file in ([Path(table)] if table else [path.parent / "bks.csv", path.parent.parent / "bks.csv"]):
        if file.exists():
            with open(file) as f:
                return {r["instance"]: float(r["best_known_feasible"]) for r in csv.DictReader(f)}
    return {}


def max_diameter(g: nx.Graph, nodes: list, labels: np.ndarray) -> float:
    """Largest over districts of the longest shortest path (whole graph, ``distance``) inside it."""
    district = {v: int(labels[i]) for i, v in enumerate(nodes)}
    worst = 0.0
    for v in nodes:
        dist = nx.single_source_dijkstra_path_length(g, v, weight="distance")
        worst = max(worst, max(d for u, d in dist.items() if district[u] == district[v]))
    return worst


def within_bounds(g: nx.Graph, nodes: list, labels: np.ndarray) -> tuple[bool, float]:
    """All three measures of every district within (1 +/- 0.05) x total / K; the largest |deviation|."""
    worst = 0.0
    ok = True
    for m in MEASURES:
        per = loads(g, nodes, labels, K, m)
        mean = sum(per) / K
        for x in per:
            worst = max(worst, abs(x / mean - 1))
            ok &= (1 - TOLERANCE) * mean - 1e-9 <= x <= (1 + TOLERANCE) * mean + 1e-9
    return ok, worst


def solve(path: Path, args, many: bool) -> dict:
    g = nx.read_graphml(path)
    nodes, adj, w, lengths = graph_arrays(g, MEASURES, length="distance")
    has_xy = all("x" in g.nodes[v] and "y" in g.nodes[v] for v in nodes)
    xy = np.array([[float(g.nodes[v]["x"]), float(g.nodes[v]["y"])] for v in nodes]) if has_xy else None
    problem = BalanceProblem(adj, w, MEASURES, [TOLERANCE] * 3, xy, K, unit_names=list(nodes),
                             edge_lengths=lengths)
    run = run_engine(problem, args.time_limit, args.objective, args.workers)
    labels = run["labels"]
    ok, dev = within_bounds(g, nodes, labels)
    conn = contiguous(g, nodes, labels, K)
    diam = max_diameter(g, nodes, labels)
    bks = best_known(path, args.bks).get(path.stem)
    out = plan_path(args.out, path.stem, many)
    if out:
        write_plan(nodes, labels, out)
    return {"instance": path.stem, "n": len(nodes), "coordinates": has_xy, "feasible": ok and conn,
            "contiguous": conn, "within_bounds": ok, "max_abs_deviation": round(dev, 4),
            "max_diameter": round(diam, 3), "best_known": bks,
            "gap": None if not bks else round(diam / bks - 1, 4), "objective": args.objective,
            "seconds": round(run["seconds"], 2), "stopped": run["stopped"], "steps": run["steps"],
            "runs": run["runs"], "plan": out,
            "proved_infeasible": None if ok and conn else next((r["infeasible"] for r in run["runs"] if r["infeasible"]),
                                                               None)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("instances", nargs="+", metavar="INSTANCE.graphml", help="instance files or folders of them")
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--objective", choices=["diameter", "compact", "travel"], default="diameter")
    ap.add_argument("--out", metavar="PLAN.csv")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--bks", help="bks.csv (default: next to the instance or its folder)")
    ap.add_argument("--workers", type=int, default=2, help="seeds run in parallel processes (default 2)")
    args = ap.parse_args(argv)
    paths = inputs(args.instances, ".graphml")
    rows = [solve(p, args, len(paths) > 1) for p in paths]
    report(rows, args.json, {"time_limit": args.time_limit, "objective": args.objective,
                             "workers": args.workers, "load_average": os.getloadavg()[0]},
           lambda r: (f"{r['instance']}: {'feasible' if r['feasible'] else 'INFEASIBLE'} (dev "
                      f"{r['max_abs_deviation']:.1%}) diameter {r['max_diameter']:g} (best known "
                      f"{r['best_known']}, gap {'n/a' if r['gap'] is None else format(r['gap'], '.1%')}) "
                      f"{r['seconds']} s"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
