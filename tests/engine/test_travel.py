"""Travel matrices against independent numbers: textbook distances, networkx shortest paths."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest

from territory_desktop.engine.travel import GraphProvider, GreatCircleProvider, TrafficProfile, haversine_km
from territory_desktop.models import InvalidInputError


def test_haversine_known_distances() -> None:
    assert haversine_km(0, 0, 0, 1) == pytest.approx(2 * math.pi * 6371.0088 / 360, rel=1e-9)
    # New York City Hall to Los Angeles City Hall: about 3,936 km on the sphere
    assert haversine_km(-74.0060, 40.7128, -118.2437, 34.0522) == pytest.approx(3936, rel=0.005)


def test_great_circle_matrix_is_circuity_times_distance_and_speed_bands() -> None:
    lon = np.array([-87.6, -87.5, -86.0])
    lat = np.array([41.9, 41.9, 42.5])
    prov = GreatCircleProvider(circuity=1.25)
    metres, seconds = prov.matrices(lon, lat)
    assert (np.diag(metres) == 0).all() and (metres == metres.T).all()
    km01 = haversine_km(lon[0], lat[0], lon[1], lat[1]) * 1.25
    assert metres[0, 1] == round(km01 * 1000)
    # km01 is ~10.4 km: first 5 km at 30 km/h, the rest at 50 km/h
    assert seconds[0, 1] == round((5 / 30 + (km01 - 5) / 50) * 3600)
    assert seconds[0, 2] > seconds[0, 1]
    assert seconds[0, 2] / metres[0, 2] < seconds[0, 1] / metres[0, 1]  # long trips drive faster


def test_bad_coordinates_are_listed() -> None:
    with pytest.raises(InvalidInputError, match="point 1"):
        GreatCircleProvider().matrices(np.array([0.0, np.nan]), np.array([0.0, 1.0]))


def test_graph_provider_matches_networkx_shortest_paths() -> None:
    g = nx.grid_2d_graph(6, 5)
    rng = np.random.default_rng(3)
    dg = nx.DiGraph()
    for (i, j) in g.nodes:
        dg.add_node((i, j), x=-90 + 0.01 * i, y=40 + 0.01 * j)
    for u, v in g.edges:
        for a, b in ((u, v), (v, u)):
            length = float(rng.uniform(500, 1500))
            dg.add_edge(a, b, length=length, travel_time=length / float(rng.uniform(8, 20)))
    prov = GraphProvider.from_networkx(dg)
    nodes = [(0, 0), (5, 4), (2, 3), (4, 1)]
    lon = np.array([dg.nodes[n]["x"] for n in nodes])
    lat = np.array([dg.nodes[n]["y"] for n in nodes])
    metres, seconds = prov.matrices(lon, lat)
    for a in range(4):
        for b in range(4):
            if a == b:
                continue
            path = nx.shortest_path(dg, nodes[a], nodes[b], weight="travel_time")
            fastest_len = sum(dg.edges[u, v]["length"] for u, v in itertools.pairwise(path))
            assert seconds[a, b] == round(nx.shortest_path_length(dg, nodes[a], nodes[b], weight="travel_time"))
            assert metres[a, b] == round(fastest_len)  # distance along the fastest path


def test_graph_provider_reports_unreachable_points() -> None:
    dg = nx.DiGraph()
    dg.add_node(0, x=0.0, y=0.0)
    dg.add_node(1, x=0.1, y=0.0)
    dg.add_node(2, x=5.0, y=5.0)
    dg.add_edge(0, 1, length=1000.0, travel_time=60.0)
    dg.add_edge(1, 0, length=1000.0, travel_time=60.0)
    with pytest.raises(InvalidInputError, match="cannot be reached"):
        GraphProvider.from_networkx(dg).matrices(np.array([0.0, 5.0]), np.array([0.0, 5.0]))


def test_traffic_profile_rush_hours_and_day_mean() -> None:
    prof = TrafficProfile()
    assert prof.factor(0, 8 * 60 + 10) == 1.35  # Monday 08:10
    assert prof.factor(6, 8 * 60) == 1.0  # Sunday morning
    # Monday 08:00-10:00: one hour at 1.35, one at 1.15
    assert prof.day_factor(0, 480, 600) == pytest.approx((1.35 + 1.15) / 2)
    assert TrafficProfile.none().day_factor(2, 480, 1020) == 1.0

