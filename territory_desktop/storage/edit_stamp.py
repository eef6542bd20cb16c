"""Notice edits other programs make to what account placement depends on, so opening an untouched file
does not place every account again (a million point-in-polygon tests).

The file's own triggers count such edits: inserting or moving an account (or changing its ``unit_id``),
and inserting, deleting, reshaping or renaming a unit, by any program (QGIS, ogr2ogr, the sqlite3 shell),
add one to ``td_meta.outside_edits``. Territory Desktop's saves do not count: they mark their
transaction with a ``td_meta`` row (``app_writing``, never visible to another connection) that the
triggers' ``WHEN`` clause checks. A save records in ``placed_at_edit`` the count at which the file's
placement is known to be right: the count when the project was opened (it was placed then), if nothing
was edited outside since. Opening re-places the accounts unless the two are equal. The triggers use
plain SQL only, so every program that edits the file can run them.
"""

from __future__ import annotations

from sqlalchemy import Connection

COUNTER = "outside_edits"
PLACED = "placed_at_edit"
WRITING = "app_writing"

#: table -> columns whose update can change an account's unit; deleting a unit matters, an account not
_WATCHED = {"accounts": (("insert", ""), ("update", "OF geom, unit_id")),
            "units": (("insert", ""), ("update", "OF geom, unit_id"), ("delete", ""))}


def trigger_name(table: str, event: str) -> str:
    return f"td_outside_edit_{table}_{event}"


def _ddl(table: str, event: str, columns: str) -> str:
    return (f'CREATE TRIGGER "{trigger_name(table, event)}" AFTER {event.upper()} {columns} ON "{table}" '
            f"WHEN NOT EXISTS (SELECT 1 FROM td_meta WHERE key = '{WRITING}') BEGIN "
            f"UPDATE td_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = '{COUNTER}'; END")


def begin(conn: Connection) -> None:
    """Start an application write (inside its transaction): create the triggers and the counter if the
    file lacks them, and mark the transaction as ours."""
    existing = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    for table, events in _WATCHED.items():
        for event, columns in events:
            if trigger_name(table, event) not in existing:
                conn.exec_driver_sql(_ddl(table, event, columns).replace("  ", " "))
    conn.exec_driver_sql(f"INSERT OR IGNORE INTO td_meta (key, value) VALUES ('{COUNTER}', '0')")
    conn.exec_driver_sql(f"INSERT OR IGNORE INTO td_meta (key, value) VALUES ('{WRITING}', '1')")


def finish(conn: Connection, counted_at_open: str | None) -> str | None:
    """End an application write: record the placement as right if no edit was made outside since the
    project was read (``counted_at_open``: :func:`counted` of the file it was read from, None for a
    project made in memory); returns what the project's baseline keeps for the next save."""
    now = conn.exec_driver_sql(f"SELECT value FROM td_meta WHERE key = '{COUNTER}'").scalar()
    conn.exec_driver_sql(f"DELETE FROM td_meta WHERE key = '{WRITING}'")
    if counted_at_open is not None and str(now) != str(counted_at_open):
        return counted_at_open  # edited outside since it was read: the next open places the accounts again
    conn.exec_driver_sql("INSERT INTO td_meta (key, value) VALUES (?, ?) "
                         "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (PLACED, str(now)))
    return str(now)


def counted(meta: dict[str, str]) -> str | None:
    """The outside-edit count of a file's ``td_meta`` (None: a file written before it was kept)."""
    return meta.get(COUNTER)


def placement_current(meta: dict[str, str]) -> bool:
    """True when nothing that placement depends on was edited outside the application since a save
    recorded the file's placement as right."""
    counter = meta.get(COUNTER)
    return counter is not None and counter.isdigit() and meta.get(PLACED) == counter  # not a garbled value


def trigger_names() -> list[str]:
    """Every trigger this module keeps (for code that must list or suspend them)."""
    return [trigger_name(t, e) for t, events in _WATCHED.items() for e, _c in events]
