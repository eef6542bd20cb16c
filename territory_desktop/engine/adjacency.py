"""Unit adjacency from polygon geometry: queen contiguity plus bridges so the graph is connected.

Input is an array of shapely polygons in a *projected* CRS (metres, e.g. EPSG:5070); output is a
symmetric ``scipy.sparse.csr_matrix`` (n x n, data 1) and, on request, the shared border length of
each adjacent pair in metres.

Rules:

- Queen contiguity: two units are neighbours when their polygons touch in at least one point
  (shared edge or corner). Candidates come from a shapely STRtree query with a small ``snap`` buffer
  (default 1 m) so slivers from digitising errors do not break a shared border.
- Bridges: an island or a piece of coast separated by water has no neighbour. After the queen pass the
  connected components are found, and each component other than the largest is joined to the nearest
  unit outside it (the closest pair of polygons, measured boundary to boundary) by a *bridge* edge.
  This repeats until one component remains, so every unit can belong to some territory. Bridges are
  returned separately so views can draw or report them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components


@dataclass
class Adjacency:
    """A unit graph. ``matrix`` is CSR, symmetric, 0/1; ``bridges`` are (i, j) pairs added to connect it."""

    matrix: sp.csr_matrix
    bridges: list[tuple[int, int]]
    shared_length: sp.csr_matrix | None = None  # metres of common border per queen pair (0 for bridges)

    @property
    def n(self) -> int:
        return self.matrix.shape[0]

    def edges(self) -> np.ndarray:
        """Each undirected edge once as an (E, 2) int array with i < j."""
        coo = sp.triu(self.matrix, k=1).tocoo()
        return np.column_stack([coo.row, coo.col]).astype(np.int64)


def queen_pairs(geoms: np.ndarray, snap: float = 1.0) -> np.ndarray:
    """All pairs (i < j) of polygons within ``snap`` metres of each other, as an (E, 2) int array."""
    geoms = np.asarray(geoms, dtype=object)
    tree = shapely.STRtree(geoms)
    if snap > 0:
        left, right = tree.query(geoms, predicate="dwithin", distance=snap)
    else:
        left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    return np.column_stack([left[keep], right[keep]]).astype(np.int64)


def build_adjacency(geoms: np.ndarray, snap: float = 1.0, with_lengths: bool = False) -> Adjacency:
    """Queen adjacency of projected polygons, with bridges joining islands to their nearest unit.

    ``geoms``: array of shapely (Multi)Polygons in metres. ``snap``: tolerance in metres for touching.
    ``with_lengths``: also measure shared border lengths (metres; slower on detailed coastlines).
    """
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    if n == 0:
        return Adjacency(sp.csr_matrix((0, 0)), [])
    pairs = queen_pairs(geoms, snap)
    bridges = _bridges(geoms, pairs, n)
    all_pairs = np.vstack([pairs, np.array(bridges, dtype=np.int64).reshape(-1, 2)])
    matrix = _symmetric(all_pairs, np.ones(len(all_pairs)), n)
    lengths = None
    if with_lengths and len(pairs):
        a = shapely.boundary(geoms[pairs[:, 0]])
        b = shapely.buffer(geoms[pairs[:, 1]], max(snap, 1e-6))
        shared = shapely.length(shapely.intersection(a, b))
        lengths = _symmetric(pairs, np.maximum(shared, 1e-9), n)
    return Adjacency(matrix, bridges, lengths)


def graph_from_pairs(pairs: np.ndarray, n: int) -> sp.csr_matrix:
    """A symmetric 0/1 CSR matrix from an (E, 2) array of undirected pairs."""
    return _symmetric(np.asarray(pairs, dtype=np.int64).reshape(-1, 2), np.ones(len(pairs)), n)


def _symmetric(pairs: np.ndarray, values: np.ndarray, n: int) -> sp.csr_matrix:
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
    vals = np.concatenate([values, values])
    m = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    m.sum_duplicates()
    if values.max(initial=0) == 1 and values.min(initial=1) == 1:
        m.data[:] = 1.0
    return m


def _bridges(geoms: np.ndarray, pairs: np.ndarray, n: int) -> list[tuple[int, int]]:
    """Edges joining every smaller component to its nearest unit in another component, until connected."""
    bridges: list[tuple[int, int]] = []
    graph = graph_from_pairs(pairs, n)
    while True:
        count, labels = connected_components(graph, directed=False)
        if count <= 1:
            return bridges
        sizes = np.bincount(labels)
        main = int(np.argmax(sizes))
        new = []
        for comp in range(count):
            if comp == main:
                continue
            members = np.flatnonzero(labels == comp)
            others = np.flatnonzero(labels != comp)
            tree = shapely.STRtree(geoms[others])
            src, dst = tree.query_nearest(geoms[members], return_distance=False, all_matches=False)
            dist = shapely.distance(geoms[members[src]], geoms[others[dst]])
            best = int(np.argmin(dist))
            new.append((int(members[src[best]]), int(others[dst[best]])))
        bridges.extend(new)
        graph = graph_from_pairs(np.vstack([pairs, np.array(bridges, dtype=np.int64)]), n)
