"""Delivery territory design (Aly, Gabor & Sleptchenko 2024): our balancer against the best known plans.

    python benchmarks/dtdp.py INSTANCE.graphml --time-limit S --objective diameter --out PLAN.csv [--json]
    python benchmarks/dtdp.py ../shared/benchmarks/dtdp/group1 ../shared/benchmarks/dtdp/group2 --time-limit 10

Each GraphML instance: p = 10 districts, every district connected and within (1 +/- 0.05) x total / 10
on each of ``n_customers``, ``demand`` and ``workload``; edges carry ``distance``. The engine gets the
edge distances as its edge lengths, the x/y coordinates when the instance has them (the grids have none:
the engine derives a layout from the graph) and the chosen objective, with ``--time-limit`` used in full
(``--workers`` seeds at once, one per core, the best kept, as ``balance --workers`` runs them). Checked
independently with networkx and plain sums: contiguity, the bounds on the three measures and the largest
district diameter (the longest shortest path, on the whole graph and the ``distance`` weights, between
two units of one district). The gap is diameter / best known - 1 against ``bks.csv`` (next to the
instance folder, or ``--bks``). ``--lower-bound`` adds ``lower_bound``, a bound on the largest diameter
of every balanced plan with connected districts (:func:`diameter_lower_bound`, networkx alone), and
``gap_to_lower_bound`` for a feasible plan (0: the plan is optimal). PLAN.csv has the columns
``node,district`` (GraphML node ids); with several instances ``--out`` is a folder.
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


def bounds(g: nx.Graph) -> tuple[dict[str, float], dict[str, float]]:
    """The lower and upper bound of a district on each measure."""
    total = {m: sum(float(g.nodes[v][m]) for v in g) for m in MEASURES}
    return ({m: (1 - TOLERANCE) * total[m] / K for m in MEASURES},
            {m: (1 + TOLERANCE) * total[m] / K for m in MEASURES})


def networkx_tie_graph(g: nx.Graph) -> nx.Graph:
    """Nodes joined when they share a district in every balanced connected plan: each component of the
    graph without an articulation point v that is below the lower bound on some measure joins v."""
    lo, _ = bounds(g)
    ties = nx.Graph()
    ties.add_nodes_from(g)
    for v in nx.articulation_points(g):
        h = g.subgraph(set(g) - {v})
        for comp in nx.connected_components(h):
            if any(sum(float(g.nodes[u][m]) for u in comp) < lo[m] - 1e-9 for m in MEASURES):
                ties.add_edges_from((v, u) for u in comp)
    return ties


def _heavy_within(g: nx.Graph, grp: set, reach: dict, d: float, lo: dict[str, float]) -> bool:
    """Whether the nodes within ``d`` of the whole group (``reach``), in the connected piece that holds
    the group, reach the lower bound on every measure."""
    near = g.subgraph(v for v in g if reach[v] <= d)
    piece = nx.node_connected_component(near, next(iter(grp)))
    return grp <= piece and all(sum(float(g.nodes[v][m]) for v in piece) >= lo[m] - 1e-9 for m in MEASURES)


def diameter_lower_bound(g: nx.Graph, dist: dict) -> float:
    """A lower bound on the largest diameter of every balanced plan with connected districts, with
    networkx alone (``dist``: all-pairs shortest paths on ``distance``). Each group of nodes tied
    together (:func:`networkx_tie_graph`; a node alone is a group too) lies in one district, whose
    every node is within the diameter D of every node of the group, and which is connected and at
    least the lower bound on every measure. So D is at least the smallest value for which the nodes
    within D of the whole group, in the connected piece that holds the group, reach the lower bound;
    the bound is the largest of these over the groups."""
    lo, _ = bounds(g)
    best = 0.0
    for grp in nx.connected_components(networkx_tie_graph(g)):
        reach = {v: max(dist[u][v] for u in grp) for v in g}
        values = sorted({d for d in reach.values() if d >= max(reach[u] for u in grp)})
        i, j = 0, len(values) - 1  # the smallest heavy value: heavy is monotone in d
        while i < j:
            mid = (i + j) // 2
            if _heavy_within(g, grp, reach, values[mid], lo):
                j = mid
            else:
                i = mid + 1
        best = max(best, values[i])
    return best


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
    bound = None
    if args.lower_bound:
        bound = diameter_lower_bound(g, dict(nx.all_pairs_dijkstra_path_length(g, weight="distance")))
    bks = best_known(path, args.bks).get(path.stem)
    out = plan_path(args.out, path.stem, many)
    if out:
        write_plan(nodes, labels, out)
    return {"instance": path.stem, "n": len(nodes), "coordinates": has_xy, "feasible": ok and conn,
            "contiguous": conn, "within_bounds": ok, "max_abs_deviation": round(dev, 4),
            "max_diameter": round(diam, 3), "best_known": bks,
            "gap": None if not bks else round(diam / bks - 1, 4), "objective": args.objective,
            "lower_bound": None if bound is None else round(bound, 3),
            # the bound holds for balanced connected plans only
            "gap_to_lower_bound": None if not bound or not (ok and conn) else round(diam / bound - 1, 4),
            "seconds": round(run["seconds"], 2), "stopped": run["stopped"], "steps": run["steps"],
            "runs": run["runs"], "plan": out,
            "proved_infeasible": None if ok and conn else next((r["infeasible"] for r in run["runs"] if r["infeasible"]),
                                                               None)}


def _line(r: dict) -> str:
    gap = "n/a" if r["gap"] is None else format(r["gap"], ".1%")
    bound = "" if r["lower_bound"] is None else f"; lower bound {r['lower_bound']:g}"
    return (f"{r['instance']}: {'feasible' if r['feasible'] else 'INFEASIBLE'} (dev {r['max_abs_deviation']:.1%}) "
            f"diameter {r['max_diameter']:g} (best known {r['best_known']}, gap {gap}{bound}) {r['seconds']} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("instances", nargs="+", metavar="INSTANCE.graphml", help="instance files or folders of them")
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--objective", choices=["diameter", "compact", "travel"], default="diameter")
    ap.add_argument("--out", metavar="PLAN.csv")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--bks", help="bks.csv (default: next to the instance or its folder)")
    ap.add_argument("--workers", type=int, default=2, help="seeds searched at once, one per core (default 2)")
    ap.add_argument("--lower-bound", action="store_true",
                    help="also a lower bound on the largest diameter of any balanced plan with connected "
                         "districts (networkx; a few seconds per instance)")
    args = ap.parse_args(argv)
    paths = inputs(args.instances, ".graphml")
    rows = [solve(p, args, len(paths) > 1) for p in paths]
    to_bound = [r["gap_to_lower_bound"] for r in rows if r["gap_to_lower_bound"] is not None]
    extra = {"mean_gap_to_lower_bound": round(float(np.mean(to_bound)), 4)} if to_bound else {}
    report(rows, args.json, {"time_limit": args.time_limit, "objective": args.objective,
                             "workers": args.workers, "load_average": os.getloadavg()[0], **extra},
           _line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
