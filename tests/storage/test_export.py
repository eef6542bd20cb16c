"""Every table we write escapes formula-looking text (OWASP CSV injection) and keeps numbers numeric."""

import csv

import openpyxl
import pandas as pd
import pytest

from territory_desktop.storage.export import safe_cell, write_table

HOSTILE = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "plain", "a=b"]


def test_safe_cell_quotes_only_formula_starts():
    assert [safe_cell(v) for v in HOSTILE] == [
        "'=HYPERLINK(\"http://x\")", "'+1+1", "'-2+3", "'@SUM(A1)", "'\tTAB", "'\rCR", "plain", "a=b"]
    assert safe_cell(-5.0) == -5.0 and safe_cell(None) is None


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_written_files_hold_no_formula(tmp_path, suffix):
    frame = pd.DataFrame({"name": HOSTILE, "amount": [-1.5] * len(HOSTILE), "=col": range(len(HOSTILE))})
    path = write_table(frame, tmp_path / f"out{suffix}")
    if suffix == ".csv":
        with open(path, newline="") as fh:
            rows = list(csv.reader(fh))
        header, cells = rows[0], [r[0] for r in rows[1:]]
        amounts = [float(r[1]) for r in rows[1:]]
    else:
        ws = openpyxl.load_workbook(path).active
        rows = list(ws.iter_rows(values_only=True))
        header, cells = list(rows[0]), [r[0] for r in rows[1:]]
        amounts = [r[1] for r in rows[1:]]
        assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert header[2] == "'=col"
    assert not any(str(c).startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    assert amounts == [-1.5] * len(HOSTILE)


def test_unknown_suffix_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"csv or .xlsx"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "x.txt")
