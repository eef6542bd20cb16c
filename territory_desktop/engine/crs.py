"""The one choice of a metric CRS for lon/lat data: US Albers for the conterminous US, else a local
equal-area projection centred on the data. Used to draw the map and to measure for the balancer."""

from __future__ import annotations

import math

#: NAD83 / Conus Albers (metres, equal-area)
US_ALBERS = "EPSG:5070"
#: lon/lat envelope (minx, miny, maxx, maxy) of the conterminous US for which US Albers is chosen
CONUS_BOUNDS = (-130.0, 20.0, -60.0, 55.0)


def in_conus(bounds: tuple[float, float, float, float]) -> bool:
    """True when lon/lat ``bounds`` (minx, miny, maxx, maxy) lie inside :data:`CONUS_BOUNDS`."""
    minx, miny, maxx, maxy = bounds
    x0, y0, x1, y1 = CONUS_BOUNDS
    return minx >= x0 and maxx <= x1 and miny >= y0 and maxy <= y1


def metric_crs(bounds: tuple[float, float, float, float]) -> str:
    """A projected CRS (metres) for lon/lat ``bounds``: US Albers when the data lies in the
    conterminous US (or the bounds are not finite), else a Lambert azimuthal equal-area projection
    centred on the data."""
    if not all(math.isfinite(float(b)) for b in bounds) or in_conus(bounds):
        return US_ALBERS
    minx, miny, maxx, maxy = bounds
    lon0, lat0 = (minx + maxx) / 2, (miny + maxy) / 2
    return f"+proj=laea +lat_0={lat0:.4f} +lon_0={lon0:.4f} +datum=WGS84 +units=m +no_defs"
