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
from .graph import graph_layout


@dataclass
class BalanceProblem:
    """Everything the balancer needs.

    adjacency: (n, n) symmetric CSR, nonzero = neighbours (connected graph expected).
    weights: (n, m) non-negative measures per unit (workload, accounts, potential, ...).
    measure_names: m names used in messages and scores.
    tolerance: (m,) allowed relative deviation from the mean per measure, e.g. 0.02 = +/-2%.
    xy: (n, 2) unit centres in metres (projected CRS), or None: then a spectral layout of the graph
    (:func:`.graph.graph_layout`, scaled by the edge lengths when given) stands in for them.
    k: number of territories.
    unit_names: n ids for messages.
    locked: (n,) bool; a locked unit keeps the territory given in ``current``.
    current: (n,) int territory index per unit (-1 = orphan) for rebalancing, orphans and locks.
    homes: (k, 2) fixed home points in metres (rep homes), or None to use territory centres.
    max_distance: metres a unit may lie from its territory's home (None = no limit).
    home_units: (k,) index of the unit each home lies in (-1 = none), kept in its territory; default
    the unit whose centre is nearest the home.
    territory_names: k names for messages, e.g. "Kansas City (T19)" (default "territory <index>").
    measure_units: m units for amounts in messages, e.g. "h/yr" (default the measure names).
    measure_labels: m display names for messages, e.g. "Workload" (default the measure names).
    edge_lengths: (n, n) sparse lengths (travel time or distance) on the adjacency's edges, for the
    diameter and travel objectives (None: the distance between unit centres).
    length_unit: of the lengths, for messages: "m" (shown in km), "s" (shown in minutes) or None (a
    lengths file's own units, shown as they are).
    """

    adjacency: sp.csr_matrix
    weights: np.ndarray
    measure_names: list[str]
    tolerance: np.ndarray
    # None is accepted (a spectral layout of the graph stands in): never None after __init__
    xy: np.ndarray
    k: int
    unit_names: list[str] = field(default_factory=list)
    # None (the default) means no unit is locked: __post_init__ always turns it into an (n,) bool mask
    locked: np.ndarray = None  # type: ignore[assignment]  # accepts None, is never None after __init__
    current: np.ndarray | None = None
    homes: np.ndarray | None = None
    max_distance: float | None = None
    home_units: np.ndarray | None = None
    territory_names: list[str] = field(default_factory=list)
    measure_units: list[str] = field(default_factory=list)
    measure_labels: list[str] = field(default_factory=list)
    edge_lengths: sp.spmatrix | None = None
    length_unit: str | None = None

    def __post_init__(self) -> None:
        self.weights = np.asarray(self.weights, dtype=float)
        if self.weights.ndim == 1:
            self.weights = self.weights[:, None]
        self.tolerance = np.broadcast_to(np.asarray(self.tolerance, dtype=float),
                                         (self.weights.shape[1],)).copy()
        self.adjacency = sp.csr_matrix(self.adjacency)
        if self.xy is None and self.adjacency.shape[0] == self.weights.shape[0]:
            self.xy = graph_layout(self.adjacency, self.edge_lengths)
        self.xy = np.asarray(self.xy, dtype=float)
        n = self.n
        if not self.unit_names:
            self.unit_names = [str(i) for i in range(n)]
        if not self.territory_names:
            self.territory_names = [f"territory {t}" for t in range(max(self.k, 0))]
        if not self.measure_units:
            self.measure_units = list(self.measure_names)
        if not self.measure_labels:
            self.measure_labels = list(self.measure_names)
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


    def amount(self, j: int, value: float) -> str:
        """``value`` of measure j for a message, rounded, with its unit: "2,646 h/yr"."""
        return f"{number(value)} {self.measure_units[j]}"


def number(value: float) -> str:
    """A number for a message: thousands separated, whole above 100, else 3 significant digits."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


def length_text(value: float, unit: str | None) -> str:
    """A length for a message: metres in km ("1,357 km"), seconds in minutes ("23.5 min"), else as it is."""
    if unit == "m":
        return f"{number(value / 1000)} km"
    if unit == "s":
        return f"{number(value / 60)} min"
    return number(value)


def pct(fraction: float, sign: bool = False) -> str:
    """A fraction as a percentage for a message: 0.535 -> "53.5 %" ("+53.5 %" with ``sign``)."""
    return f"{fraction * 100:{'+' if sign else ''}.1f} %"


def within_tolerance(p: BalanceProblem, labels: np.ndarray) -> bool:
    """True when every territory of ``labels`` is within the tolerance of every measure's target."""
    loads = np.stack([np.bincount(labels, weights=p.weights[:, j], minlength=p.k) for j in range(p.m)], 1)
    targets = p.targets
    ok = targets > 0
    dev = np.abs(loads[:, ok] / targets[ok] - 1)
    return bool((dev <= p.tolerance[ok] + 1e-12).all())


def _shape_problems(p: BalanceProblem) -> list[str]:
    n, m = p.n, p.m
    problems: list[str] = []
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
    if len(p.territory_names) != max(p.k, 0):
        problems.append(f"{len(p.territory_names)} territory names for k = {p.k}")
    if len(p.measure_units) != m or len(p.measure_labels) != m:
        problems.append(f"{len(p.measure_units)} measure units and {len(p.measure_labels)} labels for {m} "
                        "measures")
    return problems


def _measure_problems(p: BalanceProblem) -> list[str]:
    problems: list[str] = []
    for j in range(p.m):
        col = p.weights[:, j]
        name = p.measure_names[j] if j < len(p.measure_names) else str(j)
        bad = np.flatnonzero(~np.isfinite(col) | (col < 0))
        if len(bad):
            problems.append(f"measure '{name}': {len(bad)} units with a missing or negative value, e.g. "
                            f"unit {p.unit_names[bad[0]]} = {col[bad[0]]}")
        elif p.n and col.sum() <= 0:
            problems.append(f"measure '{name}' sums to 0; nothing to balance")
        if not (0 <= p.tolerance[j] < 1):
            problems.append(f"tolerance of '{name}' must be in [0, 1), got {p.tolerance[j]}")
    return problems


def _plan_problems(p: BalanceProblem) -> list[str]:
    """The current plan, locks and homes."""
    n = p.n
    problems: list[str] = []
    if p.current is not None:
        if p.current.shape != (n,):
            problems.append(f"current plan has {p.current.shape} entries, expected {n}")
        elif n and (p.current.max() >= p.k or p.current.min() < -1):
            problems.append(f"current plan uses territory indices outside 0..{p.k - 1}")
    if p.locked.any() and p.current is None:
        problems.append("locked units need a current plan giving their territory")
    if p.homes is not None and np.asarray(p.homes).shape != (p.k, 2):
        problems.append(f"homes are {np.asarray(p.homes).shape}, expected ({p.k}, 2)")
    if p.home_units is not None and (p.homes is None or np.shape(p.home_units) != (p.k,)
                                     or (np.asarray(p.home_units) >= n).any()):
        problems.append(f"home units must be {p.k} unit indices (or -1) next to the homes")
    return problems


def validate(p: BalanceProblem) -> None:
    """Raise InvalidInputError listing every structural problem (shapes, values, graph)."""
    problems = _shape_problems(p) + _measure_problems(p) + _plan_problems(p)
    n = p.n
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
    for j in range(p.m):
        t, tol = targets[j], p.tolerance[j]
        hi, lo = t * (1 + tol), t * (1 - tol)
        col = p.weights[:, j]
        heavy = int(np.argmax(col))
        if col[heavy] > hi + 1e-9 * max(t, 1):
            raise InfeasibleError(
                f"unit {p.unit_names[heavy]} has {p.amount(j, col[heavy])}, more than a whole territory may "
                f"hold: target {p.amount(j, t)} +{pct(tol)} = {p.amount(j, hi)}; use fewer territories, a "
                f"wider tolerance or split the unit")
        step = _quantum(col)
        if step > 0 and math.floor(hi / step + 1e-9) * step < lo - 1e-9:
            raise InfeasibleError(
                f"tolerance +/-{pct(tol)} on {p.measure_labels[j]} is tighter than the units allow: values come in steps of "
                f"{p.amount(j, step)} and no sum of them lies in [{number(lo)}, {number(hi)}] "
                f"(target {p.amount(j, t)})")
        positive = int((col > 0).sum())
        if lo > 0 and positive < p.k:
            raise InfeasibleError(
                f"only {positive} units have {p.measure_labels[j]} > 0 but {p.k} territories each need at least "
                f"{p.amount(j, lo)}")
    if p.current is not None and p.locked.any():
        _check_locks(p, p.current, targets)
    if p.max_distance is not None and p.homes is not None:
        homes = np.asarray(p.homes, float)
        d = np.sqrt(((p.xy[:, None, :] - homes[None, :, :]) ** 2).sum(-1)).min(axis=1)
        far = int(np.argmax(d))
        if d[far] > p.max_distance:
            raise InfeasibleError(
                f"unit {p.unit_names[far]} is {d[far] / 1000:.1f} km from the nearest home, beyond the "
                f"maximum distance of {p.max_distance / 1000:.1f} km")


def _check_locks(p: BalanceProblem, cur: np.ndarray, targets: np.ndarray) -> None:
    locked_idx = np.flatnonzero(p.locked)
    if (cur[locked_idx] < 0).any():
        u = locked_idx[cur[locked_idx] < 0][0]
        raise InfeasibleError(f"unit {p.unit_names[u]} is locked but has no territory")
    for j in range(p.m):
        hi = targets[j] * (1 + p.tolerance[j])
        sums = np.bincount(cur[locked_idx], weights=p.weights[locked_idx, j], minlength=p.k)
        t = int(np.argmax(sums))
        if sums[t] > hi + 1e-9 * max(targets[j], 1):
            raise InfeasibleError(
                f"locked units of {p.territory_names[t]} already hold {p.amount(j, sums[t])}, more than the "
                f"target {p.amount(j, targets[j])} +{pct(p.tolerance[j])} = {p.amount(j, hi)}; unlock some "
                f"of them")
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
                f"locked units {p.unit_names[a]} and {p.unit_names[b]} of {p.territory_names[t]} cannot be in one "
                f"contiguous territory: units locked to other territories separate them")


def _quantum(col: np.ndarray) -> float:
    """The common step of integer-valued measures (their gcd), or 0 when values are not integers."""
    vals = col[col > 0]
    if len(vals) == 0 or not np.allclose(vals, np.round(vals)) or vals.max() > 2**40:
        return 0.0
    return float(np.gcd.reduce(np.round(vals).astype(np.int64)))
