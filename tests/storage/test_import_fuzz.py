"""Property-based fuzzing of every importer (CSV, XLSX, vector): a clear InvalidInputError or
ProjectFileError, or a correct import; never another exception, never a hang.

Seeded (``derandomize``) and bounded (examples, per-example deadline, a pytest timeout per test), so the
file runs in well under a minute and fails the same way every time.
"""

from __future__ import annotations

import json
import math
import string

import numpy as np
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from territory_desktop.models import InvalidInputError, Project, ProjectFileError
from territory_desktop.models.fields import ACCOUNT_FIELDS
from territory_desktop.services.importing import import_accounts, import_units

CLEAN_ERRORS = (InvalidInputError, ProjectFileError)
FUZZ = settings(max_examples=150, deadline=20_000,  # ms per example: generous for a loaded machine
                derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# ----------------------------------------------------------------------------------------- strategies

ODD_TEXT = st.text(alphabet=st.sampled_from([*string.printable, "\u200b", "\u00a0", "é", "漢", "\ufeff",
                                             '"', ",", "\r", "\n", "\t", "="]),
                   max_size=12)
NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**25, 10**25),
                    st.sampled_from(["1e309", "-0", "0x10", "1,5", "  7 ", "", "NaN", "inf", "1e20"]))
SAFE_ID = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=8)
HEADERS = ["id", "account_id", "name", "lat", "lon", "potential", "zip", "visit_frequency_weeks",
           "open_minute", "close_minute", "service_minutes", "segment", "", "Lat", "notes"]


@st.composite
def csv_files(draw) -> tuple[bytes, list[list[str]]]:
    """A CSV table of odd cells, in a random dialect and encoding; returns bytes and the rows (header first)."""
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=7))
    cell = st.one_of(ODD_TEXT, NUMBERS.map(str), SAFE_ID)
    rows = draw(st.lists(st.lists(cell, min_size=0, max_size=len(header) + 1), max_size=8))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines = [",".join(_quote(c) for c in row) for row in [header, *rows]]
    text = ending.join(lines) + draw(st.sampled_from(["", ending, ending * 2]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    try:
        return text.encode(encoding), [header, *rows]
    except UnicodeEncodeError:
        return text.encode("utf-8"), [header, *rows]


def _quote(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\r\n') else cell


@st.composite
def good_tables(draw) -> list[tuple[str, float, float, float]]:
    """Rows (id, lat, lon, potential) of a valid table: unique ids, coordinates and potentials in range."""
    ids = draw(st.lists(SAFE_ID, min_size=1, max_size=10, unique=True))
    coord = st.floats(-89.9, 89.9, allow_nan=False)
    return [(i, draw(coord), draw(st.floats(-179.9, 179.9)), draw(st.floats(0, 1e12))) for i in ids]


def check_accounts(project: Project) -> None:
    """What every successful import guarantees: unique non-empty ids, coordinates on Earth, ranges kept."""
    accounts = project.accounts
    ids = accounts["account_id"].astype(str)
    assert ids.is_unique and (ids != "").all()
    assert np.all(np.abs(accounts.geometry.y.to_numpy()) <= 90)
    assert np.all(np.abs(accounts.geometry.x.to_numpy()) <= 180)
    for f in ACCOUNT_FIELDS:
        if f.kind in ("real", "int"):
            values = accounts[f.name].to_numpy(float)
            assert np.all(np.isfinite(values)) and np.all((values >= f.low) & (values <= f.high)), f.name


def import_or_refuse(path) -> None:
    """Import accounts from ``path``: a clean error with nothing imported, or a correct import."""
    project = Project()
    try:
        import_accounts(project, path)
    except CLEAN_ERRORS as exc:
        assert str(exc)
        assert len(project.accounts) == 0  # nothing imported on error
        return
    check_accounts(project)


# ------------------------------------------------------------------------------------------------ CSV

@pytest.mark.timeout(120)
@FUZZ
@given(data=csv_files())
def test_fuzzed_csv_is_imported_or_refused_clearly(tmp_path, data):
    raw, _rows = data
    path = tmp_path / "fuzz.csv"
    path.write_bytes(raw)
    import_or_refuse(path)


@pytest.mark.timeout(120)
@FUZZ
@given(raw=st.binary(max_size=3000))
def test_random_bytes_as_csv_never_crash(tmp_path, raw):
    path = tmp_path / "bytes.csv"
    path.write_bytes(raw)
    import_or_refuse(path)


@pytest.mark.timeout(120)
@FUZZ
@given(rows=good_tables(), ending=st.sampled_from(["\n", "\r\n", "\r"]),
       encoding=st.sampled_from(["utf-8", "utf-16", "utf-8-sig"]))
def test_valid_tables_import_exactly_their_values(tmp_path, rows, ending, encoding):
    text = ending.join(["id,lat,lon,potential", *[f"{i},{la!r},{lo!r},{p!r}" for i, la, lo, p in rows]]) + ending
    path = tmp_path / "good.csv"
    path.write_bytes(text.encode(encoding))
    project = Project()
    import_accounts(project, path)
    accounts = project.accounts
    assert accounts["account_id"].tolist() == [r[0] for r in rows]
    assert accounts.geometry.y.tolist() == [r[1] for r in rows]
    assert accounts.geometry.x.tolist() == [r[2] for r in rows]
    assert accounts["potential"].tolist() == [r[3] for r in rows]


# ----------------------------------------------------------------------------------------------- XLSX

XLSX_CELL = st.one_of(st.none(), ODD_TEXT, st.floats(allow_nan=False, allow_infinity=False),
                      st.integers(-10**12, 10**12), st.booleans(),
                      st.sampled_from(["=1/0", "=A1+1", "#DIV/0!", "#N/A", "#VALUE!"]))


@pytest.mark.timeout(120)
@settings(FUZZ, max_examples=60)
@given(header=st.lists(st.sampled_from([*HEADERS, None]), min_size=1, max_size=6),
       rows=st.lists(st.lists(XLSX_CELL, max_size=7), max_size=6), merge=st.booleans(),
       far=st.sampled_from([None, (200, 3), (5, 300)]))
def test_fuzzed_xlsx_is_imported_or_refused_clearly(tmp_path, header, rows, merge, far):
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in [header, *rows]:
        ws.append([_xlsx_safe(v) for v in row])
    if merge and len(rows) >= 2:
        ws.merge_cells(start_row=2, start_column=1, end_row=3, end_column=1)
    if far:
        ws.cell(row=far[0], column=far[1], value="x")
    path = tmp_path / "fuzz.xlsx"
    wb.save(path)
    import_or_refuse(path)


def _xlsx_safe(value):
    """openpyxl refuses control characters in cells; a spreadsheet cannot hold them either."""
    if isinstance(value, str):
        return "".join(c for c in value if c in "\t\n\r" or ord(c) >= 32)
    return value


# --------------------------------------------------------------------------------------------- vector

COORD = st.one_of(st.floats(-200, 200, allow_nan=False), st.sampled_from([1e10, -1e10, 0.0, 90.0, 180.0]))


@st.composite
def geojson_features(draw) -> dict:
    kind = draw(st.sampled_from(["Polygon", "Polygon", "Point", "LineString", None]))
    x, y = draw(COORD), draw(COORD)
    w, h = draw(st.floats(-2, 2, allow_nan=False)), draw(st.floats(-2, 2, allow_nan=False))
    ring = [[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]
    if draw(st.booleans()):
        ring[2] = [x, y + h]  # a degenerate or self-intersecting ring
    geometry = {"Polygon": {"type": "Polygon", "coordinates": [ring]}, "Point": {"type": "Point", "coordinates": [x, y]},
                "LineString": {"type": "LineString", "coordinates": ring[:2]}, None: None}[kind]
    uid = draw(st.one_of(SAFE_ID, st.integers(0, 5), st.none(), st.just("a\u200b1"), st.just("a1")))
    return {"type": "Feature", "properties": {"id": uid, "name": draw(ODD_TEXT)}, "geometry": geometry}


@pytest.mark.timeout(120)
@settings(FUZZ, max_examples=100)
@given(features=st.lists(geojson_features(), max_size=6), crs=st.sampled_from([None, "EPSG:4326", "EPSG:3857",
                                                                               "nonsense"]))
def test_fuzzed_vector_files_are_imported_or_refused_clearly(tmp_path, features, crs):
    path = tmp_path / "fuzz.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    project = Project()
    try:
        import_units(project, path, "id", "name", source_crs=crs)
    except CLEAN_ERRORS:
        assert len(project.units) == 0
        return
    units = project.units
    ids = units["unit_id"].astype(str)
    assert ids.is_unique and (ids != "").all()
    bounds = units.geometry.bounds.to_numpy()
    assert np.all(np.isfinite(bounds)) and np.all(np.abs(bounds[:, [0, 2]]) <= 180)
    assert np.all(np.abs(bounds[:, [1, 3]]) <= 90)
    assert all(g.geom_type in ("Polygon", "MultiPolygon") and g.is_valid for g in units.geometry)
    assert all(math.isfinite(a) and a >= 0 for a in units["area_km2"])


@pytest.mark.timeout(120)
@settings(FUZZ, max_examples=60)
@given(raw=st.binary(max_size=2000), suffix=st.sampled_from([".geojson", ".kml", ".shp", ".zip", ".gpkg", ".csv"]))
def test_random_bytes_as_vector_files_never_crash(tmp_path, raw, suffix):
    path = tmp_path / f"bytes{suffix}"
    path.write_bytes(raw)
    with pytest.raises(CLEAN_ERRORS):
        import_units(Project(), path, "id")
