"""A small saved project with hostile names: 3x3 units near Chicago, two territories of rep r1, six weekly
accounts whose names start with the characters a spreadsheet runs as a formula (OWASP CSV injection)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from territory_desktop.models import CRS, Plan, Project

HYPERLINK = '=HYPERLINK("http://evil","x")'
#: names a spreadsheet would read as a formula: = + - @ tab CR
HOSTILE = [HYPERLINK, "+1+1", "-2+3", "@SUM(A1)", "\tTabbed", "\rCarriage"]
MARKUP = '<img src="file:///etc/hostname"><a href="x">link</a><b>bold</b>'
X0, Y0, SIZE = -87.80, 41.85, 0.05


def hostile_project() -> Project:
    """Units u0..u8 (u0/u1/u2 renamed to hostile ids), territories W (columns 0-1) and E (column 2)."""
    unit_ids = ["-u0", "@u1", "=u2"] + [f"u{k}" for k in range(3, 9)]
    boxes = [shapely.box(X0 + i * SIZE, Y0 + j * SIZE, X0 + (i + 1) * SIZE, Y0 + (j + 1) * SIZE)
             for j in range(3) for i in range(3)]
    p = Project(name="hostile")
    p.units = gpd.GeoDataFrame({"unit_id": unit_ids, "name": [MARKUP] + [f"Unit {k}" for k in range(1, 9)],
                                "area_km2": 1.0, "locked": False, "work": [2.0] + [1.0] * 8},
                               geometry=boxes, crs=CRS)
    n = len(HOSTILE)
    lons = [X0 + SIZE * (0.3 + 0.4 * (k % 3)) for k in range(n)]
    lats = [Y0 + SIZE * (0.5 + (k // 3)) for k in range(n)]
    p.accounts = gpd.GeoDataFrame(
        {"account_id": [f"a{k}" for k in range(n)], "name": HOSTILE, "segment": "B", "industry": "Retail",
         "size_class": "Small", "potential": 10.0, "visit_frequency_weeks": 1, "service_minutes": 30.0,
         "open_minute": 480, "close_minute": 1020, "zip": "", "unit_id": [unit_ids[k % 3 + 3 * (k // 3)]
                                                                           for k in range(n)]},
        geometry=gpd.points_from_xy(lons, lats), crs=CRS)
    p.reps = gpd.GeoDataFrame({"rep_id": ["r1"], "name": [MARKUP], "capacity_hours": 1600.0, "skills": "",
                               "work_start_minute": 480, "work_end_minute": 1020, "zip": ""},
                              geometry=gpd.points_from_xy([X0 + 1.5 * SIZE], [Y0 + 1.5 * SIZE]), crs=CRS)
    p.territories = pd.DataFrame([{"scenario_id": "base", "territory_id": t, "name": name, "colour": "#4e79a7",
                                   "rep_id": "r1", "parent_id": None, "level": "territory", "kind": "geographic",
                                   "rule": None} for t, name in (("W", MARKUP), (HYPERLINK, "East"))])
    p.plans = {"base": Plan({u: (HYPERLINK if k % 3 == 2 else "W") for k, u in enumerate(unit_ids)})}
    p.mark_dirty("units", "accounts", "reps", "territories", "scenarios", "plans")
    return p


