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

#: version -> step that upgrades a file from version - 1 to version
MIGRATIONS: dict[int, Migration] = {}


def file_version(conn: Connection) -> int:
    row = conn.execute(select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")).first()
    if row is None:
        raise ProjectFileError("not a Territory Desktop project (no schema_version in td_meta)")
    return int(row[0])


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
