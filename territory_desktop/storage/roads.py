"""Drivable roads from an OpenStreetMap extract (.osm.pbf / .osm) read with the ``osmium`` package."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ..models import InvalidInputError

#: default speeds (km/h) by OSM highway class when a way has no usable maxspeed tag
ROAD_SPEEDS = {"motorway": 105, "motorway_link": 60, "trunk": 85, "trunk_link": 50, "primary": 65,
               "primary_link": 45, "secondary": 55, "secondary_link": 40, "tertiary": 45, "tertiary_link": 35,
               "unclassified": 40, "residential": 30, "living_street": 10, "service": 20, "road": 40}


@dataclass(frozen=True)
class RoadNetwork:
    """Road nodes (``lon``, ``lat`` in degrees) and directed road segments ``src -> dst`` (node indices)
    with their speed in metres per second."""

    lon: np.ndarray
    lat: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    speed_mps: np.ndarray


def _speed_kmh(tags: dict[str, str], highway: str) -> float:
    raw = tags.get("maxspeed", "").strip().lower()
    try:
        if raw.endswith("mph"):
            return float(raw[:-3]) * 1.609344
        if raw:
            return float(raw.split()[0])
    except ValueError:
        pass
    return float(ROAD_SPEEDS[highway])


def _directions(tags: dict[str, str], highway: str) -> tuple[bool, bool]:
    """(forward, backward) travel allowed: ``oneway`` yes/1/true/-1, motorways and roundabouts."""
    oneway = tags.get("oneway", "").lower()
    forward = oneway != "-1"
    backward = (oneway not in ("yes", "1", "true", "-1") and highway != "motorway" \
        and tags.get("junction") != "roundabout") or oneway == "-1"
    return forward, backward


def read_osm_roads(path: str) -> RoadNetwork:
    """The drivable network of an OpenStreetMap extract: ways tagged ``highway`` of the classes in
    ``ROAD_SPEEDS`` (not access=no/private); speed from ``maxspeed`` (km/h or mph) or the class default;
    one-way rules respected. Raises InvalidInputError when osmium is missing, the file cannot be read or
    it has no drivable roads."""
    try:
        import osmium
    except ImportError as exc:
        raise InvalidInputError("road network", [("reading .osm.pbf files needs the 'osmium' package "
                                                 "(pip install osmium)")]) from exc
    index: dict[int, int] = {}
    lon: list[float] = []
    lat: list[float] = []
    edges: list[tuple[int, int, float]] = []

    def node_index(ref) -> int:
        k = index.get(ref.ref)
        if k is None:
            k = index[ref.ref] = len(lon)
            lon.append(ref.location.lon)
            lat.append(ref.location.lat)
        return k

    class Roads(osmium.SimpleHandler):
        def way(self, w) -> None:
            highway = w.tags.get("highway")
            if highway not in ROAD_SPEEDS or w.tags.get("access") in ("no", "private"):
                return
            tags = {t.k: t.v for t in w.tags}
            speed = _speed_kmh(tags, highway) / 3.6
            forward, backward = _directions(tags, highway)
            for a, b in itertools.pairwise([r for r in w.nodes if r.location.valid()]):
                ia, ib = node_index(a), node_index(b)
                edges.extend([(ia, ib, speed)] * forward + [(ib, ia, speed)] * backward)

    try:
        Roads().apply_file(str(path), locations=True)
    except RuntimeError as exc:
        raise InvalidInputError("road network", [f"{path}: cannot read as OpenStreetMap data ({exc})"]) from exc
    if not edges:
        raise InvalidInputError("road network", [f"{path}: no drivable roads (highway=...) found"])
    e = np.array(edges)
    return RoadNetwork(np.array(lon), np.array(lat), e[:, 0].astype(int), e[:, 1].astype(int), e[:, 2])
