"""Point-in-polygon placement checked against shapely's own predicate, point by point."""

from __future__ import annotations

import numpy as np
import shapely

from territory_desktop.engine.placement import place_points


def test_random_points_match_a_brute_force_check():
    rng = np.random.default_rng(5)
    polys = np.array([shapely.box(i, j, i + 1, j + 1).buffer(-0.05 * ((i + j) % 2)) for i in range(4)
                      for j in range(3)] + [shapely.Point(10, 10).buffer(1)], dtype=object)
    x = rng.uniform(-1, 12, 2000)
    y = rng.uniform(-1, 12, 2000)
    got = place_points(x, y, polys)
    for k in range(len(x)):
        hits = [i for i, p in enumerate(polys) if p.intersects(shapely.Point(x[k], y[k]))]
        assert got[k] == (hits[0] if hits else -1)


def test_border_points_go_to_the_lowest_index_and_bad_coordinates_to_none():
    polys = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(0, 0, 2, 1)], dtype=object)
    got = place_points(np.array([1.0, 1.5, np.nan, 5.0]), np.array([0.5, 0.5, 0.5, 5.0]), polys)
    assert got.tolist() == [0, 1, -1, -1]
    assert place_points(np.array([]), np.array([]), polys).tolist() == []


def test_grid_edges_vertices_missing_polygons_and_an_index_give_the_brute_force_answer():
    """Points on box edges and polygon vertices (where the candidate grid's cells meet), a polygon with a
    hole, a missing and an empty polygon (never a candidate), tiny and huge polygons, with and without a
    ``PolygonIndex``."""
    from territory_desktop.engine.placement import PolygonIndex

    ring = shapely.Polygon([(0, 0), (9, 0), (9, 9), (0, 9)], [[(3, 3), (6, 3), (6, 6), (3, 6)]])
    polys = np.array([shapely.box(4, 4, 4.001, 4.001), None, ring, shapely.Polygon(),
                      *[shapely.box(i, j, i + 3, j + 3) for i in range(0, 9, 3) for j in range(0, 9, 3)],
                      shapely.box(-50, -50, 50, 50)], dtype=object)
    rng = np.random.default_rng(7)
    verts = shapely.get_coordinates(polys[[0, 2, 5, 9]])
    x = np.concatenate([rng.uniform(-60, 60, 500), rng.integers(0, 10, 500).astype(float), verts[:, 0], [np.inf]])
    y = np.concatenate([rng.uniform(-60, 60, 500), rng.uniform(0, 9, 500), verts[:, 1], [0.0]])
    expected = []
    for px, py in zip(x, y, strict=True):
        hits = [i for i, p in enumerate(polys) if p is not None and np.isfinite(px)
                and p.intersects(shapely.Point(px, py))]
        expected.append(hits[0] if hits else -1)
    assert place_points(x, y, polys).tolist() == expected
    assert place_points(x, y, polys, index=PolygonIndex(polys)).tolist() == expected
