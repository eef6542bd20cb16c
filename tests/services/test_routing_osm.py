"""Road graphs from OpenStreetMap extracts (.osm.pbf written here with osmium), checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from territory_desktop.engine.travel import haversine_km


def test_osm_extract_to_road_graph(tmp_path) -> None:
    """A tiny .osm.pbf written here: a slow two-way residential street and a fast one-way primary detour."""
    osmium = pytest.importorskip("osmium")
    from osmium.osm.mutable import Node, Way

    from territory_desktop.services.routing import load_osm_graph

    path = tmp_path / "tiny.osm.pbf"
    w = osmium.SimpleWriter(str(path))
    for i, (x, y) in enumerate([(0, 0), (0.01, 0), (0.02, 0), (0.01, 0.01)], 1):
        w.add_node(Node(id=i, location=(x, y)))
    w.add_way(Way(id=10, nodes=[1, 2, 3], tags={"highway": "residential"}))
    w.add_way(Way(id=11, nodes=[1, 4, 3], tags={"highway": "primary", "oneway": "yes", "maxspeed": "40 mph"}))
    w.add_way(Way(id=12, nodes=[2, 4], tags={"highway": "footway"}))  # not drivable: ignored
    w.close()
    metres, seconds = load_osm_graph(str(path)).matrices(np.array([0.0, 0.02]), np.array([0.0, 0.0]))
    street = 2 * haversine_km(0, 0, 0.01, 0) * 1000
    detour = 2 * haversine_km(0, 0, 0.01, 0.01) * 1000
    # east: the one-way primary at 40 mph beats the 30 km/h street; west: only the street is allowed
    assert seconds[0, 1] == round(detour / (40 * 1.609344 / 3.6)) and metres[0, 1] == round(detour)
    assert seconds[1, 0] == round(street / (30 / 3.6)) and metres[1, 0] == round(street)
