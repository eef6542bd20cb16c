"""Import sales, visits and opportunities from CSV/XLSX: validate everything, refuse unknown accounts and reps.

The same three steps as :mod:`services.importing` (read, prepare for a mode with counts, apply), and the
same modes: ``upsert`` updates rows whose key exists and appends new ones, ``append`` refuses keys that
exist, ``replace`` makes the file the whole table. Keys (duplicates in the file are refused too):

- opportunities: ``opportunity_id``;
- sales: account, month and product (one amount per account, month and product line);
- visits: account, rep and date.

Rows are stored with their account (and rep); which territory they count for is decided when the KPIs
are computed, from the plan in force at each row's date (``services.kpi``), so a sale made before a
realignment counts for the territory that owned the account then.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ..models import Project, RowProblem
from ..models.errors import import_error
from ..models.fields import OPPORTUNITY_FIELDS, SALE_FIELDS, VISIT_FIELDS, Field
from ..models.project import OPPORTUNITY_COLUMNS, SALES_COLUMNS, VISIT_COLUMNS
from ..storage.tabular import TableRead, read_and_validate
from .importing import LISTED, ImportReport, Mode, PreparedImport, apply_import, check_mode, merge_tables

HistoryKind = Literal["sales", "visits", "opportunities"]
HISTORY_KINDS: tuple[HistoryKind, ...] = ("sales", "visits", "opportunities")
FIELDS: dict[str, tuple[Field, ...]] = {"sales": SALE_FIELDS, "visits": VISIT_FIELDS,
                                        "opportunities": OPPORTUNITY_FIELDS}
COLUMNS = {"sales": SALES_COLUMNS, "visits": VISIT_COLUMNS, "opportunities": OPPORTUNITY_COLUMNS}
KEYS: dict[str, tuple[str, ...]] = {"sales": ("account_id", "period", "product"),
                                    "visits": ("account_id", "rep_id", "date"),
                                    "opportunities": ("opportunity_id",)}
WON_STAGE, LOST_STAGE = "Closed Won", "Closed Lost"


def read_history_file(kind: str, path: str | Path, mapping: dict[str, str] | None = None,
                      sheet: str | None = None, encoding: str | None = None, project: Project | None = None
                      ) -> TableRead:
    """Read and validate a sales, visits or opportunities table; every bad row is listed in one error
    (with ``project``, rows naming an account or rep it does not have too)."""
    if kind not in HISTORY_KINDS:
        raise import_error(Path(path).name, [f"unknown history table '{kind}' ({', '.join(HISTORY_KINDS)})"])
    id_field = "opportunity_id" if kind == "opportunities" else None
    own = _opportunity_problems if kind == "opportunities" else partial(_duplicate_keys, kind)

    def check(frame: pd.DataFrame, rows: np.ndarray, columns: dict[str, str], reported: np.ndarray) -> list:
        known = [] if project is None else _reference_problems(project, frame, rows, columns)
        return own(frame, rows, columns, reported) + known

    read = read_and_validate(path, FIELDS[kind], id_field, mapping, sheet, encoding, located=False, row_check=check)
    extra = [c for c in read.frame.columns if c not in COLUMNS[kind]]
    if extra:
        read.notes.append(f"columns not kept (a {kind} row has {', '.join(COLUMNS[kind])}): {', '.join(extra)}")
    read.frame = read.frame[COLUMNS[kind]]
    return read


def _key(frame: pd.DataFrame, kind: str) -> pd.Series:
    columns = KEYS[kind]
    parts = [frame[c].astype(object).where(frame[c].notna(), "").astype(str) for c in columns]
    key = parts[0]
    for part in parts[1:]:
        key = key + " / " + part
    return key


def _unique_key(frame: pd.DataFrame, kind: str) -> np.ndarray:
    """The key of the project's rows; rows repeating a key (kept from before) are told apart by "#2", "#3"
    (a file's row updates the first of them)."""
    key = _key(frame, kind)
    n = key.groupby(key.to_numpy()).cumcount().to_numpy()
    values = key.to_numpy(dtype=object)
    values[n > 0] = values[n > 0] + " #" + (n[n > 0] + 1).astype(str).astype(object)
    return values


def _duplicate_keys(kind: str, frame: pd.DataFrame, rows: np.ndarray, mapping: dict[str, str],
                    reported: np.ndarray) -> list[RowProblem]:
    """Rows whose key (account, month, product of a sale; account, rep, date of a visit) came before."""
    key = _key(frame, kind)
    dup = key.duplicated(keep="first").to_numpy() & ~reported
    if not dup.any():
        return []
    first = pd.Series(rows).groupby(key.to_numpy()).transform("first").to_numpy()
    what = " / ".join(KEYS[kind])
    return [RowProblem(int(rows[i]), mapping["account_id"], f"duplicate {what} '{key.iat[i]}' (first on row "
                                                            f"{first[i]})") for i in np.flatnonzero(dup)]


def _opportunity_problems(o: pd.DataFrame, rows: np.ndarray, mapping: dict[str, str], reported: np.ndarray
                          ) -> list[RowProblem]:
    """Won/lost from the stage where not given (and the stage from won/lost); closed not before created."""
    where = mapping.get("closed", "closed")
    decided = _settle_outcome(o) & ~reported
    closed, created = o["closed"].to_numpy(dtype=object), o["created"].to_numpy(dtype=object)
    open_ = pd.isna(o["closed"]).to_numpy()
    problems = [RowProblem(int(rows[i]), where, "a won or lost opportunity needs a closed date")
                for i in np.flatnonzero(decided & open_)]
    early = ~open_ & ~reported & (o["closed"].fillna("").to_numpy(dtype=str) < o["created"].fillna("").to_numpy(dtype=str))
    problems += [RowProblem(int(rows[i]), where, f"closed {closed[i]} is before created {created[i]}")
                 for i in np.flatnonzero(early)]
    return problems


def _settle_outcome(o: pd.DataFrame) -> np.ndarray:
    """Fill ``won`` from a "Closed Won"/"Closed Lost" stage and a blank stage from ``won`` (Open while
    undecided), in place; returns which rows are won or lost."""
    stage = o["stage"].astype(str).str.strip().str.lower().to_numpy()
    won = o["won"].to_numpy(dtype=object, copy=True)
    unknown = pd.isna(o["won"]).to_numpy()
    won[unknown & (stage == WON_STAGE.lower())] = True
    won[unknown & (stage == LOST_STAGE.lower())] = False
    decided = ~pd.isna(pd.Series(won)).to_numpy()
    named = np.where(won == True, WON_STAGE, LOST_STAGE)  # noqa: E712 (object array of True/False/None)
    o["stage"] = np.where(stage == "", np.where(decided, named, "Open"), o["stage"].to_numpy(dtype=object))
    o["won"] = won
    return decided


def _reference_problems(project: Project, frame: pd.DataFrame, rows: np.ndarray, mapping: dict[str, str]
                        ) -> list[RowProblem]:
    """Rows whose account or rep is not in the project, each named with its row."""
    problems = []
    for column, table in (("account_id", project.accounts), ("rep_id", project.reps)):
        if column not in frame:
            continue
        values = frame[column].astype(object).where(frame[column].notna(), "").astype(str)
        known = set(table[column].astype(str)) if len(table) else set()
        unknown = ((values != "") & ~values.isin(known)).to_numpy()
        what = "account" if column == "account_id" else "rep"
        problems += [RowProblem(int(rows[i]), mapping.get(column, column),
                                f"unknown {what} '{values.iat[i]}' (not in the project's {what}s)")
                     for i in np.flatnonzero(unknown)[: LISTED * 10]]
    return problems


def prepare_history_import(project: Project, kind: str, read: TableRead, source: str,
                           mode: Mode = "upsert") -> PreparedImport:
    """The change an import of ``kind`` makes in ``mode``, computed without touching the project.

    Raises InvalidInputError naming every row whose account or rep the project does not have, or (append)
    the keys that exist already."""
    from .project import ensure_history

    check_mode(mode, source)
    problems = _reference_problems(project, read.frame, read.rows, read.mapping)
    if problems:
        raise import_error(source, sorted(problems, key=lambda p: (p.row or 0, p.column or "")))
    ensure_history(project)
    old = getattr(project, kind)
    key = " / ".join(KEYS[kind])  # named so in messages ("2 account_id / period / product exist already")
    new = read.frame.assign(**{key: _key(read.frame, kind).to_numpy()})
    old = old.assign(**{key: _unique_key(old, kind) if len(old) else []})
    table, _changed, _removed, counts = merge_tables(old, new, key, mode, list(read.provided), source)
    if key not in COLUMNS[kind]:
        table = table.drop(columns=[key])
    table = table.reset_index(drop=True)
    return PreparedImport(kind, source, mode, len(new), table, counts, notes=list(read.notes))  # type: ignore[arg-type]


def import_history(project: Project, kind: str, path: str | Path, mapping: dict[str, str] | None = None,
                   sheet: str | None = None, encoding: str | None = None, mode: Mode = "upsert") -> ImportReport:
    """Read, validate and import sales, visits or opportunities (one call: the CLI and tests)."""
    read = read_history_file(kind, path, mapping, sheet, encoding, project)
    return apply_import(project, prepare_history_import(project, kind, read, Path(path).name, mode))
