"""The project file as a GIS user meets it: GDAL's validator, and edits made with GDAL (as QGIS makes them).

These tests drive Debian's GDAL (``gdal-bin`` and ``python3-gdal``, installed by installer/system-packages.sh):
the system ``ogrinfo`` and the system Python's ``osgeo`` bindings and ``validate_gpkg.py``, independent of
our own code. They fail (not skip) in CI when GDAL is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import textwrap
from pathlib import Path

import pytest
import shapely

from territory_desktop.services.project import open_project, save_project
from territory_desktop.storage import schema

SYSTEM_PYTHON = "/usr/bin/python3"
VALIDATOR = Path("/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py")


def _have_gdal() -> bool:
    if shutil.which("ogrinfo") is None or not VALIDATOR.exists():
        return False
    return subprocess.run([SYSTEM_PYTHON, "-c", "from osgeo import ogr"], capture_output=True, check=False).returncode == 0


pytestmark = pytest.mark.skipif(not _have_gdal() and not os.environ.get("CI"),
                                reason="Debian's gdal-bin and python3-gdal are not installed")


def gdal(code: str, *args: str) -> str:
    """Run ``code`` in the system Python with GDAL's bindings (the way QGIS edits: OGR layer API)."""
    script = "from osgeo import ogr, gdal\ngdal.UseExceptions()\nimport sys, json\n" + textwrap.dedent(code)
    done = subprocess.run([SYSTEM_PYTHON, "-c", script, *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def validate(path: Path) -> str:
    done = subprocess.run([SYSTEM_PYTHON, str(VALIDATOR), "-k", str(path)], capture_output=True, text=True, check=False)
    return (done.stdout + done.stderr).strip() + ("" if done.returncode == 0 else f"\n(exit {done.returncode})")


@pytest.fixture
def saved(grid_project, tmp_path) -> Path:
    grid_project.sales.loc[0] = ["a1", "2026-01", "Core", 229_702_700.0]
    grid_project.visits.loc[0] = ["a1", "r1", "2026-02-03", 45.0, "met", ""]
    grid_project.mark_dirty("sales", "visits")
    path = tmp_path / "p.gpkg"
    save_project(grid_project, path)
    return path


def test_gdal_validator_finds_no_error(saved):
    assert validate(saved) == ""
    p = open_project(saved)
    p.plan.assign(["u4"], "E")
    p.mark_dirty("plans")
    save_project(p)
    assert validate(saved) == ""


def test_every_table_is_listed_by_gdal_with_its_description(saved):
    listed = json.loads(gdal("""
        ds = ogr.Open(sys.argv[1])
        print(json.dumps({ds.GetLayer(i).GetName(): ds.GetLayer(i).GetMetadataItem("DESCRIPTION") or ""
                          for i in range(ds.GetLayerCount())}))
    """, str(saved)))
    assert set(listed) == set(schema.LAYERS) | {"layer_styles"}  # + QGIS's styles table, with our styles
    assert all(listed[name] == layer.description for name, layer in schema.LAYERS.items())


def test_types_reach_gdal_as_doubles_dates_and_json(saved):
    types = json.loads(gdal("""
        ds = ogr.Open(sys.argv[1])
        out = {}
        for layer, field in [("accounts", "potential"), ("sales", "amount"), ("visits", "date"),
                             ("accounts", "attrs"), ("scenarios", "created"), ("territories", "rule")]:
            d = ds.GetLayerByName(layer).GetLayerDefn()
            f = d.GetFieldDefn(d.GetFieldIndex(field))
            out[f"{layer}.{field}"] = [ogr.GetFieldTypeName(f.GetType()), ogr.GetFieldSubTypeName(f.GetSubType())]
        lyr = ds.GetLayerByName("sales")
        out["amount"] = lyr.GetNextFeature().GetFieldAsDouble("amount")
        print(json.dumps(out))
    """, str(saved)))
    assert types["accounts.potential"] == ["Real", "None"]  # a double, not Float32
    assert types["amount"] == 229_702_700.0  # survives exactly (Float32 would give 229,702,704)
    assert types["visits.date"][0] == "Date"
    assert types["scenarios.created"][0] == "DateTime"
    assert types["accounts.attrs"] == ["String", "JSON"]
    assert types["territories.rule"] == ["String", "JSON"]


def _fids(path: Path, table: str, key: str) -> dict[str, int]:
    with sqlite3.connect(path) as con:
        return dict(con.execute(f"SELECT {key}, fid FROM {table}").fetchall())


GIS_EDITS = """
    ds = ogr.Open(sys.argv[1], 1)
    # 1. add a column to reps and fill it (QGIS field calculator)
    reps = ds.GetLayerByName("reps")
    reps.CreateField(ogr.FieldDefn("crm_owner", ogr.OFTString))
    for f in reps:
        f.SetField("crm_owner", "owner-" + f.GetField("rep_id"))
        reps.SetFeature(f)
    # 2. move account a1 from unit u0 (-100..-99, 40..41) into unit u1 (-99..-98)
    accounts = ds.GetLayerByName("accounts")
    accounts.SetAttributeFilter("account_id = 'a1'")
    f = accounts.GetNextFeature()
    f.SetGeometry(ogr.CreateGeometryFromWkt("POINT (-98.5 40.5)"))
    accounts.SetFeature(f)
    # 3. delete the territory polygon of E in scenario base
    terr = ds.GetLayerByName("territories")
    terr.SetAttributeFilter("territory_id = 'E' AND scenario_id = 'base'")
    terr.DeleteFeature(terr.GetNextFeature().GetFID())
    # 4. reassign unit u3 to W's neighbour... (an attribute edit in the assignments table)
    asg = ds.GetLayerByName("assignments")
    asg.SetAttributeFilter("unit_id = 'u3'")
    f = asg.GetNextFeature()
    f.SetField("territory_id", "N")
    asg.SetFeature(f)
    ds = None
"""


def test_edits_made_with_gdal_are_honoured_and_kept(saved):
    p = open_project(saved)
    p.territories.loc[len(p.territories)] = ["base", "N", "North", "#59a14f", None, None, "territory",
                                             "geographic", None]
    p.mark_dirty("territories")
    save_project(p)
    # a spatial index built by GDAL itself (as QGIS's "Create spatial index" does), on top of ours
    with sqlite3.connect(saved) as con:
        con.execute("DROP TABLE rtree_reps_geom")
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='trigger' AND name LIKE 'rtree_reps%'"
                                   ).fetchall():
            con.execute(f'DROP TRIGGER "{name}"')
        con.execute("DELETE FROM gpkg_extensions WHERE table_name='reps' AND extension_name='gpkg_rtree_index'")
    gdal("ds = ogr.Open(sys.argv[1], 1)\nds.ExecuteSQL(\"SELECT CreateSpatialIndex('reps', 'geom')\")\nds = None",
         str(saved))
    rep_fids, unit_fids = _fids(saved, "reps", "rep_id"), _fids(saved, "units", "unit_id")
    gdal(GIS_EDITS, str(saved))

    p = open_project(saved)
    notes = "\n".join(p.open_notes)
    assert "a1 (u0 -> u1)" in notes  # the moved account is placed in the unit it now lies in
    assert "territory E is not in the territories layer" in notes and "u2, u5, u8" in notes
    assert p.plan.territory_of("u2") is None  # E's units became orphans, reported
    assert p.plan.territory_of("u3") == "N"  # the edit in assignments is taken as it is
    assert p.accounts.set_index("account_id").loc["a1", "unit_id"] == "u1"

    p.reps.loc[0, "name"] = "Rita Moreno"  # then the planner edits and saves in place, moving Rita's home:
    p.reps.geometry = [shapely.Point(-99.25, 40.75)]  # GDAL's R-tree triggers call ST_IsEmpty, ST_MinX...
    p.mark_dirty("reps")
    save_project(p)
    assert _fids(saved, "reps", "rep_id") == rep_fids and _fids(saved, "units", "unit_id") == unit_fids
    with sqlite3.connect(saved) as con:
        assert con.execute("SELECT name, crm_owner FROM reps").fetchall() == [("Rita Moreno", "owner-r1")]
        counts = dict(con.execute("SELECT table_name, feature_count FROM gpkg_ogr_contents").fetchall())
        actual = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in counts}
        index = con.execute("SELECT minx, maxx, miny, maxy FROM rtree_reps_geom").fetchall()
    assert counts == actual and index == [pytest.approx((-99.25, -99.25, 40.75, 40.75), abs=1e-4)]
    assert validate(saved) == ""
    again = open_project(saved)
    assert again.open_notes == [] and again.plan.territory_of("u3") == "N"


def test_territories_open_in_qgis_styled_for_the_active_scenario(saved):
    import xml.etree.ElementTree as ET

    p = open_project(saved)
    p.scenarios.loc[len(p.scenarios)] = ["alt", "Alt", "", "base", None]
    p.plans["alt"] = type(p.plan)(p.plan.as_dict())
    p.active_scenario = "alt"
    p.mark_dirty("scenarios", "plans")
    save_project(p)
    with sqlite3.connect(saved) as con:
        rows = dict(con.execute("SELECT f_table_name, styleQML FROM layer_styles WHERE useAsDefault").fetchall())
    rule = ET.fromstring(rows["territories"].split("\n", 1)[1]).find(".//rule")
    assert rule.get("filter") == "\"level\" = 'territory' AND \"scenario_id\" = 'alt'"
    fill = ET.fromstring(rows["territories"].split("\n", 1)[1]).find(".//Option[@name='fillColor']")
    assert fill.find("Option[@name='field']").get("value") == "colour"
    assert "units" in rows
    assert validate(saved) == ""


def test_the_readme_ogrinfo_listing_matches_the_file(saved):
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("$ ogrinfo -ro -q demo/demo.gpkg", 1)[1].split("```", 1)[0]
    documented = re.findall(r"(\d+): (\w+) \(([\w ]+)\)", block)
    out = subprocess.run(["ogrinfo", "-ro", "-q", str(saved)], capture_output=True, text=True, check=True).stdout
    actual = re.findall(r"(\d+): (\w+) \(([\w ]+)\)", out)
    assert documented == actual


def test_a_migrated_project_still_passes_the_validator(saved):
    """A migration re-runs the table set-up (schema.create_all): it must not add GeoPackage rows twice."""
    from territory_desktop.storage.project_file import open_engine

    for _ in range(2):
        engine = open_engine(saved)
        with engine.begin() as conn:
            schema.create_all(conn)
        engine.dispose()
    assert validate(saved) == ""
