"""What the anytime search (:mod:`.anytime`) minimises once a plan is balanced, on the edge lengths.

- ``compact``: the number of cut edges (neighbouring units in different territories): short borders,
  the measure of the minimum-cut-edge districting literature.
- ``diameter``: the largest territory diameter, the longest shortest path (over the whole unit graph,
  on the edge lengths) between two units of one territory; searched on a soft maximum
  ``(sum d_t^16)^(1/16)`` so that shrinking any near-largest territory counts, reported as the maximum.
- ``total-diameter``: the sum of the territory diameters (the same diameters; every territory counts,
  not only the largest).
- ``travel``: the total workload-weighted shortest-path length from each territory's home unit (the
  rep's home, else the unit nearest the territory's centre) to its units.

Each objective keeps its per-territory values and answers, without changing the plan, what the whole
plan's *energy* would be after a recombination of two territories or after moving one unit.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from ...models.errors import InvalidInputError

#: the most units the exact diameter objective takes (it keeps all n x n shortest-path lengths)
MAX_DIAMETER_UNITS = 4000
SOFT_MAX_POWER = 16.0


class Objective(StrEnum):
    """The planner's choice of what a balanced plan should minimise."""

    COMPACT = "compact"
    DIAMETER = "diameter"
    TRAVEL = "travel"
    TOTAL_DIAMETER = "total-diameter"

    @property
    def on_diameters(self) -> bool:
        """Whether the objective is made of territory diameters (it needs all-pairs shortest paths)."""
        return self in (Objective.DIAMETER, Objective.TOTAL_DIAMETER)


def edge_length_matrix(adjacency: sp.spmatrix, xy: np.ndarray | None,
                       lengths: sp.spmatrix | None) -> sp.csr_matrix:
    """(n, n) symmetric lengths on the adjacency's edges: ``lengths`` where given (a missing edge
    falls back), else the straight distance between unit centres, else 1 per edge."""
    a = sp.triu(sp.csr_matrix(adjacency), k=1).tocoo()
    base = np.hypot(*(xy[a.row] - xy[a.col]).T) if xy is not None else np.ones(len(a.row))
    if lengths is not None:
        given = np.asarray(sp.csr_matrix(lengths)[a.row, a.col]).ravel()
        given_t = np.asarray(sp.csr_matrix(lengths)[a.col, a.row]).ravel()
        given = np.where(given > 0, given, given_t)
        base = np.where(given > 0, given, base)
    base = np.maximum(base, 1e-9)  # a zero length would vanish from the sparse matrix
    n = adjacency.shape[0]
    m = sp.coo_matrix((base, (a.row, a.col)), shape=(n, n))
    return (m + m.T).tocsr()


class CutEdges:
    """Energy = number of cut edges."""

    symmetric = True  # a split's energy does not depend on which half keeps which territory

    def __init__(self, lab: np.ndarray, er: np.ndarray, ec: np.ndarray) -> None:
        self.energy = float((lab[er] != lab[ec]).sum())

    def value(self) -> float:
        return self.energy

    def temperature(self) -> float:
        """Starting annealing temperature: one more cut edge is accepted with probability e^-2."""
        return 0.5

    def split(self, ctx, side: np.ndarray, to_a: bool) -> tuple[float, object]:
        cut = int((side[ctx.sr] != side[ctx.sc]).sum())
        return self.energy - ctx.old_cut + cut, None

    def apply_split(self, ctx, side: np.ndarray, to_a: bool, payload: object, energy: float) -> None:
        self.energy = energy

    def move(self, plan, u: int, a: int, c: int) -> tuple[float, object]:
        na = nc = 0
        for v in plan.adj[u]:
            t = plan.labl[v]
            na += t == a
            nc += t == c
        return self.energy + na - nc, None

    def apply_move(self, plan, u: int, a: int, c: int, payload: object, energy: float) -> None:
        self.energy = energy

    def movers(self, plan, t: int) -> list[int]:
        return plan.boundary(t)


class Diameter:
    """Per-territory diameters on all-pairs shortest paths; energy = soft maximum of them.

    Keeps ``M[v, t]``, the farthest member of territory t from unit v, so that a one-unit move is
    judged in O(1) unless the unit leaving is an end of its territory's diameter (only then does the
    donor's diameter need its members' pairs again)."""

    symmetric = True
    minmax = True  # the largest diameter: the focused moves of :mod:`.diameter` and the bounded search apply

    def __init__(self, lab: np.ndarray, k: int, dist: np.ndarray) -> None:
        self.D = dist
        self.M = np.zeros((dist.shape[0], k), np.float32)
        for t in range(k):
            self._column(t, np.flatnonzero(lab == t))
        self.d = np.array([float(self.M[lab == t, t].max()) if (lab == t).any() else 0.0 for t in range(k)])
        self.energy = self._soft(self.d)

    def _column(self, t: int, members: np.ndarray) -> None:
        self.M[:, t] = self.D[:, members].max(1) if len(members) else 0.0

    def _diam(self, members: np.ndarray) -> float:
        return float(self.D[np.ix_(members, members)].max()) if len(members) > 1 else 0.0

    @staticmethod
    def _soft(d: np.ndarray) -> float:
        top = float(d.max())
        if top <= 0:
            return 0.0
        return top * float(((d / top) ** SOFT_MAX_POWER).sum()) ** (1 / SOFT_MAX_POWER)

    def value(self) -> float:
        return float(self.d.max())

    def temperature(self) -> float:
        return 0.01 * self.value()

    def _with(self, pairs: dict[int, float]) -> float:
        d = self.d.copy()
        for t, v in pairs.items():
            d[t] = v
        return self._soft(d)

    def split(self, ctx, side: np.ndarray, to_a: bool) -> tuple[float, object]:
        sub = ctx.sub_of(self.D)
        ds = float(sub[np.ix_(side, side)].max()) if side.sum() > 1 else 0.0
        other = ~side
        dt = float(sub[np.ix_(other, other)].max()) if other.sum() > 1 else 0.0
        new = {ctx.a: ds, ctx.b: dt} if to_a else {ctx.a: dt, ctx.b: ds}
        return self._with(new), new

    def apply_split(self, ctx, side: np.ndarray, to_a: bool, payload: object, energy: float) -> None:
        first, second = (ctx.a, ctx.b) if to_a else (ctx.b, ctx.a)
        self._column(first, ctx.nodes[side])
        self._column(second, ctx.nodes[~side])
        for t, v in payload.items():  # type: ignore[attr-defined]
            self.d[t] = v
        self.energy = energy

    def without(self, plan, u: int, a: int) -> float:
        """Territory a's diameter once u leaves it (unchanged unless u is an end of it)."""
        if self.M[u, a] < self.d[a]:
            return float(self.d[a])
        mem = plan.members(a)
        return self._diam(mem[mem != u])

    def move(self, plan, u: int, a: int, c: int) -> tuple[float, object]:
        new = {a: self.without(plan, u, a), c: max(float(self.d[c]), float(self.M[u, c]))}
        return self._with(new), new

    def apply_move(self, plan, u: int, a: int, c: int, payload: object, energy: float) -> None:
        """After ``plan.move(u, a, c)``: both territories' columns of M and their diameters."""
        self.M[:, c] = np.maximum(self.M[:, c], self.D[:, u])
        self._column(a, plan.members(a))
        for t, v in payload.items():  # type: ignore[attr-defined]
            self.d[t] = v
        self.energy = energy

    def ends(self, plan, t: int) -> np.ndarray:
        """Members of t at an end of its diameter."""
        mem = plan.members(t)
        return mem[self.M[mem, t] >= self.d[t]] if len(mem) > 1 else mem[:0]

    def movers(self, plan, t: int) -> list[int]:
        """Boundary units at an end of t's diameter: moving any other unit cannot shrink it."""
        ends = set(self.ends(plan, t).tolist())
        return [u for u in plan.boundary(t) if u in ends]

    def save(self) -> tuple:
        return self.M.copy(), self.d.copy(), self.energy

    def restore(self, state: tuple) -> None:
        self.M, self.d, self.energy = state[0], state[1], state[2]


class TotalDiameter(Diameter):
    """Energy = value = the sum of the territory diameters (kept and judged as :class:`Diameter` does)."""

    minmax = False

    @staticmethod
    def _soft(d: np.ndarray) -> float:
        return float(d.sum())

    def value(self) -> float:
        return float(self.d.sum())

    def temperature(self) -> float:
        return 0.01 * self.value() / max(len(self.d), 1)


class Travel:
    """Energy = sum over units of weight x shortest-path length from its territory's home unit."""

    symmetric = False  # each half is measured from its own territory's home

    def __init__(self, lab: np.ndarray, lengths: sp.csr_matrix, homes: np.ndarray, w: np.ndarray) -> None:
        self.homes = np.asarray(homes, np.int64)
        self.Dh = dijkstra(lengths, directed=False, indices=self.homes)
        self.w = w
        self.energy = float((w * self.Dh[lab, np.arange(len(lab))]).sum())

    def value(self) -> float:
        return self.energy

    def temperature(self) -> float:
        return 0.01 * self.energy / len(self.homes)

    def split(self, ctx, side: np.ndarray, to_a: bool) -> tuple[float, object]:
        nodes, w = ctx.nodes, self.w[ctx.nodes]
        first, second = (ctx.a, ctx.b) if to_a else (ctx.b, ctx.a)
        new = np.where(side, self.Dh[first, nodes], self.Dh[second, nodes])
        return self.energy - ctx.old_travel(self) + float((w * new).sum()), None

    def apply_split(self, ctx, side: np.ndarray, to_a: bool, payload: object, energy: float) -> None:
        self.energy = energy

    def move(self, plan, u: int, a: int, c: int) -> tuple[float, object]:
        return self.energy + self.w[u] * (self.Dh[c, u] - self.Dh[a, u]), None

    def apply_move(self, plan, u: int, a: int, c: int, payload: object, energy: float) -> None:
        self.energy = energy

    def movers(self, plan, t: int) -> list[int]:
        return plan.boundary(t)


def all_pairs(lengths: sp.csr_matrix) -> np.ndarray:
    """(n, n) shortest-path lengths (float32), for the diameter objective; refused on large layers."""
    n = lengths.shape[0]
    if n > MAX_DIAMETER_UNITS:
        raise InvalidInputError("objective", [f"the diameter objective takes at most {MAX_DIAMETER_UNITS:,} "
                                              f"units (it keeps every pair's distance); this layer has {n:,}: "
                                              "use --objective compact or travel"])
    return dijkstra(lengths, directed=False).astype(np.float32)
