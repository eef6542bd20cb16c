"""Read geographic units from any vector file GDAL reads (Shapefile, GeoPackage, GeoJSON, KML, ...)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from ..models import CRS, InvalidInputError, RowProblem
from ..models.errors import import_error

EQUAL_AREA = "EPSG:6933"  # WGS 84 / NSIDC EASE-Grid 2.0 Global: equal-area, worldwide


@dataclass
class UnitsRead:
    """Units in EPSG:4326 with ``unit_id``, ``name``, ``area_km2`` and the file's other columns."""

    frame: gpd.GeoDataFrame
    notes: list[str] = field(default_factory=list)


def list_layers(path: str | Path) -> list[str]:
    return [str(name) for name, _type in pyogrio.list_layers(path)]


def is_project_file(path: str | Path) -> bool:
    """True for a Territory Desktop project (a GeoPackage with units, assignments and scenarios tables)."""
    if not str(path).lower().endswith(".gpkg"):
        return False
    try:
        names = set(list_layers(path))
    except Exception:  # noqa: BLE001 - not a readable GeoPackage means not a project
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
    except Exception as exc:  # noqa: BLE001 - GDAL's errors for unreadable or unsupported files
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


def read_units(path: str | Path, id_column: str, name_column: str | None = None, layer: str | None = None,
               source_crs: str | None = None) -> UnitsRead:
    """Read, validate and reproject polygon units; invalid geometries are repaired and reported.

    Raises InvalidInputError listing every bad feature (1-based feature number, column, reason).
    """
    path = Path(path)
    source = path.name
    frame = read_layer(path, layer, outcome="nothing was imported")
    columns = [c for c in frame.columns if c != frame.geometry.name]
    by_lower = {c.lower(): c for c in columns}
    id_column = id_column if id_column in columns else by_lower.get(id_column.lower(), id_column)
    if name_column:
        name_column = name_column if name_column in columns else by_lower.get(name_column.lower(), name_column)
    problems: list[RowProblem] = []
    for col, role in ((id_column, "id"), (name_column, "name")):
        if col and col not in frame.columns:
            problems.append(RowProblem(None, col, f"no such {role} column (columns: {', '.join(columns)})"))
    if problems:
        raise import_error(source, problems)

    notes: list[str] = []
    if frame.crs is None:
        if source_crs:
            frame = frame.set_crs(source_crs)
        else:
            minx, miny, maxx, maxy = frame.total_bounds
            if -180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90:
                frame = frame.set_crs(CRS)
                notes.append("the file has no CRS; its coordinates look like longitude/latitude, read as "
                             "EPSG:4326 (pass --crs to choose another)")
            else:
                raise import_error(source, [("the file has no CRS and its coordinates are not "
                                                  "longitude/latitude; pass --crs (e.g. EPSG:26915)")])
    elif source_crs:
        notes.append(f"the file declares {frame.crs.to_string()}; --crs {source_crs} ignored")

    ids = frame[id_column].astype(object)
    ids = ids.where(ids.notna(), "").astype(str).str.strip()
    ids = ids.str.replace(r"\.0$", "", regex=True)
    rows = np.arange(len(frame)) + 1
    for i in np.flatnonzero((ids == "").to_numpy()):
        problems.append(RowProblem(int(rows[i]), id_column, "the id is empty"))
    dup = (ids.duplicated(keep="first") & (ids != "")).to_numpy()
    for i in np.flatnonzero(dup):
        problems.append(RowProblem(int(rows[i]), id_column, f"duplicate id '{ids.iat[i]}'"))

    geoms = frame.geometry.to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for i in np.flatnonzero(missing):
        problems.append(RowProblem(int(rows[i]), "geometry", "the geometry is missing or empty"))
    type_ids = shapely.get_type_id(geoms)
    wrong = ~missing & ~np.isin(type_ids, [3, 6, 7])
    for i in np.flatnonzero(wrong):
        problems.append(RowProblem(int(rows[i]), "geometry",
                                   f"a {geoms[i].geom_type} is not a polygon"))
    invalid = ~missing & ~wrong & ~shapely.is_valid(geoms)
    repaired = 0
    for i in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(geoms[i])
        fixed = _polygonal(shapely.make_valid(geoms[i]))
        if fixed is None or fixed.is_empty:
            problems.append(RowProblem(int(rows[i]), "geometry", f"invalid and cannot be repaired ({reason})"))
        else:
            geoms[i] = fixed
            repaired += 1
            notes.append(f"feature {rows[i]} ({ids.iat[i]}): invalid geometry repaired ({reason})")
    collections = ~missing & (type_ids == 7) & ~invalid
    for i in np.flatnonzero(collections):
        fixed = _polygonal(geoms[i])
        if fixed is None:
            problems.append(RowProblem(int(rows[i]), "geometry", "a geometry collection without polygons"))
        else:
            geoms[i] = fixed
    if problems:
        raise import_error(source, problems)

    frame = frame.set_geometry(gpd.GeoSeries(geoms, crs=frame.crs, index=frame.index))
    if frame.crs != CRS:
        notes.append(f"reprojected from {frame.crs.to_string()} to {CRS}")
    equal_area = frame.to_crs(EQUAL_AREA)
    frame = frame.to_crs(CRS)
    reserved = {id_column, name_column, "unit_id", "name", "area_km2", "locked"}  # ours are recomputed
    out = frame.drop(columns=[c for c in frame.columns if c in reserved]).copy()
    out.insert(0, "unit_id", ids.to_numpy(dtype=object))
    names = frame[name_column].astype(object).where(frame[name_column].notna(), "").astype(str) \
        if name_column else ids
    out.insert(1, "name", names.to_numpy(dtype=object))
    out.insert(2, "area_km2", equal_area.geometry.area.to_numpy() / 1e6)
    out.insert(3, "locked", False)
    if repaired:
        notes.insert(0, f"{repaired} invalid geometries were repaired")
    return UnitsRead(gpd.GeoDataFrame(out, geometry=frame.geometry.name, crs=CRS), notes)


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
    try:
        return [str(c) for c in pyogrio.read_info(path, layer=layer)["fields"]]
    except Exception as exc:  # GDAL errors for unreadable or unsupported files
        raise import_error(Path(path).name, [f"cannot read the file as a vector layer: {exc}"]) from exc
