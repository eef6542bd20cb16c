"""Import dialogs: a failed import lists every problem in a table; the units dialog guesses columns; the
mode dialog previews the counts of each mode; an import is one undo step that keeps the history."""

from __future__ import annotations

import pandas as pd
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialogButtonBox, QInputDialog, QMessageBox

from territory_desktop.models import InvalidInputError, RowProblem
from territory_desktop.services.importing import read_accounts_file
from territory_desktop.ui.commands import AssignUnitsCommand
from territory_desktop.ui.import_dialogs import ImportErrorsDialog, ImportModeDialog, UnitColumnsDialog
from territory_desktop.ui.main_window import MainWindow


def test_every_problem_is_a_table_row_sortable_by_row_number(qtbot):
    error = InvalidInputError("a.csv", [RowProblem(12, "lat", "'x' is not a number"),
                                        RowProblem(3, "id", "duplicate id 'k' (first on row 2)"),
                                        RowProblem(None, None, "no coordinates")])
    dialog = ImportErrorsDialog(error)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 3
    rows = [dialog.table.item(i, 0).text() for i in range(3)]
    assert rows == ["", "3", "12"]  # opens sorted by row, numerically (not "12" < "3")
    text = dialog.as_text().splitlines()
    assert text[0] == "row\tcolumn\tproblem"
    assert "12\tlat\t'x' is not a number" in text


def test_units_dialog_guesses_id_and_name_columns(qtbot):
    dialog = UnitColumnsDialog("counties.shp", ["STATEFP", "COUNTYFP", "GEOID", "NAME", "ALAND"])
    qtbot.addWidget(dialog)
    assert dialog.values() == ("GEOID", "NAME")
    dialog = UnitColumnsDialog("x.geojson", ["a", "b"])
    qtbot.addWidget(dialog)
    assert dialog.values() == ("a", None)


# ------------------------------------------------------------------------ mode choice, preview, undo

# A000 is an account of grid8 (updated); N1 and N2 are new; the other 79 accounts are not in the file
CSV = "account_id,name,lat,lon,potential\nA000,Renamed,38.25,-99.75,5\nN1,New,38.75,-99.25,1\nN2,New 2,39.2,-98.2,2\n"


def preview(dialog) -> dict[str, str]:
    return {dialog.preview.item(i, 0).text(): dialog.preview.item(i, 1).text()
            for i in range(dialog.preview.rowCount())}


def test_mode_dialog_previews_the_counts_of_each_mode(qtbot, grid8, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(CSV)
    grid8.sales = grid8.sales.iloc[0:0]
    dialog = ImportModeDialog(grid8, "accounts", read_accounts_file(path), "a.csv")
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert dialog.mode() == "upsert"
    assert preview(dialog) == {"accounts added": "2", "accounts updated": "1", "accounts removed": "0"}
    dialog.set_mode("replace")
    assert preview(dialog) == {"accounts added": "2", "accounts updated": "1", "accounts removed": "79"}
    assert ok.isEnabled() and dialog.prepared.mode == "replace"
    dialog.set_mode("append")
    assert not ok.isEnabled() and dialog.prepared is None
    assert "1 ids exist in the project already" in dialog.explain.text() and "A000" in dialog.explain.text()
    assert len(grid8.accounts) == 80  # previews change nothing


@pytest.fixture
def window(qtbot, grid8, tmp_path):
    w = MainWindow(grid8, settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.undo_stack.setClean()
    w.close()
    w.deleteLater()


def test_a_gui_import_is_one_undo_step_and_keeps_the_history(window, tmp_path, monkeypatch):
    project = window.project
    window.undo_stack.push(AssignUnitsCommand(project, {"c0r0": "T3"}))  # an edit before the import
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("accounts", True))
    monkeypatch.setattr(ImportModeDialog, "exec", lambda self: 1)  # accept the default: upsert
    monkeypatch.setattr(QMessageBox, "exec", lambda self: 0)
    path = tmp_path / "a.csv"
    path.write_text(CSV)
    window.import_files([str(path)])
    assert window.undo_stack.count() == 2 and window.undo_stack.undoText() == "Import 3 accounts (upsert)"
    assert len(window.project.accounts) == 82 and window.isWindowModified()
    assert project.accounts.set_index("account_id").loc["A000", "name"] == "Renamed"
    window.undo_stack.undo()
    assert len(window.project.accounts) == 80
    assert window.project.accounts.set_index("account_id").loc["A000", "name"] == "Acct 0-0"
    window.undo_stack.undo()  # the edit before the import is still undoable
    assert project.plan.territory_of("c0r0") == "T1"
    window.undo_stack.redo()
    window.undo_stack.redo()
    assert len(window.project.accounts) == 82 and project.plan.territory_of("c0r0") == "T3"


def test_a_gui_units_import_takes_a_crs_and_undoes_in_one_step(window, tmp_path, monkeypatch, make_grid):
    path = tmp_path / "albers.shp"
    units = make_grid(2, 1, size=0.5, x0=-96.0, y0=38.0).to_crs("EPSG:5070")
    units.set_crs(None, allow_override=True).to_file(path, engine="pyogrio")  # no .prj: needs a CRS
    monkeypatch.setattr(UnitColumnsDialog, "exec", lambda self: self.crs.setText("EPSG:5070") or 1)
    monkeypatch.setattr(ImportModeDialog, "exec", lambda self: 1)
    monkeypatch.setattr(QMessageBox, "exec", lambda self: 0)
    before = len(window.project.units)
    window.import_files([str(path)])
    units = window.project.units.set_index("unit_id")
    assert len(units) == before + 2  # u0, u1 are new ids next to grid8's c*r* units
    assert abs(units.loc["u0"].geometry.centroid.x + 95.75) < 1e-6  # read as EPSG:5070, back in degrees
    window.undo_stack.undo()
    assert len(window.project.units) == before and window.undo_stack.count() == 1


def test_a_gui_sales_import_previews_modes_and_undoes(window, tmp_path, monkeypatch):
    project = window.project
    a = project.accounts["account_id"].tolist()
    project.sales = pd.DataFrame({"account_id": a[:3], "period": "2030-05", "product": "Core", "amount": 10.0})
    first = project.sales.iloc[0]
    n = len(project.sales)
    path = tmp_path / "s.csv"
    path.write_text("account_id,period,product,amount\n"
                    f"{first['account_id']},{first['period']},{first['product']},123.5\n"
                    f"{first['account_id']},2031-01,{first['product']},7\n")
    seen = {}

    def accept(dialog):
        seen["upsert"] = preview(dialog)
        dialog.set_mode("replace")
        seen["replace"] = preview(dialog)
        dialog.set_mode("upsert")
        return 1

    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("sales", True))
    monkeypatch.setattr(ImportModeDialog, "exec", accept)
    monkeypatch.setattr(QMessageBox, "exec", lambda self: 0)
    window.import_files([str(path)])
    assert seen["upsert"] == {"sales added": "1", "sales updated": "1", "sales removed": "0"}
    assert seen["replace"] == {"sales added": "1", "sales updated": "1", "sales removed": f"{n - 1:,}"}
    assert window.undo_stack.undoText() == "Import 2 sales (upsert)"
    assert len(project.sales) == n + 1 and project.sales["amount"].iloc[0] == 123.5
    window.undo_stack.undo()
    assert len(project.sales) == n and project.sales["amount"].iloc[0] == first["amount"]
