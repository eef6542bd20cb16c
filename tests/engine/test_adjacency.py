"""Queen adjacency and island bridges, checked against counts and distances computed here."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import shapely
from shapely.geometry import Polygon, box

from territory_desktop.engine.adjacency import build_adjacency


def grid(nx_: int, ny: int, size: float = 1000.0) -> list:
    return [box(i * size, j * size, (i + 1) * size, (j + 1) * size) for j in range(ny) for i in range(nx_)]


def as_graph(adj) -> nx.Graph:
    return nx.from_scipy_sparse_array(adj.matrix)


def test_grid_queen_edge_count_matches_formula():
    a, b = 7, 5
    adj = build_adjacency(np.array(grid(a, b), dtype=object))
    expected = (a - 1) * b + a * (b - 1) + 2 * (a - 1) * (b - 1)  # rook + both diagonals
    assert adj.matrix.nnz // 2 == expected
    assert adj.bridges == []
    g = as_graph(adj)
    assert g.degree(a + 1) == 8  # an interior cell touches 8 cells
    assert g.degree(0) == 3  # a corner cell touches 3


def test_corner_touch_is_queen_neighbour():
    geoms = np.array([box(0, 0, 1000, 1000), box(1000, 1000, 2000, 2000)], dtype=object)
    adj = build_adjacency(geoms)
    assert adj.matrix[0, 1] == 1 and adj.bridges == []


def test_island_joined_to_nearest_unit():
    cells = grid(4, 4)
    island = box(6000, 1200, 6500, 1700)  # east of the grid; nearest cell is (3, 1), index 7
    geoms = np.array([*cells, island], dtype=object)
    adj = build_adjacency(geoms)
    assert nx.is_connected(as_graph(adj))
    assert len(adj.bridges) == 1
    i, j = adj.bridges[0]
    d = [island.distance(c) for c in cells]
    assert {i, j} == {16, int(np.argmin(d))}


def test_two_islands_chain_until_connected():
    cells = grid(3, 3)
    far = box(20000, 0, 21000, 1000)
    near = box(10000, 0, 11000, 1000)  # between the grid and the far island
    adj = build_adjacency(np.array([*cells, near, far], dtype=object))
    g = as_graph(adj)
    assert nx.is_connected(g)
    assert g.has_edge(10, 9)  # far island joins the nearer one, not the grid
    assert len(adj.bridges) == 2


def test_unit_with_hole_touches_the_unit_inside():
    outer = Polygon(box(0, 0, 3000, 3000).exterior.coords, [box(1000, 1000, 2000, 2000).exterior.coords])
    inner = box(1000, 1000, 2000, 2000)
    other = box(3000, 0, 4000, 3000)
    adj = build_adjacency(np.array([outer, inner, other], dtype=object))
    g = as_graph(adj)
    assert g.has_edge(0, 1) and g.has_edge(0, 2) and not g.has_edge(1, 2)


def test_peninsula_chain_and_sliver_gap_within_snap():
    cells = grid(3, 3)
    pen = [box(3000 + i * 1000 + 0.5, 1000, 4000 + i * 1000, 2000) for i in range(3)]  # 0.5 m gaps
    adj = build_adjacency(np.array(cells + pen, dtype=object), snap=1.0)
    g = as_graph(adj)
    assert adj.bridges == []
    assert [g.degree(9 + i) for i in range(3)] == [4, 2, 1]  # first touches 3 grid cells + next


def test_shared_lengths_in_metres():
    adj = build_adjacency(np.array(grid(2, 1), dtype=object), with_lengths=True)
    assert abs(adj.shared_length[0, 1] - 1000.0) < 5.0


def test_edges_listed_once():
    adj = build_adjacency(np.array(grid(3, 3), dtype=object))
    e = adj.edges()
    assert (e[:, 0] < e[:, 1]).all()
    brute = sum(1 for a, b in itertools.combinations(grid(3, 3), 2) if shapely.intersects(a, b))
    assert len(e) == brute
