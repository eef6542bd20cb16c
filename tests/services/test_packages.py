"""Field packages: every file checked with an independent parser, and no other rep's data anywhere."""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import sqlite3
import zipfile
from datetime import date

import gpxpy
import icalendar
import jsonschema
import pyogrio
import pytest
from field_fixtures import HOSTILE, REPS, account_names, data_of, saved_project

from territory_desktop.services.package_data import canonical
from territory_desktop.services.packages import PackageOptions, export_all_packages, export_rep_package
from territory_desktop.services.project import open_project
from territory_desktop.storage.project_file import package_key

START = date(2027, 3, 1)  # a Monday

MANIFEST_SCHEMA = {
    "type": "object",
    "required": ["format", "format_version", "package_id", "rep", "scenario", "plan", "exported", "files",
                 "signature", "package_signature", "app_version", "base_sha256"],
    "properties": {
        "format": {"const": "territory-desktop-field-package"},
        "format_version": {"type": "integer"},
        "package_id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
        "rep": {"type": "object", "required": ["rep_id", "name"]},
        "scenario": {"type": "object", "required": ["scenario_id", "name"]},
        "plan": {"type": "object", "required": ["source", "visits"]},
        "exported": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"},
        "files": {"type": "object", "additionalProperties": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                  "required": ["index.html", "data.js", "accounts.csv", "schedule.ics", "routes.gpx",
                               "territory.gpkg"]},
        "signature": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    },
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("field")
    path = saved_project(folder)
    project = open_project(path)
    key = package_key(path)
    opts = PackageOptions(key=key, start=START, weeks=1, time_limit=0.3)
    packages = export_all_packages(project, folder / "out", opts)
    return path, key, {p.name: p for p in packages}


def test_one_package_per_rep_with_every_file(exported) -> None:
    _, _, packages = exported
    assert sorted(packages) == list(REPS)
    for p in packages.values():
        names = {f.name for f in p.iterdir()}
        assert {"index.html", "data.js", "app.js", "app.css", "manifest.json", "accounts.csv", "schedule.ics",
                "routes.gpx", "territory.gpkg", "vendor"} <= names


def test_manifest_schema_hashes_and_signature(exported) -> None:
    path, key, packages = exported
    manifest = json.loads((packages["r2"] / "manifest.json").read_text())
    jsonschema.validate(manifest, MANIFEST_SCHEMA)
    assert manifest["rep"] == {"rep_id": "r2", "name": "Sam Norrow"}
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((packages["r2"] / name).read_bytes()).hexdigest() == digest, name
    unsigned = {k: v for k, v in manifest.items() if k != "signature"}
    expected = hmac.new(key, json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode(),
                        hashlib.sha256).hexdigest()
    assert manifest["signature"] == expected
    # the key itself is in no file of the package
    for f in packages["r2"].rglob("*"):
        if f.is_file():
            assert key.hex().encode() not in f.read_bytes() and key not in f.read_bytes()
    stored = sqlite3.connect(path).execute("SELECT value FROM td_meta WHERE key='package_key'").fetchone()[0]
    assert bytes.fromhex(stored) == key and package_key(path) == key  # kept, not made anew


def test_no_other_reps_data_in_any_file(exported) -> None:
    _, _, packages = exported
    for rep, folder in packages.items():
        for other in REPS:
            if other == rep:
                continue
            needles = [*[n.split(" ")[0] for n in account_names(other)][:1], f"{other}-a"]
            needles += {"r2": ["Sam Norrow", "Narwhal secret"], "r1": ["Rita Quill"], "r3": ["Ada Axe"]}[other]
            for f in folder.rglob("*"):
                if f.is_file():
                    blob = f.read_bytes()
                    for needle in needles:
                        assert needle.encode() not in blob, (rep, f.name, needle)
            # the GeoPackage's text is also checked decoded (SQLite pages are plain, but be sure)
            for layer in ("accounts", "units", "planned_visits", "territory"):
                frame = pyogrio.read_dataframe(folder / "territory.gpkg", layer=layer)
                cells = frame.drop(columns="geometry").astype(str).to_numpy().ravel()
                assert not any(f"{other}-a" in c for c in cells)


def test_calendar_and_gpx_parse_with_independent_libraries(exported) -> None:
    _, _, packages = exported
    folder = packages["r1"]
    cal = icalendar.Calendar.from_ical((folder / "schedule.ics").read_bytes())
    events = [c for c in cal.walk() if c.name == "VEVENT"]
    # every account is visited weekly, so the 1-week plan has one visit per account of r1
    assert len(events) == 6
    uids = {str(e["UID"]) for e in events}
    assert len(uids) == 6 and all(u.startswith("visit-r1-r1-a") for u in uids)
    for e in events:
        assert str(e["LOCATION"]) == "60601 West"
        start, end = e.decoded("DTSTART"), e.decoded("DTEND")
        assert START <= start.date() < date(2027, 3, 8) and 0 < (end - start).total_seconds() <= 4 * 3600
    gpx = gpxpy.parse((folder / "routes.gpx").read_text())
    days = {ev.decoded("DTSTART").date().isoformat() for ev in events}
    assert sorted(r.name for r in gpx.routes) == sorted(f"Route {d}" for d in days)
    stops = sum(len(r.points) - 2 for r in gpx.routes)  # home at both ends
    assert stops == 6
    for r in gpx.routes:
        assert (r.points[0].latitude, r.points[0].longitude) == (41.9, -87.75)
        assert all(-87.8 < p.longitude < -87.7 for p in r.points[1:-1])


def test_geopackage_layers_read_by_gdal(exported) -> None:
    _, _, packages = exported
    gpkg = packages["r3"] / "territory.gpkg"
    layers = dict(pyogrio.list_layers(gpkg))
    assert {"territory", "units", "accounts", "planned_visits"} <= set(layers)
    acc = pyogrio.read_dataframe(gpkg, layer="accounts")
    assert sorted(acc["account_id"]) == [f"r3-a{k}" for k in range(6)]
    assert acc.crs.to_epsg() == 4326
    units = pyogrio.read_dataframe(gpkg, layer="units")
    assert list(units["unit_id"]) == ["u2"]
    terr = pyogrio.read_dataframe(gpkg, layer="territory")
    assert terr.geometry.iloc[0].bounds == pytest.approx((-87.6, 41.85, -87.5, 41.95))
    visits = pyogrio.read_dataframe(gpkg, layer="planned_visits")
    assert len(visits) == 6 and set(visits["rep_id"]) == {"r3"}
    import xml.etree.ElementTree as ET

    with sqlite3.connect(gpkg) as db:
        styles = db.execute("SELECT f_table_name, styleQML, useAsDefault FROM layer_styles").fetchall()
        contents = {r[0] for r in db.execute("SELECT table_name FROM gpkg_contents")}
    assert sorted(s[0] for s in styles) == ["accounts", "planned_visits", "territory", "units"]
    assert all(s[2] == 1 and ET.fromstring(s[1].split("\n", 1)[1]).tag == "qgis" for s in styles)
    assert "layer_styles" in contents


def test_accounts_csv_is_formula_safe_and_app_data_escaped(exported) -> None:
    _, _, packages = exported
    folder = packages["r1"]
    with open(folder / "accounts.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6
    hostile = [r for r in rows if "HYPERLINK" in r["name"]]
    assert hostile[0]["name"] == "'" + HOSTILE
    text = (folder / "data.js").read_text()
    assert "<img" not in text and "\\u003cimg" in text  # no text can close the script element
    assert any(a["name"] == HOSTILE for a in data_of(folder)["accounts"])
    app = (folder / "app.js").read_text()
    assert "innerHTML" not in app and "insertAdjacentHTML" not in app


def test_zip_package_and_saved_plan(tmp_path, exported) -> None:
    path, key, _ = exported
    project = open_project(path)
    from territory_desktop.services.routing import plan_rep_visits, store_visit_plan

    store_visit_plan(project, plan_rep_visits(project, "r2", START, weeks=1, time_limit=0.3))
    out = export_rep_package(project, "r2", tmp_path / "r2.zip", PackageOptions(key=key, zip=True))
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        for name, digest in manifest["files"].items():
            assert hashlib.sha256(zf.read(name)).hexdigest() == digest
    assert {"index.html", "data.js", "vendor/leaflet/leaflet.js", "vendor/leaflet/LICENSE"} <= names
    assert manifest["plan"]["source"] == "saved plan" and manifest["plan"]["visits"] == 6
    assert canonical({"b": 1, "a": [1.5]}) == b'{"a":[1.5],"b":1}'


def test_all_in_two_processes_matches_one(tmp_path, exported) -> None:
    path, key, packages = exported
    project = open_project(path)
    opts = PackageOptions(key=key, start=START, weeks=1, time_limit=0.3, zip=True)
    written = export_all_packages(project, tmp_path / "two", opts, jobs=2)
    assert [p.name for p in written] == ["r1.zip", "r2.zip", "r3.zip"]
    for p in written:
        with zipfile.ZipFile(p) as zf:
            manifest = json.loads(zf.read("manifest.json"))
            accounts = json.loads(zf.read("data.js").decode().split("=", 1)[1].rstrip().rstrip(";"))["accounts"]
        single = json.loads((packages[p.stem] / "manifest.json").read_text())
        assert manifest["rep"] == single["rep"] and manifest["accounts"] == single["accounts"] == len(accounts)
        assert manifest["base_sha256"] == single["base_sha256"]
