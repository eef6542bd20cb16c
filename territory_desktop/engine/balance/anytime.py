"""Anytime search after the first plan: recombination (ReCom) of two territories plus one-unit moves.

A step merges two neighbouring territories, draws a random spanning tree of their union (a minimum
spanning tree on random edge weights) and cuts one tree edge: both halves are connected by
construction. While the plan misses the tolerance the cut that leaves the smallest total violation
of the two halves is taken (merge-and-split reaches balance on sparse, nearly tree-shaped graphs where
single-unit transfers are blocked); once balanced, only cuts whose two halves are within the bounds
on every measure (the whole tolerance band) count, and the one with the lowest objective energy
(:mod:`.objectives`) is accepted when it is no worse, or with simulated-annealing probability while a
time limit runs. After each accepted recombination, one-unit moves that lower the energy, keep the
donor connected and keep both territories within the bounds are applied as a local search.

Locked and pinned units (rep home units) stay in their territory. The best balanced plan is kept.
With ``until_stall`` the search stops after ``stall`` steps without a better plan; otherwise it
runs until the deadline (a plan still off balance always gets the whole time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import depth_first_order, minimum_spanning_tree

from .graph import connected_without

#: candidate cuts scored per spanning tree once the plan is balanced
MAX_CANDIDATES = 24


class Plan:
    """Labels with loads, sizes and the graph as arrays; the bounds are the whole tolerance band."""

    def __init__(self, weights: np.ndarray, tolerance: np.ndarray, k: int, adjacency: sp.csr_matrix,
                 adj: list[list[int]], labels: np.ndarray, pin: np.ndarray) -> None:
        self.k, self.W, self.adj, self.A = k, weights, adj, adjacency
        tri = sp.triu(adjacency, k=1).tocoo()
        self.er, self.ec = tri.row.astype(np.int64), tri.col.astype(np.int64)
        t = weights.sum(0) / k
        slack = 1e-12 * np.maximum(np.abs(t), 1.0)
        self.lo, self.hi = t * (1 - tolerance) - slack, t * (1 + tolerance) + slack
        self.targets = t
        self.scale = np.where(t > 0, t * np.maximum(tolerance, 1e-6), 1.0)
        self.pin = pin
        self.reset(labels)

    def reset(self, labels: np.ndarray) -> None:
        self.lab = np.asarray(labels, np.int64).copy()
        self.labl = self.lab.tolist()
        self.loads = np.stack([np.bincount(self.lab, weights=self.W[:, j], minlength=self.k)
                               for j in range(self.W.shape[1])], 1)
        self.size = np.bincount(self.lab, minlength=self.k)

    def viol(self, loads: np.ndarray) -> np.ndarray:
        """Violation per row of loads: the excess beyond the band over every measure, in tolerances."""
        over = np.maximum(loads - self.hi, 0) + np.maximum(self.lo - loads, 0)
        return (over / self.scale).sum(-1)

    def spread(self, loads: np.ndarray) -> np.ndarray:
        """Per row: the violation plus 1 % of the squared deviations from the mean (in tolerances), so
        that among equally violated splits the one nearer the mean wins: slack diffuses to neighbours."""
        dev = (loads - self.targets) / self.scale
        return self.viol(loads) + 0.01 * (dev * dev).sum(-1)

    def violation(self) -> float:
        return float(self.viol(self.loads).sum())

    def max_deviation(self) -> float:
        ok = self.targets > 0
        return float(np.abs(self.loads[:, ok] / self.targets[ok] - 1).max())

    def members(self, t: int) -> np.ndarray:
        return np.flatnonzero(self.lab == t)

    def boundary(self, t: int) -> list[int]:
        labl = self.labl
        return [u for u in self.members(t).tolist() if any(labl[v] != t for v in self.adj[u])]

    def relabel(self, nodes: np.ndarray, new: np.ndarray) -> None:
        """Give ``nodes`` (all units of the territories in ``new``) the labels ``new``."""
        self.lab[nodes] = new
        for u, t in zip(nodes.tolist(), new.tolist(), strict=True):
            self.labl[u] = t
        w = self.W[nodes]
        for t in np.unique(new).tolist():
            mine = new == t
            self.loads[t] = w[mine].sum(0)
            self.size[t] = int(mine.sum())

    def move_ok(self, u: int, a: int, c: int) -> bool:
        """u may go from a to c: not pinned, both stay within the bounds, a stays connected."""
        if self.pin[u] >= 0:
            return False
        if (self.loads[a] - self.W[u] < self.lo).any() or (self.loads[c] + self.W[u] > self.hi).any():
            return False
        return connected_without(self.adj, self.labl, u, a, int(self.size[a]))

    def move(self, u: int, a: int, c: int) -> None:
        self.lab[u] = c
        self.labl[u] = c
        self.loads[a] -= self.W[u]
        self.loads[c] += self.W[u]
        self.size[a] -= 1
        self.size[c] += 1


def cut_transfers(plan: Plan, movable: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct one-unit transfers along the cut edges: (unit, its territory, the neighbouring territory
    it would join), units not ``movable`` left out, in (unit, to) order."""
    lab = plan.lab
    lr, lc = lab[plan.er], lab[plan.ec]
    cut = lr != lc
    u = np.concatenate([plan.er[cut], plan.ec[cut]])
    c = np.concatenate([lc[cut], lr[cut]])
    key = np.unique(u * plan.k + c)
    u, c = key // plan.k, key % plan.k
    keep = movable[u]
    u, c = u[keep], c[keep]
    return u, lab[u], c


class Pair:
    """Two territories a and b merged: their units, the union's edges (local indices) and caches."""

    def __init__(self, plan: Plan, a: int, b: int) -> None:
        self.a, self.b = a, b
        self.nodes = np.flatnonzero((plan.lab == a) | (plan.lab == b))
        self.lab_nodes = plan.lab[self.nodes]
        sub = sp.triu(plan.A[self.nodes][:, self.nodes], k=1).tocoo()
        self.sr, self.sc = sub.row, sub.col
        self.old_cut = int((self.lab_nodes[self.sr] != self.lab_nodes[self.sc]).sum())
        self._dsub: np.ndarray | None = None

    def sub_of(self, dist: np.ndarray) -> np.ndarray:
        if self._dsub is None:
            self._dsub = dist[np.ix_(self.nodes, self.nodes)]
        return self._dsub

    def old_travel(self, obj) -> float:
        return float((obj.w[self.nodes] * obj.Dh[self.lab_nodes, self.nodes]).sum())


@dataclass
class Tree:
    """A random spanning tree of a pair: DFS preorder, subtree totals (loads, size, pins of a and b)."""

    order: np.ndarray
    pos: np.ndarray
    sums: np.ndarray
    total: np.ndarray


def spanning_tree(plan: Plan, pair: Pair, rng: np.random.Generator) -> Tree | None:
    s = len(pair.nodes)
    g = sp.coo_matrix((rng.random(len(pair.sr)) + 0.01, (pair.sr, pair.sc)), shape=(s, s)).tocsr()
    order, pred = depth_first_order(minimum_spanning_tree(g), int(rng.integers(s)), directed=False)
    if len(order) < s:
        return None  # the two territories do not touch (cannot happen for a drawn pair)
    pin = plan.pin[pair.nodes]
    x = np.column_stack([plan.W[pair.nodes], np.ones(s), pin == pair.a, pin == pair.b]).astype(float)
    rows = x.tolist()
    for v in order[:0:-1].tolist():  # children before parents
        pv, rv = rows[pred[v]], rows[v]
        for j in range(len(rv)):
            pv[j] += rv[j]
    sums = np.array(rows)
    pos = np.empty(s, np.int64)
    pos[order] = np.arange(s)
    return Tree(order, pos, sums, sums[order[0]].copy())


def side_mask(tree: Tree, v: int) -> np.ndarray:
    """The units of the subtree under v (the part cut off by the edge above v), as a local mask."""
    side = np.zeros(len(tree.order), bool)
    start = int(tree.pos[v])
    side[tree.order[start:start + int(tree.sums[v, -3])]] = True
    return side


def _orientations(tree: Tree, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Per local unit v: may the subtree under v go to a (the rest to b), and the other way round."""
    s_a, s_b = tree.sums[:, m + 1], tree.sums[:, m + 2]
    t_a, t_b = tree.total[m + 1] - s_a, tree.total[m + 2] - s_b
    to_a = (s_b == 0) & (t_a == 0)
    to_b = (s_a == 0) & (t_b == 0)
    to_a[tree.order[0]] = to_b[tree.order[0]] = False  # the root has no edge above it
    return to_a, to_b


def repair_cuts(plan: Plan, tree: Tree, rng: np.random.Generator, count: int = 3) -> list[tuple[int, bool, float]]:
    """The ``count`` cuts leaving the least violation in the two halves, best first:
    (v, subtree goes to a, violation)."""
    m = plan.W.shape[1]
    to_a, to_b = _orientations(tree, m)
    ok = to_a | to_b
    loads = tree.sums[:, :m]
    v_all = plan.spread(loads) + plan.spread(tree.total[:m] - loads)
    score = np.where(ok, v_all + rng.random(len(v_all)) * 1e-9, np.inf)
    order = np.argsort(score)[:count]
    return [(int(v), bool(to_a[v]), float(v_all[v])) for v in order.tolist() if np.isfinite(score[v])]


def balanced_cuts(plan: Plan, tree: Tree) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local units v whose subtree and the rest are both within the bounds, with orientations."""
    m = plan.W.shape[1]
    loads = tree.sums[:, :m]
    rest = tree.total[:m] - loads
    within = ((loads >= plan.lo) & (loads <= plan.hi) & (rest >= plan.lo) & (rest <= plan.hi)).all(1)
    to_a, to_b = _orientations(tree, m)
    ok = within & (to_a | to_b)
    idx = np.flatnonzero(ok)
    return idx, to_a[idx], to_b[idx]


def best_objective_cut(plan: Plan, pair: Pair, tree: Tree, obj, rng: np.random.Generator):
    """The balanced cut of lowest energy: (energy, side mask, goes to a, payload), or None."""
    idx, to_a, to_b = balanced_cuts(plan, tree)
    if len(idx) == 0:
        return None
    pick = rng.permutation(len(idx))[:MAX_CANDIDATES]
    best = None
    for i in pick.tolist():
        side = side_mask(tree, int(idx[i]))
        for orient, allowed in ((True, to_a[i]), (False, to_b[i])):
            if allowed:
                energy, payload = obj.split(pair, side, orient)
                if best is None or energy < best[0]:
                    best = (energy, side, orient, payload)
                if obj.symmetric:
                    break  # the other orientation has the same energy
    return best


def apply_cut(plan: Plan, pair: Pair, side: np.ndarray, to_a: bool) -> None:
    first, second = (pair.a, pair.b) if to_a else (pair.b, pair.a)
    plan.relabel(pair.nodes, np.where(side, first, second))


def local_search(plan: Plan, obj, territories: list[int], passes: int = 2) -> int:
    """One-unit moves out of ``territories`` that lower the energy; returns the number applied."""
    moved = 0
    for _ in range(passes):
        before = moved
        for t in territories:
            for u in obj.movers(plan, t):
                if plan.labl[u] != t:
                    continue
                moved += _try_unit(plan, obj, u, t)
        if moved == before:
            break
    return moved


def _try_unit(plan: Plan, obj, u: int, t: int) -> int:
    for c in {plan.labl[v] for v in plan.adj[u]} - {t}:
        energy, payload = obj.move(plan, u, t, c)
        if energy < obj.energy - 1e-9 and plan.move_ok(u, t, c):
            plan.move(u, t, c)
            obj.apply_move(plan, u, t, c, payload, energy)
            return 1
    return 0


def touching(plan: Plan, t: int, rng: np.random.Generator) -> int | None:
    """A random territory next to t, drawn along a random cut edge of t."""
    lab = plan.lab
    e = np.flatnonzero((lab[plan.er] != lab[plan.ec]) & ((lab[plan.er] == t) | (lab[plan.ec] == t)))
    if len(e) == 0:
        return None
    i = int(e[rng.integers(len(e))])
    return int(lab[plan.ec[i]] if lab[plan.er[i]] == t else lab[plan.er[i]])


def random_pair(plan: Plan, rng: np.random.Generator) -> tuple[int, int] | None:
    lab = plan.lab
    e = np.flatnonzero(lab[plan.er] != lab[plan.ec])
    if len(e) == 0:
        return None
    i = int(e[rng.integers(len(e))])
    return int(lab[plan.er[i]]), int(lab[plan.ec[i]])


def accept(delta: float, temperature: float, rng: np.random.Generator) -> bool:
    if delta <= 1e-12:
        return True
    return temperature > 0 and rng.random() < math.exp(-delta / temperature)


def _pair_viol(plan: Plan, a: int, b: int) -> float:
    return float(plan.spread(plan.loads[[a, b]]).sum())


def _connected_move(plan: Plan, u: int, a: int) -> bool:
    return plan.pin[u] < 0 and connected_without(plan.adj, plan.labl, u, a, int(plan.size[a]))


def repair_moves(plan: Plan, a: int, b: int, max_swaps: int = 3000) -> bool:
    """Lower the violation of the pair a, b by one-unit moves between them, then by swaps of one unit
    of each (tried on at most ``max_swaps`` pairs); True when something changed. The objective is not
    kept up to date (rebuild it once the plan is balanced)."""
    changed = False
    for _ in range(50):
        v0 = _pair_viol(plan, a, b)
        if not (_best_single(plan, a, b, v0) or _best_swap(plan, a, b, v0, max_swaps)):
            break
        changed = True
    return changed


def _best_single(plan: Plan, a: int, b: int, v0: float) -> bool:
    for x, y in ((a, b), (b, a)):
        for u in plan.boundary(x):
            if not any(plan.labl[v] == y for v in plan.adj[u]) or not _connected_move(plan, u, x):
                continue
            plan.move(u, x, y)
            if _pair_viol(plan, a, b) < v0 - 1e-12:
                return True
            plan.move(u, y, x)
    return False


def _direction(plan: Plan, a: int, b: int) -> np.ndarray:
    """Per measure +1 where a is heavier than it should be relative to b, -1 where lighter, in tolerances."""
    over = (plan.loads[a] - plan.loads[b]) / plan.scale
    return np.sign(np.where(np.abs(over) > 1e-9, over, 0.0))


def _by_use(plan: Plan, units: list[int], direction: np.ndarray) -> list[int]:
    """Units sorted by how much moving them along ``direction`` helps (largest first)."""
    if not units:
        return []
    score = (plan.W[units] / plan.scale) @ direction
    return [units[i] for i in np.argsort(-score, kind="stable")]


def _best_swap(plan: Plan, a: int, b: int, v0: float, max_swaps: int) -> bool:
    """The first swap (u of a to b, then w of b to a) that keeps both connected and lowers the violation;
    the units whose measures push the pair towards balance most are tried first."""
    d = _direction(plan, a, b)
    us = _by_use(plan, [u for u in plan.boundary(a) if any(plan.labl[v] == b for v in plan.adj[u])
                        and _connected_move(plan, u, a)], d)
    ws_all = _by_use(plan, plan.boundary(b), -d)
    tried = 0
    for u in us:
        plan.move(u, a, b)
        for w in ws_all:
            tried += 1
            if w == u or not any(plan.labl[v] == a for v in plan.adj[w]) or not _connected_move(plan, w, b):
                continue
            plan.move(w, b, a)
            if _pair_viol(plan, a, b) < v0 - 1e-12:
                return True
            plan.move(w, a, b)
        plan.move(u, b, a)
        if tried > max_swaps:
            break
    return False
