"""services.printing (Qt-free): page sizes, scale-bar arithmetic checked against pyproj.Geod distances,
territory order and totals checked against plain sums, account rows and pagination."""

from __future__ import annotations

import functools
import math
import operator
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from territory_desktop.models import CRS, InvalidInputError, Plan, Project
from territory_desktop.services.printing import (
    METRES_PER_MILE,
    accounts_by_territory,
    footer_text,
    nice_length,
    page_spec,
    paginate,
    parallel_scale_factor,
    scale_bar,
    scale_text,
    territory_summaries,
)


def four_territory_project() -> Project:
    """8 x 4 boxes of 2 degrees (-112..-96 E, 32..40 N); territory k = columns 2k-2, 2k-1; 3 accounts per box."""
    ids, boxes, plan = [], [], {}
    for j in range(4):
        for i in range(8):
            ids.append(f"c{i}r{j}")
            boxes.append(shapely.box(-112 + 2 * i, 32 + 2 * j, -110 + 2 * i, 34 + 2 * j))
            plan[f"c{i}r{j}"] = f"T{i // 2 + 1}"
    units = gpd.GeoDataFrame({"unit_id": ids, "name": ids, "area_km2": 1.0, "locked": False}, geometry=boxes, crs=CRS)
    rows = []
    for k, u in enumerate(ids):
        i, j = k % 8, k // 8
        for n in range(3):
            rows.append({"account_id": f"A{k:02d}{n}", "name": f"Account {k}-{n}", "segment": "ABC"[n],
                         "industry": "Retail", "size_class": "Small", "potential": float(1000 * (k + 1) + n),
                         "visit_frequency_weeks": [1, 2, 4][n], "service_minutes": 60.0, "open_minute": 480,
                         "close_minute": 1020, "zip": "", "unit_id": u, "lon": -111 + 2 * i + 0.5 * (n - 1),
                         "lat": 33 + 2 * j})
    acc = pd.DataFrame(rows)
    accounts = gpd.GeoDataFrame(acc.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(acc.lon, acc.lat),
                                crs=CRS)
    reps = gpd.GeoDataFrame({"rep_id": ["R1", "R2", "R3", "R4"],
                             "name": ["Ann Archer", "Bob Baker", "Cid Carter", "Dee Dunn"], "capacity_hours": 1600.0,
                             "skills": "", "work_start_minute": 480, "work_end_minute": 1020, "zip": ""},
                            geometry=gpd.points_from_xy([-110, -106, -102, -98], [36.5] * 4), crs=CRS)
    names = {"T1": "Mesa", "T2": "Canyon", "T3": "Prairie", "T4": "Riverside"}
    colours = {"T1": "#e15759", "T2": "#4e79a7", "T3": "#59a14f", "T4": "#f28e2b"}
    territories = pd.DataFrame([{"scenario_id": "base", "territory_id": t, "name": names[t], "colour": colours[t],
                                 "rep_id": f"R{t[1]}", "parent_id": None, "level": "territory",
                                 "kind": "geographic", "rule": None} for t in names])
    return Project(name="Four", units=units, accounts=accounts, reps=reps, territories=territories,
                   plans={"base": Plan(plan)})


def test_page_sizes_and_orientation():
    assert page_spec("letter") == page_spec("LETTER", False)
    s = page_spec("letter", landscape=True)
    assert (s.width_mm, s.height_mm) == (279.4, 215.9) and s.landscape
    assert (page_spec("a4").width_mm, page_spec("a4").height_mm) == (210.0, 297.0)
    assert (page_spec("tabloid", True).width_mm, page_spec("legal").height_mm) == (431.8, 355.6)
    c = page_spec("24x36in")
    assert c.name == "custom" and math.isclose(c.width_mm, 609.6) and math.isclose(c.height_mm, 914.4)
    assert page_spec("600x400mm", landscape=False).width_mm == 400.0
    for bad in ("b5", "10x10mm", "3000x100", "axb"):
        with pytest.raises(InvalidInputError):
            page_spec(bad)


def test_nice_length_against_brute_force():
    rng = np.random.default_rng(3)
    candidates = sorted(m * 10.0 ** e for e in range(-3, 8) for m in (1, 2, 2.5, 5))
    for limit in rng.uniform(0.01, 5e6, 300):
        best = max(c for c in candidates if c <= limit)
        assert math.isclose(nice_length(limit), best, rel_tol=1e-12)


def test_scale_bar_is_true_against_geodesic_distance_between_centroids():
    # two unit centroids on one row near the map centre, as a manager would measure them
    p = four_territory_project()
    boxes = p.units.set_index("unit_id").geometry
    a, b = shapely.centroid(boxes["c2r2"]), shapely.centroid(boxes["c5r2"])  # box centres in lon/lat
    geod = pyproj.Geod(ellps="GRS80")
    _, _, ground_m = geod.inv(a.x, a.y, b.x, b.y)
    t = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:5070", always_xy=True)
    (ax, ay), (bx, by) = t.transform(a.x, a.y), t.transform(b.x, b.y)
    projected_m = math.hypot(bx - ax, by - ay)
    mm_per_projected_m = 1.0 / 5000.0  # 1 : 5,000,000 in the projected plane
    paper_mm = projected_m * mm_per_projected_m
    k = parallel_scale_factor("EPSG:5070", (a.x + b.x) / 2, (a.y + b.y) / 2)
    for units, unit_m in (("mi", METRES_PER_MILE), ("km", 1000.0)):
        bar = scale_bar(mm_per_projected_m, k, 40.0, units)
        bar_mm_per_ground_m = bar.length_mm / (bar.length * unit_m)
        assert paper_mm / ground_m == pytest.approx(bar_mm_per_ground_m, rel=5e-3)
        assert bar.length_mm <= 40.0 and bar.length_mm > 40.0 / 2.6  # the longest round bar that fits
    # without the scale factor the bar would be off by |1 - k| (about 1% at 38 N in EPSG:5070)
    assert abs(1 - k) > 3e-3
    assert scale_text(mm_per_projected_m, 1.0) == "1 : 5,000,000"


def test_territory_summaries_match_plain_sums():
    p = four_territory_project()
    rows = territory_summaries(p)
    assert [r.name for r in rows] == ["Canyon", "Mesa", "Prairie", "Riverside"]  # by name, no hierarchy
    assert [r.number for r in rows] == [1, 2, 3, 4]
    a = p.accounts.assign(territory=p.accounts["unit_id"].map(p.plan.as_dict()))
    hours = 52.0 / a["visit_frequency_weeks"] * a["service_minutes"] / 60.0
    for r in rows:
        mine = a["territory"] == r.territory_id
        assert r.accounts == int(mine.sum()) == 24
        assert r.potential == pytest.approx(float(a.loc[mine, "potential"].sum()))
        assert r.workload_hours == pytest.approx(float(hours[mine].sum()))
        assert r.units == 8
        assert r.rep_name == {"T1": "Ann Archer", "T2": "Bob Baker", "T3": "Cid Carter", "T4": "Dee Dunn"}[r.territory_id]
        labels = dict(r.kpis)
        assert labels["Accounts"] == "24" and labels["Rep"] == r.rep_name


def test_vacant_rep_and_hierarchy_order():
    p = four_territory_project()
    t = p.territories.copy()
    t.loc[t["territory_id"] == "T3", "rep_id"] = None
    t.loc[t["territory_id"].isin(["T3", "T4"]), "parent_id"] = "D1"
    t.loc[t["territory_id"].isin(["T1", "T2"]), "parent_id"] = "D2"
    extra = pd.DataFrame([{"scenario_id": "base", "territory_id": d, "name": n, "colour": None, "rep_id": None,
                           "parent_id": None, "level": "district", "kind": "geographic", "rule": None}
                          for d, n in (("D1", "East"), ("D2", "West"))])
    p.territories = pd.concat([t, extra], ignore_index=True)
    rows = territory_summaries(p)
    assert [(r.group, r.name) for r in rows] == [("East", "Prairie"), ("East", "Riverside"), ("West", "Canyon"),
                                                ("West", "Mesa")]
    assert rows[0].rep_name == "(vacant)"


def test_account_rows_order_and_limit():
    p = four_territory_project()
    rows = accounts_by_territory(p)
    a = p.accounts.assign(territory=p.accounts["unit_id"].map(p.plan.as_dict()))
    for tid, group in a.groupby("territory"):
        expected = group.sort_values(["potential", "account_id"], ascending=[False, True])["account_id"].tolist()
        assert [r[0] for r in rows[tid]] == expected
    first = rows["T1"][0]
    assert first[4] == "$26.0K"  # account 25-2: 1000 * 26 + 2 and first[5] in ("1 wk", "2 wk", "4 wk")
    limited = accounts_by_territory(p, limit=5)
    assert all(len(v) == 5 for v in limited.values())
    assert [r[0] for r in limited["T2"]] == [r[0] for r in rows["T2"][:5]]


def test_paginate_keeps_every_row_once():
    rows = list(range(103))
    pages = paginate(rows, 20, 40)
    assert [len(x) for x in pages] == [20, 40, 40, 3]
    assert functools.reduce(operator.iadd, pages, []) == rows
    assert paginate([], 20, 40) == [[]]
    assert [len(x) for x in paginate(list(range(20)), 20, 40)] == [20]
    with pytest.raises(ValueError):
        paginate(rows, 5, 0)


def test_footer_names_date_file_and_scenario():
    p = four_territory_project()
    p.path = "/data/plans/east.gpkg"
    text = footer_text(p, when=date(2026, 11, 26))
    assert text == "Printed 2026-11-26 · Source: east.gpkg, scenario Base"
    assert "CRM export" in footer_text(p, source="CRM export")
