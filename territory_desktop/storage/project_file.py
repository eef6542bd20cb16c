"""Read and write a project as one GeoPackage file.

Saving is atomic. A new file (or "save as") is written to a temporary file beside the target, synced,
then renamed over it; saving into an existing file rewrites the changed tables inside one SQLite
transaction. Either way, a process killed in the middle of a save leaves the last saved state intact
(SQLite rolls back the unfinished transaction from its journal the next time the file is opened).
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.exc import DatabaseError

from ..models import CRS, Plan, Project, ProjectFileError
from ..models.fields import ACCOUNT_FIELDS, REP_FIELDS, UNIT_FIELDS, Field
from ..models.project import (
    OPPORTUNITY_COLUMNS,
    SALES_COLUMNS,
    SCENARIO_COLUMNS,
    TERRITORY_COLUMNS,
    VISIT_COLUMNS,
)
from . import gpkg, migrations, schema

APP_ID = "territory-desktop"

# Which tables to rewrite for each dirty flag of the model.
_ENTITY = {"units": (schema.units, UNIT_FIELDS), "accounts": (schema.accounts, ACCOUNT_FIELDS),
           "reps": (schema.reps, REP_FIELDS)}
_HISTORY = {"sales": (schema.sales, SALES_COLUMNS), "visits": (schema.visits, VISIT_COLUMNS),
            "opportunities": (schema.opportunities, OPPORTUNITY_COLUMNS)}
ALL_TABLES = ("units", "accounts", "reps", "territories", "scenarios", "plans", "sales", "visits",
              "opportunities")


def open_engine(path: str | os.PathLike) -> Engine:
    """A SQLAlchemy engine on the file where every ``begin()`` is one real SQLite transaction.

    pysqlite's own transaction handling lets DDL escape the transaction; we switch it off and emit
    ``BEGIN IMMEDIATE`` ourselves (the recipe in SQLAlchemy's SQLite dialect docs).
    """
    engine = create_engine(f"sqlite:///{Path(path)}")

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA journal_mode=DELETE")
        dbapi_connection.execute("PRAGMA synchronous=FULL")

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


# ---------------------------------------------------------------------------------------------- writing

def save_new(project: Project, path: str | os.PathLike, territory_layer: gpd.GeoDataFrame | None = None) -> None:
    """Write the whole project to ``path`` (created or replaced) atomically: temp file, fsync, rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".saving", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    engine = open_engine(tmp)
    try:
        with engine.begin() as conn:
            gpkg.create_system_tables(conn)
            schema.metadata.create_all(conn)
            for table, geometry_type in schema.LAYERS.items():
                gpkg.register_layer(conn, table, geometry_type)
            conn.execute(schema.meta.insert(), [
                {"key": "schema_version", "value": str(schema.SCHEMA_VERSION)},
                {"key": "application", "value": APP_ID},
                {"key": "created", "value": _now()},
                {"key": "name", "value": project.name},
                {"key": "active_scenario", "value": project.active_scenario},
            ])
            _write_tables(conn, project, set(ALL_TABLES), territory_layer)
        engine.dispose()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        engine.dispose()
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    project.dirty.clear()
    project.pending_audit.clear()


def save_changes(project: Project, path: str | os.PathLike,
                 territory_layer: gpd.GeoDataFrame | None = None) -> None:
    """Rewrite the project's dirty tables in the existing file ``path``, in one transaction."""
    engine = _open_existing(path)
    try:
        with engine.begin() as conn:
            migrations.upgrade(conn)
            _set_meta(conn, "name", project.name)
            _set_meta(conn, "active_scenario", project.active_scenario)
            _write_tables(conn, project, set(project.dirty), territory_layer)
    except DatabaseError as exc:
        raise ProjectFileError(f"{path}: could not save: {exc.orig}") from exc
    finally:
        engine.dispose()
    project.dirty.clear()
    project.pending_audit.clear()


def _write_tables(conn: Connection, project: Project, dirty: set[str],
                  territory_layer: gpd.GeoDataFrame | None) -> None:
    for name, (table, fields) in _ENTITY.items():
        if name in dirty:
            _replace_entity(conn, table, fields, getattr(project, name))
    if dirty & {"territories", "plans", "units", "scenarios"} or territory_layer is not None:
        _replace_territories(conn, project, territory_layer)
    if "scenarios" in dirty or "plans" in dirty:
        _replace_rows(conn, schema.scenarios, [
            (r.scenario_id, r.name, r.description, r.parent_id, r.created, r.scenario_id == project.active_scenario)
            for r in project.scenarios.itertuples()])
    if "plans" in dirty:
        unit_rows, account_rows = [], []
        for sid, plan in project.plans.items():
            unit_rows.extend((sid, u, t) for u, t in plan.as_dict().items())
            account_rows.extend((sid, a, t) for a, t in plan.account_overrides().items())
        _replace_rows(conn, schema.assignments, unit_rows)
        _replace_rows(conn, schema.account_assignments, account_rows)
    for name, (table, columns) in _HISTORY.items():
        if name in dirty:
            frame = getattr(project, name)
            _replace_rows(conn, table, _rows(frame, columns), columns)
    if project.pending_audit:
        ts = _now()
        user = os.environ.get("USER") or os.environ.get("USERNAME") or ""
        conn.execute(schema.audit_log.insert(), [
            {"ts": ts, "user": user, "action": a, "details": d} for a, d in project.pending_audit])


def _replace_rows(conn: Connection, table, rows: list[tuple], columns: list[str] | None = None) -> None:
    """Delete every row of ``table`` and insert ``rows`` (tuples in ``columns`` order)."""
    cols = columns or [c.name for c in table.columns]
    _replace_columns(conn, table, cols, [list(c) for c in zip(*rows, strict=True)] if rows else [])


def _replace_columns(conn: Connection, table, names: list[str], values: list[list]) -> None:
    """Delete every row of ``table`` and insert the column-major ``values`` in bulk.

    Rows go in as multi-row ``INSERT ... VALUES (...), (...)`` statements, about a third faster than one
    statement per row for a million accounts; the batches are laid out by numpy, not a Python loop.
    """
    conn.execute(table.delete())
    if not values or not len(values[0]):
        return
    n, k = len(values[0]), len(names)
    grid = np.empty((n, k), dtype=object)
    for j, column in enumerate(values):
        grid[:, j] = np.fromiter(column, dtype=object, count=n)  # never via a bytes dtype: it strips NULs
    per_statement = max(1, min(200, 30_000 // k))  # SQLite allows 32,766 parameters
    one = "(" + ", ".join("?" * k) + ")"
    head = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES "
    full = n - n % per_statement
    if full:
        conn.exec_driver_sql(head + ", ".join([one] * per_statement),
                             list(map(tuple, grid[:full].reshape(-1, per_statement * k).tolist())))
    if full < n:
        conn.exec_driver_sql(head + ", ".join([one] * (n - full)), tuple(grid[full:].ravel().tolist()))


def _rows(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    """Rows of ``frame`` as tuples of plain Python values, NaN/NA as None."""
    arrays = []
    for c in columns:
        values = frame[c] if c in frame.columns else pd.Series([None] * len(frame))
        arrays.append(values.astype(object).where(values.notna(), None).tolist())
    return list(zip(*arrays, strict=True))


def _replace_entity(conn: Connection, table, fields: tuple[Field, ...], frame: gpd.GeoDataFrame) -> None:
    names = [f.name for f in fields]
    extras = [c for c in frame.columns if c not in names and c != frame.geometry.name]
    if frame.crs is not None and not frame.empty and frame.crs != CRS:
        frame = frame.to_crs(CRS)
    geoms = frame.geometry.to_numpy()
    if table.name == "units":
        geoms = _as_multipolygons(geoms)
    blobs = gpkg.encode(geoms)
    attrs = _attrs_json(frame, extras)
    typed = [_typed(frame, f) for f in fields]
    _replace_columns(conn, table, names + ["attrs", "geom"], [*typed, attrs, blobs])
    gpkg.update_extent(conn, table.name, geoms)


def _typed(frame: pd.DataFrame, f: Field) -> list:
    """A column as a list of plain Python values for the database (NaN floats are stored as NULL)."""
    if f.name not in frame.columns:
        return [f.default] * len(frame)
    s = frame[f.name]
    if f.kind == "bool":
        return s.fillna(False).astype(bool).astype(int).tolist()
    if f.kind == "real":
        return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan).tolist()
    if f.kind == "int":
        number = pd.to_numeric(s, errors="coerce")
        if not number.isna().any():
            return number.to_numpy(dtype=np.int64).tolist()
        return [None if math.isnan(v) else int(v) for v in number.to_numpy(dtype=float, na_value=np.nan).tolist()]
    return s.to_numpy(dtype=object, na_value=None).tolist()


def _attrs_json(frame: pd.DataFrame, extras: list[str]) -> list[str | None]:
    if not extras:
        return [None] * len(frame)
    records = frame[extras].astype(object).where(frame[extras].notna(), None).to_dict("records")
    return [json.dumps(r, default=_json_default, separators=(",", ":")) for r in records]


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def _as_multipolygons(geoms: np.ndarray) -> np.ndarray:
    import shapely

    out = np.asarray(geoms, dtype=object).copy()
    polys = shapely.get_type_id(out) == 3
    out[polys] = [shapely.MultiPolygon([g]) for g in out[polys]]
    return out


def _replace_territories(conn: Connection, project: Project, layer: gpd.GeoDataFrame | None) -> None:
    terr = project.territories
    extra = {}
    blobs: list = [None] * len(terr)
    if layer is not None and len(layer):
        keyed = layer.set_index(["scenario_id", "territory_id"])
        keys = list(zip(terr["scenario_id"], terr["territory_id"], strict=True))
        found = [k in keyed.index for k in keys]
        geoms = np.array([keyed.geometry.loc[k] if ok else None for k, ok in zip(keys, found, strict=True)],
                         dtype=object)
        geoms = _as_multipolygons(np.where(pd.isna(geoms), None, geoms))
        blobs = gpkg.encode(geoms)
        gpkg.update_extent(conn, "territories", geoms[[g is not None for g in geoms]])
        for col in schema.TERRITORY_TOTALS:
            extra[col] = [keyed[col].loc[k] if ok and col in keyed.columns else None
                          for k, ok in zip(keys, found, strict=True)]
    columns = TERRITORY_COLUMNS + list(schema.TERRITORY_TOTALS) + ["geom"]
    base = _rows(terr, TERRITORY_COLUMNS)
    totals = [extra.get(c, [None] * len(terr)) for c in schema.TERRITORY_TOTALS]
    rows = [tuple(b) + tuple(_plain(t[i]) for t in totals) + (blobs[i],) for i, b in enumerate(base)]
    _replace_rows(conn, schema.territories, rows, columns)


def _plain(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _set_meta(conn: Connection, key: str, value: str) -> None:
    conn.exec_driver_sql("INSERT OR REPLACE INTO td_meta (key, value) VALUES (?, ?)", (key, value))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open directories; the rename is still atomic there
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------- reading

def _open_existing(path: str | os.PathLike) -> Engine:
    path = Path(path)
    if not path.exists():
        raise ProjectFileError(f"{path}: no such project file")
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head != b"SQLite format 3\x00":
        raise ProjectFileError(f"{path}: not a GeoPackage project (not an SQLite file)")
    return open_engine(path)


def load(path: str | os.PathLike, history: bool = True) -> Project:
    """Read a project file; older schemas are upgraded in place first (one transaction). With
    ``history=False`` the sales, visits and opportunities tables are left empty (read them with
    :func:`read_history`): they are most of a large file and the map does not need them."""
    engine = _open_existing(path)
    try:
        with engine.begin() as conn:
            tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")}
            if "td_meta" not in tables:
                raise ProjectFileError(f"{path}: a GeoPackage, but not a Territory Desktop project "
                                       "(import its layers with import-units instead)")
            migrations.upgrade(conn)
            return _read_project(conn, Path(path), history)
    except DatabaseError as exc:
        raise ProjectFileError(f"{path}: the file is damaged or not a project: {exc.orig}") from exc
    except (ValueError, sqlite3.Error) as exc:
        raise ProjectFileError(f"{path}: the file is damaged: {exc}") from exc
    finally:
        engine.dispose()


def read_history(path: str | os.PathLike, pause=None, chunk: int = 50_000) -> dict[str, pd.DataFrame]:
    """The history tables of a project file, by Project attribute name (sales, visits, opportunities).
    ``pause()``, if given, is called between chunks of ``chunk`` rows: a reader in a worker thread can
    sleep there so the GUI thread gets the interpreter lock between chunks."""
    engine = _open_existing(path)
    try:
        with engine.connect() as conn:
            out = {}
            for name, (_table, columns) in _HISTORY.items():
                result = conn.exec_driver_sql(f"SELECT {', '.join(columns)} FROM {name}")
                rows: list = []
                while batch := result.fetchmany(chunk):
                    rows.extend(batch)
                    if pause is not None:
                        pause()
                out[name] = _frame(rows, columns)
            return out
    except DatabaseError as exc:
        raise ProjectFileError(f"{path}: the file is damaged or not a project: {exc.orig}") from exc
    finally:
        engine.dispose()


def _read_project(conn: Connection, path: Path, history: bool = True) -> Project:
    meta = dict(conn.execute(select(schema.meta.c.key, schema.meta.c.value)).all())
    project = Project(name=meta.get("name", path.stem))
    project.units = _read_entity(conn, schema.units, UNIT_FIELDS)
    project.accounts = _read_entity(conn, schema.accounts, ACCOUNT_FIELDS)
    project.reps = _read_entity(conn, schema.reps, REP_FIELDS)
    project.territories = _read_frame(conn, "territories", TERRITORY_COLUMNS)
    scen = _read_frame(conn, "scenarios", SCENARIO_COLUMNS)
    if len(scen):
        project.scenarios = scen
    plans: dict[str, Plan] = {sid: Plan() for sid in project.scenarios["scenario_id"]}
    units_by_scenario: dict[str, dict] = {sid: {} for sid in plans}
    for sid, unit, terr in conn.exec_driver_sql("SELECT scenario_id, unit_id, territory_id FROM assignments"):
        units_by_scenario.setdefault(sid, {})[unit] = terr
    overrides: dict[str, dict] = {}
    for sid, acc, terr in conn.exec_driver_sql(
            "SELECT scenario_id, account_id, territory_id FROM account_assignments"):
        overrides.setdefault(sid, {})[acc] = terr
    project.plans = {sid: Plan(units_by_scenario.get(sid, {}), overrides.get(sid, {}))
                     for sid in set(plans) | set(units_by_scenario)}
    active = meta.get("active_scenario", "base")
    project.active_scenario = active if active in project.plans else next(iter(project.plans), "base")
    if not project.plans:
        project.plans = {"base": Plan()}
    for name, (_table, columns) in _HISTORY.items():
        setattr(project, name, _read_frame(conn, name, columns) if history else pd.DataFrame(columns=columns))
    project.dirty.clear()
    return project


def _read_frame(conn: Connection, table: str, columns: list[str]) -> pd.DataFrame:
    rows = conn.exec_driver_sql(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
    return _frame(rows, columns)


def _frame(rows: list, columns: list[str]) -> pd.DataFrame:
    """Rows -> DataFrame, column by column (pandas' from_records probes each SQLAlchemy Row: 10x slower)."""
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(dict(zip(columns, map(list, zip(*rows, strict=True)), strict=True)))


def _read_entity(conn: Connection, table, fields: tuple[Field, ...]) -> gpd.GeoDataFrame:
    names = [f.name for f in fields]
    rows = conn.exec_driver_sql(f"SELECT {', '.join(names)}, attrs, geom FROM {table.name} ORDER BY fid").fetchall()
    frame = _frame(rows, names + ["attrs", "geom"])
    for f in fields:
        if f.kind == "real":
            frame[f.name] = pd.to_numeric(frame[f.name], errors="coerce").astype(float)
        elif f.kind == "int":
            frame[f.name] = pd.to_numeric(frame[f.name], errors="coerce").fillna(f.default or 0).astype("int64")
        elif f.kind == "bool":
            frame[f.name] = frame[f.name].fillna(0).astype(bool)
        else:
            frame[f.name] = frame[f.name].astype(object)
    attrs = frame.pop("attrs")
    if attrs.notna().any():
        extra = pd.DataFrame([json.loads(a) if a else {} for a in attrs], index=frame.index)
        for col in extra.columns:
            frame[col] = extra[col]
    geoms = gpkg.decode(frame.pop("geom").tolist())
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=CRS, index=frame.index))
