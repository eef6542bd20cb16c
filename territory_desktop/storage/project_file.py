"""Read and write a project as one GeoPackage file that GDAL and QGIS open and edit.

Saves write rows, not tables: each table the project marked dirty is compared with the rows last read or
written (``Project.baseline``) and only inserted, changed and removed rows are written, by business key
(``rows``, ``records``, ``sqlite_rows``). So ``fid`` values stay stable, columns and rows another program
added keep their values, and an unchanged table is not touched.

Every save is atomic. In place, it is one SQLite transaction that first checks the file is still the one
the project was read from (its revision stamp and file id): a write by another process in between is
refused, never overwritten. "Save as" copies the project's own file (or creates a new one) under a
temporary name, writes, syncs and renames it into place. A process killed mid-save leaves the last saved
state (SQLite rolls the journal back; stale temporary files are removed on the next open or save).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DatabaseError
from sqlalchemy.pool import NullPool

from ..models import CRS, Plan, Project, ProjectFileError
from ..models.project import (
    LEAD_COLUMNS,
    LEAD_ROTATION_COLUMNS,
    LEAD_RULE_COLUMNS,
    OPPORTUNITY_COLUMNS,
    QUOTA_COLUMNS,
    SCENARIO_COLUMNS,
    TERRITORY_COLUMNS,
    TerritoryShape,
)
from . import edit_stamp, gpkg, lock, migrations, schema, styles
from .audit import assignment_changes, os_user
from .records import (
    DIRTY_TABLES,
    ENTITY_FIELDS,
    ENTITY_KEYS,
    HISTORY_COLUMNS,
    REVIEW_TABLES,
    SPECS,
    TERRITORY_LAYER_COLUMNS,
    as_multipolygons,
    records,
)
from .rows import diff
from .sqlite_rows import apply

APP_ID = "territory-desktop"
ALL_TABLES = tuple(SPECS)
BUSY_TIMEOUT_MS = 5000


def open_engine(path: str | os.PathLike) -> Engine:
    """A SQLAlchemy engine on the file where every ``begin()`` is one real SQLite transaction.

    pysqlite's own transaction handling lets DDL escape the transaction; we switch it off and emit
    ``BEGIN IMMEDIATE`` ourselves (the recipe in SQLAlchemy's SQLite dialect docs). Every connection
    registers the GeoPackage SQL functions that R-tree triggers call.
    """
    engine = create_engine(f"sqlite:///{Path(path)}", poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        dbapi_connection.execute("PRAGMA journal_mode=DELETE")
        dbapi_connection.execute("PRAGMA synchronous=FULL")
        dbapi_connection.execute("PRAGMA cache_size=-131072")  # 128 MB: million-row index updates stay in memory
        gpkg.register_functions(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


# ---------------------------------------------------------------------------------------------- errors

def _database_error(path: Path, exc: BaseException, doing: str) -> ProjectFileError:
    """A user-facing error for a failed SQLite operation (no row data, no traceback)."""
    text = str(getattr(exc, "orig", exc))
    low = text.lower()
    if "locked" in low or "busy" in low:
        return lock.ProjectBusyError(f"{path.name} is busy: another program is writing to it; "
                                     f"nothing was {doing}, try again in a moment")
    if "full" in low or getattr(exc, "errno", None) == 28:
        return ProjectFileError(f"{path}: the disk is full; nothing was {doing} (the file is as it was)")
    if "readonly" in low or "read-only" in low:
        return ProjectFileError(f"{path}: the file or its folder is read-only; nothing was {doing}")
    if doing == "saved":
        return ProjectFileError(f"{path}: could not save: {text}")
    return ProjectFileError(f"{path}: the file is damaged or not a project: {text}")


def _check_path(path: Path) -> None:
    if path.is_dir():
        raise ProjectFileError(f"{path}: is a folder, not a project file")
    if not path.exists():
        raise ProjectFileError(f"{path}: no such project file")
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise ProjectFileError(f"{path}: cannot be read: {exc.strerror}") from exc
    if head != b"SQLite format 3\x00":
        raise ProjectFileError(f"{path}: not a GeoPackage project (not an SQLite file)")


# ---------------------------------------------------------------------------------------------- writing

def save_changes(project: Project, path: str | os.PathLike) -> None:
    """Write the project's changes into the file it was read from, in one transaction.

    Raises ProjectFileError (ProjectBusyError when another process holds the project) and leaves the file
    as it was when the file changed since it was read, was removed, or the disk is full.
    """
    path = Path(path)
    _check_path(path)
    taken = lock.acquire(path)
    engine = open_engine(path)
    try:
        identity = _identity(path)
        with engine.begin() as conn:
            migrations.upgrade(conn)
            _check_unchanged(conn, project, path)
            written = _write(conn, project, _dirty_tables(project))
        _check_still_there(path, identity)
    except DatabaseError as exc:
        raise _database_error(path, exc, "saved") from exc
    finally:
        engine.dispose()
        if taken:
            lock.release(path)
    _saved(project, written)


def save_new(project: Project, path: str | os.PathLike) -> None:
    """Write the project to ``path`` (created or replaced) atomically: temporary file, fsync, rename.

    When the project came from a file, that file is copied first and the changes written on top, so
    whatever other programs added to it (columns, rows, styles, tables) comes along.
    """
    path = Path(path)
    if path.is_dir():
        raise ProjectFileError(f"{path}: is a folder; choose a file name ending in .gpkg")
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporary_files(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.saving")
    source = _copy_source(project, tmp)
    engine = open_engine(tmp)
    try:
        with engine.begin() as conn:
            if source:
                tables = _dirty_tables(project)
            else:
                _create(conn, project)
                tables = set(ALL_TABLES)
            _set_meta(conn, "file_id", uuid.uuid4().hex)
            written = _write(conn, project, tables, fresh=not source)
        engine.dispose()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except (DatabaseError, OSError) as exc:
        raise _database_error(path, exc, "saved") from exc
    finally:
        engine.dispose()
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}-journal").unlink(missing_ok=True)
    _saved(project, written)


def _copy_source(project: Project, tmp: Path) -> bool:
    """Copy the file the project was read from to ``tmp`` if it is still at the revision read; else False."""
    source = Path(project.path) if project.path else None
    if source is None or not source.is_file() or not (project.baseline.get("tables") or project.baseline.get("source")):
        return False
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            meta = dict(src.execute("SELECT key, value FROM td_meta").fetchall())
            if _stamp(meta) != _stamp_of(project):
                return False
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error:
        tmp.unlink(missing_ok=True)
        return False
    return True


def _create(conn: Connection, project: Project) -> None:
    schema.create_all(conn)
    conn.execute(schema.meta.insert(), [
        {"key": "schema_version", "value": str(schema.SCHEMA_VERSION)},
        {"key": "application", "value": APP_ID},
        {"key": "created", "value": now()},
        {"key": "revision", "value": "0"},
    ])
    project.baseline = {}


def _dirty_tables(project: Project) -> set[str]:
    return {t for flag in project.dirty for t in DIRTY_TABLES.get(flag, ())}


def _stamp(meta: dict) -> tuple[str, str]:
    return str(meta.get("revision", "0")), str(meta.get("file_id", ""))


def _stamp_of(project: Project) -> tuple[str, str]:
    return str(project.baseline.get("revision", "0")), str(project.baseline.get("file_id", ""))


def _check_unchanged(conn: Connection, project: Project, path: Path) -> None:
    meta = read_meta(conn)
    if _stamp(meta) != _stamp_of(project):
        raise ProjectFileError(
            f"{path.name} was changed by another window or process since this project was opened "
            f"(file revision {meta.get('revision', '?')}, opened at {project.baseline.get('revision', '?')}); "
            "nothing was saved: open it again, or use Save As to keep this version in a new file")


def _identity(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_dev, st.st_ino


def _check_still_there(path: Path, identity: tuple[int, int]) -> None:
    try:
        same = _identity(path) == identity
    except OSError:
        same = False
    if not same:
        raise ProjectFileError(f"{path}: the file was deleted or replaced while saving; the changes did "
                               "not reach it: save again or use Save As")


def _write(conn: Connection, project: Project, tables: set[str], fresh: bool = False) -> dict:
    """Write the row changes of ``tables`` and the metadata; returns what the baseline becomes."""
    if project.history_pending and (fresh or tables & set(DEFERRED)):
        raise ProjectFileError("the project's history (sales, visits, opportunities) is not loaded yet: "
                               "nothing was saved, so none of it is lost (services.project.ensure_history)")
    revision = int(project.baseline.get("revision", 0)) + 1 if not fresh else 1
    edit_stamp.begin(conn)
    stored = read_meta(conn)
    if fresh or stored.get("active_scenario") != project.active_scenario or "layer_styles" not in _tables(conn):
        styles.write_default_styles(conn, project.active_scenario)
    _set_meta(conn, "name", project.name)
    _set_meta(conn, "active_scenario", project.active_scenario)
    _set_meta(conn, "revision", str(revision))
    baselines = dict(project.baseline.get("tables", {})) if not fresh else {}
    source = project.baseline.get("source") if not fresh else None
    new_fids: dict = {}
    changed: list[dict] = []
    for table in (t for t in ALL_TABLES if t in tables):
        old = baselines.get(table)
        if old is None and source is not None:
            old = records(source, table)
        baselines[table], changes = _write_table(conn, project, table, old, new_fids)
        changed.extend(assignment_changes(table, old, baselines[table], changes))
    _write_audit(conn, project, changed)
    counted = edit_stamp.finish(conn, None if fresh else project.baseline.get("outside_edits"))
    meta = read_meta(conn)
    written = {"tables": baselines, "source": source, "revision": str(revision), "file_id": meta.get("file_id", ""),
               "fids": new_fids, "outside_edits": counted}
    if project.history_pending:  # not written (refused above): the file's history is still the one of the
        # revisions it was read at, and of this one
        written["history_stamps"] = [*history_stamps(project), _stamp(written)]
    return written


def writes_history(project: Project) -> bool:
    """True when an in-place save of ``project`` writes a history table (sales, visits, opportunities)."""
    return bool(_dirty_tables(project) & set(DEFERRED))


def history_stamps(project: Project) -> list[tuple[str, str]]:
    """The file revisions whose history tables are the ones this project was read with: the revision it
    was read at and those of its own saves that did not write the history (a read at any of them may be
    attached)."""
    return [tuple(s) for s in project.baseline.get("history_stamps", ())] or [_stamp_of(project)]


def _write_table(conn: Connection, project: Project, table: str, old: pd.DataFrame | None, new_fids: dict):
    """Write one table's row changes; returns its new baseline and the changes (new fids into ``new_fids``)."""
    current = records(project, table)
    changes = diff(SPECS[table], old, current)
    if changes:
        fids = apply(conn, changes)
        if fids is not None:
            current.loc[changes.inserts.index, "fid"] = fids
            new_fids[table] = (changes.inserts.index.to_numpy(), fids)
        _touch_layer(conn, table, current)
    return current, changes


def _tables(conn: Connection) -> set[str]:
    return {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _touch_layer(conn: Connection, table: str, current: pd.DataFrame) -> None:
    if schema.LAYERS[table].geometry_type:
        gpkg.update_extent(conn, table, current["geom"].to_numpy())
    else:
        gpkg.touch(conn, table)


def _write_audit(conn: Connection, project: Project, changed: list[dict]) -> None:
    """The save's audit entries: the project's pending entries and one row per assignment change."""
    rows = [{"action": a, "details": d} for a, d in project.pending_audit] + changed
    if not rows:
        return
    stamp = {"ts": now(), "user": project.user or os_user()}
    blank = dict.fromkeys(schema.AUDIT_CHANGE_COLUMNS)
    conn.execute(schema.audit_log.insert(), [{**blank, **r, **stamp} for r in rows])


def _saved(project: Project, written: dict) -> None:
    """After a committed save: the written rows become the baseline; new history rows learn their fids."""
    for table, (positions, fids) in written.pop("fids").items():
        frame = getattr(project, table)
        if "fid" not in frame.columns:
            frame["fid"] = np.nan
        frame.iloc[positions, frame.columns.get_loc("fid")] = fids
    project.baseline = written
    project.dirty.clear()
    project.pending_audit.clear()


def read_meta(conn: Connection) -> dict[str, str]:
    """The project's ``td_meta`` settings (schema version, name, active scenario, revision, file id)."""
    return {str(k): str(v) for k, v in conn.exec_driver_sql("SELECT key, value FROM td_meta").fetchall()}


def _set_meta(conn: Connection, key: str, value: str) -> None:
    conn.exec_driver_sql("INSERT INTO td_meta (key, value) VALUES (?, ?) "
                         "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))


def now() -> str:
    """The current UTC time as GeoPackage DATETIME text."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open directories; the rename is still atomic there
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.saving(-journal)?$")


def remove_stale_temporary_files(path: str | os.PathLike) -> list[Path]:
    """Remove half-written ``.NAME.PID.saving`` files of ``path`` left by a killed save (process gone)."""
    path = Path(path)
    removed = []
    with contextlib.suppress(OSError):
        for candidate in path.parent.glob(f".{path.name}.*.saving*"):
            match = _TEMPORARY.match(candidate.name)
            if match and match["name"] == path.name and not lock.process_alive(int(match["pid"])):
                candidate.unlink(missing_ok=True)
                removed.append(candidate)
    return removed


# ---------------------------------------------------------------------------------------------- reading

def load(path: str | os.PathLike, history: bool = True) -> Project:
    """Read a project file; older schemas are upgraded in place first (one transaction).

    With ``history=False`` the sales, visits and opportunities (most of a large file; the map does not
    need them) are left empty and ``history_pending`` is set: :func:`read_history` and
    :func:`attach_history` bring them in later.
    """
    path = Path(path)
    _check_path(path)
    engine = open_engine(path)
    try:
        with engine.begin() as conn:
            tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")}
            if "td_meta" not in tables:
                raise ProjectFileError(f"{path}: a GeoPackage, but not a Territory Desktop project "
                                       "(import its layers with import-units instead)")
            migrations.upgrade(conn)
            project = _read_project(conn, path, history)
    except DatabaseError as exc:
        raise _database_error(path, exc, "read") from exc
    except (ValueError, TypeError, sqlite3.Error) as exc:
        raise ProjectFileError(f"{path}: the file is damaged: {exc}") from exc
    finally:
        engine.dispose()
    remove_stale_temporary_files(path)
    return project


def _read_project(conn: Connection, path: Path, history: bool = True) -> Project:
    meta = read_meta(conn)
    project = Project(name=meta.get("name") or path.stem)
    _read_warnings().clear()
    notes = project.open_notes
    for name in ENTITY_FIELDS:
        setattr(project, name, _read_entity(conn, name, notes))
    _read_territories(conn, project)
    scenarios = _read_frame(conn, "scenarios", SCENARIO_COLUMNS)
    if len(scenarios):
        project.scenarios = scenarios
    _read_plans(conn, project, meta.get("active_scenario", "base"))
    project.planned_visits = _read_frame(conn, "planned_visits", [*HISTORY_COLUMNS["planned_visits"], "fid"])
    project.leads = _read_frame(conn, "leads", LEAD_COLUMNS)
    project.lead_rotation = _read_frame(conn, "lead_rotation", LEAD_ROTATION_COLUMNS)
    project.quotas = _read_frame(conn, "quotas", QUOTA_COLUMNS)
    project.lead_rules = _read_frame(conn, "lead_rules", LEAD_RULE_COLUMNS)
    for name, columns in REVIEW_TABLES.items():
        setattr(project, name, _read_frame(conn, name, [*columns, "fid"] if SPECS[name].key == ("fid",) else columns))
    project.plans_in_force = [(str(d), str(r)) for d, r in conn.exec_driver_sql(
        "SELECT from_date, plan_ref FROM plans_in_force WHERE from_date IS NOT NULL AND plan_ref IS NOT NULL "
        "ORDER BY from_date")]
    if history:
        for name, frame in _read_history(conn).items():
            setattr(project, name, frame)
    project.history_pending = not history
    notes.extend(_read_warnings())
    project.baseline = {"source": snapshot(project), "tables": {},
                        "revision": str(meta.get("revision", "0")), "file_id": meta.get("file_id", ""),
                        "outside_edits": edit_stamp.counted(meta),
                        "placement_current": edit_stamp.placement_current(meta)}
    project.dirty.clear()
    return project


#: the tables ``load(..., history=False)`` leaves for later: Project attribute -> columns read
DEFERRED = {"sales": [*HISTORY_COLUMNS["sales"], "fid"], "visits": [*HISTORY_COLUMNS["visits"], "fid"],
            "opportunities": OPPORTUNITY_COLUMNS}


def _read_history(conn: Connection, pause=None) -> dict[str, pd.DataFrame]:
    out = {}
    for name, columns in DEFERRED.items():
        out[name] = _read_frame(conn, name, columns)
        if pause is not None:
            pause()
    return out


def read_history(path: str | os.PathLike, pause=None) -> dict:
    """The deferred history tables of a project file (by Project attribute) and, under ``"revision"``,
    the file revision they were read at. Safe in a worker thread; ``pause()`` is called between tables."""
    path = Path(path)
    _check_path(path)
    engine = open_engine(path)
    try:
        with engine.connect() as conn:
            tables: dict = _read_history(conn, pause)
            tables["revision"] = _stamp(read_meta(conn))
            return tables
    except DatabaseError as exc:
        raise _database_error(path, exc, "read") from exc
    finally:
        engine.dispose()


def attach_history(project: Project, tables: dict, any_revision: bool = False) -> None:
    """Put history tables read by :func:`read_history` into a project opened with ``history=False``, and
    into its baseline, so a later save compares them with what the file holds. Refused when the file was
    saved by someone else in between (the tables would not be the ones this project was read with),
    unless ``any_revision`` (for a save to a new file, which writes every table whole)."""
    if not any_revision and tables.get("revision") is not None and tuple(tables["revision"]) not in \
            history_stamps(project):
        raise ProjectFileError(f"{Path(project.path or '').name} was changed by another window or process "
                               "since this project was opened; open it again to see its history")
    source = project.baseline.get("source")
    for name in DEFERRED:
        setattr(project, name, tables[name])
        if source is not None:
            setattr(source, name, tables[name].copy(deep=False))
    project.history_pending = False


def placement_may_be_stale(project: Project) -> bool:
    """True unless the file the project was read from says no program edited account points or units
    since a save recorded its placement (``edit_stamp``): then opening need not place every account."""
    return not project.baseline.get("placement_current", False)


def snapshot(project: Project) -> Project:
    """The project as read, for later saves to compare with: frames shared copy-on-write (pandas copies
    a column only when either side changes it), plans copied. Records are built from it only for the
    tables a save touches."""
    copy = Project(name=project.name, active_scenario=project.active_scenario)
    for name in ("units", "accounts", "reps", "territories", "scenarios", "opportunities", "leads", "lead_rotation",
                 "quotas", "lead_rules", *HISTORY_COLUMNS, *REVIEW_TABLES):
        setattr(copy, name, getattr(project, name).copy(deep=False))
    copy.plans_in_force = list(project.plans_in_force)
    copy.plans = {sid: Plan(p.as_dict(), p.account_overrides()) for sid, p in project.plans.items()}
    copy.territory_shapes = dict(project.territory_shapes)
    return copy


def _read_plans(conn: Connection, project: Project, active: str) -> None:
    units_by_scenario: dict[str, dict] = {sid: {} for sid in project.scenarios["scenario_id"]}
    for sid, unit, terr in conn.exec_driver_sql(
            "SELECT scenario_id, unit_id, territory_id FROM assignments WHERE unit_id IS NOT NULL"):
        units_by_scenario.setdefault(sid, {})[unit] = terr
    overrides: dict[str, dict] = {}
    for sid, acc, terr in conn.exec_driver_sql(
            "SELECT scenario_id, account_id, territory_id FROM account_assignments WHERE account_id IS NOT NULL"):
        overrides.setdefault(sid, {})[acc] = terr
    project.plans = {sid: Plan(units, overrides.get(sid, {})) for sid, units in units_by_scenario.items()}
    if not project.plans:
        project.plans = {"base": Plan()}
    project.active_scenario = active if active in project.plans else next(iter(project.plans))


def _read_frame(conn: Connection, table: str, columns: list[str]) -> pd.DataFrame:
    """Rows of ``table`` as a frame: REAL/INTEGER columns as float64 (NaN for NULL), others as objects.

    Reads through the raw SQLite cursor and builds each column with numpy: SQLAlchemy's row objects and
    pandas' type inference cost more than the read itself for 500,000 sales rows.
    """
    quoted = ", ".join(f'"{c}"' for c in columns)
    raw = conn.connection.driver_connection
    assert raw is not None  # an open SQLAlchemy connection always has its DBAPI connection
    cursor = raw.execute(f'SELECT {quoted} FROM "{table}" ORDER BY fid')
    rows = cursor.fetchall()
    kinds = SPECS[table].kinds if table in SPECS else {}
    values = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    data = {}
    for name, column in zip(columns, values, strict=True):
        if kinds.get(name) in ("real", "int") or name == "fid":
            data[name] = _numbers(column, table, name)
        else:
            data[name] = pd.Series(np.array(column, dtype=object), dtype=object, copy=False)
    return pd.DataFrame(data, columns=columns)


def _numbers(column: tuple, table: str, name: str) -> np.ndarray:
    """A numeric column as float64; values another program wrote that are not numbers become NaN (empty)
    and are listed in a warning of the current read (numbers like 1e999 become infinite, then NaN)."""
    try:
        out = np.array(column, dtype=float)
    except (TypeError, ValueError):
        out = pd.to_numeric(pd.Series(column, dtype=object).map(_number_or_none), errors="coerce").to_numpy(
            dtype=float, na_value=np.nan).copy()
    bad = ~np.isfinite(out) & ~pd.isna(pd.Series(column, dtype=object)).to_numpy()
    if bad.any():
        out[bad] = np.nan
        _read_warnings().append(f"{table}.{name}: {int(bad.sum())} value(s) that are not finite numbers were read "
                             "as empty")
    return out


def _number_or_none(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else (
        value if isinstance(value, str) else None)


_READS = threading.local()


def _read_warnings() -> list[str]:
    """Warnings of the read under way in this thread (reset by :func:`load`; become ``open_notes``). Per
    thread: the window reads a project's history in a worker while another project may be opening."""
    if not hasattr(_READS, "warnings"):
        _READS.warnings = []
    return _READS.warnings


def _read_territories(conn: Connection, project: Project) -> None:
    columns = TERRITORY_COLUMNS + list(TERRITORY_LAYER_COLUMNS)
    frame = _read_frame(conn, "territories", ["fid", *columns, "geom"])
    frame = frame[frame["scenario_id"].notna() & frame["territory_id"].notna()]
    geoms = _decode(frame, "territories", "territory_id")
    project.territories = frame[TERRITORY_COLUMNS].reset_index(drop=True)
    project.territory_shapes = {
        (r.scenario_id, r.territory_id): TerritoryShape(r.units_key, g, _int(r.units), _int(r.accounts),
                                                        _float(r.workload_hours), _float(r.potential))
        for r, g in zip(frame.itertuples(), as_multipolygons(geoms), strict=True)}


def _int(v):
    number = _float(v)
    return None if number is None else int(number)


def _float(v):
    """A stored total as a float; None for NULL or anything that is not a finite number."""
    try:
        number = float(v)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


_BAD_GEOMETRY = (ValueError, TypeError, shapely.errors.GEOSException)


def _decode(frame: pd.DataFrame, table: str, key: str) -> np.ndarray:
    """Decode the geom blobs of ``frame``; a bad one is a ProjectFileError naming its row."""
    blobs = frame["geom"].tolist()
    try:
        return gpkg.decode(blobs)
    except _BAD_GEOMETRY as exc:
        for i, blob in enumerate(blobs):
            try:
                gpkg.decode([blob])
            except _BAD_GEOMETRY:  # this is the row to name
                row = frame.iloc[i]
                raise ProjectFileError(f"{table}: the geometry of fid {int(row['fid'])} ({key} {row[key]!r}) "
                                       "is not a valid GeoPackage geometry") from exc
        raise


def _read_entity(conn: Connection, table: str, notes: list[str]) -> gpd.GeoDataFrame:
    fields = ENTITY_FIELDS[table]
    key = ENTITY_KEYS[table]
    names = [f.name for f in fields]
    frame = _read_frame(conn, table, ["fid", *names, "attrs", "geom"])
    nameless = frame[key].isna() if len(frame) else pd.Series(dtype=bool)
    if nameless.any():
        notes.append(f"{table}: {int(nameless.sum())} row(s) without a {key} (fid "
                     f"{', '.join(map(str, frame.loc[nameless, 'fid'].head(10)))}) were added in another "
                     "program; they are left in the file but not used until they get an id")
        frame = frame[~nameless].reset_index(drop=True)
    for f in fields:
        frame[f.name] = _typed_column(frame[f.name], f)
    extras = _parse_attrs(frame.pop("attrs"), frame[key], table, notes)
    for col in extras.columns:
        if col not in frame.columns:
            frame[col] = extras[col].to_numpy()
    geoms = _decode(frame, table, key)
    frame = frame.drop(columns=["geom", "fid"])
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=CRS, index=frame.index))


def _typed_column(values: pd.Series, f) -> pd.Series:
    if f.kind in ("real", "int", "bool"):
        number = pd.Series(values, dtype=float) if values.dtype.kind == "f" else pd.to_numeric(
            values.map(_number_or_none), errors="coerce")
        number = number.where(np.isfinite(number.to_numpy(dtype=float, na_value=np.nan)))
        if f.kind == "real":
            return number.astype(float)
        if f.kind == "int":
            return number.fillna(f.default or 0).clip(-2**62, 2**62).round().astype("int64")
        return number.fillna(0).astype(bool)
    return values.astype(object).where(values.notna(), None)


def _parse_attrs(attrs: pd.Series, ids: pd.Series, table: str, notes: list[str]) -> pd.DataFrame:
    """The JSON ``attrs`` column as columns; values that are not a JSON object are noted and ignored."""
    present = attrs.notna() & (attrs.astype(str) != "")
    if not present.any():
        return pd.DataFrame(index=ids.index)
    parsed: list[dict] = []
    bad: list = []
    for i, text in zip(ids.index, attrs, strict=True):
        value: object = {}
        if isinstance(text, str) and text:
            try:
                value = json.loads(text)
            except ValueError:
                value = None
        if not isinstance(value, dict):
            bad.append(i)
            value = {}
        parsed.append(value)
    if bad:
        shown = ", ".join(str(ids[i]) for i in bad[:10])
        notes.append(f"{table}: attrs of {len(bad)} row(s) is not a JSON object and was ignored ({shown})")
    return pd.DataFrame(parsed, index=ids.index)


# ---------------------------------------------------------------------------------------------- field packages

PACKAGE_KEY = "package_key"


def package_key(path: str | os.PathLike) -> bytes:
    """The project's secret for signing field packages (``td_meta`` row ``package_key``, 32 random bytes);
    made on first use. Writing it does not change the file's revision: an open window can still save."""
    path = Path(path)
    _check_path(path)
    engine = open_engine(path)
    try:
        with engine.begin() as conn:
            row = conn.exec_driver_sql("SELECT value FROM td_meta WHERE key = ?", (PACKAGE_KEY,)).fetchone()
            if row and row[0]:
                return bytes.fromhex(row[0])
            key = os.urandom(32)
            _set_meta(conn, PACKAGE_KEY, key.hex())
            return key
    except DatabaseError as exc:
        raise _database_error(path, exc, "saved") from exc
    finally:
        engine.dispose()


def audit_details(path: str | os.PathLike, action: str) -> list[str]:
    """The ``details`` of every audit-log entry of ``action`` in the file, oldest first."""
    path = Path(path)
    _check_path(path)
    engine = open_engine(path)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT details FROM audit_log WHERE action = ? ORDER BY ts", (action,))
            return [r[0] or "" for r in rows]
    except DatabaseError as exc:
        raise _database_error(path, exc, "read") from exc
    finally:
        engine.dispose()
