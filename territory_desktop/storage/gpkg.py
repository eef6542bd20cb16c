"""GeoPackage essentials: the system tables, layer registration and the geometry blob codec.

A GeoPackage geometry blob is a small header followed by standard WKB (OGC GeoPackage 1.4, clause 2.1.3):
``b"GP"``, version 0, a flags byte (bit 0 little-endian, bits 1-3 envelope type, bit 4 empty), the int32
``srs_id`` and, for envelope type 1, the four doubles ``minx, maxx, miny, maxy``. Encoding and decoding are
vectorised through shapely so a million points take well under a second.
"""

from __future__ import annotations

import struct

import numpy as np
import pyproj
import shapely
from sqlalchemy import Connection, text

SRS_ID = 4326
APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10300  # GeoPackage 1.3 (Debian 12 GDAL 3.6 warns on 1.4)

_SYSTEM_TABLES = [
    """CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
        srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
        organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)""",
    """CREATE TABLE IF NOT EXISTS gpkg_contents (
        table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
        description TEXT DEFAULT '',
        last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
        CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
        table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
        srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
        CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
        CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
        CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
]


def create_system_tables(conn: Connection) -> None:
    """Create the GeoPackage system tables and the SRS rows (-1, 0 and EPSG:4326)."""
    conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.exec_driver_sql(f"PRAGMA user_version = {USER_VERSION}")
    for ddl in _SYSTEM_TABLES:
        conn.exec_driver_sql(ddl)
    wkt = pyproj.CRS.from_epsg(SRS_ID).to_wkt("WKT1_GDAL")
    rows = [
        ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
        ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
        ("WGS 84 geodetic", SRS_ID, "EPSG", SRS_ID, wkt, "longitude/latitude coordinates in decimal degrees"),
    ]
    conn.execute(text("INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (:a, :b, :c, :d, :e, :f)"),
                 [dict(zip("abcdef", r)) for r in rows])


def register_layer(conn: Connection, table: str, geometry_type: str | None, description: str = "") -> None:
    """Declare ``table`` in gpkg_contents (features when ``geometry_type`` is given, else attributes)."""
    data_type = "features" if geometry_type else "attributes"
    conn.execute(text(
        "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) "
        "VALUES (:t, :d, :t, :desc, :s)"), {"t": table, "d": data_type, "desc": description,
                                             "s": SRS_ID if geometry_type else None})
    if geometry_type:
        conn.execute(text("INSERT OR REPLACE INTO gpkg_geometry_columns VALUES (:t, 'geom', :g, :s, 0, 0)"),
                     {"t": table, "g": geometry_type, "s": SRS_ID})


def update_extent(conn: Connection, table: str, geoms: np.ndarray) -> None:
    """Store the layer's bounding box and touch last_change (QGIS uses both)."""
    valid = geoms[~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)] if len(geoms) else geoms
    bounds = shapely.total_bounds(valid) if len(valid) else [None] * 4
    conn.execute(text(
        "UPDATE gpkg_contents SET min_x=:a, min_y=:b, max_x=:c, max_y=:d, "
        "last_change=strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name=:t"),
        {"a": _f(bounds[0]), "b": _f(bounds[1]), "c": _f(bounds[2]), "d": _f(bounds[3]), "t": table})


def _f(v):
    return None if v is None or not np.isfinite(v) else float(v)


_POINT_HEADER = b"GP\x00" + bytes([0b00000001]) + struct.pack("<i", SRS_ID)
_EMPTY_HEADER = b"GP\x00" + bytes([0b00010001]) + struct.pack("<i", SRS_ID)
_ENV_FLAGS = bytes([0b00000011])


def encode(geoms: np.ndarray) -> list[bytes | None]:
    """Encode shapely geometries (None allowed) as GeoPackage blobs, points without an envelope."""
    geoms = np.asarray(geoms, dtype=object)
    out: list[bytes | None] = [None] * len(geoms)
    if not len(geoms):
        return out
    missing = shapely.is_missing(geoms)
    present = np.flatnonzero(~missing)
    sub = geoms[present]
    wkb = shapely.to_wkb(sub, byte_order=1, include_srid=False)
    empty = shapely.is_empty(sub)
    is_point = shapely.get_type_id(sub) == 0
    bounds = shapely.bounds(sub)
    for j, i in enumerate(present):
        if empty[j]:
            out[i] = _EMPTY_HEADER + wkb[j]
        elif is_point[j]:
            out[i] = _POINT_HEADER + wkb[j]
        else:
            b = bounds[j]
            out[i] = (b"GP\x00" + _ENV_FLAGS + struct.pack("<i4d", SRS_ID, b[0], b[2], b[1], b[3]) + wkb[j])
    return out


_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def decode(blobs) -> np.ndarray:
    """Decode GeoPackage blobs (None allowed) to a shapely geometry array. Raises ValueError on junk."""
    wkbs: list[bytes | None] = []
    for k, blob in enumerate(blobs):
        if blob is None:
            wkbs.append(None)
            continue
        blob = bytes(blob)
        if blob[:2] != b"GP":
            raise ValueError(f"geometry {k + 1} is not a GeoPackage geometry blob")
        env = (blob[3] >> 1) & 0b111
        if env not in _ENVELOPE_BYTES:
            raise ValueError(f"geometry {k + 1} has an invalid envelope code {env}")
        wkbs.append(blob[8 + _ENVELOPE_BYTES[env]:])
    return shapely.from_wkb(np.array(wkbs, dtype=object))
