"""Import dialogs: pick the id/name columns of a units file, and show every bad row of a failed import."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..models import InvalidInputError
from .dialogs import add_ok_cancel
from .plaintext import esc, markup_label, window_title

ID_HINTS = ("geoid", "unit_id", "id", "fips", "zip", "zcta", "code")
NAME_HINTS = ("name", "namelsad", "label", "description")


class ImportErrorsDialog(QDialog):
    """Every problem of a failed import in a sortable table (row, column, reason), with Copy."""

    def __init__(self, error: InvalidInputError, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import failed")
        self.resize(720, 420)
        count = len(error.problems)
        summary = markup_label(f"<b>{esc(error.source)}</b>: {count} problem{'s' if count != 1 else ''} found. "
                               "Nothing was imported; fix the file and import it again.")
        summary.setWordWrap(True)
        self.table = QTableWidget(count, 3)
        self.table.setHorizontalHeaderLabels(["Row", "Column", "Problem"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        for i, problem in enumerate(error.problems):
            row = QTableWidgetItem()
            if problem.row is not None:
                row.setData(Qt.ItemDataRole.DisplayRole, problem.row)  # numeric sort
            self.table.setItem(i, 0, row)
            self.table.setItem(i, 1, QTableWidgetItem(problem.column or ""))
            self.table.setItem(i, 2, QTableWidgetItem(problem.reason))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setSortingEnabled(True)
        self.table.sortItems(0, Qt.SortOrder.AscendingOrder)
        copy = QPushButton("Copy to clipboard")
        copy.setToolTip("Copy the problems as tab-separated text, e.g. to paste into a spreadsheet")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.as_text()))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(self.table)
        layout.addWidget(buttons)

    def as_text(self) -> str:
        lines = ["row\tcolumn\tproblem"]
        for i in range(self.table.rowCount()):
            lines.append("\t".join(self.table.item(i, c).text() for c in range(3)))
        return "\n".join(lines)


class UnitColumnsDialog(QDialog):
    """Choose which column of a units file holds the unique id and which the display name."""

    def __init__(self, file_name: str, columns: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(window_title(f"Import units from {file_name}"))
        self.id_column = QComboBox()
        self.name_column = QComboBox()
        self.id_column.addItems(columns)
        self.name_column.addItem("(same as id)", None)
        for c in columns:
            self.name_column.addItem(c, c)
        self.id_column.setCurrentIndex(_best(columns, ID_HINTS))
        named = _best(columns, NAME_HINTS, default=-1)
        self.name_column.setCurrentIndex(named + 1 if named >= 0 else 0)
        self.id_column.setToolTip("A column whose values are unique for every unit (FIPS code, ZIP, ...)")
        self.name_column.setToolTip("Shown in tables, labels and reports")
        form = QFormLayout(self)
        form.addRow("Unit id column", self.id_column)
        form.addRow("Name column", self.name_column)
        add_ok_cancel(self, form)

    def values(self) -> tuple[str, str | None]:
        return self.id_column.currentText(), self.name_column.currentData()


def _best(columns: list[str], hints: tuple[str, ...], default: int = 0) -> int:
    lowered = [c.lower() for c in columns]
    for hint in hints:
        if hint in lowered:
            return lowered.index(hint)
    return default
