"""Plan scores: balance per measure, contiguity, cut edges, Polsby-Popper, disruption.

Arrays in, frozen dataclasses out (:class:`PlanScores`, its ``to_json()`` is the one JSON form). Geometry, when given, is an array of shapely polygons in a
projected CRS (metres) for Polsby-Popper = 4 pi area / perimeter^2 of each dissolved territory
(1 = a disc, near 0 = a long thin shape).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components


@dataclass(frozen=True)
class MeasureBalance:
    """Balance of one measure: territory totals over their mean; tolerance and verdict when given."""

    max_over_mean: float
    min_over_mean: float
    max_abs_deviation: float
    tolerance: float | None = None
    within_tolerance: bool | None = None

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class Disruption:
    """What changed territory against the current plan (orphans not counted): units, and per measure
    (name -> (amount moved, fraction of the measure's total))."""

    units_moved: int
    units_moved_fraction: float
    measures: dict[str, tuple[float, float]]

    def to_json(self) -> dict:
        out: dict = {"units_moved": self.units_moved, "units_moved_fraction": self.units_moved_fraction}
        for name, (moved, fraction) in self.measures.items():
            out[f"{name}_moved"] = moved
            out[f"{name}_moved_fraction"] = fraction
        return out


@dataclass(frozen=True)
class PlanScores:
    """Every score of a plan; ``to_json()`` gives the JSON the CLI prints (keys kept stable)."""

    territories: int
    units: int
    balance: dict[str, MeasureBalance]
    cut_edges: int
    split_territories: int
    empty_territories: int
    polsby_popper_mean: float | None = None
    polsby_popper_min: float | None = None
    disruption: Disruption | None = None

    def to_json(self) -> dict:
        out: dict = {"territories": self.territories, "units": self.units,
                     "balance": {m: b.to_json() for m, b in self.balance.items()}, "cut_edges": self.cut_edges,
                     "split_territories": self.split_territories, "empty_territories": self.empty_territories}
        if self.polsby_popper_mean is not None:
            out["polsby_popper_mean"] = self.polsby_popper_mean
            out["polsby_popper_min"] = self.polsby_popper_min
        if self.disruption is not None:
            out["disruption"] = self.disruption.to_json()
        return out


def balance_scores(labels: np.ndarray, weights: np.ndarray, names: list[str], k: int,
                   tolerance: np.ndarray | None = None) -> dict[str, MeasureBalance]:
    """Per measure: max/mean and min/mean of territory totals, worst |deviation|, within tolerance."""
    weights = np.asarray(weights, float).reshape(len(labels), -1)
    out = {}
    for j, name in enumerate(names):
        tot = np.bincount(labels, weights=weights[:, j], minlength=k)
        mean = tot.mean()
        hi = float(tot.max() / mean) if mean else 1.0
        lo = float(tot.min() / mean) if mean else 1.0
        dev = max(abs(hi - 1), abs(lo - 1))
        tol = None if tolerance is None else float(np.broadcast_to(tolerance, (len(names),))[j])
        out[name] = MeasureBalance(hi, lo, dev, tol, None if tol is None else bool(dev <= tol + 1e-9))
    return out


def contiguity(labels: np.ndarray, adjacency: sp.csr_matrix, k: int) -> dict[str, int]:
    """Number of territories in more than one piece and number of empty territories."""
    coo = adjacency.tocoo()
    same = labels[coo.row] == labels[coo.col]
    g = sp.csr_matrix((np.ones(int(same.sum())), (coo.row[same], coo.col[same])), shape=adjacency.shape)
    _, comp = connected_components(g, directed=False)
    pieces = np.zeros(k, dtype=np.int64)
    for t, _piece in set(zip(labels.tolist(), comp.tolist(), strict=True)):
        pieces[t] += 1
    return {"split_territories": int((pieces > 1).sum()), "empty_territories": int((pieces == 0).sum())}


def cut_edges(labels: np.ndarray, adjacency: sp.csr_matrix) -> int:
    """Adjacent unit pairs in different territories (each pair counted once)."""
    coo = sp.triu(adjacency, k=1).tocoo()
    return int((labels[coo.row] != labels[coo.col]).sum())


def polsby_popper(labels: np.ndarray, geoms: np.ndarray, k: int) -> np.ndarray:
    """(k,) Polsby-Popper of each dissolved territory (NaN for empty territories)."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(k, np.nan)
    for t in range(k):
        parts = geoms[labels == t]
        if len(parts) == 0:
            continue
        try:
            shape = shapely.coverage_union_all(parts)
        except shapely.errors.GEOSException:  # not a clean coverage: fall back to a general union
            shape = shapely.union_all(parts)
        per = shapely.length(shape)
        out[t] = 4 * np.pi * shapely.area(shape) / per**2 if per > 0 else np.nan
    return out


def disruption(labels: np.ndarray, current: np.ndarray, weights: np.ndarray, names: list[str]) -> Disruption:
    """Units and each measure that changed territory against ``current`` (orphans not counted)."""
    weights = np.asarray(weights, float).reshape(len(labels), -1)
    had = current >= 0
    moved = had & (labels != current)
    measures = {}
    for j, name in enumerate(names):
        tot = weights[had, j].sum()
        amount = float(weights[moved, j].sum())
        measures[name] = (amount, amount / float(tot) if tot else 0.0)
    return Disruption(int(moved.sum()), float(moved.sum() / max(had.sum(), 1)), measures)


def score_plan(labels: np.ndarray, adjacency: sp.csr_matrix, weights: np.ndarray, names: list[str], k: int,
               tolerance: np.ndarray | None = None, geoms: np.ndarray | None = None,
               current: np.ndarray | None = None) -> PlanScores:
    """All scores of a plan (Polsby-Popper with ``geoms``, disruption with ``current``)."""
    labels = np.asarray(labels, dtype=np.int64)
    pieces = contiguity(labels, adjacency, k)
    pp_mean = pp_min = None
    if geoms is not None:
        pp = polsby_popper(labels, geoms, k)
        pp_mean, pp_min = float(np.nanmean(pp)), float(np.nanmin(pp))
    moved = None if current is None else disruption(labels, np.asarray(current), weights, names)
    return PlanScores(k, len(labels), balance_scores(labels, weights, names, k, tolerance),
                      cut_edges(labels, adjacency), pieces["split_territories"], pieces["empty_territories"],
                      pp_mean, pp_min, moved)


def align_labels(labels: np.ndarray, current: np.ndarray, weights: np.ndarray | None = None,
                 fixed: np.ndarray | None = None) -> np.ndarray:
    """Renumber ``labels`` so each territory takes the current territory it overlaps most (optimal
    one-to-one matching by shared weight, units when ``weights`` is None); disruption is then fair.
    Territories in ``fixed`` (e.g. those holding locked units) keep their number."""
    from scipy.optimize import linear_sum_assignment

    k = int(max(labels.max(), current.max())) + 1
    w = np.ones(len(labels)) if weights is None else np.asarray(weights, float)
    ok = current >= 0
    overlap = np.zeros((k, k))
    np.add.at(overlap, (labels[ok], current[ok]), w[ok] + 1e-9)
    if fixed is not None and len(fixed):
        f = np.asarray(fixed, dtype=np.int64)
        overlap[f, f] += 1e6 * (overlap.sum() + 1.0)
    rows, cols = linear_sum_assignment(-overlap)
    mapping = np.arange(k)
    mapping[rows] = cols
    return mapping[labels]
