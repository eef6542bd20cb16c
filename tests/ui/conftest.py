"""Fixtures for canvas and window tests: an 8 x 5 grid of half-degree units in three territories."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from ui_helpers import COLOURS, NX, NY, SIZE, X0, Y0, centre_lonlat, column_territory, unit_id

from territory_desktop.models import CRS, Plan, Project


@pytest.fixture
def grid8() -> Project:
    """8x5 grid; T1 = columns 0-2, T2 = 3-5, T3 = 6-7; two accounts per unit with known workloads."""
    ids, boxes = [], []
    for j in range(NY):
        for i in range(NX):
            ids.append(unit_id(i, j))
            boxes.append(shapely.box(X0 + i * SIZE, Y0 + j * SIZE, X0 + (i + 1) * SIZE, Y0 + (j + 1) * SIZE))
    units = gpd.GeoDataFrame({"unit_id": ids, "name": [f"Unit {u}" for u in ids], "area_km2": 1.0,
                              "locked": False}, geometry=boxes, crs=CRS)
    rows = []
    rng = np.random.default_rng(1)
    for k, u in enumerate(ids):
        i, j = k % NX, k // NX
        lon, lat = centre_lonlat(i, j)
        for n in range(2):
            rows.append({"account_id": f"A{k:02d}{n}", "name": f"Acct {k}-{n}", "segment": "B",
                         "industry": "Healthcare" if (k + n) % 7 == 0 else "Retail",
                         "size_class": "Enterprise" if n == 0 else "Small",
                         "potential": float(rng.integers(1, 100) * 1000),
                         "visit_frequency_weeks": int(rng.choice([1, 2, 4, 0])),
                         "service_minutes": float(rng.choice([30, 45, 60])),
                         "open_minute": 480, "close_minute": 1020, "zip": "", "unit_id": u,
                         "lon": lon + (n - 0.5) * 0.1, "lat": lat})
    acc = pd.DataFrame(rows)
    accounts = gpd.GeoDataFrame(acc.drop(columns=["lon", "lat"]),
                                geometry=gpd.points_from_xy(acc["lon"], acc["lat"]), crs=CRS)
    reps = gpd.GeoDataFrame({"rep_id": ["R1", "R2"], "name": ["Ann", "Bob"], "capacity_hours": 1600.0,
                             "skills": "", "work_start_minute": 480, "work_end_minute": 1020, "zip": ""},
                            geometry=gpd.points_from_xy([-99.2, -97.6], [38.6, 39.6]), crs=CRS)
    territories = pd.DataFrame([{"scenario_id": "base", "territory_id": t, "name": f"Terr {t}", "colour": c,
                                 "rep_id": "R1" if t == "T1" else None, "parent_id": None, "level": "territory",
                                 "kind": "geographic", "rule": None} for t, c in COLOURS.items()])
    plan = Plan({unit_id(i, j): column_territory(i) for j in range(NY) for i in range(NX)})
    return Project(name="grid8", units=units, accounts=accounts, reps=reps, territories=territories,
                   plans={"base": plan})


@pytest.fixture
def open_window(qtbot, tmp_path):
    """Factory: a shown MainWindow on ``project`` with settings in a temporary file; closed afterwards."""
    from PySide6.QtCore import QSettings

    from territory_desktop.ui.main_window import MainWindow

    windows = []

    def make(project, size=(1200, 800)):
        w = MainWindow(project, settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        w.resize(*size)
        w.show()
        qtbot.waitExposed(w)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.undo_stack.setClean()
        w.close()
        w.deleteLater()
