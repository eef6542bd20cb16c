"""engine.geometry.point_xy: coordinates of points, NaN where there is none (shapely 2.2 raises on empty points)."""

import numpy as np
import shapely

from territory_desktop.engine.geometry import point_xy


def test_point_xy_gives_nan_for_missing_empty_and_non_points():
    x, y = point_xy(np.array([shapely.Point(1.5, -2), shapely.Point(), None, shapely.box(0, 0, 1, 1)], dtype=object))
    assert x[0] == 1.5 and y[0] == -2
    assert np.isnan(x[1:]).all() and np.isnan(y[1:]).all()
    assert point_xy(np.array([], dtype=object))[0].shape == (0,)
