"""Read account and rep tables from CSV or XLSX, map their columns, and validate every row at once.

Row numbers in messages are the rows a person sees in a spreadsheet: the header is row 1, the first
record row 2.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..models import RowProblem
from ..models.errors import import_error
from ..models.fields import Field
from .geocode import normalise_zip, zip_table

LAT_ALIASES = ("lat", "latitude", "y", "lat_dd", "point_y")
LON_ALIASES = ("lon", "lng", "long", "longitude", "x", "lon_dd", "point_x")
FIRST_DATA_ROW = 2


@dataclass
class TableRead:
    """A validated table: ``frame`` has the entity's field names plus ``lat``, ``lon`` and any extra
    columns of the file; ``notes`` are things the user should know that are not errors."""

    frame: pd.DataFrame
    mapping: dict[str, str]
    notes: list[str] = field(default_factory=list)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def read_table(path: str | Path, sheet: str | None = None, encoding: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read CSV or XLSX as all-text columns. Returns the frame and notes (e.g. the encoding used)."""
    path = Path(path)
    if not path.exists():
        raise import_error(str(path), ["no such file"])
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        try:
            frame = pd.read_excel(path, sheet_name=sheet or 0, dtype=str, engine="openpyxl")
        except ValueError as exc:  # unknown sheet, unreadable workbook
            raise import_error(path.name, [str(exc)]) from exc
        except Exception as exc:  # openpyxl raises zipfile/KeyError for damaged files
            raise import_error(path.name, [f"not a readable Excel workbook ({exc})"]) from exc
        return frame, []
    if suffix not in (".csv", ".txt", ".tsv"):
        raise import_error(path.name, [f"unsupported file type '{suffix}' (use .csv or .xlsx)"])
    raw = path.read_bytes()
    notes = []
    if encoding is None:
        try:
            raw.decode("utf-8")
            encoding = "utf-8-sig"
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            encoding = "cp1252"
            notes.append(f"the file is not UTF-8 (first non-UTF-8 byte on line {line}); read it as "
                         "Windows-1252 (Excel's default). Pass --encoding to choose another")
    sep = "\t" if suffix == ".tsv" else ","
    if not raw.strip():
        raise import_error(path.name, ["the file is empty"])
    try:
        frame = pd.read_csv(io.BytesIO(raw), dtype=str, sep=sep, encoding=encoding, engine="pyarrow",
                            keep_default_na=False)
    except (UnicodeDecodeError, LookupError) as exc:
        raise import_error(path.name, [f"cannot decode the file as {encoding}: {exc}"]) from exc
    except Exception as exc:  # pyarrow's parse errors: find every malformed line ourselves
        problems = _malformed_lines(raw.decode(encoding, errors="replace"), sep)
        raise import_error(path.name, problems or [f"cannot parse the file: {exc}"]) from exc
    return frame, notes


def _malformed_lines(text: str, sep: str) -> list[RowProblem]:
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    header = next(reader, [])
    problems = []
    for row in reader:
        if row and len(row) != len(header):
            problems.append(RowProblem(reader.line_num, None,
                                       f"has {len(row)} fields, the header has {len(header)}"))
    return problems


def _stripped(column: pd.Series) -> pd.Series:
    """A column as stripped text, missing values as ''. Stays in pandas' (Arrow) string dtype for speed."""
    return column.astype("str").fillna("").str.strip()


def _to_float(text: pd.Series, blank: np.ndarray) -> np.ndarray:
    """Parse numbers; blanks and unparseable values become NaN (the caller reports the unparseable ones).

    Arrow's cast parses a clean column in C; a column with bad values falls back to pandas, row by row.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    values = pa.array(text.to_numpy(dtype=object, na_value=None), type=pa.string(), mask=blank)
    try:
        return pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pd.to_numeric(text.mask(blank), errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def detect_mapping(columns: list[str], fields: tuple[Field, ...], given: dict[str, str] | None = None,
                   ) -> dict[str, str]:
    """Map field name -> file column: explicit ``given`` first, then exact names, then aliases.

    Matching ignores case, spaces and punctuation ("Account ID" matches ``account_id``).
    """
    given = dict(given or {})
    by_norm = {_norm(c): c for c in columns}
    mapping: dict[str, str] = {}
    used = set(given.values())
    for f in fields:
        if f.name in given:
            mapping[f.name] = given[f.name]
            continue
        for candidate in (f.name, *f.aliases):
            col = by_norm.get(_norm(candidate))
            if col is not None and col not in used:
                mapping[f.name] = col
                used.add(col)
                break
    for target, aliases in (("lat", LAT_ALIASES), ("lon", LON_ALIASES)):
        if target in given:
            mapping[target] = given[target]
            continue
        for candidate in aliases:
            col = by_norm.get(_norm(candidate))
            if col is not None and col not in used:
                mapping[target] = col
                used.add(col)
                break
    return mapping


def validate_table(frame: pd.DataFrame, fields: tuple[Field, ...], id_field: str, source: str,
                   mapping: dict[str, str] | None = None, notes: list[str] | None = None,
                   skip: tuple[str, ...] = ()) -> TableRead:
    """Map columns, check every row, geocode ZIPs where there are no coordinates; raise once on errors.

    ``skip`` names fields the file must not provide (computed ones, such as ``unit_id`` of accounts).
    """
    if frame.empty:
        raise import_error(source, ["the file has a header but no data rows"] if len(frame.columns)
                                else ["the file is empty"])
    columns = [str(c) for c in frame.columns]
    fields = tuple(f for f in fields if f.name not in skip)
    mapping = detect_mapping(columns, fields, mapping)
    problems: list[RowProblem] = []
    for fname, col in mapping.items():
        if col not in columns:
            problems.append(RowProblem(None, col, f"column mapped to '{fname}' is not in the file "
                                                  f"(columns: {', '.join(columns)})"))
    if id_field not in mapping:
        problems.append(RowProblem(None, id_field, "no id column found; name one with --map "
                                                   f"{id_field}=COLUMN (columns: {', '.join(columns)})"))
    has_coords = "lat" in mapping and "lon" in mapping
    has_zip = "zip" in mapping
    if not has_coords and not has_zip:
        problems.append(RowProblem(None, None, "no coordinates: the file needs lat/lon columns or a ZIP code "
                                               f"column (columns: {', '.join(columns)})"))
    if problems:
        raise import_error(source, problems)

    rows = np.arange(len(frame)) + FIRST_DATA_ROW
    out = pd.DataFrame(index=frame.index)
    for f in fields:
        col = mapping.get(f.name)
        if col is None:
            out[f.name] = f.default if f.default is not None else None
            continue
        text = _stripped(frame[col])
        if f.kind in ("real", "int"):
            blank = (text == "").to_numpy()
            number = _to_float(text, blank)
            nan = np.isnan(number)
            bad = ~blank & nan
            for i in np.flatnonzero(bad):
                problems.append(RowProblem(int(rows[i]), col, f"'{text.iat[i]}' is not a number"))
            if f.kind == "int":
                frac = ~nan & (number != np.floor(np.where(nan, 0, number)))
                for i in np.flatnonzero(frac):
                    problems.append(RowProblem(int(rows[i]), col, f"'{text.iat[i]}' is not a whole number"))
            for i in np.flatnonzero(~nan & (number < 0)):
                problems.append(RowProblem(int(rows[i]), col, f"{text.iat[i]} is negative"))
            default = f.default if f.default is not None else np.nan
            out[f.name] = np.where(nan, default, number)
        else:
            out[f.name] = text.to_numpy()

    ids = out[id_field].astype(str)
    for i in np.flatnonzero((ids == "").to_numpy()):
        problems.append(RowProblem(int(rows[i]), mapping[id_field], "the id is empty"))
    dup = ids.duplicated(keep="first") & (ids != "")
    if dup.any():
        first_row = {v: int(r) for v, r in zip(ids[~ids.duplicated(keep="first")], rows[~ids.duplicated().to_numpy()],
                                              strict=True)}
        for i in np.flatnonzero(dup.to_numpy()):
            problems.append(RowProblem(int(rows[i]), mapping[id_field],
                                       f"duplicate id '{ids.iat[i]}' (first on row {first_row[ids.iat[i]]})"))

    lat = pd.Series(np.nan, index=frame.index)
    lon = pd.Series(np.nan, index=frame.index)
    coord_reported = np.zeros(len(frame), dtype=bool)
    if has_coords:
        for target, col, limit in (("lat", mapping["lat"], 90), ("lon", mapping["lon"], 180)):
            text = _stripped(frame[col])
            blank = (text == "").to_numpy()
            value = pd.Series(_to_float(text, blank), index=frame.index)
            bad = ~blank & value.isna().to_numpy()
            for i in np.flatnonzero(bad):
                problems.append(RowProblem(int(rows[i]), col, f"'{text.iat[i]}' is not a number"))
            out_of_range = (value.abs() > limit).to_numpy()
            for i in np.flatnonzero(out_of_range):
                problems.append(RowProblem(int(rows[i]), col, f"{value.iat[i]} is outside -{limit}..{limit}"))
            coord_reported |= bad | out_of_range
            if target == "lat":
                lat = value
            else:
                lon = value
    missing_xy = (lat.isna() | lon.isna()).to_numpy()
    geocoded = 0
    if has_zip:
        zips = normalise_zip(out["zip"])
        out["zip"] = zips.to_numpy(dtype=object)
        need = missing_xy
        if need.any():
            table = zip_table()
            hit_lat = zips[need].map(table["lat"])
            hit_lon = zips[need].map(table["lon"])
            lat.loc[need] = hit_lat.to_numpy(float)
            lon.loc[need] = hit_lon.to_numpy(float)
            geocoded = int(hit_lat.notna().sum())
            for i in np.flatnonzero(need & lat.isna().to_numpy()):
                z = zips.iat[i]
                reason = "no coordinates and no ZIP code" if not z else f"ZIP code '{z}' is not a known US ZIP"
                problems.append(RowProblem(int(rows[i]), mapping["zip"], reason))
    else:
        for i in np.flatnonzero(missing_xy & ~coord_reported):
            problems.append(RowProblem(int(rows[i]), f"{mapping['lat']}/{mapping['lon']}",
                                       "latitude or longitude is empty"))
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.column or ""))
        raise import_error(source, problems)
    out["lat"] = lat.to_numpy(float)
    out["lon"] = lon.to_numpy(float)
    known = set(mapping.values())
    for col in columns:
        if col not in known and _norm(col) not in {_norm(f.name) for f in fields}:
            out[col] = frame[col].to_numpy(dtype=object)
    notes = list(notes or [])
    if geocoded:
        notes.append(f"{geocoded} rows placed at their ZIP code's centroid (offline geocoding)")
    return TableRead(out.reset_index(drop=True), mapping, notes)
