"""Import dialogs: a failed import lists every problem in a table; the units dialog guesses columns."""

from __future__ import annotations

from territory_desktop.models import InvalidInputError, RowProblem
from territory_desktop.ui.import_dialogs import ImportErrorsDialog, UnitColumnsDialog


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
