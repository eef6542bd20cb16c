"""Benchmark inputs for benchmarks/balance.py: lower-48 counties, ZIP Voronoi cells, seeded accounts.

Accounts: when the demo project (``territory-desktop demo``) is not available, ``accounts_at_zips``
places N accounts at ZIP centroids, each account at a ZIP drawn uniformly (seeded) from the active
lower-48 ZIPs, so account density follows ZIP density (a proxy for population).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

PLOTLY = Path(__import__("_plotly_geo").__file__).parent / "package_data"
NOT_LOWER48 = {"02", "15", "60", "66", "69", "72", "78"}
NOT_LOWER48_ABBR = {"AK", "HI", "PR", "GU", "VI", "AS", "MP", "FM", "MH", "PW", "AA", "AE", "AP"}
ALBERS = "EPSG:5070"


def counties() -> gpd.GeoDataFrame:
    """Lower-48 counties (3,108) in EPSG:5070 metres, with GEOID."""
    g = gpd.read_file(PLOTLY / "cb_2016_us_county_500k.shp")
    g = g[~g["STATEFP"].isin(NOT_LOWER48)].set_crs(4269, allow_override=True).to_crs(ALBERS)
    return g[["GEOID", "STATEFP", "NAME", "geometry"]].reset_index(drop=True)


def lower48_outline() -> shapely.Geometry:
    s = gpd.read_file(PLOTLY / "cb_2016_us_state_500k.shp")
    s = s[~s["STATEFP"].isin(NOT_LOWER48)].set_crs(4269, allow_override=True).to_crs(ALBERS)
    return shapely.simplify(shapely.union_all(shapely.make_valid(s.geometry.values)), 500.0)


def zip_points() -> gpd.GeoDataFrame:
    """Active, standard (not PO box or unique) lower-48 ZIP centroids at distinct places, EPSG:5070."""
    import zipcodes

    rows = [z for z in zipcodes.list_all()
            if z["active"] and z["zip_code_type"] == "STANDARD" and z["state"] not in NOT_LOWER48_ABBR
            and z["lat"] and z["long"]]
    df = pd.DataFrame({"zip": [z["zip_code"] for z in rows], "lat": [float(z["lat"]) for z in rows],
                       "lon": [float(z["long"]) for z in rows]})
    df = df.drop_duplicates(["lat", "lon"]).reset_index(drop=True)
    g = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.lon, df.lat), crs=4326).to_crs(ALBERS)
    return g


def zip_voronoi(points: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Voronoi cells of the ZIP centroids clipped to the lower-48 outline (simplified to 500 m; ZIPs
    whose centroid lies outside it are dropped)."""
    pts = zip_points() if points is None else points
    outline = lower48_outline()
    inside = shapely.contains_xy(outline, pts.geometry.x.values, pts.geometry.y.values)
    pts = pts[inside].reset_index(drop=True)
    cells = shapely.voronoi_polygons(shapely.multipoints(pts.geometry.values), extend_to=outline)
    cells = np.array(shapely.get_parts(cells))
    tree = shapely.STRtree(cells)
    pi, ci = tree.query(pts.geometry.values, predicate="within")
    order = np.full(len(pts), -1)
    order[pi] = ci
    keep = order >= 0
    pts = pts[keep].reset_index(drop=True)
    geoms = cells[order[keep]]
    shapely.prepare(outline)
    edge = ~shapely.contains(outline, geoms)  # only cells crossing the coast or border need clipping
    geoms[edge] = shapely.intersection(geoms[edge], outline)
    g = gpd.GeoDataFrame({"zip": pts["zip"]}, geometry=geoms, crs=ALBERS)
    g = g[~g.geometry.is_empty & (g.geometry.area > 0)].reset_index(drop=True)
    return g


def accounts_at_zips(n: int = 20000, seed: int = 7) -> gpd.GeoDataFrame:
    """n accounts, each at the centroid of a ZIP drawn uniformly (seeded) from the lower-48 ZIPs."""
    pts = zip_points()
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(pts), n)
    return gpd.GeoDataFrame({"zip": pts["zip"].values[pick]}, geometry=pts.geometry.values[pick], crs=ALBERS)


def count_in(units: gpd.GeoDataFrame, accounts: gpd.GeoDataFrame) -> np.ndarray:
    """Accounts per unit (point in polygon; points on no unit go to the nearest unit)."""
    tree = shapely.STRtree(units.geometry.values)
    pi, ui = tree.query(accounts.geometry.values, predicate="intersects")
    owner = np.full(len(accounts), -1)
    owner[pi] = ui
    miss = np.flatnonzero(owner < 0)
    if len(miss):
        owner[miss] = tree.query_nearest(accounts.geometry.values[miss], all_matches=False)[1]
    return np.bincount(owner, minlength=len(units)).astype(float)
