"""GeoPackage essentials: the system tables, layer registration and the geometry blob codec.

A GeoPackage geometry blob is a small header followed by standard WKB (OGC GeoPackage 1.4, clause 2.1.3):
``b"GP"``, version 0, a flags byte (bit 0 little-endian, bits 1-3 envelope type, bit 4 empty), the int32
``srs_id`` and, for envelope type 1, the four doubles ``minx, maxx, miny, maxy``. Encoding and decoding are
vectorised through shapely so a million points take well under a second.
"""

from __future__ import annotations

import functools
import math
import struct
from typing import TYPE_CHECKING

import numpy as np
import pyproj
import shapely
from sqlalchemy import Connection, text

if TYPE_CHECKING:
    import pyarrow as pa

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
    """CREATE TABLE IF NOT EXISTS gpkg_extensions (
        table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
        scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))""",
    """CREATE TABLE IF NOT EXISTS gpkg_data_columns (
        table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT UNIQUE, title TEXT,
        description TEXT, mime_type TEXT, constraint_name TEXT,
        CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
        CONSTRAINT gdc_tn UNIQUE (table_name, name))""",
    """CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (
        constraint_name TEXT NOT NULL, constraint_type TEXT NOT NULL, value TEXT, min NUMERIC,
        min_is_inclusive BOOLEAN, max NUMERIC, max_is_inclusive BOOLEAN, description TEXT,
        CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value))""",
    # GDAL's own cache of feature counts; kept right by the triggers of ``register_layer``
    """CREATE TABLE IF NOT EXISTS gpkg_ogr_contents (
        table_name TEXT NOT NULL PRIMARY KEY, feature_count INTEGER DEFAULT NULL)""",
]

_SCHEMA_EXTENSION = "http://www.geopackage.org/spec121/#extension_schema"
_RTREE_EXTENSION = "http://www.geopackage.org/spec120/#extension_rtree"


def create_system_tables(conn: Connection) -> None:
    """Create the GeoPackage system tables, the SRS rows (-1, 0 and EPSG:4326) and the schema extension."""
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
                 [dict(zip("abcdef", r, strict=True)) for r in rows])
    for table in ("gpkg_data_columns", "gpkg_data_column_constraints"):
        # column_name is NULL, and NULLs never clash in a UNIQUE constraint: INSERT OR IGNORE would add a
        # row on every call (a migration, a repair), which GDAL's validator rejects (Req 141)
        conn.exec_driver_sql("DELETE FROM gpkg_extensions WHERE table_name = ? AND extension_name = 'gpkg_schema' "
                             "AND rowid NOT IN (SELECT min(rowid) FROM gpkg_extensions WHERE table_name = ? "
                             "AND extension_name = 'gpkg_schema')", (table, table))
        conn.exec_driver_sql(
            "INSERT INTO gpkg_extensions SELECT ?, NULL, 'gpkg_schema', ?, 'read-write' WHERE NOT EXISTS "
            "(SELECT 1 FROM gpkg_extensions WHERE table_name = ? AND extension_name = 'gpkg_schema')",
            (table, _SCHEMA_EXTENSION, table))


def register_layer(conn: Connection, table: str, geometry_type: str | None, description: str = "",
                   json_columns: tuple[str, ...] = ()) -> None:
    """Declare ``table`` in gpkg_contents (features when ``geometry_type`` is given, else attributes).

    Feature layers get an R-tree spatial index with GDAL's triggers; every table gets GDAL's feature-count
    triggers; ``json_columns`` are declared with the JSON subtype (``application/json``) GDAL reads.
    """
    data_type = "features" if geometry_type else "attributes"
    conn.execute(text(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) "
        "VALUES (:t, :d, :t, :desc, :s) ON CONFLICT(table_name) DO UPDATE SET description = :desc"),
        {"t": table, "d": data_type, "desc": description, "s": SRS_ID if geometry_type else None})
    if geometry_type:
        conn.execute(text("INSERT OR REPLACE INTO gpkg_geometry_columns VALUES (:t, 'geom', :g, :s, 0, 0)"),
                     {"t": table, "g": geometry_type, "s": SRS_ID})
        create_rtree(conn, table)
    for column in json_columns:
        conn.exec_driver_sql(
            "INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name, mime_type) "
            "VALUES (?, ?, ?, 'application/json')", (table, column, f"{table}.{column}"))
    create_count_triggers(conn, table)


def create_count_triggers(conn: Connection, table: str) -> None:
    """GDAL's triggers that keep ``gpkg_ogr_contents.feature_count`` right, and the current count."""
    conn.exec_driver_sql(f"""CREATE TRIGGER IF NOT EXISTS "trigger_insert_feature_count_{table}"
        AFTER INSERT ON "{table}" BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count + 1
        WHERE lower(table_name) = lower('{table}'); END""")
    conn.exec_driver_sql(f"""CREATE TRIGGER IF NOT EXISTS "trigger_delete_feature_count_{table}"
        AFTER DELETE ON "{table}" BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count - 1
        WHERE lower(table_name) = lower('{table}'); END""")
    conn.exec_driver_sql(f"""INSERT OR REPLACE INTO gpkg_ogr_contents (table_name, feature_count)
        VALUES ('{table}', (SELECT COUNT(*) FROM "{table}"))""")


def rtree_triggers(table: str, column: str = "geom") -> dict[str, str]:
    """The six triggers of the ``gpkg_rtree_index`` extension, as GDAL writes them (name -> DDL)."""
    r, t, g = f"rtree_{table}_{column}", table, column
    insert = (f'INSERT OR REPLACE INTO "{r}" VALUES (NEW."fid", ST_MinX(NEW."{g}"), ST_MaxX(NEW."{g}"), '
              f'ST_MinY(NEW."{g}"), ST_MaxY(NEW."{g}"))')
    present, absent = f'(NEW."{g}" NOTNULL AND NOT ST_IsEmpty(NEW."{g}"))', \
        f'(NEW."{g}" ISNULL OR ST_IsEmpty(NEW."{g}"))'
    return {
        f"{r}_insert": f'CREATE TRIGGER "{r}_insert" AFTER INSERT ON "{t}" WHEN {present} BEGIN {insert}; END',
        f"{r}_update1": f'CREATE TRIGGER "{r}_update1" AFTER UPDATE OF "{g}" ON "{t}" '
                        f'WHEN OLD."fid" = NEW."fid" AND {present} BEGIN {insert}; END',
        f"{r}_update2": f'CREATE TRIGGER "{r}_update2" AFTER UPDATE OF "{g}" ON "{t}" '
                        f'WHEN OLD."fid" = NEW."fid" AND {absent} BEGIN DELETE FROM "{r}" WHERE id = OLD."fid"; END',
        f"{r}_update3": f'CREATE TRIGGER "{r}_update3" AFTER UPDATE ON "{t}" WHEN OLD."fid" != NEW."fid" '
                        f'AND {present} BEGIN DELETE FROM "{r}" WHERE id = OLD."fid"; {insert}; END',
        f"{r}_update4": f'CREATE TRIGGER "{r}_update4" AFTER UPDATE ON "{t}" WHEN OLD."fid" != NEW."fid" '
                        f'AND {absent} BEGIN DELETE FROM "{r}" WHERE id IN (OLD."fid", NEW."fid"); END',
        f"{r}_delete": f'CREATE TRIGGER "{r}_delete" AFTER DELETE ON "{t}" WHEN OLD."{g}" NOT NULL '
                       f'BEGIN DELETE FROM "{r}" WHERE id = OLD."fid"; END',
    }


def create_rtree(conn: Connection, table: str, column: str = "geom") -> None:
    """Create the R-tree index of a feature layer (as GDAL and QGIS do), fill it, register the extension."""
    r = f"rtree_{table}_{column}"
    exists = conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = ?", (r,)).first()
    if not exists:
        conn.exec_driver_sql(f'CREATE VIRTUAL TABLE "{r}" USING rtree(id, minx, maxx, miny, maxy)')
        conn.exec_driver_sql(
            f'INSERT INTO "{r}" SELECT fid, ST_MinX("{column}"), ST_MaxX("{column}"), ST_MinY("{column}"), '
            f'ST_MaxY("{column}") FROM "{table}" WHERE "{column}" NOT NULL AND NOT ST_IsEmpty("{column}")')
    existing = {row[0] for row in conn.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,))}
    for name, ddl in rtree_triggers(table, column).items():
        if name not in existing:
            conn.exec_driver_sql(ddl)
    conn.exec_driver_sql("INSERT OR IGNORE INTO gpkg_extensions VALUES (?, ?, 'gpkg_rtree_index', ?, 'write-only')",
                         (table, column, _RTREE_EXTENSION))


# ----------------------------------------------------------------------------- GeoPackage SQL functions

def register_functions(dbapi_connection) -> None:
    """Register the GeoPackage SQL functions that R-tree triggers (ours, GDAL's, QGIS's) call.

    Without them any write to a layer with a spatial index fails with "no such function: ST_IsEmpty".
    """
    for name, fn in _SQL_FUNCTIONS.items():
        dbapi_connection.create_function(name, 1, fn, deterministic=True)


def envelope(blob) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a GeoPackage blob; None for NULL, empty or unreadable geometry."""
    if blob is None or len(blob) < 8 or blob[:2] != b"GP":
        return None
    flags = blob[3]
    if flags & 0b10000:
        return None
    order = "<" if flags & 1 else ">"
    env = (flags >> 1) & 0b111
    if env in (1, 2, 3, 4):
        return struct.unpack_from(order + "4d", blob, 8)
    wkb = bytes(blob[8 + _ENVELOPE_BYTES.get(env, 0):])
    if len(wkb) == 21 and wkb[0] in (0, 1):  # a 2D point: byte order, type 1, x, y
        o = "<" if wkb[0] == 1 else ">"
        if struct.unpack_from(o + "I", wkb, 1)[0] == 1:
            x, y = struct.unpack_from(o + "2d", wkb, 5)
            return None if math.isnan(x) else (x, x, y, y)
    try:
        minx, miny, maxx, maxy = shapely.from_wkb(wkb).bounds
    except shapely.errors.GEOSException:
        return None
    return None if math.isnan(minx) else (minx, maxx, miny, maxy)


@functools.lru_cache(maxsize=4)
def _row_envelope(blob: bytes):
    """:func:`envelope` of the blob an R-tree trigger passes to ST_IsEmpty, then to ST_MinX ... ST_MaxY
    (five calls, one parse)."""
    return envelope(blob)


def _is_empty(blob):
    if blob is None:
        return None
    return 1 if len(blob) >= 8 and blob[:2] == b"GP" and blob[3] & 0b10000 else (0 if _row_envelope(blob) else 1)


def _coordinate(i: int):
    def fn(blob):
        env = None if blob is None else _row_envelope(blob)
        return None if env is None else env[i]
    return fn


def _geometry_type(blob):
    if blob is None or (envelope(blob) is None and not _is_empty(blob)):
        return None
    env = (blob[3] >> 1) & 0b111
    try:
        return shapely.from_wkb(bytes(blob[8 + _ENVELOPE_BYTES.get(env, 0):])).geom_type.upper()
    except shapely.errors.GEOSException:
        return None


def _srid(blob):
    if blob is None or len(blob) < 8 or blob[:2] != b"GP":
        return None
    return struct.unpack_from("<i" if blob[3] & 1 else ">i", blob, 4)[0]


_SQL_FUNCTIONS = {
    "ST_IsEmpty": _is_empty, "ST_MinX": _coordinate(0), "ST_MaxX": _coordinate(1),
    "ST_MinY": _coordinate(2), "ST_MaxY": _coordinate(3), "ST_GeometryType": _geometry_type,
    "ST_SRID": _srid,
}


def update_extent(conn: Connection, table: str, geoms: np.ndarray) -> None:
    """Store the layer's bounding box (of ``geoms``, all its features) and touch last_change."""
    valid = geoms[~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)] if len(geoms) else geoms
    bounds = shapely.total_bounds(valid) if len(valid) else [None] * 4
    conn.execute(text(
        "UPDATE gpkg_contents SET min_x=:a, min_y=:b, max_x=:c, max_y=:d, "
        "last_change=strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name=:t"),
        {"a": _f(bounds[0]), "b": _f(bounds[1]), "c": _f(bounds[2]), "d": _f(bounds[3]), "t": table})


def touch(conn: Connection, table: str) -> None:
    """Record that ``table`` changed (gpkg_contents.last_change, which GDAL and QGIS read)."""
    conn.exec_driver_sql("UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') "
                         "WHERE table_name = ?", (table,))


def _f(v):
    return None if v is None or not np.isfinite(v) else float(v)


_POINT_HEADER = b"GP\x00" + bytes([0b00000001]) + struct.pack("<i", SRS_ID)
_EMPTY_HEADER = b"GP\x00" + bytes([0b00010001]) + struct.pack("<i", SRS_ID)
_ENV_FLAGS = bytes([0b00000011])


def encode(geoms: np.ndarray) -> list[bytes | None]:
    """Encode shapely geometries (None allowed) as GeoPackage blobs, points without an envelope."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), None, dtype=object)
    if not len(geoms):
        return []
    present = ~shapely.is_missing(geoms)
    empty = shapely.is_empty(geoms)
    points = _is_2d_point(geoms)
    if points.any():
        out[points] = _encode_points(geoms[points])
    rest = np.flatnonzero(present & ~points)
    if len(rest):
        sub = geoms[rest]
        wkb = shapely.to_wkb(sub, byte_order=1, include_srid=False)
        bounds = shapely.bounds(sub)
        for j, i in enumerate(rest.tolist()):
            if empty[i]:
                out[i] = _EMPTY_HEADER + wkb[j]
            elif shapely.get_type_id(sub[j]) == 0:
                out[i] = _POINT_HEADER + wkb[j]
            else:
                b = bounds[j]
                out[i] = (b"GP\x00" + _ENV_FLAGS + struct.pack("<i4d", SRS_ID, b[0], b[2], b[1], b[3]) + wkb[j])
    return out.tolist()


#: a GeoPackage 2D point blob: header (no envelope), then little-endian WKB: byte order 1, type 1, x, y
_POINT_BLOB = np.dtype([("header", "V8"), ("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])


def _point_rows(points: np.ndarray) -> np.ndarray:
    """The blobs of non-empty 2D points as one packed record array, built from their coordinates in one
    numpy pass (a million in a fraction of a second)."""
    rows = np.empty(len(points), dtype=_POINT_BLOB)
    rows["header"] = np.void(_POINT_HEADER)
    rows["order"] = 1
    rows["type"] = 1
    rows["x"] = shapely.get_x(points)
    rows["y"] = shapely.get_y(points)
    return rows


def _encode_points(points: np.ndarray) -> list[bytes]:
    """Encode non-empty 2D points: the rows of :func:`_point_rows` read back as one ``bytes`` per row (void
    items keep NUL bytes)."""
    return _point_rows(points).view(f"V{_POINT_BLOB.itemsize}").tolist()


def _is_2d_point(geoms: np.ndarray) -> np.ndarray:
    return (~shapely.is_missing(geoms) & ~shapely.is_empty(geoms) & (shapely.get_type_id(geoms) == 0)
            & (shapely.get_coordinate_dimension(geoms) == 2))


def encode_arrow(geoms: np.ndarray) -> pa.Array:
    """:func:`encode` as an Arrow binary array (None -> null) without a Python object per point: the
    points' blobs are the bytes of one record array; other geometries go through :func:`encode`."""
    import pyarrow as pa

    geoms = np.asarray(geoms, dtype=object)
    points = _is_2d_point(geoms)
    count = int(points.sum())
    size = _POINT_BLOB.itemsize
    binary = pa.binary() if (count + 1) * size < 2**31 else pa.large_binary()  # 32-bit offsets up to 2 GB
    offsets = np.arange(0, (count + 1) * size, size, dtype=np.int32 if binary == pa.binary() else np.int64)
    fast = pa.Array.from_buffers(binary, count, [None, pa.py_buffer(offsets), pa.py_buffer(_point_rows(geoms[points]))])
    if count == len(geoms):
        return fast
    rest = pa.array(encode(geoms[~points]), type=binary)
    where = np.empty(len(geoms), dtype=np.int64)  # each row's position in [points..., others...]
    where[points] = np.arange(count)
    where[~points] = count + np.arange(len(geoms) - count)
    return pa.concat_arrays([fast, rest]).take(pa.array(where))


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
