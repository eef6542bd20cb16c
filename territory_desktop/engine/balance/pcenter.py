"""A compact start for the diameter objective: p-centre seeds grown by shortest-path distance.

The diameter search (:mod:`.diameter`, :mod:`.improve`) ends close to the plan it starts from, and the
region growing of :mod:`.grow` (straight-line distance to a seed, one combined load) leaves long thin
territories and territories whose loads sit at the edges of the band, where no single move is
possible. This start works on the all-pairs shortest-path lengths the diameter objective holds:

1. seeds by farthest-point sampling (a 2-approximation of the p-centre problem),
2. all territories grow together, the most-lacking territory first taking its unassigned neighbour
   nearest its centre, and a territory stops when that unit would put any measure above its upper
   bound; units left over go to their least-loaded neighbouring territory,
3. each centre moves to its territory's 1-centre (the member with the smallest farthest member) and
   the growth is repeated; the plan with the smallest largest diameter wins.
"""

from __future__ import annotations

import heapq

import numpy as np

from .grow import fill_orphans

#: centre updates of :func:`compact_start` (each one growth, ~5 ms on 700 units)
ROUNDS = 8


def farthest_seeds(dist: np.ndarray, k: int, first: int) -> np.ndarray:
    """(k,) units by farthest-point sampling from ``first``: each next seed is the unit farthest (by
    shortest path) from the seeds so far."""
    seeds = [int(first)]
    near = dist[first].astype(float).copy()
    for _ in range(1, k):
        u = int(np.argmax(near))
        seeds.append(u)
        near = np.minimum(near, dist[u])
    return np.array(seeds, dtype=np.int64)


def grow_by_distance(adj: list[list[int]], dist: np.ndarray, weights: np.ndarray, upper: np.ndarray,
                     w: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """(n,) labels grown from ``seeds`` by shortest-path distance to each seed, every territory
    contiguous: the territory with the lowest combined load ``w`` takes its nearest unassigned
    neighbour unless that puts a measure of ``weights`` (n, m) above ``upper`` (m,), which closes it."""
    n, k = len(w), len(seeds)
    lab = [-1] * n
    load = np.zeros((k, weights.shape[1]))
    fronts: list[list[tuple[float, int]]] = [[] for _ in range(k)]
    comb = [0.0] * k
    rows = [dist[int(s)] for s in seeds]

    def take(t: int, u: int) -> None:
        lab[u] = t
        load[t] += weights[u]
        comb[t] += float(w[u])
        for v in adj[u]:
            if lab[v] < 0:
                heapq.heappush(fronts[t], (float(rows[t][v]), v))

    for t, s in enumerate(seeds.tolist()):
        take(t, int(s))
    order = [(comb[t], t) for t in range(k)]
    heapq.heapify(order)
    while order:
        _, t = heapq.heappop(order)
        front = fronts[t]
        while front and lab[front[0][1]] >= 0:
            heapq.heappop(front)
        if not front:
            continue
        u = front[0][1]
        if np.any(load[t] + weights[u] > upper):
            continue  # the territory is full on some measure: it stops growing
        heapq.heappop(front)
        take(t, u)
        heapq.heappush(order, (comb[t], t))
    labels = np.array(lab, dtype=np.int64)
    return fill_orphans(labels, adj, w, k) if (labels < 0).any() else labels


def one_centres(labels: np.ndarray, dist: np.ndarray, k: int, seeds: np.ndarray) -> np.ndarray:
    """(k,) each territory's 1-centre: the member whose farthest member is nearest."""
    out = seeds.copy()
    for t in range(k):
        mem = np.flatnonzero(labels == t)
        if len(mem):
            out[t] = mem[int(np.argmin(dist[np.ix_(mem, mem)].max(1)))]
    return out


def largest_diameter(labels: np.ndarray, dist: np.ndarray, k: int) -> float:
    """The largest territory diameter of ``labels`` on ``dist``."""
    out = 0.0
    for t in range(k):
        mem = np.flatnonzero(labels == t)
        if len(mem) > 1:
            out = max(out, float(dist[np.ix_(mem, mem)].max()))
    return out


def _overflow(labels: np.ndarray, weights: np.ndarray, lower: np.ndarray, upper: np.ndarray, k: int) -> float:
    """Total relative distance of the territories' loads outside [lower, upper], over all measures."""
    load = np.stack([np.bincount(labels, weights=weights[:, j], minlength=k) for j in range(weights.shape[1])], 1)
    scale = np.maximum(upper, 1e-300)
    return float((np.maximum(load - upper, 0) + np.maximum(lower - load, 0)).sum(0).dot(1 / scale))


def compact_start(adj: list[list[int]], dist: np.ndarray, weights: np.ndarray, lower: np.ndarray,
                  upper: np.ndarray, w: np.ndarray, k: int, first: int | None = None,
                  rounds: int = ROUNDS) -> np.ndarray:
    """(n,) a compact initial plan for the diameter objective (see the module doc). ``first`` is the
    first farthest-point seed (default: the graph's centre, the unit with the smallest farthest unit),
    so the start is deterministic. Among the growths, the smallest (load overflow, largest diameter)
    wins: an overflowing plan is reshaped by the balancing anyway."""
    if first is None:
        first = int(np.argmin(dist.max(1)))
    seeds = farthest_seeds(dist, k, first)
    best, best_key = None, (np.inf, np.inf)
    for _ in range(rounds):
        labels = grow_by_distance(adj, dist, weights, upper, w, seeds)
        key = (round(_overflow(labels, weights, lower, upper, k), 3), largest_diameter(labels, dist, k))
        if key < best_key:
            best, best_key = labels, key
        new = one_centres(labels, dist, k, seeds)
        if np.array_equal(new, seeds):
            break
        seeds = new
    assert best is not None, "compact_start needs rounds >= 1"
    return best
