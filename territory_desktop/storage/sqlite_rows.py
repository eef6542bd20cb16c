"""Apply :class:`rows.RowChanges` to a SQLite (GeoPackage) table: DELETE, UPDATE and INSERT by key.

Updates name only the application's columns, so columns another program added keep their values; rows
are addressed by their business key, so ``fid`` values never change; geometry is written (and the R-tree
triggers fire) only for rows whose geometry changed.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from . import gpkg
from .rows import GEOMETRY, RowChanges, TableSpec

_PARAMETERS = 30_000  # SQLite allows 32,766 parameters per statement


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _db_values(values: np.ndarray, kind: str) -> list:
    """A normalised column (see ``rows.normalise``) as plain Python values for SQLite."""
    if kind == "real":
        return [None if math.isnan(v) else v for v in values.astype(float).tolist()]
    if kind in ("int", "bool"):
        return [None if math.isnan(v) else int(v) for v in values.astype(float).tolist()]
    if kind == GEOMETRY:
        return gpkg.encode(values)
    return [None if v is None else v for v in values.tolist()]


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


def db_columns(spec: TableSpec, frame: pd.DataFrame, with_geometry: bool = True) -> dict[str, list]:
    """The database columns (name -> values) of a record frame: known columns by kind, extras as attrs."""
    out: dict[str, list] = {}
    for column in frame.columns:
        kind = spec.kinds.get(column)
        if kind is None or (kind == GEOMETRY and not with_geometry):
            continue
        out[column] = _db_values(frame[column].to_numpy(), kind)
    if spec.extras:
        out["attrs"] = _attrs(frame, [c for c in frame.columns if c not in spec.kinds and c not in spec.key])
    return out


def _insert(conn: Connection, table: str, columns: dict[str, list]) -> None:
    names = list(columns)
    if not names or not len(columns[names[0]]):
        return
    n, k = len(columns[names[0]]), len(names)
    grid = np.empty((n, k), dtype=object)
    for j, name in enumerate(names):
        grid[:, j] = np.fromiter(columns[name], dtype=object, count=n)  # never via a bytes dtype: it strips NULs
    per_statement = max(1, min(200, _PARAMETERS // k))
    one = "(" + ", ".join("?" * k) + ")"
    head = f"INSERT INTO {_quote(table)} ({', '.join(map(_quote, names))}) VALUES "
    full = n - n % per_statement
    if full:
        conn.exec_driver_sql(head + ", ".join([one] * per_statement),
                             list(map(tuple, grid[:full].reshape(-1, per_statement * k).tolist())))
    if full < n:
        conn.exec_driver_sql(head + ", ".join([one] * (n - full)), tuple(grid[full:].ravel().tolist()))


def _where(spec: TableSpec) -> str:
    return " AND ".join(f"{_quote(k)} = ?" for k in spec.key)


def _keys(spec: TableSpec, frame: pd.DataFrame) -> list[list]:
    return [_db_values(frame[k].to_numpy(), spec.kinds.get(k, "text")) for k in spec.key]


def _update(conn: Connection, spec: TableSpec, frame: pd.DataFrame, with_geometry: bool) -> None:
    if not len(frame):
        return
    columns = db_columns(spec, frame.drop(columns=list(spec.key)), with_geometry)
    names = list(columns)
    sql = (f"UPDATE {_quote(spec.name)} SET {', '.join(f'{_quote(c)} = ?' for c in names)} "
           f"WHERE {_where(spec)}")
    conn.exec_driver_sql(sql, list(zip(*columns.values(), *_keys(spec, frame), strict=True)))


def next_fid(conn: Connection, table: str) -> int:
    """The fid SQLite's AUTOINCREMENT gives the next row inserted into ``table``."""
    seq = conn.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).scalar() or 0
    top = conn.exec_driver_sql(f"SELECT max(fid) FROM {_quote(table)}").scalar() or 0
    return max(int(seq), int(top)) + 1


def apply(conn: Connection, changes: RowChanges) -> np.ndarray | None:
    """Write ``changes`` inside the caller's transaction.

    For tables keyed by ``fid``, rows inserted without one get consecutive new fids, which are returned
    (in the order of ``changes.inserts``, existing fids kept) so the caller can record them.
    """
    spec = changes.spec
    if len(changes.deletes):
        conn.exec_driver_sql(f"DELETE FROM {_quote(spec.name)} WHERE {_where(spec)}",
                             list(zip(*_keys(spec, changes.deletes), strict=True)))
    moved = changes.geometry_changed
    _update(conn, spec, changes.updates[moved] if len(moved) else changes.updates.iloc[:0], True)
    _update(conn, spec, changes.updates[~moved] if len(moved) else changes.updates, False)
    inserts = changes.inserts
    if spec.key != ("fid",):
        _insert(conn, spec.name, db_columns(spec, inserts))
        return None
    fids = inserts["fid"].to_numpy(dtype=float).copy() if len(inserts) else np.zeros(0)
    new = np.isnan(fids)
    _insert(conn, spec.name, db_columns(spec, inserts[~new]))
    if new.any():
        start = next_fid(conn, spec.name)
        fids[new] = np.arange(start, start + int(new.sum()))
        fresh = inserts[new].copy()
        fresh["fid"] = fids[new]
        _insert(conn, spec.name, db_columns(spec, fresh))
    return fids
