"""Map the columns of an account or rep table and validate every row at once.

Reading the file is :mod:`storage.sheets` (CSV/XLSX to text); this module maps the file's columns to the
entity's fields, runs the small checks of :mod:`storage.checks` on every row and raises one error listing
every problem (reading problems included). Row numbers in messages are the rows a person sees in a
spreadsheet: the header is row 1, the first record row 2.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..models import RowProblem
from ..models.errors import import_error
from ..models.fields import Field
from .checks import (
    check_coordinates,
    check_ids,
    check_numbers,
    check_order,
    check_required,
    check_text,
    convert_bool,
    convert_date,
    normalise_ids,
)
from .geocode import normalise_zip, zip_table
from .rows import record_frame
from .sheets import RawTable, read_table

__all__ = ["TableRead", "detect_mapping", "read_and_validate", "read_table", "validate_table"]

LAT_ALIASES = ("lat", "latitude", "y", "lat_dd", "point_y")
LON_ALIASES = ("lon", "lng", "long", "longitude", "x", "lon_dd", "point_x")


@dataclass
class TableRead:
    """A validated table: ``frame`` has the entity's field names plus ``lat``, ``lon`` and any extra
    columns of the file; ``provided`` names the fields the file gave (the others hold defaults);
    ``notes`` are things the user should know that are not errors."""

    frame: pd.DataFrame
    mapping: dict[str, str]
    notes: list[str] = field(default_factory=list)
    provided: list[str] = field(default_factory=list)
    #: the spreadsheet row number of each row of ``frame`` (for messages about a row found later)
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


#: checks across the fields of a row (frame of converted values, row numbers, mapping, rows already
#: reported), run with the others so that one error lists every problem; it may settle values in place
RowCheck = Callable[[pd.DataFrame, np.ndarray, dict[str, str], np.ndarray], list[RowProblem]]


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def read_and_validate(path: str | Path, fields: tuple[Field, ...], id_field: str | None,
                      mapping: dict[str, str] | None = None, sheet: str | None = None,
                      encoding: str | None = None, skip: tuple[str, ...] = (), located: bool = True,
                      row_check: RowCheck | None = None) -> TableRead:
    """Read a CSV/XLSX file and validate it (see :func:`validate_table`)."""
    return validate_table(read_table(path, sheet, encoding), fields, id_field, mapping, skip, located, row_check)


def _stripped(column: pd.Series) -> pd.Series:
    """A column as stripped text, missing values as ''. Stays in pandas' (Arrow) string dtype for speed."""
    return column.astype("str").fillna("").str.strip()


def _to_float(text: pd.Series, blank: np.ndarray) -> np.ndarray:
    """Parse numbers; blanks and unparseable values become NaN (the caller reports the unparseable ones).

    Arrow's cast parses a clean column in C; a column with bad values falls back to pandas, row by row.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:  # the column's own Arrow array when it has one (read by Arrow's CSV parser): no copy
        values = pa.array(text, from_pandas=True)
        values = pc.if_else(pa.array(blank), pa.scalar(None, values.type), values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        values = pa.array(text.to_numpy(dtype=object, na_value=None), type=pa.string(), mask=blank)
    try:
        return pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pd.to_numeric(text.mask(blank), errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _first_free(by_norm: dict[str, str], candidates: tuple[str, ...], used: set[str]) -> str | None:
    for candidate in candidates:
        col = by_norm.get(_norm(candidate))
        if col is not None and col not in used:
            return col
    return None


def detect_mapping(columns: list[str], fields: tuple[Field, ...], given: dict[str, str] | None = None,
                   ) -> dict[str, str]:
    """Map field name -> file column: explicit ``given`` first, then exact names, then aliases.

    Matching ignores case, spaces and punctuation ("Account ID" matches ``account_id``).
    """
    given = dict(given or {})
    by_norm = {_norm(c): c for c in columns}
    mapping: dict[str, str] = {}
    used = set(given.values())
    targets = [(f.name, (f.name, *f.aliases)) for f in fields] + [("lat", LAT_ALIASES), ("lon", LON_ALIASES)]
    for name, candidates in targets:
        col = given.get(name) or _first_free(by_norm, candidates, used)
        if col is not None:
            mapping[name] = col
            used.add(col)
    return mapping


# ------------------------------------------------------------------------------------- file-level checks

def _check_given_fields(given: dict[str, str], fields: tuple[Field, ...], skip: tuple[str, ...]) -> list[RowProblem]:
    """``--map FIELD=COLUMN`` must name a field the file may provide."""
    known = [f.name for f in fields] + ["lat", "lon"]
    problems = []
    for name, col in given.items():
        if name in skip:
            problems.append(RowProblem(None, col, f"--map {name}={col}: {name} is computed, not imported"))
        elif name not in known:
            problems.append(RowProblem(None, col, f"--map {name}={col}: '{name}' is not a field "
                                                  f"(fields: {', '.join(known)})"))
    return problems


def _check_mapping(columns: list[str], mapping: dict[str, str], required: dict[str, str], located: bool
                   ) -> list[RowProblem]:
    """Mapped columns exist, ``required`` fields (name -> how messages call it) are mapped, a location is."""
    listed = ", ".join(columns)
    problems = [RowProblem(None, col, f"column mapped to '{name}' is not in the file (columns: {listed})")
                for name, col in mapping.items() if col not in columns]
    problems += [RowProblem(None, name, f"no {label} column found; name one with --map {name}=COLUMN "
                                        f"(columns: {listed})") for name, label in required.items() if name not in mapping]
    if located and not ("lat" in mapping and "lon" in mapping) and "zip" not in mapping:
        problems.append(RowProblem(None, None, "no coordinates: the file needs lat/lon columns or a ZIP code "
                                               f"column (columns: {listed})"))
    return problems


# --------------------------------------------------------------------------------------- row-level checks

def _convert_field(frame: pd.DataFrame, f: Field, col: str | None, rows: np.ndarray
                   ) -> tuple[np.ndarray, list[RowProblem]]:
    """One field's values (defaults where blank or unmapped) and the problems of its column."""
    if col is None:
        return np.full(len(frame), f.default, dtype=object if f.kind == "text" else None), []
    text = _stripped(frame[col])
    if f.kind == "bool":
        return convert_bool(text, f, rows, col)
    if f.kind in ("date", "month"):
        return convert_date(text, f, rows, col)
    if f.kind not in ("real", "int"):
        return text.to_numpy(dtype=object), check_text(text, f, rows, col)
    number = _to_float(text, (text == "").to_numpy())
    problems = check_numbers(text, number, f, rows, col)
    fill = f.default if isinstance(f.default, int | float) else np.nan  # numeric fields have numeric defaults
    values = np.where(np.isnan(number), fill, number)
    if f.kind == "int" and not problems:
        values = values.astype(np.int64)
    return values, problems


def _convert_fields(frame: pd.DataFrame, fields: tuple[Field, ...], mapping: dict[str, str], rows: np.ndarray
                    ) -> tuple[pd.DataFrame, list[RowProblem]]:
    data, problems = {}, []
    for f in fields:
        data[f.name], found = _convert_field(frame, f, mapping.get(f.name), rows)
        problems += found
    out = record_frame(data, index=frame.index, copy=False)  # object columns, no round trip through Arrow
    reported = np.isin(rows, [p.row for p in problems if p.row is not None])  # a bad value is not also "not after" its partner
    return out, problems + check_order(out, fields, mapping, rows, reported)


def _coordinates(frame: pd.DataFrame, mapping: dict[str, str], rows: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, list[RowProblem], np.ndarray]:
    """lat, lon (NaN where blank), their problems, and which rows already have a coordinate problem."""
    n = len(frame)
    lat, lon = np.full(n, np.nan), np.full(n, np.nan)
    if not ("lat" in mapping and "lon" in mapping):
        return lat, lon, [], np.zeros(n, dtype=bool)
    problems = []
    parsed = {}
    for target in ("lat", "lon"):
        col = mapping[target]
        text = _stripped(frame[col])
        blank = (text == "").to_numpy()
        parsed[target] = _to_float(text, blank)
        problems += [RowProblem(int(rows[i]), col, f"'{text.iat[i][:40]}' is not a number")
                     for i in np.flatnonzero(~blank & np.isnan(parsed[target]))]
    lat, lon = parsed["lat"], parsed["lon"]
    problems += check_coordinates(lon, lat, rows, mapping["lon"], mapping["lat"])
    reported = np.isin(rows, [p.row for p in problems if p.row is not None])
    return lat, lon, problems, reported


def _geocode(out: pd.DataFrame, lat: np.ndarray, lon: np.ndarray, mapping: dict[str, str], rows: np.ndarray,
             reported: np.ndarray) -> tuple[int, list[RowProblem]]:
    """Fill missing coordinates from the ZIP column (in place); returns rows geocoded and problems."""
    missing = np.isnan(lat) | np.isnan(lon)
    if "zip" not in mapping:
        return 0, [RowProblem(int(rows[i]), f"{mapping['lat']}/{mapping['lon']}", "latitude or longitude is empty")
                   for i in np.flatnonzero(missing & ~reported)]
    zips = normalise_zip(out["zip"])
    out["zip"] = zips.to_numpy(dtype=object)
    need = missing & ~reported
    if not need.any():
        return 0, []
    table = zip_table()
    lat[need] = zips[need].map(table["lat"]).to_numpy(float)
    lon[need] = zips[need].map(table["lon"]).to_numpy(float)
    problems = []
    for i in np.flatnonzero(need & np.isnan(lat)):
        z = zips.iat[i]
        reason = "no coordinates and no ZIP code" if not z else f"ZIP code '{z}' is not a known US ZIP"
        problems.append(RowProblem(int(rows[i]), mapping["zip"], reason))
    return int(need.sum()) - len(problems), problems


def _extras(frame: pd.DataFrame, mapping: dict[str, str], fields: tuple[Field, ...]) -> pd.DataFrame:
    """The file's other columns, kept as they are (one concat, linear in the number of columns)."""
    known = set(mapping.values())
    names = {_norm(f.name) for f in fields}
    keep = [c for c in frame.columns if c not in known and _norm(c) not in names]
    return pd.DataFrame(frame[keep].to_numpy(dtype=object), index=frame.index, columns=keep)  # one block


def validate_table(raw: RawTable, fields: tuple[Field, ...], id_field: str | None,
                   mapping: dict[str, str] | None = None, skip: tuple[str, ...] = (), located: bool = True,
                   row_check: RowCheck | None = None) -> TableRead:
    """Map columns, check every row, geocode ZIPs where there are no coordinates; raise once on errors.

    ``skip`` names fields the file must not provide (computed ones, such as ``unit_id`` of accounts).
    ``id_field`` None: rows have no unique id (history rows; fields with a None default must still be
    mapped). ``located`` False: the rows have no location (no lat/lon/ZIP needed, none added).
    ``row_check``: checks across fields (see :data:`RowCheck`), reported with the others.
    Problems found while reading (rows of the wrong width, error cells) are reported with the others.
    """
    frame, source = raw.frame, raw.source
    if frame.empty and not raw.problems:
        raise import_error(source, ["the file has a header but no data rows"] if len(frame.columns)
                           else ["the file is empty"])
    columns = [str(c) for c in frame.columns]
    fields = tuple(f for f in fields if f.name not in skip)
    problems = _check_given_fields(mapping or {}, fields, skip)
    mapping = detect_mapping(columns, fields, {k: v for k, v in (mapping or {}).items() if k not in skip})
    if not located:
        mapping = {k: v for k, v in mapping.items() if k not in ("lat", "lon")}
    required = {**({id_field: "id"} if id_field else {}), **{f.name: f.name for f in fields if f.required}}
    problems += _check_mapping(columns, mapping, required, located)
    if problems:
        raise import_error(source, problems + raw.problems)
    rows = frame.index.to_numpy()
    out, problems = _convert_fields(frame, fields, mapping, rows)
    problems += check_required(frame, fields, mapping, rows)
    notes: list[str] = []
    if id_field:
        ids, notes = normalise_ids(_stripped(frame[mapping[id_field]]))  # the id column's text as Arrow
        out[id_field] = ids.to_numpy(dtype=object)
        problems += check_ids(ids, rows, mapping[id_field])
    geocoded = 0
    if located:
        lat, lon, found, reported = _coordinates(frame, mapping, rows)
        geocoded, missing = _geocode(out, lat, lon, mapping, rows, reported)
        problems += found + missing
        out["lat"], out["lon"] = lat, lon
    if row_check is not None:
        problems += row_check(out, rows, mapping, np.isin(rows, [p.row for p in problems if p.row is not None]))
    problems += raw.problems
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.column or ""))
        raise import_error(source, problems)
    out = pd.concat([out, _extras(frame, mapping, fields)], axis=1)
    notes = raw.notes + notes
    if geocoded:
        notes.append(f"{geocoded} rows placed at their ZIP code's centroid (offline geocoding)")
    provided = [f.name for f in fields if f.name in mapping]
    return TableRead(out.reset_index(drop=True), mapping, notes, provided, rows)
