"""Import units, accounts and reps into a project: validate everything first, change nothing on error.

An import has three steps, shared by the CLI and the GUI:

1. **read** the file and validate every row (``read_accounts_file``, ``read_reps_file``, ``read_units_file``);
2. **prepare** the change for a mode (``prepare_import``): the project's new table, re-placed accounts, the
   plan changes and the counts (added, updated, removed, rows that refer to removed records). Nothing in the
   project changes; the GUI previews the counts, the CLI prints them;
3. **apply** it (``apply_import``): plain assignments that cannot fail half-way, so an import is all or
   nothing in memory as on disk.

Modes (``MODES``): ``upsert`` (default) updates records whose id exists and appends new ones; ``append``
refuses ids that exist already; ``replace`` makes the file the whole table and removes the rest.
History rows (sales, visits, opportunities, planned visits) and territories that refer to removed records
are kept and counted; account overrides of removed accounts are dropped (and counted).
Accounts are placed in units by point-in-polygon; accounts outside every unit are kept with no unit and
listed in the report, never dropped.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..models import CRS, Project, RowProblem
from ..models.errors import import_error
from ..models.fields import ACCOUNT_FIELDS, REP_FIELDS
from ..models.progress import Progress, no_progress
from ..storage.rows import record_frame
from ..storage.sheets import SHEET_SUFFIXES, TABLE_SUFFIXES
from ..storage.tabular import TableRead, read_and_validate
from ..storage.vector import UnitsRead, read_units
from .placement import units_of_points, units_of_xy
from .project import ensure_history
from .review import check_editable

Mode = Literal["upsert", "append", "replace"]
Kind = Literal["units", "accounts", "reps", "sales", "visits", "opportunities"]
MODES: tuple[Mode, ...] = ("upsert", "append", "replace")
#: history tables imported by ``services.history_import`` (through ``prepare_import`` too)
HISTORY_KINDS = ("sales", "visits", "opportunities")
ID_COLUMN = {"units": "unit_id", "accounts": "account_id", "reps": "rep_id"}
LISTED = 20
#: history tables that refer to accounts and reps, and how counts name their rows
HISTORY = {"sales": "sales", "visits": "visit", "opportunities": "opportunity", "planned_visits": "planned visit"}


@dataclass(frozen=True)
class ImportCounts:
    """What an import does to one table; ``references`` counts rows that refer to removed records."""

    added: int
    updated: int
    removed: int
    references: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"{self.added:,} added, {self.updated:,} updated, {self.removed:,} removed"]
        out += [f"{n:,} {what}" for what, n in self.references.items() if n]
        return out


@dataclass
class PreparedImport:
    """A validated import, ready to apply: the new tables and plan changes, and what they change."""

    kind: Kind
    source: str
    mode: Mode
    rows: int
    table: gpd.GeoDataFrame
    counts: ImportCounts
    #: the project's accounts re-placed in units (None when the accounts do not change)
    accounts: gpd.GeoDataFrame | None = None
    #: scenario -> units to add as orphans, units to forget, account overrides to clear
    plan_changes: dict[str, tuple[list[str], list[str], list[str]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    kind: str
    source: str
    rows: int
    notes: list[str] = field(default_factory=list)
    #: ids of accounts that lie outside every unit (kept, with no unit)
    outside: list[str] = field(default_factory=list)
    mode: str = "upsert"
    counts: ImportCounts | None = None

    def lines(self) -> list[str]:
        counts = f" ({self.mode}: {self.counts.lines()[0]})" if self.counts else ""
        out = [f"imported {self.rows} {self.kind} from {self.source}{counts}"]
        if self.counts:
            out += [f"note: {line}" for line in self.counts.lines()[1:]]
        out += [f"note: {n}" for n in self.notes]
        if self.outside:
            shown = ", ".join(self.outside[:LISTED]) + (" ..." if len(self.outside) > LISTED else "")
            out.append(f"warning: {len(self.outside)} accounts lie outside every unit and have no territory: {shown}")
        return out


# ---------------------------------------------------------------------------------------------- read

def read_accounts_file(path: str | Path, mapping: dict[str, str] | None = None, sheet: str | None = None,
                       encoding: str | None = None) -> TableRead:
    """Read and validate an account table (CSV/XLSX with lat/lon or ZIP columns)."""
    return read_and_validate(path, ACCOUNT_FIELDS, "account_id", mapping, sheet, encoding, skip=("unit_id",))


def read_reps_file(path: str | Path, mapping: dict[str, str] | None = None, sheet: str | None = None,
                   encoding: str | None = None) -> TableRead:
    """Read and validate a rep table (home location from lat/lon or home ZIP)."""
    return read_and_validate(path, REP_FIELDS, "rep_id", mapping, sheet, encoding)


def read_units_file(path: str | Path, id_column: str, name_column: str | None = None, layer: str | None = None,
                    source_crs: str | None = None) -> UnitsRead:
    """Read and validate a polygon layer of units (any vector format and CRS)."""
    return read_units(path, id_column, name_column, layer, source_crs)


def is_table_file(path: str | Path) -> bool:
    """True for files read as account/rep tables (CSV, XLSX); other data files are read as units."""
    return Path(path).suffix.lower() in (*TABLE_SUFFIXES, *SHEET_SUFFIXES, ".xls")


def vector_columns(path: str | Path, layer: str | None = None) -> list[str]:
    """The attribute columns of a vector file (for choosing the id and name columns)."""
    from ..storage.vector import list_columns

    return list_columns(path, layer)


# ------------------------------------------------------------------------------------------- prepare

def prepare_import(project: Project, kind: Kind, read: TableRead | UnitsRead, source: str,
                   mode: Mode = "upsert") -> PreparedImport:
    """The change an import makes in ``mode``, computed without touching the project.

    Raises InvalidInputError for an unknown mode, or in ``append`` mode when ids exist already (listed).
    """
    check_mode(mode, source)
    if kind in HISTORY_KINDS and isinstance(read, TableRead):
        from .history_import import prepare_history_import  # it builds on this module

        return prepare_history_import(project, kind, read, source, mode)
    if kind == "units" and isinstance(read, UnitsRead):
        return _prepare_units(project, read, source, mode)
    if kind not in ("accounts", "reps") or not isinstance(read, TableRead):
        raise import_error(source, [f"cannot import {type(read).__name__} as {kind}"])
    frame = read.frame  # not changed: the GUI prepares the same read once per mode
    data = frame.drop(columns=["lon", "lat"])
    if kind == "accounts":  # one concat: a wide file's frame is not fragmented further
        data = pd.concat([data, pd.DataFrame({"unit_id": None}, index=data.index, dtype=object)], axis=1)
    lon, lat = frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
    with ThreadPoolExecutor(1) as pool:  # the accounts are placed (GEOS, numpy: mostly without the GIL)
        # while the table is merged (Python objects)
        placing = pool.submit(units_of_xy, lon, lat, project.units) if kind == "accounts" else None
        new = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(shapely.points(lon, lat), index=data.index, crs=CRS),
                               crs=CRS, copy=False)
        provided = [*read.provided, *[c for c in data.columns if c not in _field_names(kind)], "geometry"]
        old = project.accounts if kind == "accounts" else project.reps
        table, changed, removed, counts, sources = _merge_rows(old, new, ID_COLUMN[kind], mode, provided, source)
        placed = placing.result() if placing is not None else None
    prepared = PreparedImport(kind, source, mode, len(new), table, counts, notes=list(read.notes))
    if kind == "accounts":
        prepared.outside = _place_rows(table, project.units, changed, None if placed is None else placed[sources])
        prepared.accounts = table
        _account_references(project, removed, prepared)
    else:
        prepared.counts.references.update(_rep_references(project, removed))
    return prepared


def check_mode(mode: str, source: str) -> None:
    """An InvalidInputError unless ``mode`` is one of MODES."""
    if mode not in MODES:
        raise import_error(source, [f"unknown mode '{mode}' (modes: {', '.join(MODES)})"])


def _field_names(kind: str) -> set[str]:
    return {f.name for f in (ACCOUNT_FIELDS if kind == "accounts" else REP_FIELDS)}


def _prepare_units(project: Project, read: UnitsRead, source: str, mode: Mode) -> PreparedImport:
    new = read.frame
    provided = [c for c in new.columns if c != "locked" and (c != "name" or read.named)]
    table, _changed, removed, counts = _merge(project.units, new, "unit_id", mode, provided, source)
    prepared = PreparedImport("units", source, mode, len(new), table, counts, notes=list(read.notes))
    if len(project.accounts):
        accounts = project.accounts.copy()
        prepared.outside = _place_rows(accounts, table, np.arange(len(accounts)))
        prepared.accounts = accounts
    gone = set(removed)
    in_removed = project.accounts["unit_id"].isin(gone) if gone else pd.Series(False, index=project.accounts.index)
    assigned = 0
    ids = table["unit_id"].astype(str)
    for sid, plan in project.plans.items():
        current = plan.as_dict()
        missing = [u for u in ids if u not in current]
        forget = [u for u in removed if u in current]
        assigned += sum(current[u] is not None for u in forget)
        prepared.plan_changes[sid] = (missing, forget, [])
    counts.references.update({"accounts in removed units (placed again)": int(in_removed.sum()),
                              "unit assignments of removed units in scenarios (dropped)": assigned})
    return prepared


def _merge(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, id_col: str, mode: Mode, provided: list[str],
           source: str) -> tuple[gpd.GeoDataFrame, np.ndarray, list[str], ImportCounts]:
    """The table after the import, the positions of rows that changed, the removed ids, and counts.

    ``old`` and ``new`` are GeoDataFrames (entities) or plain DataFrames (history rows)."""
    return _merge_rows(old, new, id_col, mode, provided, source)[:4]


def _merge_rows(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, id_col: str, mode: Mode, provided: list[str],
                source: str) -> tuple[gpd.GeoDataFrame, np.ndarray, list[str], ImportCounts, np.ndarray]:
    """:func:`_merge`, and the row of ``new`` each changed row comes from (same order as the positions)."""
    old_ids = _text_ids(old[id_col]) if len(old) else pd.Index([], dtype=object)
    new_ids = _text_ids(new[id_col])
    position = old_ids.get_indexer(new_ids)
    exists = position >= 0
    if mode == "append" and exists.any():
        _refuse_existing(new_ids[exists].tolist(), id_col, source)
    if mode == "replace" or not len(old):
        removed = [] if not len(old) else sorted(set(old_ids) - set(new_ids))
        counts = ImportCounts(int((~exists).sum()), int(exists.sum()), len(removed))
        return new.reset_index(drop=True), np.arange(len(new)), removed, counts, np.arange(len(new))
    columns = list(old.columns) + [c for c in new.columns if c not in old.columns]
    data = {c: _merged_column(old, new, c, c in provided, position, exists) for c in columns}
    table = (gpd.GeoDataFrame(record_frame(data, copy=False), geometry=old.geometry.name, crs=CRS, copy=False)
             if isinstance(old, gpd.GeoDataFrame) else record_frame(data, copy=False))
    changed = np.concatenate([position[exists], len(old) + np.arange(int((~exists).sum()))])
    sources = np.concatenate([np.flatnonzero(exists), np.flatnonzero(~exists)])
    return table, changed, [], ImportCounts(int((~exists).sum()), int(exists.sum()), 0), sources


merge_tables = _merge


def _text_ids(ids: pd.Series) -> pd.Index:
    """Ids as an object Index of text: hashing Python strings is much faster than pandas' Arrow strings
    (a million imported ids: about a third of the time)."""
    values = ids.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=False) != "string":
        values = ids.astype(str).to_numpy(dtype=object)
    return pd.Index(values, dtype=object)


def _merged_column(old: pd.DataFrame, new: pd.DataFrame, column: str, provided: bool, position: np.ndarray,
                   exists: np.ndarray) -> np.ndarray:
    """One column of an upsert: old values, updated where the file provides the column, then new rows."""
    n_old = len(old)
    head = old[column].to_numpy(copy=True) if column in old else np.full(n_old, None, dtype=object)
    values = new[column].to_numpy() if column in new else None  # once: Arrow text -> objects costs
    n_new = len(exists) - int(np.count_nonzero(exists))
    if provided and values is not None and n_new < len(exists):
        update = values[exists]
        if head.dtype != update.dtype and head.dtype != object:
            head = head.astype(np.result_type(head.dtype, update.dtype) if update.dtype != object else object)
        head[position[exists]] = update
    tail_dtype = values.dtype if values is not None else np.dtype(object)
    out = np.empty(n_old + n_new, dtype=head.dtype if head.dtype == tail_dtype else object)
    out[:n_old] = head
    if values is None:
        out[n_old:] = None
    elif n_new == len(values):  # every row is new (a big append): copied once, not gathered then copied
        out[n_old:] = values
    else:
        np.compress(~exists, values, out=out[n_old:])
    return out


def _refuse_existing(ids: list[str], id_col: str, source: str) -> None:
    shown = ", ".join(ids[:LISTED]) + (" ..." if len(ids) > LISTED else "")
    raise import_error(source, [RowProblem(None, id_col, f"{len(ids)} ids exist in the project already "
                                                         f"(append adds new ids only; --mode upsert updates "
                                                         f"them): {shown}")])


def _account_references(project: Project, removed: list[str], prepared: PreparedImport) -> None:
    """Count what refers to removed accounts; plan overrides of removed accounts are cleared."""
    gone = set(removed)
    overrides = 0
    for sid, plan in project.plans.items():
        clear = [a for a in plan.account_overrides() if a in gone]
        overrides += len(clear)
        if clear:
            prepared.plan_changes[sid] = ([], [], clear)
    refs = {"account overrides of removed accounts (dropped)": overrides}
    _history_if(project, gone)
    for name, label in HISTORY.items():
        refs[f"{label} rows of removed accounts (kept)"] = _count_in(getattr(project, name), "account_id", gone)
    prepared.counts.references.update(refs)


def _rep_references(project: Project, removed: list[str]) -> dict[str, int]:
    gone = set(removed)
    _history_if(project, gone)
    refs = {"territories of removed reps (kept; their rep is gone)": _count_in(project.territories, "rep_id", gone)}
    for name in ("visits", "opportunities", "planned_visits"):
        refs[f"{HISTORY[name]} rows of removed reps (kept)"] = _count_in(getattr(project, name), "rep_id", gone)
    return refs


def _history_if(project: Project, removed: set[str]) -> None:
    """Read the history of a project opened without it when removed ids must be counted in it."""
    if removed and project.history_pending:
        ensure_history(project)


def _count_in(frame: pd.DataFrame, column: str, ids: set[str]) -> int:
    if not ids or column not in frame or not len(frame):
        return 0
    return int(frame[column].astype(str).isin(ids).sum())


def _place(project: Project) -> list[str]:
    """Place every account of the project in its unit (in place); returns the ids outside every unit.

    (``services.demo`` places its generated accounts with this.)"""
    return _place_rows(project.accounts, project.units, np.arange(len(project.accounts)))


def _place_rows(accounts: gpd.GeoDataFrame, units: gpd.GeoDataFrame, rows: np.ndarray,
                placed: np.ndarray | None = None) -> list[str]:
    """Set ``unit_id`` of the accounts at positions ``rows`` by point-in-polygon (in place), or to
    ``placed`` (their units, computed already by ``placement.units_of_xy``).

    Returns the ids of those accounts that lie outside every unit.
    """
    unit_col = accounts.columns.get_loc("unit_id")
    if not len(rows):
        return []
    if not len(units):
        accounts.iloc[rows, unit_col] = None
        return []
    if placed is None:
        placed = units_of_points(accounts.geometry.to_numpy()[rows], units)
    values = accounts["unit_id"].to_numpy(dtype=object, copy=True)
    values[rows] = placed
    accounts["unit_id"] = pd.Series(values, index=accounts.index, dtype=object)
    return accounts["account_id"].to_numpy()[rows][pd.isna(placed)].astype(str).tolist()


# --------------------------------------------------------------------------------------------- apply

def apply_import(project: Project, prepared: PreparedImport) -> ImportReport:
    """Put a prepared import into the project (assignments only: all or nothing)."""
    for sid, (_add, forget, clear) in prepared.plan_changes.items():
        if forget or clear:  # new units join a plan as orphans: that changes no assignment
            check_editable(project, sid)  # before anything changes: all or nothing
    kind = prepared.kind
    setattr(project, kind, prepared.table)
    if prepared.accounts is not None:
        project.accounts = prepared.accounts
    for sid, (add, forget, clear) in prepared.plan_changes.items():
        plan = project.plans[sid]
        if add:
            plan.assign_many(dict.fromkeys(add))
        if forget:
            plan.remove_units(forget)
        if clear:
            plan.set_account_overrides(dict.fromkeys(clear))
    entity = kind in ("units", "accounts", "reps")  # history imports change no plan
    project.mark_dirty(kind, *(["plans"] if entity else []), *(["accounts"] if prepared.accounts is not None else []))
    counts = prepared.counts
    project.log(f"import {kind}", f"{prepared.rows} {kind} from {prepared.source} ({prepared.mode}: "
                                  f"{counts.added} added, {counts.updated} updated, {counts.removed} removed)")
    return ImportReport(kind, prepared.source, prepared.rows, prepared.notes, prepared.outside, prepared.mode, counts)


@dataclass
class ProjectState:
    """The tables and plans an import changes, to restore them (the GUI's undo of an import)."""

    tables: dict[str, gpd.GeoDataFrame]
    plans: dict[str, tuple[dict[str, str | None], dict[str, str]]]


def capture_state(project: Project) -> ProjectState:
    """The project's units, accounts, reps, history tables and every scenario's plan, as they are now."""
    return ProjectState({k: getattr(project, k) for k in ("units", "accounts", "reps", *HISTORY_KINDS)},
                        {sid: (plan.as_dict(), plan.account_overrides()) for sid, plan in project.plans.items()})


def restore_state(project: Project, state: ProjectState) -> None:
    """Put back a captured state (firing the plans' listeners for what changes)."""
    for name, table in state.tables.items():
        if name in HISTORY_KINDS and getattr(project, name) is not table:
            project.mark_dirty(name)
        setattr(project, name, table)
    for sid, (units, overrides) in state.plans.items():
        plan = project.plans.get(sid)
        if plan is None:
            continue
        plan.remove_units([u for u in plan.as_dict() if u not in units])
        plan.assign_many(units)
        plan.set_account_overrides({**dict.fromkeys(plan.account_overrides()), **overrides})
    project.mark_dirty("units", "accounts", "reps", "plans")


# ------------------------------------------------------------------------------- one-call use-cases

def import_units(project: Project, path: str | Path, id_column: str, name_column: str | None = None,
                 layer: str | None = None, source_crs: str | None = None, mode: Mode = "upsert") -> ImportReport:
    """Read, validate and import units (see the module docstring for the modes); accounts are re-placed."""
    read = read_units_file(path, id_column, name_column, layer, source_crs)
    return apply_import(project, prepare_import(project, "units", read, Path(path).name, mode))


def import_accounts(project: Project, path: str | Path, mapping: dict[str, str] | None = None,
                    sheet: str | None = None, encoding: str | None = None,
                    progress: Progress = no_progress, mode: Mode = "upsert") -> ImportReport:
    """Read, validate and import accounts from a CSV/XLSX file; imported accounts are placed in units."""
    progress(0.0, "reading and validating")
    read = read_accounts_file(path, mapping, sheet, encoding)
    progress(0.5, "placing accounts in units")
    report = apply_import(project, prepare_import(project, "accounts", read, Path(path).name, mode))
    progress(1.0, "done")
    return report


def import_reps(project: Project, path: str | Path, mapping: dict[str, str] | None = None,
                sheet: str | None = None, encoding: str | None = None, mode: Mode = "upsert") -> ImportReport:
    """Read, validate and import reps from a CSV/XLSX file."""
    read = read_reps_file(path, mapping, sheet, encoding)
    return apply_import(project, prepare_import(project, "reps", read, Path(path).name, mode))
