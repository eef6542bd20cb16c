"""The audit log: one row per assignment change, worked out where a save computes its row changes, and
the filtered reads behind ``territory-desktop audit`` and the Audit log dialog.

A change is recorded for a scenario that existed before the save (creating or deleting a whole scenario
is one entry of its own, not one per unit): a unit whose ``territory_id`` changed (``entity_type``
``unit``), and an account override set, changed or cleared (``account``; an empty new territory means
the account follows its unit again).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .rows import RowChanges

if TYPE_CHECKING:  # SQLAlchemy is imported when a file is opened, not with the window's modules
    from sqlalchemy import Connection

#: the assignment tables and the entity each row is about
AUDITED = {"assignments": ("unit", "unit_id"), "account_assignments": ("account", "account_id")}
AUDIT_COLUMNS = ["ts", "user", "action", "details", "scenario_id", "entity_type", "entity_id",
                 "old_territory_id", "territory_id"]


def os_user() -> str:
    """Who works on the project when no name is configured: ``TERRITORY_DESKTOP_USER`` if set, else the
    operating-system login name."""
    return (os.environ.get("TERRITORY_DESKTOP_USER") or os.environ.get("USER") or os.environ.get("USERNAME")
            or "unknown")


def _lookup(frame: pd.DataFrame, key: str, keys: list[tuple]) -> list:
    if not len(frame) or not keys:
        return [None] * len(keys)
    index = pd.MultiIndex.from_arrays([frame["scenario_id"].to_numpy(object), frame[key].to_numpy(object)])
    pos = index.get_indexer(pd.MultiIndex.from_tuples(keys))
    values = frame["territory_id"].to_numpy(object)
    return [values[p] if p >= 0 else None for p in pos]


def assignment_changes(table: str, old: pd.DataFrame | None, current: pd.DataFrame,
                       changes: RowChanges) -> list[dict]:
    """Audit rows (without ts/user) for the row changes of an assignment table; [] for other tables or a
    first save (no rows before)."""
    if table not in AUDITED or old is None or not len(old):
        return []
    entity, key = AUDITED[table]
    kept = set(old["scenario_id"]) & set(current["scenario_id"])
    rows: list[dict] = []
    for frame, side in ((changes.updates, "update"), (changes.inserts, "insert"), (changes.deletes, "delete")):
        frame = frame[frame["scenario_id"].isin(kept).to_numpy()] if len(frame) else frame
        keys = list(zip(frame["scenario_id"], frame[key], strict=True))
        before = _lookup(old, key, keys) if side != "insert" else [None] * len(keys)
        after = frame["territory_id"].tolist() if side != "delete" else [None] * len(keys)
        rows.extend(_row(entity, k, b, a) for k, b, a in zip(keys, before, after, strict=True) if b != a)
    return rows


def _text(value) -> str | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def _row(entity: str, key: tuple, before, after) -> dict:
    sid, eid = key
    before, after = _text(before), _text(after)
    return {"action": f"assign {entity}", "details": f"{entity} {eid}: {before or '-'} -> {after or '-'}",
            "scenario_id": sid, "entity_type": entity, "entity_id": eid, "old_territory_id": before,
            "territory_id": after}


def read_audit(conn: Connection, since: str | None = None, user: str | None = None,
               territory: str | None = None, until: str | None = None) -> pd.DataFrame:
    """Audit-log rows, oldest first, filtered by time (``since``/``until`` ISO dates or times, inclusive
    days), user (exact, case-insensitive) and territory (old or new territory of the change)."""
    have = {r[1] for r in conn.exec_driver_sql('PRAGMA table_info("audit_log")')}
    columns = ", ".join(f'"{c}"' if c in have else f'NULL AS "{c}"' for c in AUDIT_COLUMNS)
    where, params = [], []
    if since:
        where.append("ts >= ?")
        params.append(str(since))
    if until:
        where.append("ts < ?")
        params.append(_next_day(str(until)))
    if user:
        where.append("lower(user) = lower(?)")
        params.append(user)
    if territory and "territory_id" in have:
        where.append("(territory_id = ? OR old_territory_id = ?)")
        params.extend([territory, territory])
    sql = f"SELECT {columns} FROM audit_log" + (f" WHERE {' AND '.join(where)}" if where else "")
    rows = conn.exec_driver_sql(sql + " ORDER BY ts, fid", tuple(params)).fetchall()
    return pd.DataFrame([tuple(r) for r in rows], columns=AUDIT_COLUMNS)


def _next_day(value: str) -> str:
    if len(value) == 10:  # a date: the whole day is included
        return (pd.Timestamp(value) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    return value


def read_audit_file(path: str | os.PathLike, **filters) -> pd.DataFrame:
    """:func:`read_audit` on a project file (read-only)."""
    from sqlalchemy.exc import DatabaseError

    from .project_file import _check_path, _database_error, open_engine

    path = Path(path)
    _check_path(path)
    engine = open_engine(path)
    try:
        with engine.connect() as conn:
            return read_audit(conn, **filters)
    except DatabaseError as exc:
        raise _database_error(path, exc, "read") from exc
    finally:
        engine.dispose()
