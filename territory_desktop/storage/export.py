"""Write tables for people and other programs: CSV and XLSX, safe against formula injection.

Every CSV or XLSX file the application writes goes through :func:`write_table` (or :func:`safe_cell` for
writers that build their own rows), so a planted account name such as ``=HYPERLINK(...)`` reaches a
spreadsheet as text, never as a formula. The escaping follows OWASP's CSV-injection guidance: a text cell
that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a single quote.
Numbers stay numbers (a negative amount is not text and is not escaped).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

#: characters that make a spreadsheet read a cell as a formula (OWASP CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """``value`` unchanged unless it is text a spreadsheet would run as a formula; then quoted with '."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) are escaped with :func:`safe_cell`."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            out[column] = values.map(safe_cell)
    out.columns = [safe_cell(str(c)) for c in out.columns]
    return out


def write_table(frame: pd.DataFrame, path: str | os.PathLike, sheet: str = "Sheet1") -> Path:
    """Write ``frame`` (no index) as CSV or XLSX, chosen by the suffix of ``path``; cells escaped.

    Raises ``ValueError`` for another suffix. The file is written whole or not at all (temp + rename).
    """
    return write_sheets({sheet: frame}, path)


def write_sheets(sheets: dict[str, pd.DataFrame], path: str | os.PathLike) -> Path:
    """Write several tables as the sheets of one XLSX (in order), or the first one as CSV; cells escaped.
    Raises ``ValueError`` for another suffix. Written whole or not at all (temp + rename)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValueError(f"{path.name}: choose a .csv or .xlsx file name")
    tmp = path.with_name(f".{path.name}.writing")
    try:
        if suffix == ".csv":
            # RFC 4180 line ends: a bare CR inside a cell is then quoted like any line break
            safe_frame(next(iter(sheets.values()))).to_csv(tmp, index=False, lineterminator="\r\n")
        else:
            _write_xlsx({name: safe_frame(frame) for name, frame in sheets.items()}, tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _write_xlsx(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for sheet, frame in sheets.items():
        ws = book.create_sheet(title=sheet[:31] or "Sheet1")
        ws.append([str(c) for c in frame.columns])
        for row in frame.itertuples(index=False, name=None):
            ws.append([_xlsx_value(v) for v in row])
    book.save(path)


def _xlsx_value(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str):
        # openpyxl treats a string starting with "=" as a formula; safe_cell already quoted those. Control
        # characters (ESC, ...) are not allowed in a worksheet: written as the escape text \x1b
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        return ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
    if isinstance(value, (int, float, bool)):
        return value
    return str(value)
