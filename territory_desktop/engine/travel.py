"""Travel time and distance matrices between places given as longitude/latitude (EPSG:4326).

Providers share one interface, :class:`TravelProvider`: ``matrices(lon, lat) -> (metres, seconds)``,
two (n, n) int64 arrays. Built in (offline, no files): :class:`GreatCircleProvider` (great-circle
distance x road circuity, speeds by trip length) and :class:`GraphProvider` (many-to-many shortest
paths on a road graph the caller built, e.g. from an OpenStreetMap extract). Online services (an OSRM
server) plug in through the same interface from ``services.routing``; they are off by default.
:class:`TrafficProfile` gives typical congestion factors by weekday and hour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..models import InvalidInputError

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Great-circle distance in km between points in degrees (broadcasting)."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, dtype=float)) for a in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _check_points(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    problems = []
    if lon.shape != lat.shape or lon.ndim != 1:
        problems.append(f"lon and lat must be 1-d arrays of equal length, got {lon.shape} and {lat.shape}")
    else:
        bad = np.flatnonzero(~np.isfinite(lon) | ~np.isfinite(lat) | (np.abs(lat) > 90) | (np.abs(lon) > 180))
        problems += [f"point {i}: invalid coordinates ({lon[i]}, {lat[i]})" for i in bad]
    if problems:
        raise InvalidInputError("travel matrix", problems)
    return lon, lat


class TravelProvider(Protocol):
    """Anything that turns points into (distance metres, duration seconds) int64 matrices."""

    name: str

    def matrices(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass
class GreatCircleProvider:
    """Great-circle km x ``circuity`` (road detour factor), driven at speeds that grow with trip length.

    ``speed_bands``: (up to km, km/h) pairs; each part of a trip is driven at its band's speed, so short
    urban hops are slow and long highway legs fast (time is monotone in distance).
    """

    circuity: float = 1.3
    speed_bands: tuple[tuple[float, float], ...] = ((5.0, 30.0), (20.0, 50.0), (60.0, 70.0), (np.inf, 90.0))
    name: str = "great-circle"

    def road_km(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        lon, lat = _check_points(lon, lat)
        return haversine_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :]) * self.circuity

    def hours(self, km: np.ndarray) -> np.ndarray:
        """Driving hours for road distances ``km`` under the speed bands."""
        km = np.asarray(km, dtype=float)
        hours = np.zeros_like(km)
        lower = 0.0
        for upper, speed in self.speed_bands:
            part = np.clip(km - lower, 0.0, upper - lower)
            hours += part / speed
            lower = upper
        return hours

    def matrices(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        km = self.road_km(lon, lat)
        return np.round(km * 1000).astype(np.int64), np.round(self.hours(km) * 3600).astype(np.int64)


@dataclass
class GraphProvider:
    """Shortest paths on a road graph given as arrays: node coordinates and directed edges.

    ``node_lon``/``node_lat``: (m,) degrees; ``edge_from``/``edge_to``: (k,) node indices;
    ``edge_m``: (k,) metres; ``edge_s``: (k,) seconds. Points snap to their nearest graph node
    (plus a straight connector at ``access_kmh``). Unreachable pairs raise InvalidInputError.
    """

    node_lon: np.ndarray
    node_lat: np.ndarray
    edge_from: np.ndarray
    edge_to: np.ndarray
    edge_m: np.ndarray
    edge_s: np.ndarray
    access_kmh: float = 20.0
    name: str = "road-graph"

    @classmethod
    def from_networkx(cls, graph, length: str = "length", time: str = "travel_time", **kw) -> GraphProvider:
        """From a networkx (Multi)DiGraph whose nodes have x (lon) and y (lat), edges metres/seconds."""
        nodes = list(graph.nodes)
        pos = {n: i for i, n in enumerate(nodes)}
        lon = np.array([graph.nodes[n]["x"] for n in nodes], dtype=float)
        lat = np.array([graph.nodes[n]["y"] for n in nodes], dtype=float)
        directed = graph.is_directed()
        rows = []
        for u, v, data in graph.edges(data=True):
            rows.append((pos[u], pos[v], float(data[length]), float(data[time])))
            if not directed:
                rows.append((pos[v], pos[u], float(data[length]), float(data[time])))
        arr = np.array(rows, dtype=float).reshape(-1, 4)
        return cls(lon, lat, arr[:, 0].astype(int), arr[:, 1].astype(int), arr[:, 2], arr[:, 3], **kw)

    def matrices(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fastest paths between the points; distance is the length of that fastest path."""
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import dijkstra

        lon, lat = _check_points(lon, lat)
        snap, snap_km = self._snap(lon, lat)
        m = len(self.node_lon)
        targets, inverse = np.unique(snap, return_inverse=True)
        # keep the fastest of parallel edges (csr would sum duplicates), and remember its length
        sec = np.asarray(self.edge_s, dtype=float)
        order = np.lexsort((sec, self.edge_to, self.edge_from))
        f, t = self.edge_from[order], self.edge_to[order]
        first = np.ones(len(f), dtype=bool)
        first[1:] = (f[1:] != f[:-1]) | (t[1:] != t[:-1])
        f, t = f[first], t[first]
        w_s, w_m = sec[order][first], np.asarray(self.edge_m, dtype=float)[order][first]
        graph = csr_matrix((w_s + 1e-9, (f, t)), shape=(m, m))
        length = csr_matrix((w_m + 1e-9, (f, t)), shape=(m, m))
        seconds, pred = dijkstra(graph, directed=True, indices=targets, return_predecessors=True)
        metres = np.vstack([_tree_lengths(pred[k], length, int(r)) for k, r in enumerate(targets)])
        seconds, metres = seconds[:, targets], metres[:, targets]
        seconds, metres = seconds[np.ix_(inverse, inverse)], metres[np.ix_(inverse, inverse)]
        if not np.isfinite(seconds).all():
            i, j = np.argwhere(~np.isfinite(seconds))[0]
            raise InvalidInputError("road graph", [f"point {j} cannot be reached from point {i} on the road graph"])
        access_m = snap_km * 1000
        access_s = snap_km / self.access_kmh * 3600
        metres = metres + access_m[:, None] + access_m[None, :]
        seconds = seconds + access_s[:, None] + access_s[None, :]
        np.fill_diagonal(metres, 0)
        np.fill_diagonal(seconds, 0)
        return np.round(metres).astype(np.int64), np.round(seconds).astype(np.int64)

    def _snap(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from scipy.spatial import cKDTree

        scale = np.cos(np.radians(np.mean(self.node_lat)))
        tree = cKDTree(np.column_stack([self.node_lon * scale, self.node_lat]))
        _, idx = tree.query(np.column_stack([lon * scale, lat]))
        return idx, haversine_km(lon, lat, self.node_lon[idx], self.node_lat[idx])


def _tree_lengths(pred: np.ndarray, length, root: int) -> np.ndarray:
    """Path lengths from ``root`` along a shortest-path tree (``pred``: parent per node, < 0 = none),
    by pointer doubling: O(m log depth) numpy work instead of a Python walk per node."""
    has = pred >= 0
    nodes = np.flatnonzero(has)
    acc = np.zeros(len(pred))
    acc[nodes] = np.asarray(length[pred[nodes], nodes]).ravel()
    up = np.where(has, pred, -1)
    while (up >= 0).any():
        live = up >= 0
        acc[live] += acc[up[live]]
        nxt = np.full_like(up, -1)
        nxt[live] = up[up[live]]
        up = nxt
    acc[~has] = np.inf
    acc[root] = 0.0
    return acc


def _default_factors() -> np.ndarray:
    f = np.ones((7, 24))
    for day in range(5):  # Monday..Friday
        f[day, 7:9] = 1.35
        f[day, 9] = 1.15
        f[day, 12:14] = 1.1
        f[day, 16:19] = 1.4
    f[5:, 10:18] = 1.05
    return f


@dataclass
class TrafficProfile:
    """Typical congestion factors (travel time multipliers) by weekday (0 = Monday) and hour 0..23."""

    factors: np.ndarray = field(default_factory=_default_factors)

    def factor(self, weekday: int, minute: float) -> float:
        """Multiplier for a trip starting at ``minute`` after midnight on ``weekday``."""
        return float(self.factors[weekday % 7, int(minute // 60) % 24])

    def day_factor(self, weekday: int, start_minute: float, end_minute: float) -> float:
        """Mean multiplier over the working hours [start, end) of ``weekday``, weighted by minutes."""
        minutes = np.arange(int(start_minute), max(int(end_minute), int(start_minute) + 1))
        return float(self.factors[weekday % 7, (minutes // 60) % 24].mean())

    @classmethod
    def none(cls) -> TrafficProfile:
        """No congestion: every factor is 1."""
        return cls(np.ones((7, 24)))
