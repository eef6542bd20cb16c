"""Read geographic units from any vector file GDAL reads (Shapefile, GeoPackage, GeoJSON, KML, ...).

Reading is a chain of small steps, each returning the problems it finds (OSMnx ``_validate.py`` style):
open the file (zip contents checked, every folder of a KML, the text encoding of a ``.dbf`` without
``.cpg`` detected), settle the CRS (``--crs`` checked, a ``.prj`` that does not fit the coordinates
refused), check ids and geometries feature by feature, reproject and check every feature lies within
longitude -180..180 and latitude -90..90. All problems are raised together; nothing is imported on error.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from ..models import CRS, InvalidInputError, RowProblem
from ..models.errors import import_error
from .checks import check_bounds, check_ids, normalise_ids

EQUAL_AREA = "EPSG:6933"  # WGS 84 / NSIDC EASE-Grid 2.0 Global: equal-area, worldwide
POLYGONAL = (3, 6, 7)  # shapely type ids: Polygon, MultiPolygon, GeometryCollection
#: a declared geographic CRS whose coordinates exceed the degree ranges by this much is the wrong CRS
DEGREE_SLACK = 1.0


@dataclass
class UnitsRead:
    """Units in EPSG:4326 with ``unit_id``, ``name``, ``area_km2`` and the file's other columns.

    ``named`` is False when the file gave no name column (names are then the ids)."""

    frame: gpd.GeoDataFrame
    notes: list[str] = field(default_factory=list)
    named: bool = True


def list_layers(path: str | Path) -> list[str]:
    return [str(name) for name, _type in pyogrio.list_layers(path)]


def parse_crs(text: str, option: str = "--crs"):
    """A pyproj CRS from user input ("EPSG:26915", WKT, PROJ string); InvalidInputError if unknown."""
    from pyproj import CRS as ProjCRS
    from pyproj.exceptions import CRSError

    try:
        return ProjCRS.from_user_input(text)
    except (CRSError, TypeError, ValueError) as exc:
        raise import_error(option, [(f"'{text}' is not a coordinate reference system pyproj knows "
                                    f"(e.g. EPSG:4269, EPSG:26915): {exc}")]) from exc


# ------------------------------------------------------------------------------------------ opening

def _zip_problems(path: Path) -> list[str]:
    """A zip must hold a vector file, and each shapefile its .shx and .dbf."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, OSError) as exc:
        return [f"not a readable zip file ({exc})"]
    lowered = {n.lower() for n in names}
    shapefiles = [n for n in names if n.lower().endswith(".shp")]
    problems = []
    for shp in shapefiles:
        stem = shp[:-4]
        lacking = [ext for ext in (".shx", ".dbf") if f"{stem}{ext}".lower() not in lowered]
        if lacking:
            problems.append(f"the zip holds {shp} without {' and '.join(Path(stem).name + e for e in lacking)}: "
                            "a shapefile needs its .shp, .shx and .dbf files together")
    vector = (".shp", ".gpkg", ".geojson", ".json", ".kml", ".gml", ".tab", ".fgb")
    if not shapefiles and not any(n.lower().endswith(vector) for n in names):
        problems.append(f"the zip holds no vector file (it holds: {', '.join(names[:10]) or 'nothing'})")
    return problems


def _dbf_bytes(path: Path) -> bytes | None:
    """The .dbf of a shapefile (or of the one shapefile in a zip) when it has no .cpg; else None."""
    if path.suffix.lower() == ".shp":
        dbf = next((p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()), None)
        cpg = any(p.exists() for p in (path.with_suffix(".cpg"), path.with_suffix(".CPG")))
        return dbf.read_bytes() if dbf is not None and not cpg else None
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            dbfs = [n for n in names if n.lower().endswith(".dbf")]
            if len(dbfs) == 1 and not any(n.lower().endswith(".cpg") for n in names):
                return archive.read(dbfs[0])
    return None


def _dbf_encoding(path: Path) -> tuple[str | None, list[str]]:
    """UTF-8 for a .dbf without .cpg (and no language id) whose text is valid UTF-8 but not ASCII."""
    data = _dbf_bytes(path)
    if data is None or len(data) < 32 or data[29] != 0:
        return None, []
    header_size = int.from_bytes(data[8:10], "little")
    records = data[header_size:]
    if records.isascii():
        return None, []
    try:
        records.decode("utf-8")
    except UnicodeDecodeError:
        return None, [("the .dbf has no .cpg file naming its encoding; its text was read as ISO-8859-1 "
                      "(GDAL's default): add a .cpg if names look wrong")]
    return "UTF-8", ["the .dbf has no .cpg file naming its encoding; its text is valid UTF-8, read as UTF-8"]


def _read_layers(path: Path, layer: str | None, encoding: str | None) -> gpd.GeoDataFrame:
    """One layer, or every layer of a KML/KMZ (each folder of a Google Earth export is a layer)."""
    layers: list[str | None] = [layer]
    if layer is None and path.suffix.lower() in (".kml", ".kmz"):
        layers = [*list_layers(path)] or [None]
    frames = [gpd.read_file(path, layer=name, engine="pyogrio", encoding=encoding) for name in layers]
    frames = [f for f in frames if len(f)] or frames[:1]
    if len(frames) == 1:
        return frames[0]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry=frames[0].geometry.name,
                            crs=frames[0].crs)


def _open(path: Path, layer: str | None) -> tuple[gpd.GeoDataFrame, list[str]]:
    source = path.name
    if not path.exists():
        raise import_error(source, ["no such file"])
    if path.suffix.lower() == ".zip" and (problems := _zip_problems(path)):
        raise import_error(source, problems)
    encoding, notes = _dbf_encoding(path)
    try:
        frame = _read_layers(path, layer, encoding)
    except Exception as exc:  # GDAL's errors for unreadable or unsupported files
        raise import_error(source, [f"cannot read the file as a vector layer: {exc}"]) from exc
    if not isinstance(frame, gpd.GeoDataFrame):  # a CSV or another table without geometry
        raise import_error(source, ["the file has no geometry (a table, not a vector layer)"])
    if frame.empty:
        raise import_error(source, ["the layer has no features"])
    if frame.geometry.name != "geometry":
        frame = frame.rename_geometry("geometry")
    return frame, notes


def _resolve(columns: list[str], name: str | None) -> str | None:
    if not name:
        return None
    return name if name in columns else {c.lower(): c for c in columns}.get(name.lower(), name)


def _check_columns(frame: gpd.GeoDataFrame, id_column: str, name_column: str | None) -> list[RowProblem]:
    columns = [c for c in frame.columns if c != "geometry"]
    return [RowProblem(None, col, f"no such {role} column (columns: {', '.join(columns)})")
            for col, role in ((id_column, "id"), (name_column, "name")) if col and col not in frame.columns]


# ---------------------------------------------------------------------------------------------- CRS

def _settle_crs(frame: gpd.GeoDataFrame, source_crs: str | None, source: str) -> tuple[gpd.GeoDataFrame, list[str]]:
    """The frame with its CRS: ``--crs`` (checked first) overrides, else the file's, else lon/lat if it fits."""
    notes = []
    if source_crs:
        crs = parse_crs(source_crs)
        if frame.crs is not None and frame.crs != crs:
            notes.append(f"the file declares {frame.crs.to_string()}; read as {crs.to_string()} (--crs)")
        return frame.set_crs(crs, allow_override=True), notes
    if frame.crs is not None:
        _check_declared_crs(frame, source)
        return frame, notes
    if _fits_degrees(frame.total_bounds, 0.0):
        notes.append("the file has no CRS; its coordinates look like longitude/latitude, read as "
                     "EPSG:4326 (pass --crs to choose another)")
        return frame.set_crs(CRS), notes
    raise import_error(source, [("the file has no CRS and its coordinates are not longitude/latitude; pass --crs "
                                "(e.g. EPSG:26915)")])


def _fits_degrees(bounds: np.ndarray, slack: float) -> bool:
    minx, miny, maxx, maxy = bounds
    return bool(np.all(np.isfinite(bounds)) and -180 - slack <= minx and maxx <= 180 + slack
                and -90 - slack <= miny and maxy <= 90 + slack)


def _check_declared_crs(frame: gpd.GeoDataFrame, source: str) -> None:
    """Refuse a declared CRS (from a .prj) that no feature's coordinates fit: degrees beyond -180..180 /
    -90..90 for a geographic CRS, or every feature inside those ranges for a projected one (metres or feet
    of that size would all lie within a few hundred metres of the projection's origin)."""
    bounds = np.asarray(shapely.bounds(frame.geometry.to_numpy()), dtype=float).reshape(-1, 4)
    bounds = bounds[np.isfinite(bounds).all(axis=1)]
    if not len(bounds):
        return
    fits = np.array([_fits_degrees(b, DEGREE_SLACK if frame.crs.is_geographic else 0.0) for b in bounds])
    total = frame.total_bounds
    extent = f"x {total[0]:.6g}..{total[2]:.6g}, y {total[1]:.6g}..{total[3]:.6g}"
    if frame.crs.is_geographic and not fits.any():
        reason = f"the file declares {frame.crs.to_string()} (degrees) but its coordinates run {extent}"
    elif frame.crs.is_projected and fits.all() and len(bounds) > 1:
        reason = (f"the file declares {frame.crs.to_string()} (projected, metres or feet) but its coordinates "
                  f"run {extent}, which look like longitude/latitude degrees")
    else:
        return
    raise import_error(source, [(f"{reason}: the CRS (.prj) does not match the coordinates; pass --crs with "
                                "the right CRS (e.g. EPSG:4326)")])


# --------------------------------------------------------------------------------------- geometries

def _check_geometries(geoms: np.ndarray, rows: np.ndarray, ids: pd.Series
                      ) -> tuple[np.ndarray, list[RowProblem], list[str]]:
    """Polygonal, non-empty geometries; invalid ones repaired (noted), collections reduced to polygons."""
    geoms = geoms.copy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    problems = [RowProblem(int(rows[i]), "geometry", "the geometry is missing or empty") for i in np.flatnonzero(missing)]
    type_ids = shapely.get_type_id(geoms)
    wrong = ~missing & ~np.isin(type_ids, POLYGONAL)
    problems += [RowProblem(int(rows[i]), "geometry", f"a {geoms[i].geom_type} is not a polygon")
                 for i in np.flatnonzero(wrong)]
    ok = ~missing & ~wrong
    finite = np.array([np.isfinite(shapely.get_coordinates(g)).all() if k else True for g, k in zip(geoms, ok,
                                                                                                    strict=True)])
    problems += [RowProblem(int(rows[i]), "geometry", "a coordinate is not a finite number")
                 for i in np.flatnonzero(ok & ~finite)]
    ok &= finite
    notes = []
    for i in np.flatnonzero(ok & ~shapely.is_valid(geoms)):
        reason = shapely.is_valid_reason(geoms[i])
        fixed = _polygonal(shapely.make_valid(geoms[i]))
        if fixed is None or fixed.is_empty:
            problems.append(RowProblem(int(rows[i]), "geometry", f"invalid and cannot be repaired ({reason})"))
        else:
            geoms[i] = fixed
            notes.append(f"feature {rows[i]} ({ids.iat[i]}): invalid geometry repaired ({reason})")
    for i in np.flatnonzero(ok & (shapely.get_type_id(geoms) == 7)):
        geoms[i] = _polygonal(geoms[i])
        if geoms[i] is None:
            problems.append(RowProblem(int(rows[i]), "geometry", "a geometry collection without polygons"))
    if notes:
        notes.insert(0, f"{len(notes)} invalid geometries were repaired")
    return geoms, problems, notes


def _polygonal(geom):
    """The polygonal part of a geometry (MultiPolygon or Polygon), or None if it has none."""
    if geom is None:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
        polys = [p for g in parts for p in shapely.get_parts(g)]
        return shapely.MultiPolygon(polys) if polys else None
    return None


def _reproject(frame: gpd.GeoDataFrame, rows: np.ndarray, source: str) -> tuple[gpd.GeoDataFrame, list[RowProblem]]:
    """The frame in EPSG:4326 and the features that land outside the valid degree ranges."""
    try:
        out = frame.to_crs(CRS)
    except Exception as exc:  # pyproj cannot transform between the two CRSs
        raise import_error(source, [f"cannot reproject from {frame.crs.to_string()} to {CRS}: {exc}"]) from exc
    geoms = out.geometry.to_numpy()
    bounds = np.asarray(shapely.bounds(geoms), dtype=float).reshape(-1, 4)
    off = check_bounds(bounds, rows)
    if len(off) == len(out) > 1:
        raise import_error(source, [RowProblem(None, None, f"no feature lands on Earth when read as "
                                               f"{frame.crs.to_string()}: the CRS (from the file or --crs) "
                                               "does not match the coordinates"), *off[:5]])
    reported = {p.row for p in off}
    broken = np.flatnonzero(shapely.is_empty(geoms) | ~shapely.is_valid(geoms))
    return out, off + [RowProblem(int(rows[i]), "geometry", f"the polygon collapses or turns invalid when "
                                                            f"reprojected from {frame.crs.to_string()} to {CRS} "
                                                            "(coordinates outside that CRS's valid area?)")
                       for i in broken if int(rows[i]) not in reported]


def read_units(path: str | Path, id_column: str, name_column: str | None = None, layer: str | None = None,
               source_crs: str | None = None) -> UnitsRead:
    """Read, validate and reproject polygon units; invalid geometries are repaired and reported.

    Raises InvalidInputError listing every bad feature (1-based feature number, column, reason).
    """
    path = Path(path)
    source = path.name
    if source_crs:
        parse_crs(source_crs)  # a bad --crs is reported before the file is read
    frame, notes = _open(path, layer)
    columns = [c for c in frame.columns if c != "geometry"]
    id_column, name_column = _resolve(columns, id_column) or id_column, _resolve(columns, name_column)
    if problems := _check_columns(frame, id_column, name_column):
        raise import_error(source, problems)
    frame, crs_notes = _settle_crs(frame, source_crs, source)
    rows = np.arange(len(frame)) + 1
    ids, id_notes = normalise_ids(frame[id_column].astype(object).where(frame[id_column].notna(), "").astype(str)
                                  .str.replace(r"\.0$", "", regex=True))
    problems = check_ids(ids, rows, id_column)
    geoms, geometry_problems, repairs = _check_geometries(frame.geometry.to_numpy(), rows, ids)
    problems += geometry_problems
    if problems:
        raise import_error(source, problems)
    frame = frame.set_geometry(gpd.GeoSeries(geoms, crs=frame.crs, index=frame.index))
    if frame.crs != CRS:
        crs_notes.append(f"reprojected from {frame.crs.to_string()} to {CRS}")
    frame, problems = _reproject(frame, rows, source)
    if problems:
        raise import_error(source, problems)
    out = _units_frame(frame, ids, id_column, name_column)
    return UnitsRead(out, repairs + notes + crs_notes + id_notes, named=name_column is not None)


def _units_frame(frame: gpd.GeoDataFrame, ids: pd.Series, id_column: str, name_column: str | None
                 ) -> gpd.GeoDataFrame:
    """Our columns first (unit_id, name, area_km2, locked), then the file's others."""
    reserved = {id_column, name_column, "unit_id", "name", "area_km2", "locked"}  # ours are recomputed
    out = frame.drop(columns=[c for c in frame.columns if c in reserved]).copy()
    out.insert(0, "unit_id", ids.to_numpy(dtype=object))
    names = frame[name_column].astype(object).where(frame[name_column].notna(), "").astype(str) \
        if name_column else ids
    out.insert(1, "name", names.to_numpy(dtype=object))
    out.insert(2, "area_km2", frame.to_crs(EQUAL_AREA).geometry.area.to_numpy() / 1e6)
    out.insert(3, "locked", False)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=CRS)


def is_project_file(path: str | Path) -> bool:
    """True for a Territory Desktop project (a GeoPackage with units, assignments and scenarios tables)."""
    if not str(path).lower().endswith(".gpkg"):
        return False
    try:
        names = set(list_layers(path))
    except Exception:  # not a readable GeoPackage means not a project
        return False
    return {"units", "assignments", "scenarios"} <= names


def read_layer(path: str | Path, layer: str | None = None, outcome: str = "nothing was changed",
               polygons: bool = False) -> gpd.GeoDataFrame:
    """One layer of a vector file (any format GDAL reads), with at least one feature; ``polygons``
    also requires polygon geometry. Raises InvalidInputError naming the file and the reason."""
    path = Path(path)
    if not path.exists():
        raise InvalidInputError(path.name, ["no such file"], outcome=outcome)
    try:
        frame = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:  # GDAL's errors for unreadable or unsupported files
        raise InvalidInputError(path.name, [f"cannot read the file as a vector layer: {str(exc).split(';')[0]}"],
                                outcome=outcome) from None
    if not isinstance(frame, gpd.GeoDataFrame):  # a CSV or another table without geometry
        raise InvalidInputError(path.name, ["the file has no geometry (a table, not a vector layer)"],
                                outcome=outcome)
    if frame.empty:
        raise InvalidInputError(path.name, ["the layer has no features"], outcome=outcome)
    kinds = set(frame.geometry.geom_type.dropna())
    if polygons and not kinds <= {"Polygon", "MultiPolygon"}:
        raise InvalidInputError(path.name, [f"units must be polygons, found {sorted(kinds)}"], outcome=outcome)
    return frame


def read_lines(path: str | Path, layer: str | None = None) -> list[shapely.Geometry]:
    """The LineString and MultiLineString features of a vector file (e.g. routes to draw), in EPSG:4326
    (a file without a CRS is taken as lon/lat). Raises InvalidInputError when there are none."""
    frame = read_layer(path, layer)
    if frame.crs is not None:
        frame = frame.to_crs(CRS)
    geoms = frame.geometry[frame.geometry.notna()].to_numpy()
    lines = [g for g in geoms if shapely.get_type_id(g) in (1, 5)]
    if not lines:
        raise InvalidInputError(Path(path).name, ["no LineString or MultiLineString features"])
    return lines


def list_columns(path: str | Path, layer: str | None = None) -> list[str]:
    """Attribute column names of a vector file's layer. Raises InvalidInputError if unreadable."""
    path = Path(path)
    if path.suffix.lower() == ".zip" and (problems := _zip_problems(path)):
        raise import_error(path.name, problems)
    try:
        return [str(c) for c in pyogrio.read_info(path, layer=layer)["fields"]]
    except Exception as exc:  # GDAL errors for unreadable or unsupported files
        raise import_error(path.name, [f"cannot read the file as a vector layer: {exc}"]) from exc
