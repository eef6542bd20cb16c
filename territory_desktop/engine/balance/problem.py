"""The balancing problem as arrays, its validation and the infeasibility checks that name the cause.

Shapes: ``n`` units, ``m`` measures, ``k`` territories. Coordinates are projected metres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ...models.errors import InfeasibleError, InvalidInputError


@dataclass
class BalanceProblem:
    """Everything the balancer needs.

    adjacency: (n, n) symmetric CSR, nonzero = neighbours (connected graph expected).
    weights: (n, m) non-negative measures per unit (workload, accounts, potential, ...).
    measure_names: m names used in messages and scores.
    tolerance: (m,) allowed relative deviation from the mean per measure, e.g. 0.02 = +/-2%.
    xy: (n, 2) unit centres in metres (projected CRS).
    k: number of territories.
    unit_names: n ids for messages.
    locked: (n,) bool; a locked unit keeps the territory given in ``current``.
    current: (n,) int territory index per unit (-1 = orphan) for rebalancing, orphans and locks.
    homes: (k, 2) fixed home points in metres (rep homes), or None to use territory centres.
    max_distance: metres a unit may lie from its territory's home (None = no limit).
    """

    adjacency: sp.csr_matrix
    weights: np.ndarray
    measure_names: list[str]
    tolerance: np.ndarray
    xy: np.ndarray
    k: int
    unit_names: list[str] = field(default_factory=list)
    locked: np.ndarray | None = None
    current: np.ndarray | None = None
    homes: np.ndarray | None = None
    max_distance: float | None = None

    def __post_init__(self) -> None:
        self.weights = np.asarray(self.weights, dtype=float)
        if self.weights.ndim == 1:
            self.weights = self.weights[:, None]
        self.tolerance = np.broadcast_to(np.asarray(self.tolerance, dtype=float),
                                         (self.weights.shape[1],)).copy()
        self.xy = np.asarray(self.xy, dtype=float)
        self.adjacency = sp.csr_matrix(self.adjacency)
        n = self.n
        if not self.unit_names:
            self.unit_names = [str(i) for i in range(n)]
        self.locked = np.zeros(n, bool) if self.locked is None else np.asarray(self.locked, bool)
        if self.current is not None:
            self.current = np.asarray(self.current, dtype=np.int64)

    @property
    def n(self) -> int:
        return self.weights.shape[0]

    @property
    def m(self) -> int:
        return self.weights.shape[1]

    @property
    def targets(self) -> np.ndarray:
        """(m,) mean load per territory of each measure."""
        return self.weights.sum(axis=0) / self.k


def validate(p: BalanceProblem) -> None:
    """Raise InvalidInputError listing every structural problem (shapes, values, graph)."""
    problems: list[str] = []
    n, m = p.n, p.m
    if n == 0:
        problems.append("there are no units to balance")
    if p.k < 1:
        problems.append(f"k must be at least 1 (got {p.k})")
    elif p.k > n:
        problems.append(f"k = {p.k} territories but only {n} units")
    if p.adjacency.shape != (n, n):
        problems.append(f"adjacency is {p.adjacency.shape}, expected ({n}, {n})")
    if p.xy.shape != (n, 2):
        problems.append(f"coordinates are {p.xy.shape}, expected ({n}, 2)")
    if len(p.measure_names) != m:
        problems.append(f"{len(p.measure_names)} measure names for {m} measures")
    for j in range(m):
        col = p.weights[:, j]
        name = p.measure_names[j] if j < len(p.measure_names) else str(j)
        bad = np.flatnonzero(~np.isfinite(col) | (col < 0))
        if len(bad):
            problems.append(f"measure '{name}': {len(bad)} units with a missing or negative value, e.g. "
                            f"unit {p.unit_names[bad[0]]} = {col[bad[0]]}")
        elif n and col.sum() <= 0:
            problems.append(f"measure '{name}' sums to 0; nothing to balance")
        if not (0 <= p.tolerance[j] < 1):
            problems.append(f"tolerance of '{name}' must be in [0, 1), got {p.tolerance[j]}")
    if p.current is not None:
        if p.current.shape != (n,):
            problems.append(f"current plan has {p.current.shape} entries, expected {n}")
        elif n and (p.current.max() >= p.k or p.current.min() < -1):
            problems.append(f"current plan uses territory indices outside 0..{p.k - 1}")
    if p.locked.any() and p.current is None:
        problems.append("locked units need a current plan giving their territory")
    if p.homes is not None and np.asarray(p.homes).shape != (p.k, 2):
        problems.append(f"homes are {np.asarray(p.homes).shape}, expected ({p.k}, 2)")
    if n and p.adjacency.shape == (n, n):
        count, _ = connected_components(p.adjacency, directed=False)
        if count > 1:
            problems.append(f"the unit graph has {count} separate pieces; build it with build_adjacency "
                            "so islands are bridged")
    if problems:
        raise InvalidInputError("balance", problems)


def check_feasible(p: BalanceProblem) -> None:
    """Raise InfeasibleError when the request provably cannot be met; the message names the cause."""
    targets = p.targets
    for j, name in enumerate(p.measure_names):
        t, tol = targets[j], p.tolerance[j]
        hi, lo = t * (1 + tol), t * (1 - tol)
        col = p.weights[:, j]
        heavy = int(np.argmax(col))
        if col[heavy] > hi + 1e-9 * max(t, 1):
            raise InfeasibleError(
                f"unit {p.unit_names[heavy]} has {name} {col[heavy]:.6g}, more than a whole territory may "
                f"hold: target {t:.6g} +{tol:.1%} = {hi:.6g}; use fewer territories, a wider tolerance "
                f"or split the unit")
        step = _quantum(col)
        if step > 0 and math.floor(hi / step + 1e-9) * step < lo - 1e-9:
            raise InfeasibleError(
                f"tolerance +/-{tol:.1%} on {name} is tighter than the units allow: values come in steps of "
                f"{step:.6g} and no sum of them lies in [{lo:.6g}, {hi:.6g}] (target {t:.6g})")
        positive = int((col > 0).sum())
        if lo > 0 and positive < p.k:
            raise InfeasibleError(
                f"only {positive} units have {name} > 0 but {p.k} territories each need at least {lo:.6g}")
    if p.current is not None and p.locked.any():
        _check_locks(p, targets)
    if p.max_distance is not None and p.homes is not None:
        homes = np.asarray(p.homes, float)
        d = np.sqrt(((p.xy[:, None, :] - homes[None, :, :]) ** 2).sum(-1)).min(axis=1)
        far = int(np.argmax(d))
        if d[far] > p.max_distance:
            raise InfeasibleError(
                f"unit {p.unit_names[far]} is {d[far] / 1000:.1f} km from the nearest home, beyond the "
                f"maximum distance of {p.max_distance / 1000:.1f} km")


def _check_locks(p: BalanceProblem, targets: np.ndarray) -> None:
    cur = p.current
    locked_idx = np.flatnonzero(p.locked)
    if (cur[locked_idx] < 0).any():
        u = locked_idx[cur[locked_idx] < 0][0]
        raise InfeasibleError(f"unit {p.unit_names[u]} is locked but has no territory")
    for j, name in enumerate(p.measure_names):
        hi = targets[j] * (1 + p.tolerance[j])
        sums = np.bincount(cur[locked_idx], weights=p.weights[locked_idx, j], minlength=p.k)
        t = int(np.argmax(sums))
        if sums[t] > hi + 1e-9 * max(targets[j], 1):
            raise InfeasibleError(
                f"locked units of territory {t} already hold {name} {sums[t]:.6g}, more than the target "
                f"{targets[j]:.6g} +{p.tolerance[j]:.1%} = {hi:.6g}; unlock some of them")
    # locked units of one territory must be joinable through units not locked elsewhere
    adj = p.adjacency
    for t in np.unique(cur[locked_idx]):
        mine = locked_idx[cur[locked_idx] == t]
        if len(mine) < 2:
            continue
        allowed = ~p.locked | (cur == t)
        idx = np.flatnonzero(allowed)
        sub = adj[idx][:, idx]
        _, comp = connected_components(sub, directed=False)
        pos = np.searchsorted(idx, mine)
        if len(np.unique(comp[pos])) > 1:
            a, b = mine[0], mine[np.flatnonzero(comp[pos] != comp[pos[0]])[0]]
            raise InfeasibleError(
                f"locked units {p.unit_names[a]} and {p.unit_names[b]} of territory {t} cannot be in one "
                f"contiguous territory: units locked to other territories separate them")


def _quantum(col: np.ndarray) -> float:
    """The common step of integer-valued measures (their gcd), or 0 when values are not integers."""
    vals = col[col > 0]
    if len(vals) == 0 or not np.allclose(vals, np.round(vals)) or vals.max() > 2**40:
        return 0.0
    return float(np.gcd.reduce(np.round(vals).astype(np.int64)))
