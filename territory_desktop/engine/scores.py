"""Plan scores: balance per measure, contiguity, cut edges, Polsby-Popper, disruption.

Arrays in, a plain dict out (JSON-ready). Geometry, when given, is an array of shapely polygons in a
projected CRS (metres) for Polsby-Popper = 4 pi area / perimeter^2 of each dissolved territory
(1 = a disc, near 0 = a long thin shape).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components


def balance_scores(labels: np.ndarray, weights: np.ndarray, names: list[str], k: int,
                   tolerance: np.ndarray | None = None) -> dict[str, dict]:
    """Per measure: max/mean and min/mean of territory totals, worst |deviation|, within tolerance."""
    weights = np.asarray(weights, float).reshape(len(labels), -1)
    out = {}
    for j, name in enumerate(names):
        tot = np.bincount(labels, weights=weights[:, j], minlength=k)
        mean = tot.mean()
        d = {"max_over_mean": float(tot.max() / mean) if mean else 1.0,
             "min_over_mean": float(tot.min() / mean) if mean else 1.0}
        d["max_abs_deviation"] = max(abs(d["max_over_mean"] - 1), abs(d["min_over_mean"] - 1))
        if tolerance is not None:
            d["tolerance"] = float(np.broadcast_to(tolerance, (len(names),))[j])
            d["within_tolerance"] = bool(d["max_abs_deviation"] <= d["tolerance"] + 1e-9)
        out[name] = d
    return out


def contiguity(labels: np.ndarray, adjacency: sp.csr_matrix, k: int) -> dict[str, int]:
    """Number of territories in more than one piece and number of empty territories."""
    coo = adjacency.tocoo()
    same = labels[coo.row] == labels[coo.col]
    g = sp.csr_matrix((np.ones(int(same.sum())), (coo.row[same], coo.col[same])), shape=adjacency.shape)
    _, comp = connected_components(g, directed=False)
    pieces = np.zeros(k, dtype=np.int64)
    for t, c in set(zip(labels.tolist(), comp.tolist())):
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


def disruption(labels: np.ndarray, current: np.ndarray, weights: np.ndarray, names: list[str]) -> dict:
    """Units and each measure that changed territory against ``current`` (orphans not counted)."""
    weights = np.asarray(weights, float).reshape(len(labels), -1)
    had = current >= 0
    moved = had & (labels != current)
    out = {"units_moved": int(moved.sum()), "units_moved_fraction": float(moved.sum() / max(had.sum(), 1))}
    for j, name in enumerate(names):
        tot = weights[had, j].sum()
        out[f"{name}_moved"] = float(weights[moved, j].sum())
        out[f"{name}_moved_fraction"] = float(weights[moved, j].sum() / tot) if tot else 0.0
    return out


def score_plan(labels: np.ndarray, adjacency: sp.csr_matrix, weights: np.ndarray, names: list[str], k: int,
               tolerance: np.ndarray | None = None, geoms: np.ndarray | None = None,
               current: np.ndarray | None = None) -> dict:
    """All scores of a plan as a JSON-ready dict."""
    labels = np.asarray(labels, dtype=np.int64)
    out: dict = {"territories": k, "units": len(labels),
                 "balance": balance_scores(labels, weights, names, k, tolerance),
                 "cut_edges": cut_edges(labels, adjacency)}
    out.update(contiguity(labels, adjacency, k))
    if geoms is not None:
        pp = polsby_popper(labels, geoms, k)
        out["polsby_popper_mean"] = float(np.nanmean(pp))
        out["polsby_popper_min"] = float(np.nanmin(pp))
    if current is not None:
        out["disruption"] = disruption(labels, np.asarray(current), weights, names)
    return out


def align_labels(labels: np.ndarray, current: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Renumber ``labels`` so each territory takes the current territory it overlaps most (optimal
    one-to-one matching by shared weight, units when ``weights`` is None); disruption is then fair."""
    from scipy.optimize import linear_sum_assignment

    k = int(max(labels.max(), current.max())) + 1
    w = np.ones(len(labels)) if weights is None else np.asarray(weights, float)
    ok = current >= 0
    overlap = np.zeros((k, k))
    np.add.at(overlap, (labels[ok], current[ok]), w[ok] + 1e-9)
    rows, cols = linear_sum_assignment(-overlap)
    mapping = np.arange(k)
    mapping[rows] = cols
    return mapping[labels]
