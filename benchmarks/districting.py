"""Shared parts of the districting benchmarks (``cutedge.py``, ``dtdp.py``): the engine run on one or two
cores, the independent checks (networkx and plain sums only, no engine code), file lists and output.
"""

from __future__ import annotations

import json
import math
import os
import statistics
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp

from territory_desktop.engine.balance import BalanceProblem
from territory_desktop.services.parallel_search import run_searches
from territory_desktop.storage.export import write_table


def graph_arrays(g: nx.Graph, measures: list[str], length: str | None = None):
    """Node order, the CSR adjacency, the (n, m) measures and (with ``length``) the edge lengths."""
    nodes = list(g.nodes)
    index = {v: i for i, v in enumerate(nodes)}
    r = np.array([index[a] for a, _ in g.edges], dtype=np.int64)
    c = np.array([index[b] for _, b in g.edges], dtype=np.int64)
    n = len(nodes)
    adj = sp.coo_matrix((np.ones(2 * len(r)), (np.r_[r, c], np.r_[c, r])), shape=(n, n)).tocsr()
    adj.data[:] = 1.0
    w = np.array([[float(g.nodes[v][m]) for m in measures] for v in nodes])
    lengths = None
    if length is not None:
        d = np.array([float(g.edges[e][length]) for e in g.edges])
        lengths = sp.coo_matrix((np.r_[d, d], (np.r_[r, c], np.r_[c, r])), shape=(n, n)).tocsr()
    return nodes, adj, w, lengths


def run_engine(problem: BalanceProblem, time_limit: float, objective: str, workers: int) -> dict:
    """The engine with the whole time limit as the app runs it (``balance --time-limit S --workers N``:
    :func:`territory_desktop.services.parallel_search.run_searches`, seeds 0.. one per core, each for
    the whole time limit); the best plan kept (balanced first, then the lowest objective value)."""
    results = run_searches(problem, objective, list(range(workers)), time_limit, workers)
    runs = [{"labels": r.labels, "seed": r.seed, "within": r.within_tolerance, "value": r.objective_value,
             "seconds": r.seconds, "stopped": r.stopped, "steps": r.steps, "infeasible": r.infeasible}
            for r in results]
    best = min(runs, key=lambda r: (not r["within"], r["value"] if r["value"] is not None else math.inf))
    best["runs"] = [{k: v for k, v in r.items() if k != "labels"} for r in runs]
    return best


def contiguous(g: nx.Graph, nodes: list, labels: np.ndarray, k: int) -> bool:
    parts = [[nodes[i] for i in np.flatnonzero(labels == t)] for t in range(k)]
    return all(part and nx.is_connected(g.subgraph(part)) for part in parts)


def loads(g: nx.Graph, nodes: list, labels: np.ndarray, k: int, measure: str) -> list[float]:
    out = [0.0] * k
    for i, v in enumerate(nodes):
        out[int(labels[i])] += float(g.nodes[v][measure])
    return out


def cut_edges(g: nx.Graph, district: dict) -> int:
    return sum(1 for a, b in g.edges if district[a] != district[b])


def write_plan(nodes: list, labels: np.ndarray, path: str | os.PathLike) -> None:
    write_table(pd.DataFrame({"node": [str(v) for v in nodes], "district": labels.astype(int)}), path)


def inputs(paths: list[str], suffix: str) -> list[Path]:
    """Each path, or the ``suffix`` files of a folder, sorted."""
    out: list[Path] = []
    for p in map(Path, paths):
        out.extend(sorted(p.glob(f"*{suffix}")) if p.is_dir() else [p])
    return out


def plan_path(out: str | None, instance: str, many: bool) -> str | None:
    """``--out`` itself for one instance; with several, a folder holding ``<instance>.csv`` each."""
    if out is None:
        return None
    if not many:
        return out
    Path(out).mkdir(parents=True, exist_ok=True)
    return str(Path(out) / f"{instance}.csv")


def report(rows: list[dict], as_json: bool, extra: dict, line) -> None:
    """JSON (the rows and the means) or one line per instance and a summary line."""
    gaps = [r["gap"] for r in rows if r.get("gap") is not None and r["feasible"]]
    summary = {"instances": len(rows), "feasible": sum(r["feasible"] for r in rows),
               "mean_gap": round(statistics.mean(gaps), 4) if gaps else None,
               "at_best_known": sum(1 for g in gaps if g <= 1e-9), **extra}
    if as_json:
        print(json.dumps(rows[0] if len(rows) == 1 else {"summary": summary, "instances": rows}, indent=1))
        return
    for r in rows:
        print(line(r))
    if len(rows) > 1:
        mean = "n/a" if summary["mean_gap"] is None else f"{summary['mean_gap']:.1%}"
        print(f"{summary['feasible']}/{len(rows)} feasible, mean gap {mean}, "
              f"{summary['at_best_known']} at the best known")
