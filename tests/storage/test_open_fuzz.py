"""Property-based fuzzing of project opening: whatever another program or a broken disk did to the file,
opening it gives a project or a ProjectFileError naming the problem, never another exception or a hang.

Each example takes a valid saved project and applies a few hostile edits drawn by hypothesis: values of
the wrong type or out of range in any column, JSON that is not an object, geometry blobs that are junk or
truncated, rows without their business id, dropped tables, and bytes overwritten or cut off in the file.
"""

from __future__ import annotations

import shutil
import sqlite3
import time

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, event, given, seed, settings
from hypothesis import strategies as st

from territory_desktop.models import CRS, Plan, Project, ProjectFileError
from territory_desktop.services.project import open_project, save_project
from territory_desktop.storage import gpkg

TABLES = {
    "units": ["unit_id", "name", "area_km2", "locked", "attrs", "geom"],
    "accounts": ["account_id", "potential", "visit_frequency_weeks", "unit_id", "attrs", "geom"],
    "reps": ["rep_id", "capacity_hours", "work_start_minute", "geom"],
    "territories": ["territory_id", "scenario_id", "rule", "level", "units", "geom", "units_key"],
    "assignments": ["unit_id", "territory_id", "scenario_id"],
    "account_assignments": ["account_id", "territory_id"],
    "scenarios": ["scenario_id", "created", "active"],
    "sales": ["account_id", "amount", "period"],
    "td_meta": ["value"],
}

VALUES = st.one_of(
    st.none(), st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40), st.binary(max_size=60),
    st.sampled_from(["[1, 2]", "{broken", "null", '"text"', "{}", '{"a": [1, {"b": null}]}', "1e999",
                     "<img src=x>", "\x00", "GP\x00\x01", "9999-99-99T99:99:99Z"]),
    st.binary(max_size=40).map(lambda b: b"GP\x00\x01\xe6\x10\x00\x00" + b),  # a header, then junk
)

#: what a message leaking Python's own errors looks like (a person cannot act on these)
PYTHON_INTERNALS = ("Traceback", "int() argument", "invalid literal", "could not convert", "destination is read-only",
                    "has no attribute", "NoneType", "unhashable", "object is not")

EDIT = st.one_of(
    st.tuples(st.just("set"), st.sampled_from(sorted(TABLES)), st.data()),
    st.tuples(st.just("drop"), st.sampled_from(["territories", "assignments", "scenarios", "sales",
                                                "gpkg_contents", "rtree_units_geom"]), st.none()),
    st.tuples(st.just("bytes"), st.integers(0, 200_000), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("truncate"), st.integers(0, 200_000), st.none()),
)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    p = Project(name="fuzz")
    boxes = [shapely.box(-100 + i, 40 + j, -99 + i, 41 + j) for j in range(3) for i in range(3)]
    p.units = gpd.GeoDataFrame({"unit_id": [f"u{k}" for k in range(9)], "name": [f"Unit {k}" for k in range(9)],
                                "area_km2": 1.0, "locked": False}, geometry=boxes, crs=CRS)
    p.accounts = gpd.GeoDataFrame(
        {"account_id": ["a1", "a2"], "name": ["Alpha", "Beta"], "segment": "A", "industry": "", "size_class": "",
         "potential": [1.0, 2.0], "visit_frequency_weeks": [1, 2], "service_minutes": 30.0, "open_minute": 480,
         "close_minute": 1020, "zip": "", "unit_id": ["u0", "u4"]},
        geometry=gpd.points_from_xy([-99.5, -98.5], [40.5, 41.5]), crs=CRS)
    p.territories = pd.DataFrame([{"scenario_id": "base", "territory_id": t, "name": n, "colour": "#4e79a7",
                                   "rep_id": None, "parent_id": None, "level": "territory", "kind": "geographic",
                                   "rule": None} for t, n in (("W", "West"), ("E", "East"))])
    p.plans = {"base": Plan({f"u{k}": ("E" if k % 3 == 2 else "W") for k in range(9)})}
    p.sales.loc[0] = ["a1", "2026-01", "Core", 1.0]
    p.mark_dirty("units", "accounts", "territories", "scenarios", "plans", "sales")
    path = tmp_path_factory.mktemp("fuzz") / "base.gpkg"
    save_project(p, path)
    return path


def _set(con: sqlite3.Connection, table: str, data) -> None:
    column = data.draw(st.sampled_from(TABLES[table]))
    value = data.draw(VALUES)
    rowid = con.execute(f'SELECT min(rowid) FROM "{table}"').fetchone()[0]
    if rowid is not None:
        con.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE rowid = ?', (value, rowid))


def _apply(path, edits) -> None:
    con = sqlite3.connect(path)
    gpkg.register_functions(con)  # as QGIS has them, so the R-tree triggers run
    try:
        for kind, what, arg in edits:
            if kind == "set":
                _set(con, what, arg)
            elif kind == "drop":
                con.execute(f'DROP TABLE IF EXISTS "{what}"')
        con.commit()
    except sqlite3.Error:
        con.rollback()  # the edit itself was refused by SQLite: the file stays valid
    finally:
        con.close()
    for kind, what, arg in edits:
        size = path.stat().st_size
        if kind == "bytes" and size:
            with open(path, "r+b") as fh:
                fh.seek(what % size)
                fh.write(arg)
        elif kind == "truncate" and size:
            with open(path, "r+b") as fh:
                fh.truncate(what % size)


@seed(20261201)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(edits=st.lists(EDIT, min_size=1, max_size=4))
def test_opening_a_damaged_project_is_a_project_or_a_clear_error(saved, tmp_path, edits):
    path = tmp_path / "p.gpkg"
    shutil.copy(saved, path)
    _apply(path, edits)
    started = time.monotonic()
    try:
        project = open_project(path)
    except ProjectFileError as exc:
        event("refused: " + str(exc).split(": ", 1)[-1][:40])
        assert str(exc).strip(), "an error must say what is wrong"
        assert not any(phrase in str(exc) for phrase in PYTHON_INTERNALS), f"not a message for a person: {exc}"
    else:
        event("opened" + (" with notes" if project.open_notes else ""))
        assert len(project.units) <= 9 and project.active_scenario in project.plans
    assert time.monotonic() - started < 30, "opening must not hang"
