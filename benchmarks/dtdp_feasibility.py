"""Experiment for #17 (grid instances of the DTDP benchmark off balance): starts and the violation tabu
search (:mod:`territory_desktop.engine.balance.tabu`) on one instance, outside the engine's pipeline.

    python benchmarks/dtdp_feasibility.py INSTANCE.graphml [--trees N] [--iters N] [--seed S] [--plan PLAN.csv]

Without ``--plan`` the start is the least violated of ``--trees`` recursive partitions of random
spanning trees of the whole graph (each cut takes the subtree nearest the bounds on all three
measures, the rest keeping its share); with ``--plan`` (``node,district``, e.g. the ``--out`` of
``dtdp.py``) that plan. Prints the violation (excess beyond +/-5 % summed over districts and measures,
in tolerances), the largest deviation, the iterations and the seconds, and checks contiguity with networkx.
``--ignore-contiguity`` lets any unit leave its district: on the grids every off-balance plan of the
engine then reaches the bounds within a few hundred transfers, so contiguity is what makes them hard.

``--exact [SECONDS]`` instead tries to prove that no plan with connected districts meets the bounds
(:mod:`territory_desktop.engine.balance.feasible`): first the ties re-derived here with networkx (a piece
that removing one node cuts off and that is below the lower bound on some measure holds no whole
district, so it lies in that node's district; a group of tied nodes above an upper bound is a proof),
then the engine's presolve (forced districts, whole numbers of districts per piece left) and CP-SAT on
each piece cut off by one node (can it hold whole districts plus the part of that node's district?),
then on each piece cut off by two nodes (whole districts plus the parts of both nodes' districts),
smallest first, SECONDS per piece (default 3), pieces of at most 300 nodes, 600 s in all; without a
proof, CP-SAT on the whole instance (10 x SECONDS, 2 workers).

``--diameter-bound D [--exact SECONDS]`` tries to prove that every balanced plan with connected
districts has a largest diameter above D: the same piece models, with the nodes of a piece farther
apart than D kept in different districts (SECONDS per piece, default 2, 600 s in all). On Center726_G3
it proves 277, the engine's value, optimal (`bks.csv`: 241, from plans without connected districts).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import depth_first_order, minimum_spanning_tree

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from districting import contiguous, graph_arrays
from dtdp import MEASURES, TOLERANCE, K, bounds, networkx_tie_graph

from territory_desktop.engine.balance import BalanceProblem
from territory_desktop.engine.balance.anytime import Plan
from territory_desktop.engine.balance.solve import adjacency_lists
from territory_desktop.engine.balance.tabu import ViolationTabu


def _excess(x: np.ndarray, share: np.ndarray) -> np.ndarray:
    """Per row: the excess beyond +/-1 tolerance around ``share`` (measures in tolerances)."""
    return np.maximum(np.abs(x - share) - 1, 0).sum(-1)


def tree_partition(adjacency: sp.csr_matrix, scaled: np.ndarray, k: int, rng: np.random.Generator,
                   share: np.ndarray | None = None) -> np.ndarray:
    """(n,) k connected districts cut from one random spanning tree: k - 1 times the subtree whose
    measures (``scaled``: in tolerances of the target) are nearest the bounds around ``share`` (default
    the mean), with the remainder's mean per district near it too."""
    n = adjacency.shape[0]
    tri = sp.triu(adjacency, k=1).tocoo()
    g = sp.coo_matrix((rng.random(len(tri.row)) + 0.01, (tri.row, tri.col)), shape=(n, n)).tocsr()
    order, pred = depth_first_order(minimum_spanning_tree(g), int(rng.integers(n)), directed=False)
    share = scaled.sum(0) / k if share is None else share
    size = np.ones(n, np.int64)
    for v in order[:0:-1].tolist():
        size[pred[v]] += size[v]
    pos = np.empty(n, np.int64)
    pos[order] = np.arange(n)
    lab, alive = np.full(n, k - 1, np.int64), np.ones(n, bool)
    for t in range(k - 1):
        sums = np.where(alive[:, None], scaled, 0.0)
        for v in order[:0:-1].tolist():
            sums[pred[v]] += sums[v]
        cand = np.flatnonzero(alive)
        cand = cand[cand != order[0]]
        left = k - t - 1
        score = _excess(sums[cand], share) + 0.5 * left * _excess((sums[order[0]] - sums[cand]) / left, share)
        v = int(cand[int(np.argmin(score + rng.random(len(cand)) * 1e-6))])
        members = order[pos[v]:pos[v] + size[v]]  # a subtree is contiguous in preorder
        members = members[alive[members]]
        lab[members], alive[members] = t, False
    return lab


def networkx_ties(g: nx.Graph) -> tuple[int, float, bool]:
    """(tied nodes, largest load of a tie group over the upper bound, proof): the tie argument re-derived
    with networkx alone, independently of the engine."""
    _, hi = bounds(g)
    ties = networkx_tie_graph(g)
    worst = 0.0
    for grp in nx.connected_components(ties):
        worst = max(worst, max(sum(float(g.nodes[u][m]) for u in grp) / hi[m] for m in MEASURES))
    tied = sum(len(c) - 1 for c in nx.connected_components(ties))
    return tied, worst, worst > 1 + 1e-12


def enumerate_cover(g: nx.Graph, v, piece: set, max_groups: int = 20) -> bool | None:
    """Independently of the engine (networkx ties, plain sums, enumeration): can the ``piece`` that the
    node v cuts off be covered by whole districts within the bounds plus a part of v's district (connected
    with v, at most the upper bound with v)? Over the tie groups of piece + v (None when there are more
    than ``max_groups`` or a group leaves the piece): every connected set of groups holding v's is tried
    as v's part, and every piece left must split into connected districts within the bounds."""
    lo, hi = bounds(g)
    model = set(piece) | {v}
    ties = networkx_tie_graph(g)
    groups = [c for c in nx.connected_components(ties.subgraph(model))]
    whole = [c for c in nx.connected_components(ties) if c & model]
    if len(groups) > max_groups or any(not c <= model for c in whole):
        return None
    gid = {u: i for i, c in enumerate(groups) for u in c}
    a = nx.Graph()
    a.add_nodes_from(range(len(groups)))
    a.add_edges_from((gid[x], gid[y]) for x, y in g.subgraph(model).edges if gid[x] != gid[y])
    load = [{m: sum(float(g.nodes[u][m]) for u in c) for m in MEASURES} for c in groups]

    def total(ids) -> dict[str, float]:
        return {m: sum(load[i][m] for i in ids) for m in MEASURES}

    def within(ids) -> bool:
        t = total(ids)
        return all(lo[m] - 1e-9 <= t[m] <= hi[m] + 1e-9 for m in MEASURES)

    def splits(ids: set) -> bool:
        if any(total(ids)[m] < lo[m] - 1e-9 for m in MEASURES):
            return False
        if within(ids):
            return True
        first, rest = min(ids), sorted(ids - {min(ids)})
        for r in range(len(rest)):
            for sub in itertools.combinations(rest, r):
                part = {first, *sub}
                if within(part) and nx.is_connected(a.subgraph(part)) and \
                        all(splits(c) for c in nx.connected_components(a.subgraph(ids - part))):
                    return True
        return False

    home, others = gid[v], [i for i in range(len(groups)) if i != gid[v]]
    for r in range(len(others) + 1):
        for sub in itertools.combinations(others, r):
            part = {home, *sub}
            if any(total(part)[m] > hi[m] + 1e-9 for m in MEASURES) or not nx.is_connected(a.subgraph(part)):
                continue
            if all(splits(c) for c in nx.connected_components(a.subgraph(set(range(len(groups))) - part))):
                return True
    return False


def _instance_plan(instance: str):
    """(graph, node ids, edge lengths, the engine's plan of every node in district 0) of a GraphML instance:
    what the proofs start from (they look at the bounds and the graph, not at the districts)."""
    g = nx.read_graphml(instance)
    nodes, adj, w, lengths = graph_arrays(g, MEASURES, length="distance")
    p = BalanceProblem(adj, w, MEASURES, [TOLERANCE] * 3, None, K, unit_names=list(nodes), edge_lengths=lengths)
    plan = Plan(w, np.full(3, TOLERANCE), K, adj, adjacency_lists(p), np.zeros(p.n, np.int64), np.full(p.n, -1))
    return g, nodes, lengths, plan


def exact(instance: str, seconds: float) -> int:
    from territory_desktop.engine.balance.feasible import FeasibilityModel, infeasibility_proof, presolve
    g, nodes, _, plan = _instance_plan(instance)
    t0 = time.perf_counter()
    tied, worst, proof = networkx_ties(g)
    print(f"networkx ties: {tied} nodes tied to a neighbour, the heaviest group at {worst:.3f} x the upper bound"
          f"{': INFEASIBLE' if proof else ''}")
    name = lambda i: str(nodes[i])  # noqa: E731 -- the GraphML node ids in the messages
    pre = presolve(plan, name=name)
    print(f"presolve: {len(pre.districts)} forced districts, {pre.rounds} rounds: {pre.infeasible or 'no proof'}")
    why = infeasibility_proof(plan, time.perf_counter() + 600, piece_seconds=seconds, max_units=300, name=name)
    if why:
        print(f"INFEASIBLE with connected districts: {why} ({time.perf_counter() - t0:.1f} s)")
        if "cut off by one unit" in why:
            _check_piece(g, nodes, plan, seconds)
        return 0
    left = max(600 - (time.perf_counter() - t0), 1.0)
    out = FeasibilityModel(plan).solve(min(left, 10 * seconds), workers=2)
    print(f"no proof; CP-SAT on the whole instance: {out.status} ({out.seconds:.1f} s, load average "
          f"{os.getloadavg()[0]:.1f})")
    return 0


def diameter_bound(instance: str, bound: float, seconds: float) -> int:
    """Try to prove that every balanced plan with connected districts has a diameter above ``bound``:
    the piece models of ``--exact`` with the nodes of a piece farther apart than the bound kept in
    different districts (at most 600 s)."""
    from territory_desktop.engine.balance.feasible import diameter_bound_proof
    from territory_desktop.engine.balance.objectives import all_pairs
    _, nodes, lengths, plan = _instance_plan(instance)
    t0 = time.perf_counter()
    why = diameter_bound_proof(plan, all_pairs(lengths), bound, t0 + 600, seconds, name=lambda i: str(nodes[i]))
    took = f"{time.perf_counter() - t0:.0f} s, load average {os.getloadavg()[0]:.1f}"
    if why:
        print(f"every balanced connected plan has a diameter above {bound:g}: {why} ({took})")
    else:
        print(f"no proof that the diameter must exceed {bound:g} ({took})")
    return 0


def _check_piece(g: nx.Graph, nodes: list, plan: Plan, seconds: float) -> None:
    """The piece behind the engine's proof, checked by :func:`enumerate_cover` when it is cut off by one
    node and has few tie groups."""
    from territory_desktop.engine.balance.feasible import infeasible_piece
    found = infeasible_piece(plan, time.perf_counter() + 600, piece_seconds=seconds, max_units=300)
    if found is None or len(found[1]) != 1:
        return
    piece, (v,) = found
    cover = enumerate_cover(g, nodes[v], {nodes[u] for u in piece})
    verdict = {None: "too many tie groups to enumerate", True: "a cover EXISTS: the proof is WRONG",
               False: "no cover: the proof holds"}[cover]
    print(f"checked independently (networkx ties, enumeration) on the {len(piece)} nodes cut off by node "
          f"{nodes[v]}: {verdict}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("instance")
    ap.add_argument("--trees", type=int, default=100)
    ap.add_argument("--iters", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plan", help="start from this node,district plan instead of tree partitions")
    ap.add_argument("--ignore-contiguity", action="store_true",
                    help="let any unit leave its district (how much of the difficulty is contiguity)")
    ap.add_argument("--exact", type=float, nargs="?", const=3.0, metavar="SECONDS",
                    help="prove infeasibility with contiguity (seconds per piece, default 3)")
    ap.add_argument("--diameter-bound", type=float, metavar="D",
                    help="prove that no balanced connected plan has every diameter <= D (--exact: seconds per "
                         "piece, default 2)")
    args = ap.parse_args(argv)
    if args.diameter_bound is not None:
        return diameter_bound(args.instance, args.diameter_bound, args.exact or 2.0)
    if args.exact is not None:
        return exact(args.instance, args.exact)
    g = nx.read_graphml(args.instance)
    nodes, adj, w, lengths = graph_arrays(g, MEASURES, length="distance")
    p = BalanceProblem(adj, w, MEASURES, [TOLERANCE] * 3, None, K, unit_names=list(nodes), edge_lengths=lengths)
    tol = np.full(3, TOLERANCE)
    make = lambda lab: Plan(w, tol, K, adj, adjacency_lists(p), lab, np.full(p.n, -1))  # noqa: E731
    t0 = time.perf_counter()
    if args.plan:
        df = pd.read_csv(args.plan, dtype={"node": str})
        plan = make(df.set_index("node").loc[nodes, "district"].to_numpy())
    else:
        starts = [make(tree_partition(adj, w / (p.targets * tol), K, np.random.default_rng(args.seed + i)))
                  for i in range(args.trees)]
        plan = min(starts, key=lambda s: s.violation())
    print(f"start: violation {plan.violation():.3f}, max deviation {plan.max_deviation():.2%}, "
          f"{time.perf_counter() - t0:.1f} s")
    search = ViolationTabu(plan, np.random.default_rng(args.seed), keep_connected=not args.ignore_contiguity)
    ok = search.run(args.iters, time.perf_counter() + 600)
    print(f"tabu: {'within the bounds' if ok else 'off balance'}, violation {plan.violation():.3f}, max deviation "
          f"{plan.max_deviation():.2%}, {search.it} iterations, {time.perf_counter() - t0:.1f} s, contiguous "
          f"{contiguous(g, nodes, plan.lab, K)}, load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
