"""Exact recombination of three territories with a constraint solver (OR-Tools CP-SAT), for cut edges.

Pair recombination (:mod:`.anytime`, :mod:`.exact`) changes two territories at a time; some plans are
optimal for every pair and still far from the best (New Mexico's counties, k = 3: 23 cut edges where
17 is optimal). Here the units of a few neighbouring territories are reassigned among them at once by a
CP-SAT model: one boolean per unit and territory; every measure of every territory within the bounds;
each territory connected (every unit of the region is its territory's root or has exactly one parent,
a neighbour of the same territory at a smaller depth); the fewest cut edges inside the region (the
edges leaving it are cut whatever the solver does). Units outside the region keep their territory, so a
solution is a valid plan; the current plan is the solver's hint (a feasible start). Weights are
scaled to integers (a measure's target becomes ``SCALE``) with the bounds tightened by more than the
rounding error, and the result is checked on the float loads before it is kept.

(A "least excess" variant of the same model, to repair unbalanced plans on the sparse grid instances,
was tried: within a 2 s limit per region it did not lower the violation, so it is not kept.)
"""

from __future__ import annotations

from collections import deque

import numpy as np
from ortools.sat.python import cp_model

from .anytime import Plan

#: integer scale of a measure: its target becomes SCALE (the bounds are tightened by the rounding error)
SCALE = 1_000_000
#: a unit may join a territory at most this many edges (inside the region) from its current members
REACH = 1000


def territory_graph(plan: Plan) -> list[set[int]]:
    """Per territory the territories it shares an edge with."""
    lab = plan.lab
    cut = lab[plan.er] != lab[plan.ec]
    nb: list[set[int]] = [set() for _ in range(plan.k)]
    for a, b in zip(lab[plan.er[cut]].tolist(), lab[plan.ec[cut]].tolist(), strict=True):
        nb[a].add(b)
        nb[b].add(a)
    return nb


def random_region(plan: Plan, start: int, size: int, rng: np.random.Generator) -> list[int]:
    """``start`` and up to ``size - 1`` more territories, each touching one already in (drawn at random)."""
    nb = territory_graph(plan)
    region = [start]
    while len(region) < size:
        frontier = sorted({b for a in region for b in nb[a]} - set(region))
        if not frontier:
            break
        region.append(int(frontier[rng.integers(len(frontier))]))
    return region


def _hops(adj: list[list[int]], inside: np.ndarray, sources: list[int], limit: int) -> dict[int, int]:
    """Edges from ``sources`` to each unit of ``inside`` (a mask), up to ``limit``."""
    dist = {u: 0 for u in sources}
    queue = deque(sources)
    while queue:
        x = queue.popleft()
        if dist[x] >= limit:
            continue
        for y in adj[x]:
            if inside[y] and y not in dist:
                dist[y] = dist[x] + 1
                queue.append(y)
    return dist


class _Model:
    """The CP-SAT model of one region: x[u, t] booleans, loads, a rooted forest for connectivity."""

    def __init__(self, plan: Plan, region: list[int], reach: int = REACH) -> None:
        self.plan, self.region = plan, region
        self.units = np.flatnonzero(np.isin(plan.lab, region))
        self.inside = np.zeros(len(plan.lab), bool)
        self.inside[self.units] = True
        self.m = cp_model.CpModel()
        self.x: dict[tuple[int, int], cp_model.IntVar] = {}
        for t in region:
            for u in _hops(plan.adj, self.inside, plan.members(t).tolist(), reach):
                if plan.pin[u] < 0 or plan.pin[u] == t:
                    self.x[u, t] = self.m.new_bool_var("")
                    self.m.add_hint(self.x[u, t], int(plan.lab[u] == t))
        by_unit: dict[int, list[cp_model.IntVar]] = {}
        for (u, _t), v in self.x.items():
            by_unit.setdefault(u, []).append(v)
        for u in self.units.tolist():
            self.m.add_exactly_one(by_unit[u])
        first = int(self.units[0])
        if (plan.pin[self.units] < 0).all() and (first, int(plan.lab[first])) in self.x:
            # the territories are interchangeable: the region's first unit keeps its territory
            self.m.add(self.x[first, int(plan.lab[first])] == 1)
        for t in region:
            self._loads(t)
        self._forest()
        self.m.minimize(self._cut_edges())

    def _loads(self, t: int) -> None:
        plan = self.plan
        units = [u for u in self.units.tolist() if (u, t) in self.x]
        for j in range(plan.W.shape[1]):
            if plan.targets[j] <= 0:
                continue
            w = np.rint(plan.W[units, j] * SCALE / plan.targets[j]).astype(np.int64).tolist()
            margin = len(units) // 2 + 1  # more than the rounding error of any sum of these units
            lo = int(np.ceil(plan.lo[j] * SCALE / plan.targets[j])) + margin
            hi = int(np.floor(plan.hi[j] * SCALE / plan.targets[j])) - margin
            self.m.add_linear_constraint(sum(wi * self.x[u, t] for wi, u in zip(w, units, strict=True)), lo, hi)

    def _same(self, arc: cp_model.IntVar, u: int, v: int) -> None:
        """``arc`` true: u and v lie in the same territory."""
        for t in self.region:
            xu, xv = self.x.get((u, t)), self.x.get((v, t))
            if xu is not None and xv is None:
                self.m.add_implication(arc, xu.negated())
            elif xu is None and xv is not None:
                self.m.add_implication(arc, xv.negated())
            elif xu is not None and xv is not None:
                self.m.add(xu == xv).only_enforce_if(arc)

    def _forest(self) -> None:
        """Each unit of the region is its territory's root or picks one parent among its neighbours in
        the region, of the same territory and of smaller depth; each territory has one root. So every
        territory is one tree: connected."""
        m, adj = self.m, self.plan.adj
        units = self.units.tolist()
        depth = {u: m.new_int_var(0, len(units), "") for u in units}
        hint_depth, hint_parent, roots = self._current_forest()
        root_vars: dict[int, list[cp_model.IntVar]] = {t: [] for t in self.region}
        for u in units:
            m.add_hint(depth[u], hint_depth[u])
            choices = []
            for t in self.region:
                if (u, t) in self.x:
                    r = m.new_bool_var("")
                    m.add_implication(r, self.x[u, t])
                    m.add_hint(r, int(roots[t] == u))
                    root_vars[t].append(r)
                    choices.append(r)
            for v in adj[u]:
                if self.inside[v]:
                    arc = m.new_bool_var("")
                    m.add_hint(arc, int(hint_parent.get(u) == v))
                    m.add(depth[v] < depth[u]).only_enforce_if(arc)
                    self._same(arc, u, v)
                    choices.append(arc)
            m.add_exactly_one(choices)
        for t in self.region:
            m.add_exactly_one(root_vars[t])

    def _cut_edges(self):
        """The edges inside the region whose ends end up in different territories: c >= |x[u, t] -
        x[v, t]| for every territory (linear, so that the LP relaxation bounds the count)."""
        plan, cut = self.plan, []
        for u, v in zip(plan.er.tolist(), plan.ec.tolist(), strict=True):
            if not (self.inside[u] and self.inside[v]):
                continue
            c = self.m.new_bool_var("")
            self.m.add_hint(c, int(plan.lab[u] != plan.lab[v]))
            for t in self.region:
                xu, xv = self.x.get((u, t), 0), self.x.get((v, t), 0)
                self.m.add(xu - xv <= c)
                self.m.add(xv - xu <= c)
            cut.append(c)
        return sum(cut)

    def _current_forest(self) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
        """Depth and parent of each unit in a breadth-first tree of its territory, and the roots."""
        lab, adj = self.plan.lab, self.plan.adj
        depth: dict[int, int] = {}
        parent: dict[int, int] = {}
        roots: dict[int, int] = {}
        for t in self.region:
            mem = self.plan.members(t).tolist()
            pinned = [u for u in mem if self.plan.pin[u] == t]
            roots[t] = r = (pinned or mem)[0]
            depth[r] = 0
            queue = deque([r])
            while queue:
                x = queue.popleft()
                for y in adj[x]:
                    if lab[y] == t and y not in depth:
                        depth[y], parent[y] = depth[x] + 1, x
                        queue.append(y)
        return depth, parent, roots

    def solve(self, seconds: float, seed: int) -> np.ndarray | None:
        """New labels of ``self.units`` (the best found in ``seconds``), or None."""
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(seconds, 0.05)
        # a portfolio of searches with large-neighbourhood search, interleaved in this one thread (the
        # benchmarks and the GUI run one balancer per core)
        solver.parameters.num_workers = 8
        solver.parameters.interleave_search = True
        solver.parameters.random_seed = seed
        status = solver.solve(self.m)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        new = self.plan.lab[self.units].copy()
        for i, u in enumerate(self.units.tolist()):
            for t in self.region:
                if (u, t) in self.x and solver.boolean_value(self.x[u, t]):
                    new[i] = t
        return new


def cut_count(plan: Plan) -> int:
    return int((plan.lab[plan.er] != plan.lab[plan.ec]).sum())


def recombine_region(plan: Plan, region: list[int], seconds: float, seed: int = 0) -> bool:
    """Reassign the units of the territories ``region`` among them (``plan`` changed in place) for the
    fewest cut edges within the bounds; True when the plan is balanced and has fewer cut edges than
    before, else the plan is left as it was."""
    model = _Model(plan, region)
    new = model.solve(seconds, seed)
    if new is None:
        return False
    old_lab, before = plan.lab[model.units].copy(), cut_count(plan)
    plan.relabel(model.units, new)
    if plan.violation() <= 0 and cut_count(plan) < before:
        return True
    plan.relabel(model.units, old_lab)
    return False
