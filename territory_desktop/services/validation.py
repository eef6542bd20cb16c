"""Plan checks for the validation overlay: orphan units, non-contiguous territory pieces and holes.

Contiguity is "queen" contiguity: two units are neighbours when their polygons touch, even at one
point. A territory's main piece is its largest connected group of units (by unit count, ties broken by
the smallest unit id); every other group is reported as a detached piece. A hole is an interior ring of
a territory's dissolved geometry; the units inside it (those of other territories or orphans) are listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..models import Project


@dataclass
class Hole:
    territory_id: str
    area_km2: float
    unit_ids: list[str]
    geometry: object  # shapely Polygon of the hole, EPSG:4326


@dataclass
class ValidationReport:
    """Problems of one scenario's plan; unit ids in project order."""

    orphans: list[str] = field(default_factory=list)
    pieces: dict[str, list[list[str]]] = field(default_factory=dict)  # territory -> detached pieces
    holes: list[Hole] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.orphans and not self.pieces and not self.holes

    def problem_units(self) -> list[str]:
        """Every unit involved in a problem (orphans, detached pieces, units inside holes)."""
        out = list(self.orphans)
        for pieces in self.pieces.values():
            for piece in pieces:
                out.extend(piece)
        for hole in self.holes:
            out.extend(hole.unit_ids)
        return list(dict.fromkeys(out))

    def summary(self) -> str:
        n_pieces = sum(len(p) for p in self.pieces.values())
        return (f"{len(self.orphans)} orphan unit(s), {n_pieces} detached piece(s) in "
                f"{len(self.pieces)} territory(ies), {len(self.holes)} hole(s)")


def unit_adjacency(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j), i < j, of units whose polygons touch or overlap (queen contiguity)."""
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = a < b
    return a[keep], b[keep]


def _area_km2(geom) -> float:
    from pyproj import Geod

    return abs(Geod(ellps="WGS84").geometry_area_perimeter(geom)[0]) / 1e6


def _plan_arrays(project: Project, scenario_id: str | None):
    """Unit ids, geometries, territory per unit and the orphan mask of a scenario's plan."""
    plan = project.plans[scenario_id or project.active_scenario]
    ids = project.units["unit_id"].astype(str).to_numpy()
    terr = np.array([plan.territory_of(u) for u in ids], dtype=object)
    return ids, project.units.geometry.to_numpy(), terr, pd.isna(terr)


def _pieces(ids: np.ndarray, terr: np.ndarray, missing: np.ndarray,
            adjacency: tuple[np.ndarray, np.ndarray]) -> dict[str, list[list[str]]]:
    """Detached pieces (unit id lists) per territory: every connected group but the main one."""
    a, b = adjacency
    same = (terr[a] == terr[b]) & ~missing[a]
    n = len(ids)
    graph = coo_matrix((np.ones(int(same.sum())), (a[same], b[same])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    codes, uniques = pd.factorize(pd.Series(terr, dtype=object), use_na_sentinel=True)
    ok = codes >= 0
    pairs = np.unique(np.column_stack([codes[ok], comp[ok]]), axis=0) if ok.any() else np.zeros((0, 2), int)
    split = np.flatnonzero(np.bincount(pairs[:, 0], minlength=len(uniques)) > 1)
    out: dict[str, list[list[str]]] = {}
    for code in sorted(split, key=lambda c: str(uniques[c])):
        members = np.flatnonzero(codes == code)
        groups, first, sizes = np.unique(comp[members], return_index=True, return_counts=True)
        main = groups[np.lexsort((members[first], -sizes))[0]]  # largest; ties: the one listed first
        pieces = [ids[members[comp[members] == g]].tolist() for g in groups if g != main]
        out[str(uniques[code])] = sorted(pieces, key=lambda p: p[0])
    return out


def detached_pieces(project: Project, adjacency: tuple[np.ndarray, np.ndarray],
                    scenario_id: str | None = None) -> dict[str, list[list[str]]]:
    """Only the contiguity part of :func:`validate_plan` (milliseconds with a cached ``adjacency``):
    territory id -> its detached pieces, for a warning while the planner paints."""
    ids, _geoms, terr, missing = _plan_arrays(project, scenario_id)
    return _pieces(ids, terr, missing, adjacency) if len(ids) else {}


def validate_plan(project: Project, scenario_id: str | None = None,
                  adjacency: tuple[np.ndarray, np.ndarray] | None = None,
                  min_gap_km2: float = 10.0) -> ValidationReport:
    """Find orphan units, detached pieces and holes of every territory in the scenario's plan.

    ``adjacency`` (pairs from :func:`unit_adjacency`) may be passed to skip recomputing it. Empty
    holes smaller than ``min_gap_km2`` (slivers between imperfect polygons) are ignored.
    """
    ids, geoms, terr, missing = _plan_arrays(project, scenario_id)
    report = ValidationReport(orphans=ids[missing].tolist())
    if len(ids) == 0:
        return report
    adjacency = adjacency if adjacency is not None else unit_adjacency(geoms)
    report.pieces = _pieces(ids, terr, missing, adjacency)
    frame = pd.DataFrame({"t": terr, "i": np.arange(len(ids))})[~missing]
    points = shapely.point_on_surface(geoms)
    for tid, group in frame.groupby("t", sort=True):
        merged = shapely.coverage_union_all(geoms[group["i"].to_numpy()])
        if not shapely.is_valid(merged):
            merged = shapely.union_all(shapely.make_valid(geoms[group["i"].to_numpy()]))
        for part in shapely.get_parts(merged):
            if part.geom_type != "Polygon":
                continue
            for ring in part.interiors:
                hole = shapely.Polygon(ring)
                inside = np.flatnonzero(shapely.contains(hole, points))
                area = _area_km2(hole)
                if len(inside) == 0 and area < min_gap_km2:
                    continue  # a sliver between imperfectly matching unit polygons, not a real hole
                report.holes.append(Hole(str(tid), area, ids[inside].tolist(), hole))
    return report
