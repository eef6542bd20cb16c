"""Fast multi-row INSERTs: rows go in as ``INSERT ... VALUES (...), (...)`` statements of up to 2,000 rows,
their parameters laid out row-major by one ``zip`` of the columns (no per-row Python code), about three
times faster than one statement per row."""

from __future__ import annotations

import itertools

from sqlalchemy import Connection

_PARAMETERS = 30_000  # SQLite allows 32,766 parameters per statement


def quote(name: str) -> str:
    """An SQL identifier in double quotes."""
    return '"' + name.replace('"', '""') + '"'


def insert_columns(conn: Connection, table: str, columns: dict) -> None:
    """Insert the column-major ``columns`` (name -> equal-length lists of SQLite values) into ``table``."""
    names = list(columns)
    if not names or not len(columns[names[0]]):
        return
    n, k = len(columns[names[0]]), len(names)
    flat = list(itertools.chain.from_iterable(zip(*columns.values(), strict=True)))
    per_statement = max(1, min(2000, _PARAMETERS // k))
    one = "(" + ", ".join("?" * k) + ")"
    head = f"INSERT INTO {quote(table)} ({', '.join(map(quote, names))}) VALUES "
    step = per_statement * k
    full = (n - n % per_statement) * k
    raw = conn.connection.driver_connection  # the DBAPI cursor takes lists lazily; SQLAlchemy wants tuples
    assert raw is not None  # an open SQLAlchemy connection always has its DBAPI connection
    if full:
        raw.executemany(head + ", ".join([one] * per_statement), (flat[i:i + step] for i in range(0, full, step)))
    if full < len(flat):
        raw.execute(head + ", ".join([one] * (n - full // k)), flat[full:])
