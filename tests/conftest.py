"""Shared fixtures: small real geometries and a small project built from them."""

from __future__ import annotations

import gc
import sys

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from territory_desktop.models import CRS, Plan, Project


def grid_units(nx: int = 3, ny: int = 3, size: float = 1.0, x0: float = -100.0, y0: float = 40.0
               ) -> gpd.GeoDataFrame:
    """nx x ny unit squares of ``size`` degrees, ids u0.. row by row from the south-west corner."""
    boxes = [shapely.box(x0 + i * size, y0 + j * size, x0 + (i + 1) * size, y0 + (j + 1) * size)
             for j in range(ny) for i in range(nx)]
    n = len(boxes)
    return gpd.GeoDataFrame({"unit_id": [f"u{k}" for k in range(n)], "name": [f"Unit {k}" for k in range(n)],
                             "area_km2": 1.0, "locked": False}, geometry=boxes, crs=CRS)


def territory_rows(ids_names: list[tuple[str, str]], scenario: str = "base") -> pd.DataFrame:
    return pd.DataFrame([{"scenario_id": scenario, "territory_id": t, "name": n, "colour": "#4e79a7",
                          "rep_id": None, "parent_id": None, "level": "territory", "kind": "geographic",
                          "rule": None} for t, n in ids_names])


@pytest.fixture(autouse=True)
def _garbage_collected_in_the_main_thread():
    """Qt wrappers must die in the GUI thread: collect before each test, and let no automatic collection
    run (in a worker thread, freeing a dead widget deadlocks on the GIL) until the test ends."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    yield
    _delete_deferred_qt_objects()
    if was_enabled:
        gc.enable()
    gc.collect()


def _delete_deferred_qt_objects() -> None:
    """Delete the Qt objects a test's teardown closed with ``deleteLater`` (a window) now, before the
    collection above frees their wrappers. Left pending, they were deleted in the next test's first
    event loop turn while the Python wrappers of their C++-made children (menus, toggle actions) still
    lived: a C++ object made after that at the same address came back as the dead object's wrapper,
    of another type ("QMenu.addAction called with wrong argument types", seen at random in CI)."""
    core = sys.modules.get("PySide6.QtCore")  # no Qt imported: nothing to delete
    if core is not None and core.QCoreApplication.instance() is not None:
        core.QCoreApplication.sendPostedEvents(None, core.QEvent.Type.DeferredDelete.value)


@pytest.fixture
def make_grid():
    """The :func:`grid_units` factory, for tests that need grids of other sizes."""
    return grid_units


@pytest.fixture
def grid_project() -> Project:
    """3x3 grid, 4 accounts, 1 rep, two territories: west (columns 0-1) and east (column 2)."""
    p = Project(name="grid")
    p.units = grid_units()
    p.accounts = gpd.GeoDataFrame(
        {"account_id": ["a1", "a2", "a3", "a4"], "name": ["Alpha", "Beta", "Gamma", "Delta"],
         "segment": ["A", "B", "C", "C"], "industry": ["Retail"] * 4, "size_class": ["Small"] * 4,
         "potential": [100.0, 50.0, 25.0, 10.0], "visit_frequency_weeks": [1, 2, 4, 0],
         "service_minutes": [60.0, 30.0, 30.0, 30.0], "open_minute": 480, "close_minute": 1020,
         "zip": "", "unit_id": ["u0", "u4", "u8", "u2"]},
        geometry=gpd.points_from_xy([-99.5, -98.5, -97.5, -97.5], [40.5, 41.5, 42.5, 40.5]), crs=CRS)
    p.reps = gpd.GeoDataFrame({"rep_id": ["r1"], "name": ["Rita"], "capacity_hours": [1600.0], "skills": [""],
                               "work_start_minute": [480], "work_end_minute": [1020], "zip": [""]},
                              geometry=gpd.points_from_xy([-99.5], [40.5]), crs=CRS)
    p.territories = territory_rows([("W", "West"), ("E", "East")])
    p.plans = {"base": Plan({f"u{k}": ("E" if k % 3 == 2 else "W") for k in range(9)})}
    p.mark_dirty("units", "accounts", "reps", "territories", "scenarios", "plans")
    return p


@pytest.fixture
def three_reps_project(grid_project) -> Project:
    """:func:`grid_project` with Rita (r1) on West, Sam (r2) on East and Tao (r3) without a territory, all
    living at (-99.5, 40.5)."""
    p = grid_project
    p.reps = gpd.GeoDataFrame({"rep_id": ["r1", "r2", "r3"], "name": ["Rita", "Sam", "Tao"],
                               "capacity_hours": 1600.0, "skills": "", "work_start_minute": 480,
                               "work_end_minute": 1020, "zip": ""},
                              geometry=gpd.points_from_xy([-99.5] * 3, [40.5] * 3), crs=CRS)
    p.territories["rep_id"] = ["r1", "r2"]
    return p
