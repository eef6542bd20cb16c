"""Versioned schema: a file records ``schema_version`` in ``td_meta``; opening an older file upgrades it
in one transaction (all steps or none), and a newer file is refused with a clear message.

To change the schema: bump ``schema.SCHEMA_VERSION``, change the tables in ``schema.py``, and add a
function here under the new version number that brings a file from the previous version to it
(``ALTER TABLE ... ADD COLUMN``, new tables via ``table.create(conn)``, data fixes).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, select

from ..models import ProjectFileError
from . import schema

Migration = Callable[[Connection], None]

def _to_v2(conn: Connection) -> None:
    """Schema 1 -> 2: GeoPackage-valid tables (INTEGER fid keys, REAL, DATE/DATETIME, JSON subtype, every
    table registered, R-tree indexes). Each table is rebuilt with its rows and its columns, also those
    another program added."""
    existing = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for name, table in schema.metadata.tables.items():
        if name not in existing:
            continue
        old = [r[1] for r in conn.exec_driver_sql(f'PRAGMA table_info("{name}")')]
        foreign = [c for c in old if c not in table.columns]
        conn.exec_driver_sql(f'ALTER TABLE "{name}" RENAME TO "_v1_{name}"')
        for index in [r[0] for r in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                (f"_v1_{name}",))]:
            conn.exec_driver_sql(f'DROP INDEX "{index}"')
        table.create(conn)
        for column in foreign:
            declared = {r[1]: r[2] for r in conn.exec_driver_sql(f'PRAGMA table_info("_v1_{name}")')}
            conn.exec_driver_sql(f'ALTER TABLE "{name}" ADD COLUMN "{column}" {declared[column] or ""}')
        common = ", ".join(f'"{c}"' for c in old if c in table.columns or c in foreign)
        conn.exec_driver_sql(f'INSERT INTO "{name}" ({common}) SELECT {common} FROM "_v1_{name}"')
        conn.exec_driver_sql(f'DROP TABLE "_v1_{name}"')
    for name, column in (("scenarios", "created"), ("audit_log", "ts")):
        _normalise_datetimes(conn, name, column)
    conn.exec_driver_sql("DELETE FROM gpkg_contents WHERE table_name NOT IN "
                         "(SELECT name FROM sqlite_master WHERE type IN ('table', 'view'))")
    schema.create_all(conn)


def _normalise_datetimes(conn: Connection, table: str, column: str) -> None:
    from .records import iso_datetimes

    rows = conn.exec_driver_sql(f'SELECT fid, "{column}" FROM "{table}"').fetchall()
    if rows:
        fixed = iso_datetimes([r[1] or None for r in rows])
        keep = table == "audit_log"  # NOT NULL: an unreadable time stays as it was
        conn.exec_driver_sql(f'UPDATE "{table}" SET "{column}" = ? WHERE fid = ?',
                             [(v if v is not None or not keep else r[1], r[0])
                              for v, r in zip(fixed, rows, strict=True)])


def _to_v3(conn: Connection) -> None:
    """Schema 2 -> 3: the ``leads`` and ``lead_rotation`` tables (lead distribution)."""
    schema.create_all(conn)


def _to_v4(conn: Connection) -> None:
    """Schema 3 -> 4: review flow, snapshots, plans in force, comments and project users (new tables); the
    audit log gains the columns of an assignment change (scenario, unit/account, old and new territory)."""
    have = {r[1] for r in conn.exec_driver_sql('PRAGMA table_info("audit_log")')}
    for column in schema.AUDIT_CHANGE_COLUMNS:
        if column not in have:
            conn.exec_driver_sql(f'ALTER TABLE "audit_log" ADD COLUMN "{column}" TEXT')
    schema.create_all(conn)


def _to_v5(conn: Connection) -> None:
    """Schema 4 -> 5: the ``quotas`` table (quota sets stored in the project, registered like the others)."""
    schema.create_all(conn)


def _to_v6(conn: Connection) -> None:
    """Schema 5 -> 6: the ``lead_rules`` table (the planner's lead rules stored in the project)."""
    schema.create_all(conn)


#: version -> step that upgrades a file from version - 1 to version
MIGRATIONS: dict[int, Migration] = {2: _to_v2, 3: _to_v3, 4: _to_v4, 5: _to_v5, 6: _to_v6}


def file_version(conn: Connection) -> int:
    row = conn.execute(select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")).first()
    if row is None:
        raise ProjectFileError("not a Territory Desktop project (no schema_version in td_meta)")
    try:
        return int(row[0])
    except (TypeError, ValueError):
        raise ProjectFileError(f"td_meta: the schema_version {row[0]!r} is not a version number; the file "
                               "was changed by another program") from None


def upgrade(conn: Connection, target: int | None = None) -> list[int]:
    """Upgrade the file behind ``conn`` to ``target`` (default: current); returns the steps applied.

    Runs inside the caller's transaction, so a failure leaves the file as it was.
    """
    target = schema.SCHEMA_VERSION if target is None else target
    version = file_version(conn)
    if version > target:
        raise ProjectFileError(
            f"this project was written by a newer Territory Desktop (schema {version}); "
            f"this version reads schema {target} and older - please update the application")
    applied = []
    for step in range(version + 1, target + 1):
        if step not in MIGRATIONS:
            raise ProjectFileError(f"no migration to schema {step}; the file is at schema {version}")
        MIGRATIONS[step](conn)
        applied.append(step)
    if applied:
        conn.execute(schema.meta.update().where(schema.meta.c.key == "schema_version").values(value=str(target)))
    return applied
