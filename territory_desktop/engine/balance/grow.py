"""Initial contiguous territories and plan repair.

- :func:`bisect_partition`: recursive weighted bisection along straight lines (the default start).
- :func:`grow`: balanced region growing from seeds (used when units are locked: territories grow from
  their locked units); the lightest territory takes its unassigned neighbour nearest its seed, stops at
  the mean load, and leftovers go to the lightest neighbour.
- :func:`repair` and :func:`fill_orphans`: make every territory one piece and give orphans a territory.
"""

from __future__ import annotations

import heapq
from collections import deque

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from .graph import joins_pieces


def spread_seeds(xy: np.ndarray, w: np.ndarray, k: int, rng: np.random.Generator, rounds: int = 8) -> np.ndarray:
    """k well-spread seed units: weighted k-means++ then a few weighted Lloyd rounds; (k,) unit indices."""
    n = len(xy)
    w = np.asarray(w, float) + 1e-9
    p = w / w.sum()
    centres = [xy[rng.choice(n, p=p)]]
    d2 = ((xy - centres[0]) ** 2).sum(1)
    for _ in range(1, k):
        q = d2 * w
        s = q.sum()
        i = rng.choice(n, p=q / s) if s > 0 else rng.integers(n)
        centres.append(xy[i])
        d2 = np.minimum(d2, ((xy - xy[i]) ** 2).sum(1))
    c = np.array(centres)
    for _ in range(rounds):
        _, lab = cKDTree(c).query(xy)
        sw = np.bincount(lab, weights=w, minlength=k)
        for dim in range(2):
            num = np.bincount(lab, weights=w * xy[:, dim], minlength=k)
            c[:, dim] = np.where(sw > 0, num / np.maximum(sw, 1e-300), c[:, dim])
    return _distinct_nearest(xy, c)


def _distinct_nearest(xy: np.ndarray, points: np.ndarray) -> np.ndarray:
    """For each point, the nearest unit not already taken by an earlier point."""
    tree = cKDTree(xy)
    taken: set[int] = set()
    out = []
    for pt in points:
        kk = min(len(xy), 8)
        while True:
            _, idx = tree.query(pt, k=kk)
            idx = np.atleast_1d(idx)
            free = [int(i) for i in idx if int(i) not in taken]
            if free:
                out.append(free[0])
                taken.add(free[0])
                break
            kk = min(len(xy), kk * 4)
    return np.array(out, dtype=np.int64)


def grow(adj: list[list[int]], w: np.ndarray, seeds: np.ndarray, xy: np.ndarray, k: int,
         fixed_seeds: bool, locked_sources: list[np.ndarray] | None, rounds: int = 4,
         stop=None) -> np.ndarray:
    """Balanced region growing from seeds, re-seeded at the weighted centres ``rounds`` times.

    ``w`` is the (n,) combined load. Returns (n,) labels in 0..k-1, every territory contiguous; the
    growth with the smallest largest deviation from the mean load wins.
    """
    best, best_err = None, np.inf
    seeds = seeds.copy()
    for _ in range(rounds):
        if stop is not None:
            stop.check()
        labels = grow_once(adj, w, seeds, xy, k, locked_sources)
        load = np.bincount(labels, weights=w, minlength=k) / (w.sum() / k)
        err = np.abs(load - 1).max()
        if err < best_err:
            best, best_err = labels, err
        if fixed_seeds:
            break
        seeds = _recentre(labels, w, xy, k, seeds)
    assert best is not None, "grow needs rounds >= 1"
    return best


def grow_once(adj: list[list[int]], w: np.ndarray, seeds: np.ndarray, xy: np.ndarray, k: int,
              locked_sources: list[np.ndarray] | None = None) -> np.ndarray:
    """Grow all territories together: the lightest territory takes its unassigned neighbour nearest its
    seed; a territory stops at the mean load; units left over go to their lightest neighbour."""
    n = len(w)
    target = w.sum() / k
    lab = np.full(n, -1, dtype=np.int64)
    lab_l = [-1] * n  # list for fast item access
    load = [0.0] * k
    x, y = xy[:, 0].tolist(), xy[:, 1].tolist()
    wl = w.tolist()
    fronts: list[list[tuple[float, int]]] = [[] for _ in range(k)]
    for t in range(k):
        start = [int(seeds[t])] if not (locked_sources and len(locked_sources[t])) else \
            [int(u) for u in locked_sources[t]]
        for u in start:
            if lab_l[u] < 0:
                lab_l[u] = t
                load[t] += wl[u]
    for t in range(k):
        sx, sy = x[int(seeds[t])], y[int(seeds[t])]
        members = [u for u in ([int(seeds[t])] + ([int(v) for v in locked_sources[t]] if locked_sources else []))
                   if lab_l[u] == t]
        for u in members:
            for v in adj[u]:
                if lab_l[v] < 0:
                    heapq.heappush(fronts[t], ((x[v] - sx) ** 2 + (y[v] - sy) ** 2, v))
    order = [(load[t], t) for t in range(k)]
    heapq.heapify(order)
    while order:
        ld, t = heapq.heappop(order)
        if ld >= target:
            continue
        front = fronts[t]
        sx, sy = x[int(seeds[t])], y[int(seeds[t])]
        while front and lab_l[front[0][1]] >= 0:
            heapq.heappop(front)
        if not front:
            continue
        _, u = heapq.heappop(front)
        lab_l[u] = t
        load[t] += wl[u]
        for v in adj[u]:
            if lab_l[v] < 0:
                heapq.heappush(front, ((x[v] - sx) ** 2 + (y[v] - sy) ** 2, v))
        heapq.heappush(order, (load[t], t))
    lab[:] = lab_l
    if (lab < 0).any():
        lab = fill_orphans(lab, adj, w, k)
    return lab


def _recentre(labels: np.ndarray, w: np.ndarray, xy: np.ndarray, k: int, seeds: np.ndarray) -> np.ndarray:
    """Move each seed to its territory's member nearest the territory's weighted centre."""
    ww = w + 1e-9 * max(w.max(), 1e-9)
    out = seeds.copy()
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(k + 1))
    for t in range(k):
        members = order[bounds[t]:bounds[t + 1]]
        if len(members) == 0:
            continue
        c = (xy[members] * ww[members, None]).sum(0) / ww[members].sum()
        out[t] = members[np.argmin(((xy[members] - c) ** 2).sum(1))]
    return out


def repair(labels: np.ndarray, adj_lists: list[list[int]], w: np.ndarray, k: int, locked: np.ndarray,
           forced: np.ndarray) -> np.ndarray:
    """Make every territory contiguous and assign orphans (-1) to a neighbouring territory.

    Locked units keep ``forced`` labels. For each territory the piece with most locked units (else the
    heaviest) stays; other unlocked pieces become orphans; orphans are then taken, wave by wave, by the
    adjacent territory with the lowest load (w), which keeps every territory connected.
    """
    labels = labels.copy()
    labels[locked] = forced[locked]
    n = len(labels)
    rows = [u for u in range(n) for _ in adj_lists[u]]
    cols = [v for u in range(n) for v in adj_lists[u]]
    adj = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    for t in range(k):
        members = np.flatnonzero(labels == t)
        if len(members) < 2:
            continue
        sub = adj[members][:, members]
        count, comp = connected_components(sub, directed=False)
        if count == 1:
            continue
        score = np.bincount(comp, weights=w[members] + 1e-9, minlength=count)
        score += 1e12 * np.bincount(comp, weights=locked[members].astype(float), minlength=count)
        keep = int(np.argmax(score))
        drop = members[(comp != keep) & ~locked[members]]
        labels[drop] = -1
    return fill_orphans(labels, adj_lists, w, k)


def fill_orphans(labels: np.ndarray, adj_lists: list[list[int]], w: np.ndarray, k: int,
                 prefer_touching: bool = False) -> np.ndarray:
    """Give each orphan (-1) to the least-loaded adjacent territory, in breadth-first waves; with
    ``prefer_touching``, first to a territory whose pieces the orphan joins (its neighbours in that
    territory are not connected without it), which repairs territories the orphan used to connect."""
    labels = labels.copy()
    load = np.bincount(labels[labels >= 0], weights=w[labels >= 0], minlength=k).astype(float)
    frontier = deque(int(u) for u in np.flatnonzero(labels < 0) if any(labels[v] >= 0 for v in adj_lists[u]))
    queued = set(frontier)
    while frontier:
        u = frontier.popleft()
        touching: dict[int, int] = {}
        for v in adj_lists[u]:
            if labels[v] >= 0:
                touching[int(labels[v])] = touching.get(int(labels[v]), 0) + 1
        if prefer_touching:
            t = min(touching, key=lambda c: (not joins_pieces(adj_lists, labels, u, c), load[c]))
        else:
            t = min(touching, key=lambda c: load[c])
        labels[u] = t
        load[t] += w[u]
        for v in adj_lists[u]:
            if labels[v] < 0 and v not in queued:
                queued.add(v)
                frontier.append(v)
    return labels


def bisect_partition(adj: sp.csr_matrix, w: np.ndarray, xy: np.ndarray, k: int, rng: np.random.Generator,
                     angles: int = 12) -> np.ndarray:
    """Recursive weighted bisection: split the units along the straight line (one of ``angles``
    directions, randomly rotated per seed) that divides the load k1 : k2 and cuts the fewest edges,
    preferring splits whose two sides are both connected. Returns (n,) labels 0..k-1 (pieces may be
    disconnected where no straight cut keeps them whole; :func:`repair` fixes that)."""
    n = len(w)
    labels = np.zeros(n, dtype=np.int64)
    ww = np.asarray(w, float) + 1e-9 * max(float(np.max(w)), 1e-9)
    stack = [(np.arange(n), k, 0)]
    while stack:
        idx, kk, first = stack.pop()
        if kk == 1 or len(idx) <= 1:
            labels[idx] = first
            continue
        k1 = kk // 2
        sub = adj[idx][:, idx].tocoo()
        r, c = sub.row, sub.col
        best = None
        base = rng.uniform(0, np.pi)
        for a in range(angles):
            th = base + np.pi * a / angles
            proj = xy[idx, 0] * np.cos(th) + xy[idx, 1] * np.sin(th)
            order = np.argsort(proj, kind="stable")
            cum = np.cumsum(ww[idx][order])
            goal = cum[-1] * k1 / kk
            cut = int(np.searchsorted(cum, goal))
            if cut > 0 and abs(cum[cut - 1] - goal) < abs(cum[min(cut, len(cum) - 1)] - goal):
                cut -= 1
            cut = min(max(cut + 1, k1), len(idx) - (kk - k1))
            left = np.zeros(len(idx), bool)
            left[order[:cut]] = True
            cross = left[r] != left[c]
            ncut = int(cross.sum()) // 2
            keep = ~cross
            g = sp.csr_matrix((np.ones(int(keep.sum())), (r[keep], c[keep])), shape=(len(idx), len(idx)))
            pieces, _ = connected_components(g, directed=False)
            score = ncut * (1 + 4 * (pieces - 2))
            if best is None or score < best[0]:
                best = (score, left)
        assert best is not None, "bisect_partition needs angles >= 1"
        left = best[1]
        stack.append((idx[left], k1, first))
        stack.append((idx[~left], kk - k1, first + k1))
    return labels


