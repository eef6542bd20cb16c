"""Local search on a contiguous plan: move boundary units between neighbouring territories.

Objective, lexicographic: (1) balance violation ``P`` = sum over territories and measures of
((|load/target - 1| - 0.9 tol) / tol)^2 for the part beyond 90% of the tolerance (a safety margin),
plus a penalty for units beyond the maximum distance; (2) a pull towards the mean ``S`` = sum
(dev / tol)^2 and compactness ``C`` = unit weight x distance to the territory's home (in typical
territory radii) and, in the final pass, cut edges.

A move keeps the donor connected (breadth-first search from one of the unit's donor neighbours until
all of them are reached, usually a few steps; when the unit is a cut point, the small pieces it would
cut off move with it) and never empties a territory or moves a locked unit. When no single move lowers
P, moves that keep P and lower S spread the slack ("diffusion"); when that fails too, ejection chains
and chain transfers (:mod:`.chains`) push excess through several territories. Under a disruption
budget (rebalancing), moves that take a unit away from its original territory spend budget and moves
back refund it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ...models.progress import StopFlag
from .graph import EPS, connected_without, cut_off


@dataclass(frozen=True)
class SearchParams:
    """Settings of a local search (PyVRP's ``SolveParams`` shape): arrays are per unit (n) or per
    territory (k); coordinates and distances in metres.

    weights: (n, m) measures; tolerance: (m,) allowed relative deviation; xy: (n, 2) unit centres;
    locked: (n,) units that never move; homes: (k, 2) territory homes, fixed (rep homes, rebalancing)
    or recentred in each polish pass; cost_w: (n,) weight of a unit's distance to its home;
    max_distance: metres a unit may lie from its home (None = no limit); original, disruption_w,
    budget: a disruption budget (rebalancing) counted in ``disruption_w`` against ``original`` labels;
    margin: the search aims inside ``margin`` x tolerance.
    """

    weights: np.ndarray
    tolerance: np.ndarray
    xy: np.ndarray
    k: int
    locked: np.ndarray
    homes: np.ndarray
    fixed_homes: bool
    cost_w: np.ndarray
    max_distance: float | None = None
    original: np.ndarray | None = None
    disruption_w: np.ndarray | None = None
    budget: float = math.inf
    margin: float = 0.9


class Search:
    """Mutable plan state with incremental loads; see the module docstring for the objective."""

    def __init__(self, labels: np.ndarray, adj_lists: list[list[int]], params: SearchParams) -> None:
        q = params
        self.n, self.m = q.weights.shape
        self.k = k = q.k
        self.adj = adj_lists
        self.lab = [int(x) for x in labels]
        self.W = [tuple(float(v) for v in row) for row in q.weights]
        self.targets = [float(x) for x in q.weights.sum(0) / k]
        self.tol = [float(x) for x in q.tolerance]
        self.itol = [float(x) * q.margin for x in q.tolerance]  # aim inside the tolerance
        self.x = q.xy[:, 0].tolist()
        self.y = q.xy[:, 1].tolist()
        self.locked = [bool(v) for v in q.locked]
        self.homes = np.asarray(q.homes, float).copy()
        self.fixed_homes = q.fixed_homes
        self.cw = [float(v) for v in q.cost_w]
        self.maxd = q.max_distance
        self._count_loads()
        area = max(float(np.ptp(q.xy[:, 0]) * np.ptp(q.xy[:, 1])), 1.0)
        self.radius = math.sqrt(area / k)
        self.orig = None if q.original is None else [int(v) for v in q.original]
        self.dw = [1.0] * len(self.lab) if q.disruption_w is None else [float(v) for v in q.disruption_w]
        self.budget = q.budget
        self.spent = 0.0
        if self.orig is not None:
            self.spent = sum(self.dw[u] for u in range(self.n) if self.lab[u] != self.orig[u])
        self.moves = 0
        self.work = 0  # moves including undone ones (bounds an attempt's effort)
        self.version = [0] * k  # bumped whenever a territory changes
        self._failed: dict[tuple[int, bool], int] = {}
        self._vcache: dict[int, tuple[int, tuple[float, float]]] = {}

    def _count_loads(self) -> None:
        k, m = self.k, self.m
        self.load = [[0.0] * m for _ in range(k)]
        self.size = [0] * k
        self.members: list[set[int]] = [set() for _ in range(k)]
        for u, t in enumerate(self.lab):
            self.size[t] += 1
            self.members[t].add(u)
            for j in range(m):
                self.load[t][j] += self.W[u][j]

    # ---- scoring
    def viol(self, t: int, load: list[float]) -> tuple[float, float]:
        p = s = 0.0
        for j in range(self.m):
            dev = load[j] / self.targets[j] - 1.0 if self.targets[j] > 0 else 0.0
            tol = self.tol[j] or 1e-3
            s += (dev / tol) ** 2
            over = abs(dev) - self.itol[j]
            if over > 0:
                p += (over / tol) ** 2
        return p, s

    def _viol_now(self, t: int) -> tuple[float, float]:
        """viol of t's current load, cached until t changes."""
        hit = self._vcache.get(t)
        if hit is not None and hit[0] == self.version[t]:
            return hit[1]
        val = self.viol(t, self.load[t])
        self._vcache[t] = (self.version[t], val)
        return val

    def dist(self, u: int, t: int) -> float:
        return math.hypot(self.x[u] - self.homes[t, 0], self.y[u] - self.homes[t, 1])

    def distance_penalty(self, u: int, t: int) -> float:
        if self.maxd is None:
            return 0.0
        d = self.dist(u, t)
        return 0.0 if d <= self.maxd else 10.0 * (1.0 + (d - self.maxd) / self.maxd)

    def penalty(self) -> float:
        """The current balance violation P (0 = every measure within the internal tolerance)."""
        return sum(self.viol(t, self.load[t])[0] for t in range(self.k)) + \
            sum(self.distance_penalty(u, self.lab[u]) for u in range(self.n))

    def violating(self) -> list[int]:
        out = [(self.viol(t, self.load[t])[0], t) for t in range(self.k)]
        return [t for v, t in sorted(out, reverse=True) if v > 0]

    def within(self, slack: float = 1.0) -> bool:
        """True when every territory is within ``slack`` x tolerance on every measure."""
        for t in range(self.k):
            for j in range(self.m):
                if self.targets[j] > 0 and abs(self.load[t][j] / self.targets[j] - 1) > self.tol[j] * slack + 1e-12:
                    return False
        return True

    def delta(self, u: int, a: int, b: int) -> tuple[float, float, float]:
        """(dP, dS, dC) of moving unit u from territory a to b (dC in territory radii x weight)."""
        wu = self.W[u]
        la, lb = self.load[a], self.load[b]
        na = [la[j] - wu[j] for j in range(self.m)]
        nb = [lb[j] + wu[j] for j in range(self.m)]
        pa0, sa0 = self._viol_now(a)
        pb0, sb0 = self._viol_now(b)
        pa1, sa1 = self.viol(a, na)
        pb1, sb1 = self.viol(b, nb)
        dp = pa1 + pb1 - pa0 - pb0 + self.distance_penalty(u, b) - self.distance_penalty(u, a)
        dc = self.cw[u] * (self.dist(u, b) - self.dist(u, a)) / self.radius
        return dp, sa1 + sb1 - sa0 - sb0, dc

    def delta_ps(self, u: int, a: int, b: int) -> tuple[float, float]:
        """(dP, dS) of moving unit u from a to b, without the compactness term (cheaper)."""
        wu = self.W[u]
        la, lb = self.load[a], self.load[b]
        pa1, sa1 = self.viol(a, [la[j] - wu[j] for j in range(self.m)])
        pb1, sb1 = self.viol(b, [lb[j] + wu[j] for j in range(self.m)])
        pa0, sa0 = self._viol_now(a)
        pb0, sb0 = self._viol_now(b)
        dp = pa1 + pb1 - pa0 - pb0
        if self.maxd is not None:
            dp += self.distance_penalty(u, b) - self.distance_penalty(u, a)
        return dp, sa1 + sb1 - sa0 - sb0

    def disruption_cost(self, u: int, b: int) -> float:
        if self.orig is None:
            return 0.0
        o = self.orig[u]
        return self.dw[u] * ((o != b) - (o != self.lab[u]))

    # ---- moving
    def movable(self, u: int, b: int) -> bool:
        a = self.lab[u]
        if self.locked[u] or a == b:
            return False
        if self.orig is not None and self.spent + self.disruption_cost(u, b) > self.budget + 1e-9:
            return False
        return connected_without(self.adj, self.lab, u, a, self.size[a])

    def tail(self, u: int, a: int, limit: int) -> list[int] | None:
        """Units of a cut off when u leaves (all but the largest remaining piece), or None if more than
        ``limit`` units, a locked unit, or nothing would remain."""
        out = cut_off(self.adj, self.lab, u, a, limit)
        if out is None or any(self.locked[v] for v in out):
            return None
        return out

    def movable_set(self, u: int, b: int, limit: int = 0) -> list[int] | None:
        """The units that must move with u into b to keep its donor connected ([u] alone when it can)."""
        a = self.lab[u]
        if self.locked[u] or a == b:
            return None
        if connected_without(self.adj, self.lab, u, a, self.size[a]):
            group = [u]
        elif limit > 0:
            extra = self.tail(u, a, limit)
            if extra is None:
                return None
            group = [u, *extra]
        else:
            return None
        if self.orig is not None:
            cost = sum(self.disruption_cost(v, b) for v in group)
            if self.spent + cost > self.budget + 1e-9:
                return None
        return group

    def delta_set(self, group: list[int], a: int, b: int) -> float:
        """dP of moving the units of ``group`` from a to b."""
        m = self.m
        wsum = [sum(self.W[v][j] for v in group) for j in range(m)]
        na = [self.load[a][j] - wsum[j] for j in range(m)]
        nb = [self.load[b][j] + wsum[j] for j in range(m)]
        dp = self.viol(a, na)[0] + self.viol(b, nb)[0] - self.viol(a, self.load[a])[0] - \
            self.viol(b, self.load[b])[0]
        return dp + sum(self.distance_penalty(v, b) - self.distance_penalty(v, a) for v in group)

    def move(self, u: int, b: int) -> None:
        a = self.lab[u]
        self.spent += self.disruption_cost(u, b)
        wu = self.W[u]
        for j in range(self.m):
            self.load[a][j] -= wu[j]
            self.load[b][j] += wu[j]
        self.size[a] -= 1
        self.size[b] += 1
        self.members[a].discard(u)
        self.members[b].add(u)
        self.lab[u] = b
        self.moves += 1
        self.work += 1
        self.version[a] += 1
        self.version[b] += 1

    def undo(self, log: list[tuple[int, int]]) -> None:
        """Move back every (unit, old territory) of ``log``, latest first; undone moves do not count."""
        for u, a in reversed(log):
            self.move(u, a)
            self.moves -= 2

    def boundary_moves(self, t: int):
        """Candidate (unit, from, to) moves touching territory t, both outward and inward."""
        lab = self.lab
        seen = set()
        for u in self.members[t]:
            for v in self.adj[u]:
                b = lab[v]
                if b != t:
                    if (u, b) not in seen:
                        seen.add((u, b))
                        yield u, t, b
                    if (v, t) not in seen:
                        seen.add((v, t))
                        yield v, b, t

    # ---- phases (the balance loop with chains is :func:`.phases.balance`)
    def by_deviation(self) -> list[int]:
        """Territories by decreasing worst |deviation| / tolerance."""
        def worst(t: int) -> float:
            return max(abs(self.load[t][j] / self.targets[j] - 1) / (self.tol[j] or 1e-3)
                       for j in range(self.m) if self.targets[j] > 0)
        return sorted(range(self.k), key=worst, reverse=True)

    def best_single(self, t: int, diffuse: bool = False) -> bool:
        """Apply the best move touching t that lowers P (or, when ``diffuse``, keeps P and lowers S)."""
        lab = self.lab
        near = {lab[v] for u in self.members[t] for v in self.adj[u]}
        stamp = sum(self.version[q] for q in near) + self.version[t] * (len(near) + 1)
        if self._failed.get((t, diffuse)) == stamp:
            return False  # nothing around t changed since the last fruitless look
        cands = []
        for u, a, b in self.boundary_moves(t):
            if self.locked[u]:
                continue
            dp, ds = self.delta_ps(u, a, b)
            if dp < -EPS or (diffuse and dp <= EPS and ds < -1e-6):
                dc = self.cw[u] * (self.dist(u, b) - self.dist(u, a)) / self.radius
                gain = -dp * 1e3 - ds if diffuse else -dp
                dcost = self.disruption_cost(u, b)
                score = -gain / max(dcost, 1e-3) if self.orig is not None and dcost > 0 else -gain * 1e3
                cands.append((score, 0.02 * ds + 1e-3 * dc, u, b))
        cands.sort()
        for _, _, u, b in cands[:40]:
            a = self.lab[u]
            group = self.movable_set(u, b, limit=max(2, self.size[a] // 5))
            if group is None:
                continue
            if len(group) == 1 or self.delta_set(group, a, b) < (EPS if diffuse else -EPS):
                for v in group:
                    self.move(v, b)
                return True
        self._failed[(t, diffuse)] = stamp
        return False

    def penalty_territories(self) -> float:
        return sum(self.viol(t, self.load[t])[0] for t in range(self.k))

    def polish(self, deadline: float, stop: StopFlag | None = None, passes: int = 6,
               cut_weight: float = 1.0) -> None:
        """Compactness: move boundary units where that shortens borders (fewer cut edges, weight
        ``cut_weight`` per edge) and brings units nearer their home (weighted distance in territory
        radii), keeping the balance violation P from growing."""
        for _ in range(passes):
            if not self.fixed_homes:
                self.recentre()
            changed = 0
            for u in range(self.n):
                if stop is not None and u % 2000 == 0:
                    stop.check()
                if self.locked[u]:
                    continue
                a = self.lab[u]
                best = None
                count: dict[int, int] = {}
                for v in self.adj[u]:
                    count[self.lab[v]] = count.get(self.lab[v], 0) + 1
                for b, nb in count.items():
                    if b == a:
                        continue
                    dp, ds, dc = self.delta(u, a, b)
                    gain = 0.02 * ds + dc + cut_weight * (count.get(a, 0) - nb)
                    if dp <= EPS and gain < -1e-9 and (best is None or gain < best[0]):
                        best = (gain, b)
                if best is not None and self.disruption_cost(u, best[1]) <= 0 and self.movable(u, best[1]):
                    self.move(u, best[1])
                    changed += 1
                if u % 500 == 0 and time.perf_counter() > deadline:
                    return
            if changed == 0:
                return

    def recentre(self) -> None:
        """Homes move to the weighted centre of each territory's units."""
        for t in range(self.k):
            mem = self.members[t]
            if not mem:
                continue
            sw = sum(self.cw[u] for u in mem)
            self.homes[t, 0] = sum(self.cw[u] * self.x[u] for u in mem) / sw
            self.homes[t, 1] = sum(self.cw[u] * self.y[u] for u in mem) / sw

    def labels(self) -> np.ndarray:
        return np.array(self.lab, dtype=np.int64)
