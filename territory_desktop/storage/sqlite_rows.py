"""Apply :class:`rows.RowChanges` to a SQLite (GeoPackage) table: DELETE, UPDATE and INSERT by key.

Updates name only the application's columns, so columns another program added keep their values; rows
are addressed by their business key, so ``fid`` values never change; geometry is written (and the R-tree
triggers fire) only for rows whose geometry changed.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection

from . import bulk, edit_stamp, gpkg, rtree_bulk
from .bulk import insert_arrow, insert_blocks, insert_columns, quote
from .rows import GEOMETRY, RowChanges, TableSpec

if TYPE_CHECKING:
    import pyarrow as pa


class NotArrow(Exception):
    """A column the Arrow bulk path cannot carry as its SQLite type (text holding other objects): the
    caller inserts through ``sqlite3``, which binds every value as it is."""


def _arrow_values(values: np.ndarray, kind: str) -> pa.Array:
    """:func:`_db_values` as an Arrow array: the same SQLite values (NaN -> NULL), whole columns, no Python
    object per value. Raises NotArrow for a text column that holds anything but text and missing values."""
    import pyarrow as pa

    if kind == GEOMETRY:
        return gpkg.encode_arrow(values)
    if kind in ("real", "int", "bool"):
        numbers = np.asarray(values, dtype=float)
        missing = np.isnan(numbers)
        mask = missing if missing.any() else None
        return pa.array(numbers if kind == "real" else np.where(missing, 0, numbers).astype(np.int64), mask=mask)
    try:
        return pa.array(np.asarray(values, dtype=object), type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise NotArrow(str(exc)) from exc


def _db_values(values: np.ndarray, kind: str) -> list:
    """A normalised column (see ``rows.normalise``) as plain Python values for SQLite (NaN -> NULL).

    Whole-column numpy conversions, no per-value Python: REAL columns go in as floats (SQLite stores a
    bound NaN as NULL), INTEGER and BOOLEAN columns as ints unless a value is missing, text as it is
    (``rows.normalise`` made every missing value None).
    """
    if kind == GEOMETRY:
        return gpkg.encode(values)
    if kind in ("real", "int", "bool"):
        numbers = np.asarray(values, dtype=float)
        if kind == "real":
            return numbers.tolist()
        missing = np.isnan(numbers)
        if not missing.any():
            return numbers.astype(np.int64).tolist()
        out = np.where(missing, 0, numbers).astype(np.int64).astype(object)
        out[missing] = None
        return out.tolist()
    return np.asarray(values, dtype=object).tolist()  # text of a record frame: None where missing already


def _attrs(frame: pd.DataFrame, extras: list[str]) -> list[str | None]:
    if not extras:
        return [None] * len(frame)
    data = frame[extras].astype(object)
    records = data.where(data.notna(), None).to_dict("records")
    return [json.dumps({k: v for k, v in r.items() if v is not None}, default=_json_default,
                       separators=(",", ":")) or None for r in records]


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def db_columns(spec: TableSpec, frame: pd.DataFrame, with_geometry: bool = True,
               order: np.ndarray | None = None, only: list[str] | None = None, arrow: bool = False) -> dict:
    """The database columns (name -> values) of a record frame: known columns by kind, extras as attrs;
    rows in ``order`` (positions) when given; only the columns ``only`` when given; as Arrow arrays
    (``arrow``: see :func:`_arrow_values`) or lists of Python values."""
    convert = _arrow_values if arrow else _db_values
    out: dict = {}
    for column in frame.columns:
        kind = spec.kinds.get(column)
        if kind is None or (kind == GEOMETRY and not with_geometry) or (only is not None and column not in only):
            continue
        values = frame[column].to_numpy()
        out[column] = convert(values if order is None else values[order], kind)
    if spec.extras and (only is None or "attrs" in only):
        extras = [c for c in frame.columns if c not in spec.kinds and c not in spec.key]
        attrs = _attrs(frame if order is None or not extras else frame.iloc[order], extras)
        out["attrs"] = _arrow_values(np.array(attrs, dtype=object), "text") if arrow else attrs
    return out


def _where(spec: TableSpec) -> str:
    return " AND ".join(f"{quote(k)} = ?" for k in spec.key)


def _keys(spec: TableSpec, frame: pd.DataFrame) -> list[list]:
    return [_db_values(frame[k].to_numpy(), spec.kinds.get(k, "text")) for k in spec.key]


def _update(conn: Connection, spec: TableSpec, frame: pd.DataFrame, with_geometry: bool) -> None:
    if not len(frame):
        return
    columns = db_columns(spec, frame.drop(columns=list(spec.key)), with_geometry)
    names = list(columns)
    sql = (f"UPDATE {quote(spec.name)} SET {', '.join(f'{quote(c)} = ?' for c in names)} "
           f"WHERE {_where(spec)}")
    conn.exec_driver_sql(sql, list(zip(*columns.values(), *_keys(spec, frame), strict=True)))


def next_fid(conn: Connection, table: str) -> int:
    """The fid SQLite's AUTOINCREMENT gives the next row inserted into ``table``."""
    seq = conn.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).scalar() or 0
    top = conn.exec_driver_sql(f"SELECT max(fid) FROM {quote(table)}").scalar() or 0
    return max(int(seq), int(top)) + 1


#: above this many inserted rows, the row triggers are suspended and the R-tree filled in one go
BULK_ROWS = 2_000


def _triggers(conn: Connection, names: list[str]) -> dict[str, str]:
    """The DDL of the named triggers that exist (GDAL's, QGIS's or ours, kept as they were written)."""
    if not names:
        return {}
    marks = ", ".join("?" * len(names))
    return dict(conn.exec_driver_sql(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})", tuple(names)).all())


@contextlib.contextmanager
def suspended(conn: Connection, table: str, geometry: bool, updates: bool = False):
    """Suspend the per-row triggers of ``table`` (feature count, R-tree insert) inside the transaction.

    On exit the triggers are recreated as they were, the feature count set from the table, and the caller
    is expected to have filled the R-tree for the rows it inserted (see :func:`fill_rtree`). ``updates``
    also suspends the R-tree's geometry-update triggers (and the outside-edit count of an update): the
    caller then puts the new boxes of the rows it updated into the R-tree as well.
    """
    names = [f"trigger_insert_feature_count_{table}", f"trigger_delete_feature_count_{table}",
             edit_stamp.trigger_name(table, "insert")]  # checks per row that the write is ours: it is
    if geometry:
        names.append(f"rtree_{table}_geom_insert")
    if updates:
        names.append(edit_stamp.trigger_name(table, "update"))
        if geometry:
            names += [f"rtree_{table}_geom_update1", f"rtree_{table}_geom_update2"]
    saved = _triggers(conn, names)
    for name in saved:
        conn.exec_driver_sql(f"DROP TRIGGER {quote(name)}")
    yield
    for ddl in saved.values():
        conn.exec_driver_sql(ddl)
    conn.exec_driver_sql(f"UPDATE gpkg_ogr_contents SET feature_count = (SELECT count(*) FROM {quote(table)}) "
                         "WHERE lower(table_name) = lower(?)", (table,))


def fill_rtree(conn: Connection, table: str, fids: np.ndarray, geoms: np.ndarray,
               meanwhile: Callable[[], None] | None = None) -> None:
    """Put the bounding boxes of ``geoms`` (rows ``fids``) into the table's R-tree, if it has one; rows
    whose geometry is missing or empty are taken out of it. ``meanwhile()`` (other writes, which must not
    touch the R-tree) is called first, or while a rebuild is computed.

    When the new rows outnumber those indexed already, the whole index is rebuilt in one pass
    (``rtree_bulk``, packed in a worker thread while ``meanwhile`` runs); otherwise the boxes are inserted
    one by one.
    """
    r = f"rtree_{table}_geom"
    meanwhile = meanwhile or (lambda: None)
    if conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = ?", (r,)).first() is None:
        meanwhile()
        return
    geoms = np.asarray(geoms, dtype=object)
    fids = np.asarray(fids, dtype=float)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    b = shapely.bounds(geoms[present])
    new = np.column_stack([fids[present], b[:, 0], b[:, 2], b[:, 1], b[:, 3]])
    indexed = int(conn.exec_driver_sql(f"SELECT count(*) FROM {quote(r)}").scalar() or 0)
    if len(new) < max(indexed, BULK_ROWS):
        meanwhile()
        if not present.all():
            conn.exec_driver_sql(f"DELETE FROM {quote(r)} WHERE id = ?", [(int(f),) for f in fids[~present]])
        conn.exec_driver_sql(f"INSERT OR REPLACE INTO {quote(r)} VALUES (?, ?, ?, ?, ?)",
                             [(int(f), x0, x1, y0, y1) for f, x0, x1, y0, y1 in new.tolist()])
        return
    raw = conn.connection.driver_connection  # plain tuples: numpy probes SQLAlchemy rows key by key (slow)
    assert raw is not None
    old = np.array(raw.execute(f"SELECT id, minx, maxx, miny, maxy FROM {quote(r)}").fetchall(),
                   dtype=float).reshape(-1, 5)
    both = np.concatenate([old[~np.isin(old[:, 0], fids)], new])
    size = rtree_bulk.node_size(conn, r)

    def pack() -> tuple[rtree_bulk.Packed, bulk.Scratch | None]:
        packed = rtree_bulk.pack(size, both[:, 0].astype(np.int64), both[:, 1], both[:, 2], both[:, 3], both[:, 4])
        return packed, rtree_bulk.write_rowids(packed)

    with ThreadPoolExecutor(1) as pool:  # numpy sorts without the GIL, and the driver writes the index's
        packing = pool.submit(pack)  # rows into a scratch file, while SQLite writes the table's rows
        try:
            meanwhile()
        except BaseException:
            with contextlib.suppress(Exception):
                scratch = packing.result()[1]
                if scratch is not None:
                    bulk.discard(scratch)
            raise
        packed, scratch = packing.result()
        rtree_bulk.write(conn, r, packed, scratch)


def apply(conn: Connection, changes: RowChanges) -> np.ndarray | None:
    """Write ``changes`` inside the caller's transaction.

    Inserted rows get consecutive new fids (rows of fid-keyed tables that already have one keep it);
    for tables keyed by ``fid`` these are returned, in the order of ``changes.inserts``, so the caller can
    record them. Many inserted rows take the bulk path (:func:`_bulk`).
    """
    spec = changes.spec
    if len(changes.deletes):
        conn.exec_driver_sql(f"DELETE FROM {quote(spec.name)} WHERE {_where(spec)}",
                             list(zip(*_keys(spec, changes.deletes), strict=True)))
    fids = _new_fids(conn, spec, changes.inserts)
    if len(changes.inserts) >= BULK_ROWS:
        _bulk(conn, changes, fids)
    else:
        _updates(conn, changes)
        _insert(conn, spec, changes.inserts, fids)
    return fids if spec.key == ("fid",) else None


def _new_fids(conn: Connection, spec: TableSpec, inserts: pd.DataFrame) -> np.ndarray:
    """The fid of each inserted row: its own (fid-keyed rows that have one), else consecutive new ones."""
    fids = inserts["fid"].to_numpy(dtype=float).copy() if "fid" in inserts else np.full(len(inserts), np.nan)
    new = np.isnan(fids)
    if new.any():
        given = fids[~new]
        start = max(next_fid(conn, spec.name), int(given.max()) + 1 if len(given) else 1)
        fids[new] = np.arange(start, start + int(new.sum()))
    return fids


def _updates(conn: Connection, changes: RowChanges) -> None:
    """UPDATE the changed rows: those whose geometry moved with it, the others without touching it."""
    spec, moved = changes.spec, changes.geometry_changed
    _update(conn, spec, changes.updates[moved] if len(moved) else changes.updates.iloc[:0], True)
    _update(conn, spec, changes.updates[~moved] if len(moved) else changes.updates, False)


def _bulk(conn: Connection, changes: RowChanges, fids: np.ndarray) -> None:
    """Updates and many inserts with the row triggers suspended: rows go in ordered by key with ascending
    fids (the unique index and the table grow by appends: random-order keys cost three times as much), and
    the R-tree is filled for the inserted and moved rows at once (a rebuild in one pass when they
    outnumber the rows indexed), not by a trigger per row."""
    spec = changes.spec
    rows, row_fids = changes.inserts, fids  # the frame is not copied: fids are bound from their own array
    order = np.arange(len(rows))
    if spec.key != ("fid",):
        order = key_order(rows[spec.key[0]].to_numpy(dtype=object))
        row_fids = np.empty_like(fids)
        row_fids[order] = np.sort(fids)  # the row at position order[i] gets the i-th fid
    geometry = GEOMETRY in spec.kinds.values()
    moved = changes.updates[changes.geometry_changed] if len(changes.geometry_changed) else changes.updates.iloc[:0]
    fast = geometry and len(spec.key) == 1 and spec.key != ("fid",)  # moved rows found by key
    if not fast:
        _updates(conn, changes)  # with the row triggers, which keep the R-tree right for them
        moved = moved.iloc[:0]
    with suspended(conn, spec.name, geometry, updates=fast):
        moved_fids = np.zeros(0)
        if fast:
            _updates(conn, changes)
            moved_fids = fids_of(conn, spec, moved[spec.key[0]].to_numpy(dtype=object))
            moved, moved_fids = moved[~np.isnan(moved_fids)], moved_fids[~np.isnan(moved_fids)]
        names = ["fid", *(c for c in _insert_names(conn, spec, rows) if c != "fid")]

        def block(a: int, b: int) -> dict[str, list]:
            return {**db_columns(spec, rows, order=order[a:b], only=names),
                    "fid": row_fids[order[a:b]].astype(np.int64).tolist()}

        def insert() -> None:
            try:
                import pyarrow

                def arrow_block(a: int, b: int) -> dict:
                    return {**db_columns(spec, rows, order=order[a:b], only=names, arrow=True),
                            "fid": pyarrow.array(row_fids[order[a:b]].astype(np.int64))}

                insert_arrow(conn, spec.name, names, len(rows), arrow_block)
            except (NotArrow, ImportError):  # odd values, or no ADBC driver: bound by sqlite3
                insert_blocks(conn, spec.name, names, len(rows), block)
        if geometry:
            fill_rtree(conn, spec.name, np.concatenate([row_fids, moved_fids]),
                       np.concatenate([rows["geom"].to_numpy(), moved["geom"].to_numpy()]), meanwhile=insert)
        else:
            insert()


def fids_of(conn: Connection, spec: TableSpec, keys: np.ndarray) -> np.ndarray:
    """The fids of the rows of a single-key table whose keys are ``keys`` (in that order; NaN for a key
    the table does not hold: a row another program deleted since the project was read)."""
    if not len(keys):
        return np.zeros(0)
    key = spec.key[0]
    raw = conn.connection.driver_connection
    assert raw is not None
    found = dict(raw.execute(f"SELECT t.{quote(key)}, t.fid FROM json_each(?) j JOIN {quote(spec.name)} t "
                             f"ON t.{quote(key)} = j.value", (json.dumps(keys.tolist()),)).fetchall())
    return np.array([found.get(k, np.nan) for k in keys.tolist()], dtype=float)


def _insert(conn: Connection, spec: TableSpec, inserts: pd.DataFrame, fids: np.ndarray) -> None:
    """INSERT a few rows with their fids (the row triggers index them)."""
    if len(inserts):
        insert_columns(conn, spec.name, db_columns(_with_fid(spec), inserts.assign(fid=fids)))


def _insert_names(conn: Connection, spec: TableSpec, frame: pd.DataFrame) -> list[str]:
    """The database columns an INSERT of the record ``frame`` binds: those of :func:`db_columns` less the
    ones that are NULL in every row and NULL by default in the table (left out, they are NULL all the
    same, and a million values fewer are bound)."""
    null_default = {r[1] for r in conn.exec_driver_sql(f"PRAGMA table_info({quote(spec.name)})")
                    if r[4] is None and not r[3]}
    names = [c for c in frame.columns if c in spec.kinds]
    extras = [c for c in frame.columns if c not in spec.kinds and c not in spec.key] if spec.extras else []
    empty = {c for c in names if c in null_default and _all_missing(frame[c].to_numpy())}
    if spec.extras and "attrs" in null_default and not extras:
        empty.add("attrs")
    return [c for c in names if c not in empty] + (["attrs"] if spec.extras and "attrs" not in empty else [])


def _all_missing(values: np.ndarray) -> bool:
    """True when every value is missing; a column whose first or last value is there is answered without
    a pass over a million values."""
    if len(values) and not (_null(values[0]) and _null(values[-1])):
        return False
    return bool(pd.isna(values).all())


def _null(value) -> bool:
    """None or NaN: a missing value of a record frame (any other value, even pd.NA, counts as present
    here, which only means the column is checked in full)."""
    return value is None or (isinstance(value, float) and np.isnan(value))


def key_order(keys: np.ndarray) -> np.ndarray:
    """Positions that sort text keys in SQLite's BINARY (UTF-8 byte) order, with Arrow's C++ sort."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        array = pa.array(keys, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # keys that are not all text: numpy's order of their text
        return np.argsort(keys.astype(str), kind="stable")
    return pc.sort_indices(array).to_numpy()


def _with_fid(spec: TableSpec) -> TableSpec:
    return spec if "fid" in spec.kinds else TableSpec(spec.name, spec.key, {"fid": "int", **spec.kinds}, spec.extras)
