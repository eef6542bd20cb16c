"""Row-level changes: what a save inserts, updates and deletes, found by comparing records by key.

A *record frame* is a table's rows as the project holds them, one column per database column, values
normalised so that what was read from the file compares equal to itself: numbers as float64 (NaN for
NULL), text/dates as objects (None for NULL), geometry as shapely objects. The key columns identify a row
(a business id such as ``account_id``, or ``fid`` for history rows that have none).

:func:`diff` compares the frame last read or written (the *baseline*) with the current one and returns
:class:`RowChanges`; a backend applies them (``gpkg_store.apply``). This is the storage interface a
PostGIS backend implements too: rows addressed by key, only changed rows written, unknown columns and rows
never touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

#: column kinds: how values are normalised for comparison and converted for the database
NUMERIC = ("real", "int", "bool")
GEOMETRY = "geometry"


@dataclass(frozen=True)
class TableSpec:
    """One table as the application writes it: key columns and the kind of each value column.

    ``extras`` tables keep columns the application does not know (from imported files) in a JSON
    ``attrs`` column: any record column not in ``kinds`` is such an extra.
    """

    name: str
    key: tuple[str, ...]
    kinds: dict[str, str]
    extras: bool = False

    def value_columns(self, records: pd.DataFrame) -> list[str]:
        return [c for c in records.columns if c not in self.key]


@dataclass
class RowChanges:
    """What one save does to one table: new rows, changed rows (all value columns), removed keys."""

    spec: TableSpec
    inserts: pd.DataFrame
    updates: pd.DataFrame
    deletes: pd.DataFrame  # key columns only
    #: update rows whose geometry changed (the others are updated without touching geom and its R-tree)
    geometry_changed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __bool__(self) -> bool:
        return bool(len(self.inserts) or len(self.updates) or len(self.deletes))

    def counts(self) -> dict[str, int]:
        return {"inserted": len(self.inserts), "updated": len(self.updates), "deleted": len(self.deletes)}


def normalise(values, kind: str) -> np.ndarray:
    """A column's values in the comparable form of its ``kind`` (see the module docstring)."""
    if kind in NUMERIC and isinstance(values, np.ndarray) and values.dtype.kind in "fiub":
        return values.astype(float)  # already numbers: no pandas round trip
    if kind in NUMERIC:
        series = pd.Series(values)
        if kind == "bool" and series.dtype == object:
            series = series.map(lambda v: None if pd.isna(v) else bool(v))
        return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if kind == GEOMETRY:
        return np.asarray(values, dtype=object)
    # a copy of the values with one pass to find the missing ones (no Series rebuilt by ``where``)
    out = values.astype(object) if isinstance(values, np.ndarray) and values.ndim == 1 else \
        pd.Series(values, dtype=object).to_numpy(dtype=object, copy=True)
    missing = pd.isna(out)
    if missing.any():
        out[missing] = None
    return out


def record_frame(columns: dict[str, np.ndarray], index: pd.Index | None = None, copy: bool = True) -> pd.DataFrame:
    """A record frame from normalised columns, text kept as Python objects (not pandas' Arrow strings,
    whose conversion and comparison cost more than the rest of a save). Also the way to build any frame
    of object columns without pandas converting them to Arrow strings and back (a second per million).

    ``copy=False`` for arrays made for the frame alone: each becomes its own block, not copied (a saved
    record frame must own its data: it is what the next save compares with). ``copy=True`` copies each
    array on its own and still keeps one block per column: pandas' copy would stack the columns of a kind
    into one 2-D block, a quarter of a second per million rows for nothing.
    """
    if copy:
        columns = {name: np.array(values, copy=True) for name, values in columns.items()}
    return pd.DataFrame({name: pd.Series(values, index=index, dtype=object, copy=False) if values.dtype == object
                         else pd.Series(values, index=index, copy=False) for name, values in columns.items()},
                        index=index, copy=False)


def _key_index(frame: pd.DataFrame, key: tuple[str, ...]) -> pd.Index:
    # object dtype on purpose: hashing Python strings is ~10x faster than pandas' Arrow strings for isin
    if len(key) == 1:
        return pd.Index(frame[key[0]].to_numpy(dtype=object), dtype=object)
    return pd.MultiIndex.from_arrays([pd.Index(frame[k].to_numpy(dtype=object), dtype=object) for k in key])


def _baseline_positions(base: pd.Index, current: pd.Index, current_unique: bool) -> np.ndarray:
    """The baseline position of each current key (-1: not in the baseline). Many more current keys than
    baseline ones (a bulk import): the baseline's keys are looked up in the hash table the duplicate
    check built of the current ones, so a million new keys are hashed once, not twice."""
    if not current_unique or len(base) * 4 > len(current) or base.has_duplicates:
        return base.get_indexer(current)
    where = current.get_indexer(base)
    found = np.full(len(current), -1, dtype=np.intp)
    kept = where >= 0
    found[where[kept]] = np.flatnonzero(kept)
    return found


def _differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise "not the same value", NULL equal to NULL, geometry compared exactly."""
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        return (a != b) & ~(np.isnan(a) & np.isnan(b))
    a_missing, b_missing = pd.isna(a), pd.isna(b)
    both = ~a_missing & ~b_missing
    out = a_missing != b_missing
    if both.any():
        sa, sb = a[both], b[both]
        if isinstance(sa[0], shapely.Geometry) or isinstance(sb[0], shapely.Geometry):
            same = np.array([x is y for x, y in zip(sa, sb, strict=True)])
            if not same.all():
                same[~same] = shapely.equals_exact(sa[~same], sb[~same], tolerance=0.0)
            out[both] = ~same
        else:
            out[both] = sa != sb
    return out


def _missing_column(n: int, kind: str | None) -> np.ndarray:
    return np.full(n, np.nan) if kind in NUMERIC else np.full(n, None, dtype=object)


def _rows(frame: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """``frame[mask]``, as a slice (no copy of a million rows) when the rows picked are the frame's last ones:
    the new rows of an import are appended after the old."""
    picked = np.flatnonzero(mask)
    if len(picked) and picked[0] == len(frame) - len(picked):
        return frame.iloc[picked[0]:]
    return frame[mask]


def diff(spec: TableSpec, baseline: pd.DataFrame | None, current: pd.DataFrame) -> RowChanges:
    """The row changes that turn ``baseline`` (None: an empty table) into ``current``.

    Raises ValueError when ``current`` repeats a key (the importers and editors never let that happen).
    """
    unkeyed = current[list(spec.key)].isna().any(axis=1).to_numpy()  # new history rows have no fid yet
    cur_index = _key_index(current, spec.key)
    keyed = cur_index[~unkeyed] if unkeyed.any() else cur_index
    if keyed.has_duplicates:
        raise ValueError(f"{spec.name}: the id {keyed[keyed.duplicated()][0]!r} is used by more than one row")
    if baseline is None or not len(baseline):
        empty = current.iloc[:0][list(spec.key)]
        return RowChanges(spec, current, current.iloc[:0], empty)
    found = _baseline_positions(_key_index(baseline, spec.key), cur_index, keyed is cur_index)
    in_old = (found >= 0) & ~unkeyed
    kept = np.zeros(len(baseline), dtype=bool)
    kept[found[in_old]] = True
    inserts = current if not in_old.any() else _rows(current, ~in_old)
    deletes = baseline.loc[~kept, list(spec.key)]
    common = current[in_old]
    old_common = baseline.iloc[found[in_old]]
    columns = list(dict.fromkeys(spec.value_columns(current) + spec.value_columns(baseline)))
    changed = np.zeros(len(common), dtype=bool)
    geometry_changed = np.zeros(len(common), dtype=bool)
    for column in columns:
        kind = spec.kinds.get(column)
        a = old_common[column].to_numpy() if column in old_common else _missing_column(len(common), kind)
        b = common[column].to_numpy() if column in common else _missing_column(len(common), kind)
        d = _differs(a, b)
        changed |= d
        if kind == GEOMETRY:
            geometry_changed = d
    return RowChanges(spec, inserts, common[changed], deletes, geometry_changed[changed])
