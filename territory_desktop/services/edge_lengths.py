"""Edge lengths for the balancer: one length per pair of neighbouring units (``--edge-lengths``).

- ``great-circle``: great-circle km between the unit centres (point on surface) x the circuity factor
  (1.3, the routing default of :class:`engine.travel.GreatCircleProvider`), in metres.
- ``road``: the travel time in seconds of a road provider (an OpenStreetMap extract or an OSRM
  server, as for routing) between the two unit centres, asked block by block.
- a file: a CSV ``from,to,length`` of unit ids (either direction); pairs that are not neighbours are
  ignored and neighbours it leaves out fall back to the great-circle length.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..engine.travel import GreatCircleProvider, TravelProvider, haversine_km
from ..models import InvalidInputError

EDGE_LENGTH_CHOICES = ("road", "great-circle")
#: units per block of road-provider requests (a block asks for the matrix of its units and neighbours)
ROAD_BLOCK = 300


def _edges(adjacency: sp.spmatrix) -> tuple[np.ndarray, np.ndarray]:
    tri = sp.triu(sp.csr_matrix(adjacency), k=1).tocoo()
    return tri.row.astype(np.int64), tri.col.astype(np.int64)


def _symmetric(n: int, r: np.ndarray, c: np.ndarray, length: np.ndarray) -> sp.csr_matrix:
    length = np.maximum(np.asarray(length, float), 1e-6)  # a zero would vanish from the sparse matrix
    return sp.coo_matrix((np.r_[length, length], (np.r_[r, c], np.r_[c, r])), shape=(n, n)).tocsr()


def great_circle_lengths(adjacency: sp.spmatrix, lon: np.ndarray, lat: np.ndarray,
                         circuity: float = GreatCircleProvider.circuity) -> sp.csr_matrix:
    r, c = _edges(adjacency)
    metres = haversine_km(lon[r], lat[r], lon[c], lat[c]) * 1000.0 * circuity
    return _symmetric(len(lon), r, c, metres)


def road_lengths(adjacency: sp.spmatrix, lon: np.ndarray, lat: np.ndarray,
                 provider: TravelProvider) -> sp.csr_matrix:
    """Seconds of driving between neighbouring unit centres, from ``provider``'s matrices."""
    a = sp.csr_matrix(adjacency)
    r, c = _edges(a)
    seconds = np.zeros(len(r))
    n = len(lon)
    for start in range(0, n, ROAD_BLOCK):
        block = np.arange(start, min(n, start + ROAD_BLOCK))
        pts = np.unique(np.r_[block, a[block].indices])
        _, dur = provider.matrices(lon[pts], lat[pts])
        pos = {int(u): i for i, u in enumerate(pts)}
        mine = np.flatnonzero((r >= start) & (r < start + ROAD_BLOCK))
        seconds[mine] = [dur[pos[int(r[e])], pos[int(c[e])]] for e in mine]
    return _symmetric(n, r, c, seconds)


def _read_rows(path: str, index: dict[str, int]) -> tuple[list[int], list[int], list[float]]:
    from ..storage.sheets import read_table

    frame = read_table(path).frame  # index: the file's row numbers
    missing = [col for col in ("from", "to", "length") if col not in frame.columns]
    if missing:
        raise InvalidInputError(f"--edge-lengths {path}", [f"no column '{col}' (the columns must be from,to,length)"
                                                          for col in missing])
    length = pd.to_numeric(frame["length"], errors="coerce")
    problems: list[str] = []
    rows: tuple[list[int], list[int], list[float]] = ([], [], [])
    for row, a, b, x, text in zip(frame.index, frame["from"].astype(str).str.strip(),
                                  frame["to"].astype(str).str.strip(), length, frame["length"], strict=True):
        unknown = [u for u in (a, b) if u not in index]
        if unknown:
            problems.append(f"row {row}: unit '{unknown[0]}' is not in the layer")
        elif not np.isfinite(x) or x < 0:
            problems.append(f"row {row}, column 'length': '{text}' is not a length of 0 or more")
        else:
            rows[0].append(index[a])
            rows[1].append(index[b])
            rows[2].append(float(x))
    if problems:
        raise InvalidInputError(f"--edge-lengths {path}", problems[:20])
    return rows


def file_lengths(path: str, ids: list[str], adjacency: sp.spmatrix, fallback: sp.csr_matrix) -> sp.csr_matrix:
    """The CSV's lengths on the neighbouring pairs it names, ``fallback`` on the others."""
    a, b, x = _read_rows(path, {u: i for i, u in enumerate(ids)})
    given = {(min(u, v), max(u, v)): length for u, v, length in zip(a, b, x, strict=True)}
    r, c = _edges(adjacency)
    base = np.asarray(fallback[r, c]).ravel()
    length = [given.get((u, v), d) for u, v, d in zip(r.tolist(), c.tolist(), base.tolist(), strict=True)]
    return _symmetric(len(ids), r, c, np.array(length, float))


def length_unit(choice: str | None) -> str | None:
    """The unit of the lengths the balancer measures a diameter on: "m" (straight lines between the
    projected unit centres without ``--edge-lengths``, or great-circle), "s" (road travel time), None
    for a file (its own units, unknown here)."""
    return {None: "m", "": "m", "great-circle": "m", "road": "s"}.get(choice)


def edge_lengths(choice: str, ids: list[str], adjacency: sp.spmatrix, lon: np.ndarray, lat: np.ndarray,
                 provider: TravelProvider | None = None) -> sp.csr_matrix:
    """The lengths for ``--edge-lengths road|great-circle|FILE``."""
    if choice == "great-circle":
        return great_circle_lengths(adjacency, lon, lat)
    if choice == "road":
        if provider is None:
            raise InvalidInputError("--edge-lengths road", ["give the roads: --osm EXTRACT.osm.pbf or --osrm URL"])
        return road_lengths(adjacency, lon, lat, provider)
    if not Path(choice).is_file():
        raise InvalidInputError("--edge-lengths", [f"'{choice}' is not road, great-circle or a CSV file from,to,length"])
    return file_lengths(choice, ids, adjacency, great_circle_lengths(adjacency, lon, lat))
