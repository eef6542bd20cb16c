"""Fast multi-row INSERTs: rows go in as ``INSERT ... VALUES (...), (...)`` statements of up to 2,000 rows,
their parameters laid out row-major by one ``zip`` of the columns (no per-row Python code), about three
times faster than one statement per row.

:func:`insert_blocks` streams a large insert: a worker thread converts the next block of rows and lays out
its parameters while SQLite writes the previous statements (the ``sqlite3`` module releases the GIL while
a statement runs), so on two cores converting and writing overlap.

:func:`insert_arrow` is the path for a million rows: binding values one by one through Python's ``sqlite3``
costs about 7 s a million rows; instead the ADBC SQLite driver writes the Arrow columns (C, no Python
object per value) into scratch SQLite files and an ``INSERT ... SELECT`` copies each into the table,
inside the caller's transaction, while the next is written (about 2 s a million account rows).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, event
from sqlalchemy.exc import DatabaseError

if TYPE_CHECKING:
    import pyarrow as pa

_PARAMETERS = 30_000  # SQLite allows 32,766 parameters per statement
#: statements of rows converted at a time by the worker of :func:`insert_blocks`
_STATEMENTS_PER_BLOCK = 25


def quote(name: str) -> str:
    """An SQL identifier in double quotes."""
    return '"' + name.replace('"', '""') + '"'


def _statement(table: str, names: list[str], rows: int) -> str:
    one = "(" + ", ".join("?" * len(names)) + ")"
    return f"INSERT INTO {quote(table)} ({', '.join(map(quote, names))}) VALUES " + ", ".join([one] * rows)


def _rows_per_statement(names: list[str]) -> int:
    return max(1, min(2000, _PARAMETERS // len(names)))


def insert_columns(conn: Connection, table: str, columns: dict) -> None:
    """Insert the column-major ``columns`` (name -> equal-length lists of SQLite values) into ``table``."""
    names = list(columns)
    if not names or not len(columns[names[0]]):
        return
    n, k = len(columns[names[0]]), len(names)
    flat = list(itertools.chain.from_iterable(zip(*columns.values(), strict=True)))
    per_statement = _rows_per_statement(names)
    step = per_statement * k
    full = (n - n % per_statement) * k
    raw = conn.connection.driver_connection  # the DBAPI cursor takes lists lazily; SQLAlchemy wants tuples
    assert raw is not None  # an open SQLAlchemy connection always has its DBAPI connection
    if full:
        raw.executemany(_statement(table, names, per_statement), (flat[i:i + step] for i in range(0, full, step)))
    if full < len(flat):
        raw.execute(_statement(table, names, n - full // k), flat[full:])


def insert_blocks(conn: Connection, table: str, names: list[str], rows: int,
                  block: Callable[[int, int], dict]) -> None:
    """Insert ``rows`` rows into the columns ``names`` of ``table``; ``block(start, stop)`` gives rows
    ``start:stop`` as columns (name -> list of SQLite values, at least ``names``).

    The blocks are made in a worker thread, one ahead of the statements SQLite runs. An error in either
    stops both and is raised here (the caller's transaction rolls back).
    """
    if not names or rows <= 0:
        return
    per_statement = _rows_per_statement(names)
    k = len(names)
    items: queue.Queue = queue.Queue(maxsize=2 * _STATEMENTS_PER_BLOCK)
    stop = threading.Event()

    def put(item) -> None:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def produce() -> None:
        try:
            size = per_statement * _STATEMENTS_PER_BLOCK
            for start in range(0, rows, size):
                columns = block(start, min(rows, start + size))
                flat = list(itertools.chain.from_iterable(zip(*(columns[c] for c in names), strict=True)))
                step = per_statement * k
                for i in range(0, len(flat), step):
                    put(("rows", flat[i:i + step]))
                if stop.is_set():
                    return
            put(("done", None))
        except BaseException as exc:  # handed to the caller's thread, raised there
            put(("error", exc))

    _run_statements(conn, _statement(table, names, per_statement), per_statement * k, items, stop,
                    threading.Thread(target=produce, daemon=True), lambda n: _statement(table, names, n // k))


def _run_statements(conn: Connection, sql: str, full: int, items: queue.Queue, stop: threading.Event,
                    worker: threading.Thread, sql_for: Callable[[int], str]) -> None:
    """Run the full statements the worker queues with one ``executemany``, then the last, shorter one."""
    last: list[tuple[str, list | BaseException | None]] = []

    def statements():
        while True:
            kind, value = items.get()
            if kind == "rows" and len(value) == full:
                yield value
                continue
            last.append((kind, value))
            return

    raw = conn.connection.driver_connection
    assert raw is not None
    worker.start()
    try:
        raw.executemany(sql, statements())
    finally:
        stop.set()
        worker.join()
    kind, value = last[0] if last else ("done", None)
    if isinstance(value, BaseException):
        raise value
    if kind == "rows" and isinstance(value, list):  # the shorter last statement ("done" comes after it)
        raw.execute(sql_for(len(value)), value)


#: rows per Arrow batch of :func:`insert_arrow`: converted in a worker while the driver writes the last
ARROW_BATCH = 100_000
#: rows per scratch file of :func:`insert_arrow` (about; the last is half the size): one file is copied
#: while the next is written
CHUNK_ROWS = 300_000
#: the most scratch files one :func:`insert_arrow` attaches (they stay attached until the connection
#: closes, and SQLite allows 10 by default: later inserts of the same save need theirs)
MAX_CHUNKS = 4


@dataclass
class Scratch:
    """Rows written ahead of the insert into a scratch file by :func:`write_scratch`."""

    folder: str
    path: str


def write_scratch(names: list[str], rows: int, block: Callable[[int, int], dict[str, pa.Array]]) -> Scratch:
    """Write ``rows`` rows (see :func:`insert_arrow`) into one scratch file now, for a later
    ``insert_arrow(..., written=...)``. Touches no connection: safe in a worker thread. Whoever does not
    hand it to ``insert_arrow`` removes it (:func:`discard`)."""
    remove_stale_scratch()
    folder = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
    path = os.path.join(folder, "rows.sqlite")
    try:
        _ingest(path, names, rows, block)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Scratch(folder, path)


def discard(scratch: Scratch) -> None:
    """Remove a scratch file :func:`insert_arrow` was not given."""
    shutil.rmtree(scratch.folder, ignore_errors=True)


def insert_arrow(conn: Connection, table: str, names: list[str], rows: int,
                 block: Callable[[int, int], dict[str, pa.Array]], written: Scratch | None = None) -> None:
    """Insert ``rows`` rows into the columns ``names`` of ``table`` inside the caller's transaction, in
    order; ``block(start, stop)`` gives rows ``start:stop`` as Arrow arrays (name -> array, at least
    ``names``). When ``block`` raises, the exception is raised here and ``table`` is left as it was
    (the rows already copied are rolled back to a savepoint), so the caller may insert another way.

    The ADBC driver writes them into scratch SQLite files (unjournaled: they are thrown away), batch by
    batch while a worker thread converts the next (the driver releases the GIL); each file is attached to
    ``conn`` and copied with one ``INSERT ... SELECT`` while a worker writes the next file (SQLite releases
    the GIL too, so on two cores writing and copying overlap). Only ``table``'s file is written in the
    transaction, so a crash or kill leaves it as before (its own journal rolls it back). A scratch database
    stays attached until the connection closes (SQLite refuses to detach a database the open transaction
    has read); its file is removed at once where the system allows it (POSIX), else when the connection
    closes. ``written``: the rows are in that scratch file already (:func:`write_scratch`); it is copied.
    """
    if written is None and (not names or rows <= 0):
        return
    remove_stale_scratch()
    chunks = 1 if written is not None else _chunk_count(conn, rows)
    weights = [0, *([2] * (chunks - 1)), 1]  # the last file half the size: the copy after the last write
    # is what the pipeline cannot overlap
    edges = [rows * w // (2 * chunks - 1) for w in itertools.accumulate(weights)]
    folders = [written.folder] if written is not None else \
        [tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-") for _ in range(chunks)]
    target = f"INSERT INTO main.{quote(table)} ({', '.join(map(quote, names))}) SELECT " + \
        ", ".join(f"c{i}" for i in range(len(names)))

    def write(i: int) -> str:
        if written is not None:
            return written.path
        path = os.path.join(folders[i], "rows.sqlite")
        a = edges[i]
        _ingest(path, names, edges[i + 1] - a, lambda s, e: block(a + s, a + e))
        return path

    conn.exec_driver_sql("SAVEPOINT td_bulk_insert")
    try:
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(write, 0)
            for i in range(chunks):
                path = pending.result()
                if i + 1 < chunks:
                    pending = pool.submit(write, i + 1)
                alias = f"td_bulk_{os.path.basename(folders[i]).replace('-', '_')}"
                conn.exec_driver_sql(f"ATTACH DATABASE ? AS {quote(alias)}", (path,))
                conn.exec_driver_sql(f"{target} FROM {quote(alias)}.rows")
    except BaseException:
        with contextlib.suppress(DatabaseError):  # a statement that failed may have ended the transaction
            conn.exec_driver_sql("ROLLBACK TO td_bulk_insert")
            conn.exec_driver_sql("RELEASE td_bulk_insert")
        raise
    else:
        conn.exec_driver_sql("RELEASE td_bulk_insert")
    finally:
        for folder in folders:
            _remove_when_closed(conn, folder)


def _chunk_count(conn: Connection, rows: int) -> int:
    """How many scratch files :func:`insert_arrow` writes: one a ``CHUNK_ROWS`` rows, at most
    ``MAX_CHUNKS``, and no more than leave one attachment free for a later insert."""
    raw = conn.connection.driver_connection
    assert raw is not None
    attached = len(conn.exec_driver_sql("PRAGMA database_list").all()) - 1  # less main (temp is not listed
    # until used; counting it when it is errs on the safe side)
    limit = raw.getlimit(sqlite3.SQLITE_LIMIT_ATTACHED) if hasattr(raw, "getlimit") else 10
    return max(1, min(MAX_CHUNKS, -(-rows // CHUNK_ROWS), limit - attached - 1))


def _ingest(path: str, names: list[str], rows: int, block: Callable[[int, int], dict[str, pa.Array]]) -> None:
    """Write the rows into table ``rows`` (columns ``c0, c1, ...``) of a new SQLite file at ``path``."""
    import adbc_driver_sqlite.dbapi as adbc
    import pyarrow as pa

    labels = [f"c{i}" for i in range(len(names))]
    failed: list[BaseException] = []

    def batch(start: int) -> pa.RecordBatch:
        columns = block(start, min(rows, start + ARROW_BATCH))
        return pa.record_batch([columns[n] for n in names], names=labels)

    with ThreadPoolExecutor(1) as pool:
        first = batch(0)

        def batches():
            current, pending = first, None
            for start in range(0, rows, ARROW_BATCH):
                if start + ARROW_BATCH < rows:
                    pending = pool.submit(batch, start + ARROW_BATCH)
                yield current if current.schema == first.schema else current.cast(first.schema)
                if pending is None:
                    return
                try:
                    current, pending = pending.result(), None
                except BaseException as exc:  # raised by insert_arrow, not lost inside the driver
                    failed.append(exc)
                    return

        with adbc.connect(path, autocommit=True) as scratch:
            cursor = scratch.cursor()
            cursor.execute("PRAGMA journal_mode=OFF")
            cursor.fetchall()
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.adbc_ingest("rows", pa.RecordBatchReader.from_batches(first.schema, batches()), mode="create")
            cursor.close()
    if failed:
        raise failed[0]


#: scratch folders of :func:`insert_arrow` in the temporary folder: ``td-bulk-<pid>-<random>``
SCRATCH_PREFIX = "td-bulk-"


def remove_stale_scratch(folder: str | None = None) -> None:
    """Remove the scratch folders that processes no longer running left behind (a save killed while it
    wrote): those of a live process (this one included) are in use."""
    import psutil

    root = folder or tempfile.gettempdir()
    try:
        entries = [e for e in os.scandir(root) if e.name.startswith(SCRATCH_PREFIX) and e.is_dir()]
    except OSError:
        return
    for entry in entries:
        pid = entry.name[len(SCRATCH_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not psutil.pid_exists(int(pid)):
            shutil.rmtree(entry.path, ignore_errors=True)


def _remove_when_closed(conn: Connection, folder: str) -> None:
    """Remove the scratch ``folder`` now, or (where an open file cannot be removed) when ``conn``'s
    DBAPI connection closes."""
    try:
        shutil.rmtree(folder)
    except OSError:
        event.listen(conn.engine, "close", lambda *_: shutil.rmtree(folder, ignore_errors=True), once=True)
