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
