"""Importers: good files in every format, and broken ones reported row by row with nothing changed."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from territory_desktop.models import CRS, InvalidInputError, Project
from territory_desktop.services.importing import import_accounts, import_reps, import_units

HEADER = "Account ID,Name,Latitude,Longitude,Potential,Segment\n"


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def grid_units(make_grid):
    return make_grid


@pytest.fixture
def unit_project(make_grid):
    def make() -> Project:
        p = Project()
        p.units = make_grid()
        return p
    return make


# ------------------------------------------------------------------------------------------ accounts

def test_csv_with_lat_lon_is_mapped_by_name_and_placed(tmp_path, unit_project):
    path = write(tmp_path, "a.csv", HEADER + "a1,Alpha,40.5,-99.5,100,A\na2,Beta,42.5,-97.5,,B\n")
    p = unit_project()
    report = import_accounts(p, path)
    assert report.rows == 2 and report.outside == []
    assert p.accounts["account_id"].tolist() == ["a1", "a2"]
    assert p.accounts["unit_id"].tolist() == ["u0", "u8"]  # south-west and north-east squares
    assert p.accounts["potential"].tolist() == [100.0, 0.0]  # blank -> the field's default
    assert p.accounts["segment"].tolist() == ["A", "B"]


def test_zip_code_column_is_geocoded_offline_with_leading_zeros_restored(tmp_path):
    path = write(tmp_path, "a.csv", "id,company,zip\nx1,Boston Co,2108\nx2,Beverly Hills Co,90210-1234\n")
    p = Project()
    report = import_accounts(p, path)
    assert p.accounts["zip"].tolist() == ["02108", "90210"]
    lat = p.accounts.geometry.y.to_numpy()
    lon = p.accounts.geometry.x.to_numpy()
    assert abs(lat[0] - 42.36) < 0.1 and abs(lon[0] + 71.06) < 0.1  # Boston, MA
    assert abs(lat[1] - 34.09) < 0.1 and abs(lon[1] + 118.41) < 0.1  # Beverly Hills, CA
    assert any("ZIP code's centroid" in n for n in report.notes)


def test_xlsx_accounts_with_explicit_mapping(tmp_path, unit_project):
    path = tmp_path / "a.xlsx"
    pd.DataFrame({"Cust No": ["k1", "k2"], "Y": [41.5, 40.5], "X": [-98.5, -97.5], "Value": [5, 7]}).to_excel(
        path, index=False, sheet_name="Accounts")
    p = unit_project()
    import_accounts(p, path, mapping={"account_id": "Cust No", "lat": "Y", "lon": "X", "potential": "Value"})
    assert p.accounts["unit_id"].tolist() == ["u4", "u2"]
    assert p.accounts["potential"].tolist() == [5.0, 7.0]


def test_accounts_outside_every_unit_are_kept_and_reported(tmp_path, unit_project):
    path = write(tmp_path, "a.csv", HEADER + "in,In,40.5,-99.5,1,A\nout,Out,10.0,10.0,1,A\n")
    p = unit_project()
    report = import_accounts(p, path)
    assert report.outside == ["out"]
    assert len(p.accounts) == 2 and p.accounts["unit_id"].tolist()[1] is None
    assert any("outside every unit" in line for line in report.lines())


def test_every_bad_row_is_reported_at_once_and_nothing_changes(tmp_path, grid_project):
    text = HEADER + ("a1,Alpha,40.5,-99.5,100,A\n"
                     "a2,Beta,forty,-99.5,50,A\n"      # row 3: bad latitude
                     "a3,Gamma,40.5,-99.5,lots,A\n"    # row 4: bad number
                     "a1,Again,40.5,-99.5,1,A\n"       # row 5: duplicate id
                     ",Nobody,40.5,-99.5,1,A\n"        # row 6: empty id
                     "a6,Far,95,-99.5,1,A\n")          # row 7: latitude out of range
    path = write(tmp_path, "a.csv", text)
    before = grid_project.accounts.copy()
    with pytest.raises(InvalidInputError) as info:
        import_accounts(grid_project, path)
    found = {(p.row, p.column) for p in info.value.problems}
    assert found == {(3, "Latitude"), (4, "Potential"), (5, "Account ID"), (6, "Account ID"), (7, "Latitude")}
    message = str(info.value)
    assert "row 4, column 'Potential': 'lots' is not a number" in message
    assert "duplicate id 'a1' (first on row 2)" in message
    assert "nothing was imported" in message
    pd.testing.assert_frame_equal(grid_project.accounts, before)


def test_missing_columns_are_named(tmp_path):
    with pytest.raises(InvalidInputError, match=r"no coordinates.*columns: id, name"):
        import_accounts(Project(), write(tmp_path, "a.csv", "id,name\n1,x\n"))
    with pytest.raises(InvalidInputError, match="no id column found"):
        import_accounts(Project(), write(tmp_path, "b.csv", "title,lat,lon\nx,40,-100\n"))
    with pytest.raises(InvalidInputError, match=r"column 'Nope': .*not in the file"):
        import_accounts(Project(), write(tmp_path, "c.csv", HEADER + "a,b,40,-100,1,A\n"),
                        mapping={"potential": "Nope"})


@pytest.mark.parametrize("content, message", [("", "the file is empty"), (HEADER, "no data rows")])
def test_empty_files(tmp_path, content, message):
    with pytest.raises(InvalidInputError, match=message):
        import_accounts(Project(), write(tmp_path, "a.csv", content))


def test_malformed_rows_are_listed_with_line_numbers(tmp_path):
    path = write(tmp_path, "a.csv", HEADER + "a1,A,40,-100,1,A\na2,B,40,-100,1,A,extra\na3,C,40,-100,1,A\n"
                                             "a4,D,40\n")
    with pytest.raises(InvalidInputError) as info:
        import_accounts(Project(), path)
    assert [(p.row, p.reason) for p in info.value.problems] == [
        (3, "has 7 fields, the header has 6"), (5, "has 3 fields, the header has 6")]


def test_non_utf8_csv_is_read_as_windows_1252_with_a_note(tmp_path, unit_project):
    path = write(tmp_path, "a.csv", HEADER + "a1,Café Müller,40.5,-99.5,1,A\n", encoding="cp1252")
    p = unit_project()
    report = import_accounts(p, path)
    assert p.accounts["name"].tolist() == ["Café Müller"]
    assert any("not UTF-8" in n and "line 2" in n for n in report.notes)


def test_unknown_zip_is_reported(tmp_path):
    with pytest.raises(InvalidInputError, match="row 3, column 'zip': ZIP code '00000' is not a known US ZIP"):
        import_accounts(Project(), write(tmp_path, "a.csv", "id,zip\nk1,10001\nk2,00000\n"))


def test_reps_import_from_home_zip(tmp_path):
    p = Project()
    import_reps(p, write(tmp_path, "r.csv", "Rep ID,Rep Name,Home ZIP,Capacity\nr1,Ann,60601,1500\n"))
    assert p.reps.iloc[0]["name"] == "Ann" and p.reps.iloc[0]["capacity_hours"] == 1500.0
    assert abs(p.reps.geometry.y.iloc[0] - 41.88) < 0.1  # Chicago


# ---------------------------------------------------------------------------------------------- units

@pytest.mark.parametrize("driver, suffix", [("GeoJSON", ".geojson"), ("ESRI Shapefile", ".shp"),
                                            ("GPKG", ".gpkg"), ("KML", ".kml")])
def test_units_from_every_format(tmp_path, driver, suffix, grid_units):
    units = grid_units().rename(columns={"unit_id": "CODE", "name": "LABEL"})[["CODE", "LABEL", "geometry"]]
    path = tmp_path / f"units{suffix}"
    units.to_file(path, driver=driver, engine="pyogrio")
    p = Project()
    id_col, name_col = ("CODE", "LABEL") if driver != "KML" else ("Name", "Description")
    if driver == "KML":  # KML keeps a Name and a Description per placemark
        units = units.rename(columns={"CODE": "Name", "LABEL": "Description"})
        units.to_file(path, driver="KML", engine="pyogrio")
    report = import_units(p, path, id_col, name_col)
    assert report.rows == 9
    assert p.units["unit_id"].tolist() == [f"u{k}" for k in range(9)]
    assert p.units["name"].tolist() == [f"Unit {k}" for k in range(9)]
    assert p.units.crs == CRS
    assert shapely.equals_exact(p.units.geometry.iloc[4].normalize(),
                                shapely.box(-99, 41, -98, 42).normalize(), tolerance=1e-9)
    # 1 x 1 degree at latitude 41.5: about 111.3 km x 83.4 km
    assert 9000 < p.units["area_km2"].iloc[4] < 9600


def test_units_in_another_crs_are_reprojected(tmp_path, grid_units):
    units = grid_units().to_crs("EPSG:5070")
    path = tmp_path / "albers.shp"
    units.to_file(path, engine="pyogrio")
    p = Project()
    report = import_units(p, path, "unit_id", "name")
    assert any("reprojected from EPSG:5070" in n for n in report.notes)
    centroid = p.units.geometry.iloc[0].centroid
    assert abs(centroid.x + 99.5) < 1e-6 and abs(centroid.y - 40.5) < 1e-6


def test_units_without_crs_need_one_when_not_lon_lat(tmp_path, grid_units):
    units = grid_units().to_crs("EPSG:5070").set_crs(None, allow_override=True)
    path = tmp_path / "nocrs.shp"
    units.to_file(path, engine="pyogrio")
    with pytest.raises(InvalidInputError, match=r"no CRS.*pass --crs"):
        import_units(Project(), path, "unit_id")
    p = Project()
    import_units(p, path, "unit_id", source_crs="EPSG:5070")
    assert abs(p.units.geometry.iloc[0].centroid.x + 99.5) < 1e-6


def test_invalid_geometry_is_repaired_and_reported(tmp_path, grid_units):
    units = grid_units()
    bowtie = shapely.Polygon([(-100, 40), (-99, 41), (-99, 40), (-100, 41), (-100, 40)])
    units.loc[0, "geometry"] = bowtie
    path = tmp_path / "u.geojson"
    units.to_file(path, engine="pyogrio")
    p = Project()
    report = import_units(p, path, "unit_id")
    assert report.notes[0] == "1 invalid geometries were repaired"
    assert any("u0" in n and "Self-intersection" in n for n in report.notes)
    assert p.units.geometry.iloc[0].is_valid
    assert abs(p.units.geometry.iloc[0].area - 0.5) < 1e-9  # both triangles of the bow-tie kept


def test_bad_units_are_all_reported(tmp_path, grid_units):
    units = grid_units()
    units.loc[1, "unit_id"] = "u0"            # duplicate id
    units.loc[2, "unit_id"] = None            # empty id
    units = units.astype({"geometry": object})
    frame = gpd.GeoDataFrame(units.drop(columns="geometry"),
                             geometry=[*units.geometry[:3], shapely.Point(0, 0), *units.geometry[4:]], crs=CRS)
    path = tmp_path / "u.gpkg"
    frame.to_file(path, engine="pyogrio")
    with pytest.raises(InvalidInputError) as info:
        import_units(Project(), path, "unit_id")
    assert {(p.row, p.column) for p in info.value.problems} == {(2, "unit_id"), (3, "unit_id"), (4, "geometry")}
    with pytest.raises(InvalidInputError, match=r"no such id column.*columns: unit_id, name"):
        import_units(Project(), path, "GEOID")


def test_replacing_units_keeps_assignments_and_replaces_accounts(grid_project, tmp_path, grid_units):
    units = grid_units(2, 3)  # a 2x3 grid: ids u0..u5; u6..u8 are gone
    path = tmp_path / "u.geojson"
    units.to_file(path, engine="pyogrio")
    before = grid_project.plan.as_dict()
    report = import_units(grid_project, path, "unit_id", "name", mode="replace")
    assert set(grid_project.plan.as_dict()) == {f"u{k}" for k in range(6)}
    assert all(grid_project.plan.territory_of(u) == before[u] for u in grid_project.plan.as_dict())
    # accounts at x = -97.5 are now outside the 2-column grid
    assert sorted(report.outside) == ["a3", "a4"]
    # a1 at (-99.5, 40.5) lies in the new u0, a2 at (-98.5, 41.5) in the new u3 (2 columns per row)
    assert grid_project.accounts["unit_id"].tolist() == ["u0", "u3", None, None]
