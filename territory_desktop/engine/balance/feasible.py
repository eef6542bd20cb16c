"""Balance with contiguity, exactly: proofs that no balanced plan with connected territories exists, and
an OR-Tools CP-SAT feasibility model (and repair) for plans the local searches leave off balance.

On sparse, nearly tree-shaped graphs with several measures (the grid instances of the delivery
territory design benchmark: 486 units, 623 edges, 148 bridges) the searches stall off balance. Either
the search is the problem or no plan exists; this module decides where it can:

- ties (:func:`tie_groups`): when removing a cut unit v leaves a piece C whose total on some measure is
  below the lower bound, no territory fits inside C and every territory meeting C passes through v, so
  all of C lies in v's territory. On the grids this ties a third to a half of the units to a neighbour;
  a group of tied units above an upper bound is a proof;
- :func:`presolve`: each connected piece left must hold a whole number of territories, a group no
  neighbouring group can join is a whole territory (removed, and the rest examined again);
- :func:`piece_feasible`: CP-SAT on one piece C cut off by v: C must hold whole territories plus the part
  of v's territory that enters it; INFEASIBLE is a proof (a small model, often decided in well under 1 s);
- :class:`FeasibilityModel` / :func:`repair`: the whole plan or a region of territories: ``x[u, t]`` on the
  tie groups, every measure within the bounds, contiguity by one single-commodity flow from one root per
  territory (roots ordered: symmetry broken), the current plan as the hint. It is complete and finds
  plans on small graphs, but on the grids it decided neither feasibility nor infeasibility in 150 s
  (2 workers), nor for regions of 5-7 territories in 15-20 s, so the engine does not call it.

The engine (:mod:`.improve`) runs :func:`infeasibility_proof` on a plan that stays off balance and reports
the reason; the search still uses its whole time for the least violated plan. Solves use one worker
and a fixed seed (a solve cut by its time limit may still differ between runs).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from .anytime import Plan

#: a caller's "give up now" (a Stop or Finish): checked between two solves
Halt = Callable[[], bool]


def _never() -> bool:
    return False


#: integer scale of a measure when the weights are not integers (its target becomes SCALE)
SCALE = 1_000_000


@dataclass
class Outcome:
    """A solve: ``labels`` of the region's units (None unless feasible), the CP-SAT status name."""

    labels: np.ndarray | None
    status: str
    seconds: float
    fixed: int  # units tied to a neighbour by the cut-unit argument


@dataclass
class _Cuts:
    """The cut structure of the subgraph on some units, from one DFS: ``order`` the preorder, ``pos`` a
    unit's place in it, ``end[i]`` the end of the subtree of ``order[i]`` (a subtree is
    ``order[i:end[i]]``), ``root[i]`` the place of the root of the DFS tree (connected piece) holding
    ``order[i]``, and ``split[v]``: the (start, end) of each child subtree that removing the unit v cuts off
    from the rest of its piece (for a DFS root with two children or more: every child subtree)."""

    order: list[int]
    pos: dict[int, int]
    end: list[int]
    root: list[int]
    split: dict[int, list[tuple[int, int]]]

    def pieces(self, v: int) -> list[list[tuple[int, int]]]:
        """Every connected piece left when v is removed from its piece, each as ranges of ``order``: the
        split-off subtrees and, unless v is the root, the rest (connected through the root: the ranges
        before v's subtree, between the split-off subtrees inside it, and after it)."""
        i = self.pos[v]
        spans = sorted(self.split.get(v, []))
        out = [[s] for s in spans]
        r = self.root[i]
        if r != i:
            rest, at = [(r, i)], i + 1
            for a, b in spans:
                rest.append((at, a))
                at = b
            rest.append((at, self.end[i]))
            rest.append((self.end[i], self.end[r]))
            out.append([(a, b) for a, b in rest if b > a])
        return [p for p in out if p]

    def units(self, ranges: list[tuple[int, int]]) -> list[int]:
        return [u for a, b in ranges for u in self.order[a:b]]


def _cuts(adj: list[list[int]], units: list[int], inside: np.ndarray) -> _Cuts:
    """The :class:`_Cuts` of the subgraph on ``units`` (``inside``: their mask): iterative Tarjan DFS, linear
    in the graph (ranges, not lists, so that a path of n units costs O(n), not O(n^2))."""
    split: dict[int, list[tuple[int, int]]] = {}
    disc: dict[int, int] = {}
    low: dict[int, int] = {}
    order: list[int] = []
    end: list[int] = []
    root: list[int] = []
    for s in units:
        if s in disc:
            continue
        r = disc[s] = low[s] = len(order)
        order.append(s)
        end.append(0)
        root.append(r)
        stack = [(s, -1, iter(adj[s]))]
        while stack:
            v, parent, it = stack[-1]
            advanced = False
            for y in it:
                if not inside[y] or y == parent:
                    continue
                if y in disc:
                    low[v] = min(low[v], disc[y])
                else:
                    disc[y] = low[y] = len(order)
                    order.append(y)
                    end.append(0)
                    root.append(r)
                    stack.append((y, v, iter(adj[y])))
                    advanced = True
                    break
            if advanced:
                continue
            stack.pop()
            end[disc[v]] = len(order)
            if parent >= 0:
                low[parent] = min(low[parent], low[v])
                if low[v] >= disc[parent]:
                    # everything discovered since v is v's subtree, cut off by the parent
                    split.setdefault(parent, []).append((disc[v], len(order)))
        if len(split.get(s, ())) == 1:  # a root with one child cuts nothing off
            del split[s]
    return _Cuts(order, disc, end, root, split)


def _cut_pieces(adj: list[list[int]], units: list[int], inside: np.ndarray,
                max_units: int | None = None) -> list[tuple[int, list[int]]]:
    """(v, piece) for every cut unit v and every connected piece its removal leaves (of at most
    ``max_units`` units when given)."""
    cuts = _cuts(adj, units, inside)
    out = []
    for v in cuts.split:
        for ranges in cuts.pieces(v):
            if max_units is None or sum(b - a for a, b in ranges) <= max_units:
                out.append((v, cuts.units(ranges)))
    return out


def integer_measures(plan: Plan, units: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(len(units), J) integer weights and (J,) integer bounds of the measures with a positive target:
    the weights as they are when they are integers (bounds rounded inwards), else scaled so that the
    target is ``SCALE`` with the bounds tightened by more than the rounding error of any sum."""
    keep = plan.targets > 0
    w = plan.W[units][:, keep]
    lo, hi, t = plan.lo[keep], plan.hi[keep], plan.targets[keep]
    if np.all(w == np.rint(w)) and np.all(np.abs(w) < 2**40):
        return np.rint(w).astype(np.int64), np.ceil(lo - 1e-9).astype(np.int64), np.floor(hi + 1e-9).astype(np.int64)
    margin = len(units) // 2 + 1
    return (np.rint(w * SCALE / t).astype(np.int64), np.ceil(lo * SCALE / t).astype(np.int64) + margin,
            np.floor(hi * SCALE / t).astype(np.int64) - margin)


def tie_groups(adj: list[list[int]], units: list[int], inside: np.ndarray, w: np.ndarray,
               lo: np.ndarray) -> list[list[int]]:
    """Units that lie in one territory in every balanced contiguous plan of ``units`` (w: their integer
    weights, lo: the lower bounds): a piece left by removing a cut unit v whose total is below ``lo`` on
    some measure holds no whole territory, and every territory meeting it passes through v, so the piece
    and v share v's territory. Every piece of every cut unit is examined (the split-off subtrees and the
    rest). Groups (each connected) of the union of these ties; linear in the graph but for the
    union-find (a range of the DFS order is tied by linking its neighbours in the order, each pair once)."""
    index = {u: i for i, u in enumerate(units)}
    cuts = _cuts(adj, units, inside)
    n = len(cuts.order)
    at = np.array([index[u] for u in cuts.order], np.int64)
    prefix = np.vstack([np.zeros((1, w.shape[1]), w.dtype), np.cumsum(w[at], 0)])  # range sums in O(1)
    parent = list(range(n))
    jump = list(range(n))  # jump[i]: the first j >= i not yet linked to j + 1 (path-compressed)

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def unlinked(i: int) -> int:
        r = i
        while jump[r] != r:
            r = jump[r]
        while jump[i] != r:
            jump[i], i = r, jump[i]
        return r

    def tie(i: int, a: int, b: int) -> None:  # positions a..b-1 join position i
        parent[find(a)] = find(i)
        j = unlinked(a)
        while j < b - 1:
            parent[find(j + 1)] = find(j)
            jump[j] = j + 1
            j = unlinked(j + 1)

    for v in cuts.split:
        for ranges in cuts.pieces(v):
            s = sum(prefix[b] - prefix[a] for a, b in ranges)
            if (s < lo).any():
                for a, b in ranges:
                    tie(cuts.pos[v], a, b)
    groups: dict[int, list[int]] = {}
    for u in units:
        groups.setdefault(find(cuts.pos[u]), []).append(u)
    return sorted(groups.values(), key=min)


class FeasibilityModel:
    """The CP-SAT model of the territories ``region`` of ``plan`` (all of them by default), on the tie
    groups (:func:`tie_groups`) of its units. ``proved_infeasible`` is set when a group alone exceeds
    an upper bound (no model is then needed)."""

    def __init__(self, plan: Plan, region: list[int] | None = None, structure: bool = True,
                 anchored: bool = False) -> None:
        self.plan = plan
        self.region = sorted(range(plan.k)) if region is None else sorted(region)
        self.units = np.flatnonzero(np.isin(plan.lab, self.region))
        units = self.units.tolist()
        self.inside = np.zeros(len(plan.lab), bool)
        self.inside[self.units] = True
        w, lo, hi = integer_measures(plan, units)
        self.groups = tie_groups(plan.adj, units, self.inside, w, lo) if structure else [[u] for u in units]
        self.fixed = len(units) - len(self.groups)
        g_of = {u: gi for gi, grp in enumerate(self.groups) for u in grp}
        index = {u: i for i, u in enumerate(units)}
        gw = np.stack([w[[index[u] for u in grp]].sum(0) for grp in self.groups])
        self.proved_infeasible = bool((gw > hi).any())
        ts = range(len(self.region))
        # pinned units name their territory; two different ones in one group: no plan
        pins: dict[int, int] = {}
        for u in units:
            if plan.pin[u] >= 0:
                t = self.region.index(int(plan.pin[u]))
                if pins.setdefault(g_of[u], t) != t:
                    self.proved_infeasible = True
        # territories in the order of their smallest group in the current plan (the symmetry breaking's
        # order) unless pins name them; a group's hint is the territory of most of its units
        lab_of = {u: int(plan.lab[u]) for u in units}
        votes = [np.bincount([lab_of[u] for u in grp], minlength=plan.k) for grp in self.groups]
        ghint_lab = [int(np.argmax(v)) for v in votes]
        present = [t for t in self.region if t in ghint_lab]
        first = sorted(present, key=ghint_lab.index) + [t for t in self.region if t not in present]
        self.order = self.region if pins or anchored else first
        pos = {t: i for i, t in enumerate(self.order)}
        ghint = [pos[t] for t in ghint_lab]
        anchors: dict[int, int] | None = None
        if anchored:  # each territory keeps its deepest group (farthest from its boundary): no symmetry
            anchors = self._anchors(g_of, ghint, pos)
            for t, g in anchors.items():
                if pins.setdefault(g, t) != t:
                    self.proved_infeasible = True
        m = self.m = cp_model.CpModel()
        ng = len(self.groups)
        self.x = {(g, t): m.new_bool_var("") for g in range(ng) for t in ts}
        for g in range(ng):
            m.add_exactly_one(self.x[g, t] for t in ts)
            if g in pins:
                m.add(self.x[g, pins[g]] == 1)
            for t in ts:
                m.add_hint(self.x[g, t], int(ghint[g] == t))
        for j in range(len(lo)):
            col = gw[:, j].tolist()
            for t in ts:
                m.add_linear_constraint(sum(c * self.x[g, t] for g, c in enumerate(col)), int(lo[j]), int(hi[j]))
        edges = sorted({(min(g_of[u], g_of[v]), max(g_of[u], g_of[v])) for u in units for v in plan.adj[u]
                        if self.inside[v] and g_of[u] != g_of[v]})
        self._flow(ng, edges, ts, ghint, symmetric=not pins, anchors=anchors)

    def _anchors(self, g_of: dict[int, int], ghint: list[int], pos: dict[int, int]) -> dict[int, int]:
        """Per territory (model index) the group of its unit farthest, in edges, from its boundary."""
        plan, lab = self.plan, self.plan.lab
        out = {}
        for t in self.region:
            mem = plan.members(t).tolist()
            depth = {u: 0 for u in mem if any(lab[v] != t for v in plan.adj[u])}
            queue = list(depth)
            for x in queue:
                for y in plan.adj[x]:
                    if lab[y] == t and y not in depth:
                        depth[y] = depth[x] + 1
                        queue.append(y)
            deepest = max(mem, key=lambda u: (depth.get(u, 0), -u))
            out[pos[t]] = g_of[deepest]
        return out

    def _flow(self, ng: int, edges: list[tuple[int, int]], ts: range, hint: list[int], symmetric: bool,
              anchors: dict[int, int] | None = None) -> None:
        """One root per territory (the anchor's group when given); flow only along edges inside a
        territory; every group but a root takes in one unit more than it sends on: each territory is
        connected."""
        m = self.m
        root = {(g, t): m.new_bool_var("") for g in range(ng) for t in ts}
        for t in ts:
            m.add_exactly_one(root[g, t] for g in range(ng))
            for g in range(ng):
                m.add_implication(root[g, t], self.x[g, t])
        smallest = {t: next((g for g in range(ng) if hint[g] == t), 0) for t in ts}
        if anchors is not None:
            for t, g in anchors.items():
                m.add(root[g, t] == 1)
            smallest = dict(anchors)
        for (g, t), r in root.items():
            m.add_hint(r, int(smallest[t] == g))
        if symmetric and anchors is None:
            rootpos = [m.new_int_var(0, ng - 1, "") for _ in ts]
            for t in ts:
                m.add(rootpos[t] == sum(g * root[g, t] for g in range(ng)))
                m.add_hint(rootpos[t], smallest[t])
                for g in range(ng):
                    m.add(rootpos[t] <= g).only_enforce_if(self.x[g, t])
            for t in ts[1:]:
                m.add(rootpos[t - 1] < rootpos[t])
        nb: list[list[int]] = [[] for _ in range(ng)]
        for a, b in edges:
            nb[a].append(b)
            nb[b].append(a)
        flow_hint = self._flow_hint(nb, hint, smallest)
        inflow: list[list] = [[] for _ in range(ng)]
        outflow: list[list] = [[] for _ in range(ng)]
        for a, b in edges:
            same = m.new_bool_var("")
            m.add_hint(same, int(hint[a] == hint[b]))
            for t in ts:
                m.add(self.x[a, t] == self.x[b, t]).only_enforce_if(same)
            for s, e in ((a, b), (b, a)):
                f = m.new_int_var(0, ng - 1, "")
                m.add(f == 0).only_enforce_if(same.negated())
                m.add_hint(f, flow_hint.get((s, e), 0))
                outflow[s].append(f)
                inflow[e].append(f)
        for g in range(ng):
            m.add(sum(inflow[g]) - sum(outflow[g]) >= 1 - ng * sum(root[g, t] for t in ts))

    @staticmethod
    def _flow_hint(nb: list[list[int]], hint: list[int], roots: dict[int, int]) -> dict[tuple[int, int], int]:
        """The flow of the hinted plan: along a breadth-first tree of each territory from its root, an
        arc carries the size of the subtree below it (a complete hint when the hinted plan is connected)."""
        flow: dict[tuple[int, int], int] = {}
        for t, r in roots.items():
            order, parent = [r], {r: -1}
            for a in order:
                for b in nb[a]:
                    if b not in parent and hint[b] == t:
                        parent[b] = a
                        order.append(b)
            size = dict.fromkeys(order, 1)
            for b in reversed(order[1:]):
                size[parent[b]] += size[b]
                flow[parent[b], b] = size[b]
        return flow

    def solve(self, seconds: float, seed: int = 0, workers: int = 1, log: bool = False) -> Outcome:
        """Labels of ``self.units`` within the bounds and connected, or None (status INFEASIBLE when
        proved, UNKNOWN when ``seconds`` ran out)."""
        if self.proved_infeasible:
            return Outcome(None, "INFEASIBLE", 0.0, self.fixed)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(seconds, 0.05)
        solver.parameters.num_workers = workers
        solver.parameters.random_seed = seed
        solver.parameters.log_search_progress = log
        status = solver.solve(self.m)
        name = solver.status_name(status)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return Outcome(None, name, solver.wall_time, self.fixed)
        ts = range(len(self.region))
        glab = [self.order[next(t for t in ts if solver.boolean_value(self.x[g, t]))] for g in range(len(self.groups))]
        lab = {u: glab[g] for g, grp in enumerate(self.groups) for u in grp}
        new = np.array([lab[u] for u in self.units.tolist()], np.int64)
        return Outcome(new, name, solver.wall_time, self.fixed)


def connected_labels(adj: list[list[int]], lab: np.ndarray, units: np.ndarray) -> bool:
    """Every territory among ``lab[units]`` is connected (checked by a plain search)."""
    lab_list = lab.tolist()
    for t in np.unique(lab[units]).tolist():
        mem = np.flatnonzero(lab == t).tolist()
        seen = {mem[0]}
        stack = [mem[0]]
        while stack:
            x = stack.pop()
            for y in adj[x]:
                if y not in seen and lab_list[y] == t:
                    seen.add(y)
                    stack.append(y)
        if len(seen) != len(mem):
            return False
    return True


def repair(plan: Plan, region: list[int] | None, seconds: float, seed: int = 0) -> bool:
    """Reassign the units of ``region`` (all territories by default) so that they are within the bounds
    and connected; True (``plan`` changed in place) when CP-SAT found such a plan within ``seconds`` and
    the whole plan is then balanced on the float loads, else the plan is left as it was."""
    model = FeasibilityModel(plan, region)
    out = model.solve(seconds, seed)
    if out.labels is None:
        return False
    old = plan.lab[model.units].copy()
    before = plan.violation()
    plan.relabel(model.units, out.labels)
    if plan.violation() < before - 1e-12 and connected_labels(plan.adj, plan.lab, model.units):
        return True
    plan.relabel(model.units, old)
    return False


@dataclass
class Presolve:
    """What the bounds and the cut structure imply for a balanced contiguous plan of ``k`` territories:
    ``districts`` found to be whole territories in every such plan, the ``components`` left (units, the
    numbers of territories each can hold) and, when no plan exists, ``infeasible`` says why."""

    districts: list[list[int]]
    components: list[tuple[list[int], list[int]]]
    infeasible: str | None
    rounds: int


def _components(adj: list[list[int]], units: list[int], inside: np.ndarray) -> list[list[int]]:
    seen: set[int] = set()
    out = []
    for s in units:
        if s in seen:
            continue
        seen.add(s)
        comp, stack = [s], [s]
        while stack:
            x = stack.pop()
            for y in adj[x]:
                if inside[y] and y not in seen:
                    seen.add(y)
                    comp.append(y)
                    stack.append(y)
        out.append(comp)
    return out


def _counts(s: np.ndarray, lo: np.ndarray, hi: np.ndarray, k: int) -> list[int]:
    """The numbers j of territories a connected set of total ``s`` can be cut into: j x lo <= s <= j x hi
    on every measure."""
    return [j for j in range(1, k + 1) if (j * lo <= s).all() and (s <= j * hi).all()]


def presolve(plan: Plan, max_rounds: int = 50, name: Callable[[int], str] = str) -> Presolve:
    """Propagate to a fixed point, on the units not yet in a forced territory:

    - each connected piece left must hold a whole number j of territories: j x lo <= total <= j x hi on
      every measure, and the pieces' numbers must add up to the territories left;
    - tie groups (:func:`tie_groups`) on each piece; a group above an upper bound: no plan;
    - a piece that can hold exactly one territory is one; so is a group within the bounds to which no
      neighbouring group can be added without exceeding an upper bound (each neighbour brings its whole
      group); forced territories are removed and the rest is examined again (new cut units appear).

    Every step follows from the bounds and contiguity alone, so ``infeasible`` is a proof (for the
    plan's bounds and k), and ``districts`` hold in every balanced contiguous plan. ``name(unit)``: how a
    message names a unit (its index by default)."""
    n = len(plan.lab)
    units = list(range(n))
    w, lo, hi = integer_measures(plan, units)
    inside = np.ones(n, bool)
    left = plan.k
    districts: list[list[int]] = []
    comps: list[tuple[list[int], list[int]]] = []
    for rounds in range(1, max_rounds + 1):
        rest = np.flatnonzero(inside).tolist()
        comps = []
        for comp in _components(plan.adj, rest, inside):
            js = _counts(w[comp].sum(0), lo, hi, left)
            if not js:
                return Presolve(districts, comps, f"a connected piece of {len(comp)} units "
                                f"left after {len(districts)} forced territories holds no whole number of "
                                "territories within the bounds", rounds)
            comps.append((comp, js))
        reachable = {0}
        for _, js in comps:
            reachable = {r + j for r in reachable for j in js if r + j <= left}
        if left not in reachable:
            return Presolve(districts, comps, f"the {len(comps)} connected pieces left after {len(districts)} "
                            f"forced territories cannot hold exactly {left} territories", rounds)
        forced: list[list[int]] = []
        for comp, js in comps:
            found = [comp] if js == [1] else _forced_groups(plan, comp, inside, w, lo, hi, name)
            if isinstance(found, str):
                return Presolve(districts, comps, found, rounds)
            forced += found
        if not forced:
            break
        for grp in forced:
            districts.append(grp)
            inside[grp] = False
        left -= len(forced)
        if left < 0:
            return Presolve(districts, [], f"more than {plan.k} territories are forced", rounds)
    return Presolve(districts, comps, None, rounds)


def _forced_groups(plan: Plan, comp: list[int], inside: np.ndarray, w: np.ndarray, lo: np.ndarray,
                   hi: np.ndarray, name: Callable[[int], str] = str) -> list[list[int]] | str:
    """The tie groups of a piece that are whole territories (within the bounds, and no neighbouring group
    can join without exceeding an upper bound), or why there is no plan (a group above an upper bound)."""
    groups = tie_groups(plan.adj, comp, inside, w[comp], lo)
    g_of = {u: gi for gi, grp in enumerate(groups) for u in grp}
    sums = [w[grp].sum(0) for grp in groups]
    forced = []
    for gi, grp in enumerate(groups):
        if (sums[gi] > hi).any():
            return f"{len(grp)} units that must share one territory ({_some(grp, name)}) exceed an upper bound"
        if (sums[gi] < lo).any():
            continue
        nbrs = {g_of[v] for u in grp for v in plan.adj[u] if inside[v] and g_of[v] != gi}
        if all((sums[gi] + sums[h] > hi).any() for h in nbrs):
            forced.append(grp)
    return forced


def _some(units: list[int], name: Callable[[int], str], shown: int = 3) -> str:
    """A few of ``units`` by name, "units A, B, C and 48 more"."""
    names = [name(u) for u in sorted(units)[:shown]]
    more = f" and {len(units) - shown} more" if len(units) > shown else ""
    return f"unit{'s' if len(units) > 1 else ''} {', '.join(names)}{more}"


def _unit_flow(m: cp_model.CpModel, adj: list[list[int]], units: list[int], x: dict, root: dict,
               ts: range, extra: tuple[tuple[int, int], ...] = ()) -> None:
    """Connectivity of every territory by one flow over ``units`` (on the edges among them and the
    ``extra`` edges): an edge carries flow only inside a territory; every unit but a root takes in one
    unit more than it sends on."""
    n = len(units)
    index = {u: i for i, u in enumerate(units)}
    pairs = {(min(a, b), max(a, b)) for a in units for b in adj[a] if b in index}
    pairs |= {(min(a, b), max(a, b)) for a, b in extra}
    inflow: list[list] = [[] for _ in range(n)]
    outflow: list[list] = [[] for _ in range(n)]
    for a, b in sorted(pairs):
        ia, ib = index[a], index[b]
        same = m.new_bool_var("")
        for t in ts:
            m.add(x[ia, t] == x[ib, t]).only_enforce_if(same)
        for s, e in ((ia, ib), (ib, ia)):
            f = m.new_int_var(0, n - 1, "")
            m.add(f == 0).only_enforce_if(same.negated())
            outflow[s].append(f)
            inflow[e].append(f)
    for i in range(n):
        m.add(sum(inflow[i]) - sum(outflow[i]) >= 1 - n * sum(root[i, t] for t in ts))


def piece_feasible(adj: list[list[int]], piece: list[int], boundary: list[int], w: np.ndarray, lo: np.ndarray,
                   hi: np.ndarray, seconds: float, seed: int = 0, ties: list[list[int]] | None = None,
                   apart: list[tuple[int, int]] | None = None) -> str:
    """Can the piece C that removing the ``boundary`` units (one or two) cuts off be covered by whole
    territories plus the parts of the boundary units' territories that enter it (``piece`` = C, w: the
    integer weights of C and then of the boundary)? In any balanced contiguous plan a territory meeting C
    and holding no boundary unit lies inside C (j x lo <= its loads <= hi); the rest of C lies in the
    territories of the boundary units (each part at most hi with its units). Contiguity: a part of the
    territory of u, one boundary unit, is connected within C + u; when both boundary units share a
    territory, its part is connected within C + both with an edge between them (the way round through
    the rest of the graph). ``ties``: groups of units that share a territory in every plan (those inside
    the model are kept together). ``apart``: pairs of units that may not share a territory (e.g. farther
    apart than a bound on the diameter: INFEASIBLE then proves that no plan meets that bound).
    CP-SAT status: INFEASIBLE proves that no plan exists; FEASIBLE/OPTIMAL or UNKNOWN prove nothing."""
    units = [*piece, *boundary]
    n, b = len(units), len(boundary)
    jmax = int(np.min(w[:-b].sum(0) // np.maximum(lo, 1)))
    m = cp_model.CpModel()
    ts = range(jmax + b)  # 0..b-1: the boundary units' territories; then whole territories, used or empty
    x = {(i, t): m.new_bool_var("") for i in range(n) for t in ts}
    used = [m.new_bool_var("") for _ in ts]
    root = {(i, t): m.new_bool_var("") for i in range(n) for t in ts}
    m.add(used[0] == 1)
    m.add(x[n - b, 0] == 1)
    m.add(root[n - b, 0] == 1)
    if b == 2:  # the second boundary unit: in the first one's territory, or the root of its own
        m.add(x[n - 1, 0] + x[n - 1, 1] == 1)
        m.add(used[1] == x[n - 1, 1])
        m.add(root[n - 1, 1] == x[n - 1, 1])
    for i in range(n):
        m.add_exactly_one(x[i, t] for t in ts)
        for t in ts:
            m.add_implication(x[i, t], used[t])
    index = {u: i for i, u in enumerate(units)}
    for grp in ties or []:
        inner = [index[u] for u in grp if u in index]
        for i in inner[1:]:
            for t in ts:
                m.add(x[i, t] == x[inner[0], t])
    for u, v in apart or []:
        if u in index and v in index:
            for t in ts:
                m.add_bool_or([x[index[u], t].negated(), x[index[v], t].negated()])
    for j in range(w.shape[1]):
        for t in ts:
            load = sum(int(w[i, j]) * x[i, t] for i in range(n))
            m.add(load <= int(hi[j]))
            if t >= b:
                m.add(load >= int(lo[j])).only_enforce_if(used[t])
    _roots(m, x, used, root, n, ts, b)
    _unit_flow(m, adj, units, x, root, ts, ((boundary[0], boundary[-1]),) if b == 2 else ())
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    return solver.status_name(solver.solve(m))


def _roots(m: cp_model.CpModel, x: dict, used: list, root: dict, n: int, ts: range, b: int) -> None:
    """One root per used territory, in it; the whole territories (after the first ``b``) are used in
    order and, to break their symmetry, each one's root is its smallest member (n when empty), the used
    roots increasing."""
    for t in ts:
        m.add(sum(root[i, t] for i in range(n)) == used[t])
        for i in range(n):
            m.add_implication(root[i, t], x[i, t])
    for t in ts[b + 1:]:
        m.add_implication(used[t], used[t - 1])
    pos = [m.new_int_var(0, n, "") for _ in ts]
    for t in ts[b:]:
        m.add(pos[t] == sum(i * root[i, t] for i in range(n)) + n * used[t].negated())
        for i in range(n):
            m.add(pos[t] <= i).only_enforce_if(x[i, t])
        if t > b:
            m.add(pos[t - 1] < pos[t]).only_enforce_if(used[t])


def _two_cut_pieces(adj: list[list[int]], n: int, max_units: int, deadline: float,
                    halt: Halt = _never) -> list[tuple[list[int], list[int]]]:
    """(piece, [u, v]) for the connected pieces of at most ``max_units`` units that removing two units
    u and v cuts off and that touch both (a piece touching one is cut off by that unit alone), each
    piece once, while ``deadline`` allows and until ``halt()``: the cut units of the graph without u,
    for every u."""
    seen: set[frozenset[int]] = set()
    out = []
    units = list(range(n))
    for u in units:
        if time.perf_counter() > deadline or halt():
            break
        inside = np.ones(n, bool)
        inside[u] = False
        cuts = _cuts(adj, [x for x in units if x != u], inside)
        for v in cuts.split:
            for ranges in cuts.pieces(v):
                if sum(b - a for a, b in ranges) > max_units:
                    continue
                piece = cuts.units(ranges)
                key = frozenset(piece)
                if key not in seen and any(u in adj[c] for c in piece):
                    seen.add(key)
                    out.append((piece, [u, v]))
    return out


def infeasible_piece(plan: Plan, deadline: float, piece_seconds: float = 0.5, max_units: int = 200,
                     dist: np.ndarray | None = None, bound: float = np.inf,
                     halt: Halt = _never) -> tuple[list[int], list[int]] | None:
    """(piece, boundary units) of the first piece, cut off by one unit and then by two units (at most
    ``max_units`` units, smallest first, while ``deadline``, perf_counter seconds, allows), that
    :func:`piece_feasible` proves cannot be covered, or None. With ``dist`` (all-pairs shortest paths)
    and a ``bound``, the units of a piece farther apart than it may not share a territory, so a piece
    proves that no balanced plan has every territory's diameter <= bound; pieces without such a pair
    are skipped. ``halt()`` (a Stop or Finish of the planner) ends it with None between two pieces, so it
    answers within ``piece_seconds``."""
    n = len(plan.lab)
    units = list(range(n))
    w, lo, hi = integer_measures(plan, units)
    if deadline - time.perf_counter() <= 0.05:
        return None
    ties = [grp for grp in tie_groups(plan.adj, units, np.ones(n, bool), w, lo) if len(grp) > 1]
    one = [(piece, [v]) for v, piece in _cut_pieces(plan.adj, units, np.ones(n, bool), max_units)]
    for cut in (1, 2):
        pieces = one if cut == 1 else _two_cut_pieces(plan.adj, n, max_units, deadline, halt)
        for piece, boundary in sorted(pieces, key=lambda c: len(c[0])):
            left = deadline - time.perf_counter()
            if left <= 0.05 or halt():
                return None
            if (w[piece].sum(0) < lo).any():
                continue  # no whole territory fits: a tie (one unit) or rarely a proof (two)
            apart = None if dist is None else _apart(dist, [*piece, *boundary], bound)
            if apart == []:
                continue
            if piece_feasible(plan.adj, piece, boundary, np.vstack([w[piece], w[boundary]]), lo, hi,
                              min(piece_seconds, left), ties=ties, apart=apart) == "INFEASIBLE":
                return piece, boundary
    return None


def _apart(dist: np.ndarray, units: list[int], bound: float) -> list[tuple[int, int]]:
    """The pairs of ``units`` farther apart than ``bound``."""
    u = np.asarray(units)
    i, j = np.nonzero(np.triu(dist[np.ix_(u, u)] > bound, 1))
    return list(zip(u[i].tolist(), u[j].tolist(), strict=True))


def diameter_bound_proof(plan: Plan, dist: np.ndarray, bound: float, deadline: float, piece_seconds: float = 2.0,
                         max_units: int = 300, name: Callable[[int], str] = str,
                         halt: Halt = _never) -> str | None:
    """Why no balanced contiguous plan has every territory's diameter (on ``dist``) at most ``bound``,
    so that the smallest largest diameter is above it, or None when no piece shows it in time (or
    before ``halt()``, see :func:`infeasible_piece`)."""
    found = infeasible_piece(plan, deadline, piece_seconds, max_units, dist, bound, halt)
    if found is None:
        return None
    return f"{_piece_words(*found, name)} with no two units farther apart than {bound:g} in one territory"


def _piece_words(piece: list[int], boundary: list[int], name: Callable[[int], str]) -> str:
    """Why a piece of :func:`infeasible_piece` holds no plan, in words naming its boundary units."""
    if len(boundary) == 1:
        return (f"the {len(piece)} units cut off by one unit ({name(boundary[0])}) cannot be split into whole "
                "territories plus the part of that unit's territory within the bounds")
    return (f"the {len(piece)} units cut off by two units ({name(boundary[0])} and {name(boundary[1])}) cannot "
            "be split into whole territories plus the parts of the two units' territories within the bounds")


def infeasibility_proof(plan: Plan, deadline: float, piece_seconds: float = 0.5, max_units: int = 200,
                        name: Callable[[int], str] = str, halt: Halt = _never) -> str | None:
    """Why no plan of ``plan``'s k territories is within the bounds with every territory connected, or
    None when neither :func:`presolve` nor :func:`infeasible_piece` shows it (in time, or before
    ``halt()``); ``name(unit)`` names the units the message points at. Pinned and locked units are
    ignored: a plan that does not exist without them does not exist with them."""
    pre = presolve(plan, name=name)
    if pre.infeasible:
        return pre.infeasible
    found = infeasible_piece(plan, deadline, piece_seconds, max_units, halt=halt)
    return None if found is None else _piece_words(*found, name)
