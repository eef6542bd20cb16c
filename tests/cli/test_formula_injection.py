"""Formula injection (OWASP CSV injection): every CSV/XLSX the CLI writes escapes a text cell that starts with
= + - @ tab or CR by a leading single quote, and changes nothing else. The files are read back with the
standard csv module and openpyxl, not with the code that wrote them."""

from __future__ import annotations

import csv

import openpyxl
import pytest
from hostile_data import HOSTILE, HYPERLINK

from territory_desktop.cli import main


def read_csv(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def escaped(text: str) -> str:
    """What a safe writer must store for ``text`` (independent of storage.export)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def test_route_out_escapes_planted_account_names(saved_project, tmp_path, capsys):
    out = tmp_path / "stops.csv"
    code = main(["route", "--project", str(saved_project), "--rep", "r1", "--start", "2027-03-01", "--weeks", "1",
                 "--time-limit", "3", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    rows = read_csv(out)
    header, body = rows[0], rows[1:]
    names = [r[header.index("name")] for r in body]
    assert sorted(set(names)) == sorted(escaped(h) for h in HOSTILE)  # every weekly account, each escaped
    assert all(n.startswith("'") for n in names)
    assert {r[header.index("account_id")] for r in body} == {f"a{k}" for k in range(len(HOSTILE))}  # unchanged
    assert header[:4] == ["rep_id", "date", "seq", "account_id"]


def test_route_out_xlsx_stores_text_not_formulas(saved_project, tmp_path, capsys):
    out = tmp_path / "stops.xlsx"
    assert main(["route", "--project", str(saved_project), "--rep", "r1", "--start", "2027-03-01", "--weeks", "1",
                 "--time-limit", "2", "--out", str(out)]) == 0, capsys.readouterr().err
    ws = openpyxl.load_workbook(out).active
    header = [c.value for c in ws[1]]
    cells = [row[header.index("name")] for row in ws.iter_rows(min_row=2)]
    # XML reads a raw CR back as LF (end-of-line normalisation); the leading quote is what matters
    assert {c.value for c in cells} == {escaped(h).replace("\r", "\n") for h in HOSTILE}
    assert all(c.data_type == "s" for c in cells)  # text, never "f" (formula)


def test_balance_project_out_escapes_hostile_ids_only(saved_project, tmp_path, capsys):
    out = tmp_path / "plan.csv"
    code = main(["balance", "--project", str(saved_project), "--weight", "work", "--tolerance", "0.25",
                 "--time-limit", "5", "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    rows = read_csv(out)
    assert rows[0] == ["unit_id", "territory"]  # the fixed format scripts read
    ids = [r[0] for r in rows[1:]]
    assert sorted(ids) == sorted(["'-u0", "'@u1", "'=u2"] + [f"u{k}" for k in range(3, 9)])
    assert {r[1] for r in rows[1:]} == {"W", escaped(HYPERLINK)}  # the plain territory id is untouched


def test_balance_layer_out_escapes_planted_territory_names(tmp_path, capsys):
    from hostile_data import hostile_project

    units = hostile_project().units
    units["terr"] = [HOSTILE[k % 3] for k in range(len(units))]  # the current plan, with hostile names
    src = tmp_path / "units.gpkg"
    units.to_file(src, driver="GPKG")
    out = tmp_path / "plan.csv"
    code = main(["balance", str(src), "--id", "unit_id", "--weight", "work", "--current", "terr", "--max-moved",
                 "0.5", "--tolerance", "0.25", "--time-limit", "5", "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    rows = read_csv(out)
    assert rows[0] == ["unit_id", "territory"]
    assert {r[1] for r in rows[1:]} == {escaped(h) for h in HOSTILE[:3]}
    assert {r[0] for r in rows[1:]} >= {"'-u0", "'@u1", "'=u2", "u3", "u8"}


@pytest.mark.parametrize("name", HOSTILE)
def test_escaped_cell_reads_back_as_the_literal_text(tmp_path, name):
    """The quote is the only change: a spreadsheet shows the name, a script strips one quote to get it back."""
    import pandas as pd

    from territory_desktop.storage.export import write_table

    out = write_table(pd.DataFrame({"name": [name, "plain", -3.5]}), tmp_path / "t.csv")
    cells = [r[0] for r in read_csv(out)[1:]]
    assert cells == ["'" + name, "plain", "-3.5"]  # a negative number is a number, not escaped


def test_every_table_writer_goes_through_storage_export():
    """No module writes CSV/XLSX by itself (pandas to_csv/to_excel, csv.writer, openpyxl): only storage.export,
    so no writer can forget the escaping."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "territory_desktop"
    pattern = re.compile(r"\.to_csv\(|\.to_excel\(|csv\.writer\(|csv\.DictWriter\(|openpyxl\.Workbook\(|"
                         r"from openpyxl import Workbook")
    offenders = [f"{path.relative_to(root)}:{n}" for path in root.rglob("*.py") if path.name != "export.py"
                 for n, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert offenders == []
