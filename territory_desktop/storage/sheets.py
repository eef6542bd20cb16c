"""Read CSV and XLSX files into all-text tables, reporting what cannot be read row by row.

The result is a :class:`RawTable` whose index is the row number a person sees in a spreadsheet (header =
row 1). Rows that cannot be used (wrong field count, error cells, formulas without a value) are listed in
``problems`` and left out of the frame, so that the other rows are still validated and every problem of
the file is reported at once.

- CSV: UTF-8 (with or without BOM), UTF-16/UTF-32 with a BOM, else Windows-1252 with a note; any line
  ending (LF, CRLF, bare CR); fields and rows of any size; a fast Arrow parser, and Python's ``csv`` for
  files Arrow cannot take (ragged rows, quoted newlines, blank lines), in linear time in both.
- XLSX: openpyxl's streaming parser (read-only), so memory follows the cells the file holds, not the
  extent its dimension tag claims; cached formula values are read, formulas without one and error cells
  (``#DIV/0!``) are reported, merged ranges too.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..models import RowProblem
from ..models.errors import import_error

TABLE_SUFFIXES = (".csv", ".txt", ".tsv")
SHEET_SUFFIXES = (".xlsx", ".xlsm")
#: a sheet's used range above this many cells is refused (a dense frame of it would not fit in memory)
MAX_CELLS = 50_000_000
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass
class RawTable:
    """A file's cells as text: ``frame`` (index = spreadsheet row numbers), notes and reading problems."""

    source: str
    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


def read_table(path: str | Path, sheet: str | None = None, encoding: str | None = None) -> RawTable:
    """Read a CSV or XLSX file as text. Raises InvalidInputError when the file as a whole is unusable."""
    path = Path(path)
    if not path.is_file():
        raise import_error(path.name, ["no such file" if not path.exists() else "not a file"])
    suffix = path.suffix.lower()
    if suffix in SHEET_SUFFIXES:
        return read_xlsx(path, sheet)
    if suffix == ".xls":
        raise import_error(path.name, ["old .xls workbooks are not supported: save it as .xlsx or .csv"])
    if suffix not in TABLE_SUFFIXES:
        raise import_error(path.name, [f"unsupported file type '{suffix}' (use .csv or .xlsx)"])
    return read_csv(path, encoding)


# ------------------------------------------------------------------------------------------------- CSV

def decode(raw: bytes, encoding: str | None, source: str) -> tuple[str, list[str], str]:
    """Bytes -> text: the given encoding, else a BOM's, else UTF-8, else Windows-1252 (with a note).

    Returns the text, notes and the encoding used."""
    if encoding is None:
        encoding = next((name for bom, name in _BOMS if raw.startswith(bom)), None)
    notes: list[str] = []
    if encoding is None:
        try:
            return raw.decode("utf-8"), notes, "utf-8"
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            notes.append(f"the file is not UTF-8 (first non-UTF-8 byte on line {line}); read it as "
                         "Windows-1252 (Excel's default). Pass --encoding to choose another")
            encoding = "cp1252"
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise import_error(source, [f"cannot decode the file as {encoding}: {exc}"]) from exc
    if encoding.lower().startswith(("utf-16", "utf-32")):
        notes.append(f"the file is {encoding.upper()} (byte-order mark); read as such")
    return text.removeprefix("\ufeff"), notes, encoding


def read_csv(path: Path, encoding: str | None = None) -> RawTable:
    raw = path.read_bytes()
    text, notes, used = decode(raw, encoding, path.name)
    if not text.strip():
        raise import_error(path.name, ["the file is empty"])
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    header = _header(text, sep, path.name)
    as_utf8 = used.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")
    utf8 = raw.removeprefix(codecs.BOM_UTF8) if as_utf8 else text.encode("utf-8")  # Arrow reads UTF-8
    frame = _arrow_csv(utf8, sep, len(header))
    problems: list[RowProblem] = []
    if frame is None:
        frame, problems = _python_csv(text, sep, len(header), path.name)
    frame, header_problems = _name_columns(frame, header)
    return RawTable(path.name, frame, notes, header_problems + problems)


def _header(text: str, sep: str, source: str) -> list[str]:
    csv.field_size_limit(sys.maxsize if sys.maxsize < 2**63 else 2**62)
    end = text.find("\n")
    if end >= 0 and '"' not in text[:end]:  # a plain first line is the header: no copy of the whole file
        text = text[:end + 1]
    try:
        return [h.strip() for h in next(csv.reader(io.StringIO(text, newline=None), delimiter=sep), [])]
    except csv.Error as exc:
        raise import_error(source, [RowProblem(1, None, f"cannot read the header: {exc}")]) from exc


#: bytes of CSV text Arrow's parser takes at a time (one thread a block)
CSV_BLOCK = 4 << 20


def _arrow_csv(data: bytes, sep: str, width: int) -> pd.DataFrame | None:
    """Arrow's multithreaded parser for well-formed UTF-8 files; None when it cannot take the file."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [f"f{i}" for i in range(width)]
    # blocks are parsed in parallel (the whole file as one block: 2-3x slower on two cores); blocks are
    # cut where a row ends, quotes considered (a quoted newline at a cut would otherwise split a record);
    # a row longer than a block is read with the whole file as one block
    parse = pacsv.ParseOptions(delimiter=sep, ignore_empty_lines=False, newlines_in_values=True)
    convert = pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
                                   quoted_strings_can_be_null=False)
    table = None
    for block in dict.fromkeys((CSV_BLOCK, max(CSV_BLOCK, min(len(data) + 1, 1 << 30)))):
        read = pacsv.ReadOptions(column_names=names, block_size=block)
        try:
            table = pacsv.read_csv(io.BytesIO(data), read_options=read, parse_options=parse,
                                   convert_options=convert)
            break
        except pa.ArrowInvalid as exc:
            if "straddl" not in str(exc):
                return None
        except (pa.ArrowNotImplementedError, pa.ArrowCapacityError, OverflowError):
            return None
    if table is None:
        return None
    import pyarrow.compute as pc

    filled = None  # rows with a non-blank cell; the header (row 1) is not data
    for column in table.columns:
        cell = pc.not_equal(pc.utf8_trim_whitespace(column), "")
        filled = cell if filled is None else pc.or_(filled, cell)
    keep = filled.to_numpy(zero_copy_only=False) if filled is not None else np.zeros(table.num_rows, dtype=bool)
    keep[:1] = False
    # pandas' Arrow-backed "str" columns (pandas 3); no filter (a copy of every column) when no row is blank
    frame = (table.slice(1) if keep[1:].all() else table.filter(pa.array(keep))).to_pandas()
    frame.index = np.flatnonzero(keep) + 1
    return frame


def _python_csv(text: str, sep: str, width: int, source: str) -> tuple[pd.DataFrame, list[RowProblem]]:
    """Python's csv reader, record by record: rows of the wrong width are reported and left out."""
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=sep)
    records, rows, problems = [], [], []
    try:
        next(reader, None)
        for number, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue  # a blank row is not a record
            if len(record) == width:
                records.append(record)
                rows.append(number)
            else:
                problems.append(RowProblem(number, None, f"has {len(record)} fields, the header has {width}"))
    except csv.Error as exc:
        raise import_error(source, [RowProblem(len(rows) + len(problems) + 2, None, f"cannot parse: {exc}")]) from exc
    frame = pd.DataFrame(records, columns=[f"f{i}" for i in range(width)], index=rows, dtype="str")
    return frame, problems


def _drop_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows whose every cell is blank are not records (trailing ',,,' rows of spreadsheets); for the
    small frames of worksheets (CSV readers skip blank rows as they parse)."""
    if frame.empty or not len(frame.columns):
        return frame
    filled = pd.Series(False, index=frame.index)
    for column in frame.columns:
        filled |= frame[column].fillna("").str.strip() != ""
    return frame if bool(filled.all()) else frame[filled.to_numpy()]


def _name_columns(frame: pd.DataFrame, header: list[str]) -> tuple[pd.DataFrame, list[RowProblem]]:
    """Give the columns their header names; refuse duplicate names and unnamed columns that hold values."""
    problems: list[RowProblem] = []
    keep: list[int] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if not name:
            if (frame.iloc[:, i].fillna("").str.strip() != "").any():
                problems.append(RowProblem(1, f"column {i + 1}", "the column has values but no header name"))
            continue
        if name in seen:
            problems.append(RowProblem(1, name, f"the header '{name}' appears twice (columns {seen[name] + 1} and "
                                                f"{i + 1}): header names must be unique"))
            continue
        seen[name] = i
        keep.append(i)
    out = frame.iloc[:, keep]
    out.columns = [header[i] for i in keep]
    return out, problems


# ------------------------------------------------------------------------------------------------ XLSX

def read_xlsx(path: Path, sheet: str | None = None) -> RawTable:
    """Stream a worksheet's cells (read-only); the header is the first non-empty row."""
    cells, merged, kinds = _sheet_cells(path, sheet)
    if not cells:
        raise import_error(path.name, ["the sheet is empty"])
    header_row = min(cells)
    header = {c: _cell_text(v) .strip() for c, v in cells.pop(header_row).items()}
    header = {c: h for c, h in header.items() if h}
    problems = _header_problems(header, header_row) + _cell_problems(cells, kinds, header)
    problems += [RowProblem(None, ref, "merged cells: unmerge them and fill every cell") for ref in merged]
    first: dict[str, int] = {}
    for c in sorted(header):
        first.setdefault(header[c], c)
    columns = sorted(first.values())  # a duplicate header is reported above and its column left out
    if len(cells) * max(len(columns), 1) > MAX_CELLS:
        raise import_error(path.name, [(f"the sheet holds {len(cells):,} rows x {len(columns):,} columns, over "
                                       f"the limit of {MAX_CELLS:,} cells")])
    bad_rows = {p.row for p in problems if p.row is not None}
    rows = [r for r in sorted(cells) if r not in bad_rows]
    data = {header[c]: [_cell_text(cells[r].get(c)) for r in rows] for c in columns}
    frame = pd.DataFrame(data, index=rows, columns=[header[c] for c in columns], dtype="str")
    return RawTable(path.name, _drop_blank_rows(frame), [], problems)


def _sheet_cells(path: Path, sheet: str | None) -> tuple[dict[int, dict[int, object]], list[str], dict]:
    """Non-empty cells by row and column, merged ranges, and the kind of odd cells (error/uncached)."""
    import openpyxl
    from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

    kinds: dict[tuple[int, int], str] = {}

    class Parser(WorkSheetParser):
        def parse_cell(self, element):
            cell = super().parse_cell(element)
            if cell["value"] is None and element.find(FORMULA_TAG) is not None:
                kinds[cell["row"], cell["column"]] = "uncached"
            elif cell["data_type"] == "e":
                kinds[cell["row"], cell["column"]] = "error"
            return cell

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile/KeyError/XML errors for damaged files
        raise import_error(path.name, [f"not a readable Excel workbook ({exc})"]) from exc
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise import_error(path.name, [f"no sheet '{sheet}' (sheets: {', '.join(wb.sheetnames)})"])
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        cells: dict[int, dict[int, object]] = {}
        with ws._get_source() as src:
            parser = Parser(src, ws._shared_strings, data_only=True, epoch=wb.epoch,
                            date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
            for row, values in parser.parse():
                filled = {c["column"]: c["value"] for c in values
                          if c["value"] not in (None, "") or (c["row"], c["column"]) in kinds}
                if filled:
                    cells[row] = filled
            merged = [str(m.ref) for m in (parser.merged_cells.mergeCell if parser.merged_cells else [])]
    except (OSError, KeyError, ValueError, TypeError, AttributeError, SyntaxError) as exc:
        raise import_error(path.name, [f"not a readable Excel worksheet ({exc})"]) from exc
    finally:
        wb.close()
    return cells, merged, kinds


def _header_problems(header: dict[int, str], row: int) -> list[RowProblem]:
    seen: dict[str, int] = {}
    problems = []
    for c in sorted(header):
        name = header[c]
        if name in seen:
            problems.append(RowProblem(row, name, f"the header '{name}' appears twice (columns "
                                                  f"{_letter(seen[name])} and {_letter(c)}): header names must be unique"))
        else:
            seen[name] = c
    return problems


def _cell_problems(cells: dict[int, dict[int, object]], kinds: dict, header: dict[int, str]) -> list[RowProblem]:
    problems = []
    for (r, c), kind in sorted(kinds.items()):
        if r in cells:
            where = header.get(c, _letter(c))
            reason = (f"the cell holds the error {cells[r][c]}" if kind == "error" else
                      "a formula without a calculated value (the program that saved the file did not compute "
                      "it: open and save it in Excel or LibreOffice)")
            problems.append(RowProblem(r, where, reason))
    for r in sorted(cells):
        stray = [c for c in cells[r] if c not in header]
        if stray:
            problems.append(RowProblem(r, _letter(stray[0]), "a value in a column without a header name"))
    return problems


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _letter(column: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(column)
