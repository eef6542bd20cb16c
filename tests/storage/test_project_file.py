"""Storage round trip, GeoPackage conformance as GDAL sees it, migrations, damaged files."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess

import pyogrio
import pytest
import shapely
from sqlalchemy import Column, Text, text

from territory_desktop.models import ProjectFileError
from territory_desktop.models.project import SALES_COLUMNS
from territory_desktop.services.project import open_project, save_project
from territory_desktop.storage import migrations, project_file, schema


def test_round_trip_keeps_every_table(grid_project, tmp_path):
    grid_project.units["population"] = [float(k * 10) for k in range(9)]
    grid_project.plan.set_account_overrides({"a2": "E"})
    grid_project.sales.loc[0] = ["a1", "2026-01", "Core", 12.5]
    grid_project.mark_dirty("sales")
    path = tmp_path / "p.gpkg"
    save_project(grid_project, path)
    p = open_project(path)
    assert p.units["unit_id"].tolist() == [f"u{k}" for k in range(9)]
    assert p.units["population"].tolist() == [float(k * 10) for k in range(9)]  # extra attribute kept
    assert all(a.equals(b) for a, b in zip(p.units.geometry, grid_project.units.geometry, strict=True))
    assert p.accounts["potential"].tolist() == [100.0, 50.0, 25.0, 10.0]
    assert p.accounts["visit_frequency_weeks"].tolist() == [1, 2, 4, 0]
    assert p.accounts.geometry.x.round(6).tolist() == [-99.5, -98.5, -97.5, -97.5]
    assert p.reps["name"].tolist() == ["Rita"]
    assert p.plan.as_dict() == grid_project.plan.as_dict()
    assert p.plan.account_overrides() == {"a2": "E"}
    assert p.sales[SALES_COLUMNS].iloc[0].tolist() == ["a1", "2026-01", "Core", 12.5]
    assert set(p.territories["territory_id"]) == {"W", "E"}
    assert not p.dirty


def test_bulk_insert_batches_keep_every_row_and_blob(grid_project, tmp_path):
    """More rows than one multi-row INSERT holds, with blobs ending in NUL bytes."""
    import geopandas as gpd
    import numpy as np

    n = 1234
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-100, -97, n), rng.uniform(40, 43, n)
    x[:5] = [-99.0, -98.0, -97.5, -99.25, -98.75]  # coordinates whose WKB ends in zero bytes
    grid_project.accounts = gpd.GeoDataFrame(
        {"account_id": [f"k{i}" for i in range(n)], "potential": np.arange(n, dtype=float),
         "visit_frequency_weeks": 4, "service_minutes": 30.0, "unit_id": None},
        geometry=gpd.points_from_xy(x, y), crs="EPSG:4326")
    path = tmp_path / "p.gpkg"
    save_project(grid_project, path)
    p = open_project(path)
    assert p.accounts["account_id"].tolist() == [f"k{i}" for i in range(n)]
    assert p.accounts["potential"].tolist() == list(range(n))
    assert np.array_equal(p.accounts.geometry.x.to_numpy(), x) and np.array_equal(p.accounts.geometry.y, y)


def test_saving_changes_in_place_and_audit_log(grid_project, tmp_path):
    path = tmp_path / "p.gpkg"
    save_project(grid_project, path)
    p = open_project(path)
    p.plan.assign(["u0", "u1"], "E")
    p.mark_dirty("plans")
    p.log("paint", "2 units to E")
    save_project(p)
    q = open_project(path)
    assert q.plan.territory_of("u0") == "E" and q.plan.territory_of("u3") == "W"
    with sqlite3.connect(path) as con:
        rows = con.execute("SELECT action, entity_id, old_territory_id, territory_id FROM audit_log "
                           "ORDER BY fid").fetchall()
    # the logged entry, then one row per changed assignment (schema 4); u2 was E already: no row
    assert rows == [("paint", None, None, None), ("assign unit", "u0", "W", "E"), ("assign unit", "u1", "W", "E")]


def test_gdal_lists_layers_with_crs_and_dissolved_territories(grid_project, tmp_path):
    path = tmp_path / "p.gpkg"
    save_project(grid_project, path)
    layers = dict(pyogrio.list_layers(path))
    assert layers["units"] == "MultiPolygon" and layers["territories"] == "MultiPolygon"
    assert layers["accounts"] == "Point" and layers["reps"] == "Point"
    for layer in ("units", "accounts", "reps", "territories"):
        assert pyogrio.read_info(path, layer=layer)["crs"] == "EPSG:4326"
    terr = pyogrio.read_dataframe(path, layer="territories").set_index("territory_id")
    # west = columns 0-1 of the 3x3 grid of 1-degree squares: one 2x3 rectangle
    assert terr.geometry["W"].equals(shapely.MultiPolygon([shapely.box(-100, 40, -98, 43)]))
    assert terr.loc["W", "units"] == 6 and terr.loc["E", "units"] == 3
    assert terr.loc["W", "accounts"] == 2 and terr.loc["E", "potential"] == 35.0


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin not installed")
def test_ogrinfo_lists_the_spatial_layers(grid_project, tmp_path):
    path = tmp_path / "p.gpkg"
    save_project(grid_project, path)
    out = subprocess.run(["ogrinfo", "-ro", str(path)], capture_output=True, text=True, check=True).stdout
    for line in ("units (Multi Polygon)", "accounts (Point)", "reps (Point)", "territories (Multi Polygon)"):
        assert line in out


def test_territories_layer_refreshes_on_save(grid_project, tmp_path):
    path = tmp_path / "p.gpkg"
    save_project(grid_project, path)
    p = open_project(path)
    p.plan.assign(["u2", "u5", "u8"], "W")  # east column joins the west
    p.mark_dirty("plans")
    save_project(p)
    terr = pyogrio.read_dataframe(path, layer="territories").set_index("territory_id")
    assert terr.geometry["W"].equals(shapely.MultiPolygon([shapely.box(-100, 40, -97, 43)]))
    assert terr.geometry["E"] is None and terr.loc["E", "units"] == 0


NEXT = schema.SCHEMA_VERSION + 1  # a schema version a future release could bring


def _add_column_v2(conn):
    conn.execute(text("ALTER TABLE units ADD COLUMN population REAL DEFAULT 0"))


def test_migration_upgrades_an_older_file_in_one_step(grid_project, tmp_path, monkeypatch):
    path = tmp_path / "p.gpkg"
    save_project(grid_project, path)
    monkeypatch.setitem(migrations.MIGRATIONS, NEXT, _add_column_v2)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", NEXT)
    p = open_project(path)  # opening upgrades to the current schema
    assert len(p.units) == 9
    with sqlite3.connect(path) as con:
        cols = [r[1] for r in con.execute("PRAGMA table_info(units)")]
        version = con.execute("SELECT value FROM td_meta WHERE key='schema_version'").fetchone()[0]
    assert "population" in cols and version == str(NEXT)


def test_failed_migration_leaves_the_file_untouched(grid_project, tmp_path, monkeypatch):
    path = tmp_path / "p.gpkg"
    save_project(grid_project, path)
    before = path.read_bytes()

    def broken(conn):
        conn.execute(text("ALTER TABLE units ADD COLUMN half_done REAL"))
        raise RuntimeError("migration bug")

    monkeypatch.setitem(migrations.MIGRATIONS, NEXT, broken)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", NEXT)
    with pytest.raises(RuntimeError):
        open_project(path)
    with sqlite3.connect(path) as con:
        cols = [r[1] for r in con.execute("PRAGMA table_info(units)")]
    assert "half_done" not in cols
    assert path.read_bytes() == before


def test_newer_schema_is_refused_with_a_clear_message(grid_project, tmp_path):
    path = tmp_path / "p.gpkg"
    save_project(grid_project, path)
    with sqlite3.connect(path) as con:
        con.execute("UPDATE td_meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(ProjectFileError, match="newer Territory Desktop"):
        open_project(path)


@pytest.mark.parametrize("content, message", [
    (b"", "not a GeoPackage"),
    (b"hello, I am a text file" * 10, "not a GeoPackage"),
    (b"SQLite format 3\x00" + b"\x00" * 200, "damaged"),
])
def test_damaged_or_foreign_files_give_project_errors(tmp_path, content, message):
    path = tmp_path / "bad.gpkg"
    path.write_bytes(content)
    with pytest.raises(ProjectFileError, match=message):
        open_project(path)


def test_a_plain_geopackage_is_not_mistaken_for_a_project(tmp_path, grid_project):
    path = tmp_path / "plain.gpkg"
    grid_project.units.to_file(path, engine="pyogrio")
    with pytest.raises(ProjectFileError, match="not a Territory Desktop project"):
        open_project(path)


def test_missing_file(tmp_path):
    with pytest.raises(ProjectFileError, match="no such project file"):
        open_project(tmp_path / "nope.gpkg")


def test_geometry_blob_codec_round_trips_and_rejects_junk():
    from territory_desktop.storage import gpkg

    geoms = [shapely.Point(1, 2), None, shapely.box(0, 0, 1, 1), shapely.Point()]
    blobs = gpkg.encode(geoms)
    back = gpkg.decode(blobs)
    assert back[0].equals(geoms[0]) and back[1] is None and back[2].equals(geoms[2]) and back[3].is_empty
    # the envelope is stored minx, maxx, miny, maxy (GeoPackage order)
    import struct
    assert struct.unpack("<4d", blobs[2][8:40]) == (0.0, 1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="not a GeoPackage geometry"):
        gpkg.decode([b"XX" + blobs[0][2:]])


def test_schema_declares_every_model_field():
    from territory_desktop.models.fields import ACCOUNT_FIELDS, REP_FIELDS, UNIT_FIELDS

    for table, fields in ((schema.units, UNIT_FIELDS), (schema.accounts, ACCOUNT_FIELDS), (schema.reps, REP_FIELDS)):
        assert {f.name for f in fields} <= set(table.columns.keys())
    assert isinstance(schema.meta.c.key, Column) and isinstance(schema.meta.c.key.type, Text)
    assert project_file.ALL_TABLES
