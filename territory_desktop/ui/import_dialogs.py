"""Import dialogs: pick the id/name columns of a units file, choose the import mode with a preview of
its counts, show every bad row of a failed import; and the import as one undo step.

The import itself is :mod:`services.importing` (read, prepare, apply), shared with the CLI.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QUndoCommand
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..models import InvalidInputError, Project, TerritoryError
from ..services import importing
from . import plaintext as msg
from .dialogs import add_ok_cancel
from .plaintext import esc, markup_label, window_title

MODE_TEXT = {
    "upsert": ("Update and add", ("Records whose id is in the project are updated with the file's columns; "
                                 "new ids are added; nothing is removed.")),
    "append": ("Add new only", "Only new ids are added; the import is refused if an id exists already."),
    "replace": ("Replace all", "The file becomes the whole table: records it does not hold are removed."),
}

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
        self.setMinimumWidth(420)
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
        self.crs = QLineEdit()
        self.crs.setPlaceholderText("from the file")
        self.crs.setToolTip("The CRS of the file's coordinates, e.g. EPSG:26915: for a file that declares none, "
                            "or whose .prj is wrong (the same as --crs on the command line)")
        form = QFormLayout(self)
        form.addRow("Unit id column", self.id_column)
        form.addRow("Name column", self.name_column)
        form.addRow("Coordinate system", self.crs)
        add_ok_cancel(self, form)

    def values(self) -> tuple[str, str | None]:
        return self.id_column.currentText(), self.name_column.currentData()

    def source_crs(self) -> str | None:
        """The CRS typed by the user (None: the file's own)."""
        return self.crs.text().strip() or None


def _best(columns: list[str], hints: tuple[str, ...], default: int = 0) -> int:
    lowered = [c.lower() for c in columns]
    for hint in hints:
        if hint in lowered:
            return lowered.index(hint)
    return default


class ImportModeDialog(QDialog):
    """Choose upsert, append or replace, with a preview of what each does (added, updated, removed and the
    rows that refer to removed records). ``prepared`` is the import of the chosen mode."""

    def __init__(self, project: Project, kind: importing.Kind, read, source: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Import {kind} from {source}")
        self.resize(580, 500)
        self.project, self.kind, self.read, self.source = project, kind, read, source
        self._prepared: dict[str, importing.PreparedImport | InvalidInputError] = {}
        self.prepared: importing.PreparedImport | None = None
        have = len(getattr(project, kind))
        noun = f"{kind} rows" if kind in importing.HISTORY_KINDS else kind
        intro = QLabel(f"{len(read.frame):,} {noun} in the file; the project has {have:,}."
                       + (" Rows are matched by account, month and product." if kind == "sales" else
                          " Rows are matched by account, rep and date." if kind == "visits" else ""))
        self.group = QButtonGroup(self)
        box = QGroupBox("Mode")
        modes = QVBoxLayout(box)
        for i, mode in enumerate(importing.MODES):
            title, tip = MODE_TEXT[mode]
            button = QRadioButton(f"{title} ({mode})")
            button.setToolTip(tip)
            self.group.addButton(button, i)
            modes.addWidget(button)
        self.explain = QLabel()
        self.explain.setWordWrap(True)
        self.explain.setTextFormat(Qt.TextFormat.PlainText)
        self.preview = QTableWidget(0, 2)
        self.preview.setHorizontalHeaderLabels(["Preview", "Rows"])
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.verticalHeader().setVisible(False)
        self.preview.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.preview.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (intro, box, self.explain, self.preview, self.buttons):
            layout.addWidget(widget)
        self.group.idToggled.connect(lambda i, on: on and self.set_mode(importing.MODES[i]))
        self.group.button(0).setChecked(True)

    def mode(self) -> str:
        return importing.MODES[self.group.checkedId()]

    def set_mode(self, mode: str) -> None:
        """Show the counts of ``mode`` (prepared once per mode; nothing in the project changes)."""
        self.group.button(importing.MODES.index(mode)).setChecked(True)
        if mode not in self._prepared:
            try:
                self._prepared[mode] = importing.prepare_import(self.project, self.kind, self.read, self.source, mode)
            except InvalidInputError as exc:
                self._prepared[mode] = exc
        result = self._prepared[mode]
        ok = not isinstance(result, InvalidInputError)
        self.prepared = result if ok else None
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)
        text = MODE_TEXT[mode][1]
        if not ok:
            text += f"\n\nRefused: {result.problems[0].reason}"
        elif result.counts.removed and self.kind in importing.HISTORY_KINDS:
            text += f"\n\nThis removes {result.counts.removed:,} {self.kind} rows; Edit > Undo puts them back."
        elif result.counts.removed:
            text += (f"\n\nThis removes {result.counts.removed:,} {self.kind}. History rows that refer to them are "
                     "kept; Edit > Undo puts everything back.")
        self.explain.setText(text)
        self._fill(self._rows(result) if ok else [])

    def _rows(self, prepared: importing.PreparedImport) -> list[tuple[str, int]]:
        counts = prepared.counts
        rows = [(f"{self.kind} added", counts.added), (f"{self.kind} updated", counts.updated),
                (f"{self.kind} removed", counts.removed)]
        rows += [(what, n) for what, n in counts.references.items() if n]
        if prepared.outside:
            rows.append(("accounts outside every unit (kept, no territory)", len(prepared.outside)))
        return rows

    def _fill(self, rows: list[tuple[str, int]]) -> None:
        self.preview.setRowCount(len(rows))
        for i, (what, n) in enumerate(rows):
            self.preview.setItem(i, 0, QTableWidgetItem(what))
            count = QTableWidgetItem(f"{n:,}")
            count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.preview.setItem(i, 1, count)


class ImportCommand(QUndoCommand):
    """An applied import as one undo step: undo puts back the previous units, accounts, reps and plans."""

    def __init__(self, project: Project, prepared: importing.PreparedImport, after=None) -> None:
        super().__init__(f"Import {prepared.rows:,} {prepared.kind} ({prepared.mode})")
        self.project, self.prepared, self.after = project, prepared, after
        self.before: importing.ProjectState | None = None
        self.done: importing.ProjectState | None = None
        self.report: importing.ImportReport | None = None

    def redo(self) -> None:
        if self.done is None:
            self.before = importing.capture_state(self.project)
            self.report = importing.apply_import(self.project, self.prepared)
            self.done = importing.capture_state(self.project)
        else:
            importing.restore_state(self.project, self.done)
        if self.after:
            self.after()

    def undo(self) -> None:
        importing.restore_state(self.project, self.before)
        if self.after:
            self.after()


def read_data_file(parent: QWidget, path: str) -> tuple[importing.Kind, object] | None:
    """Ask what a file holds (tables) or which columns identify units (vector files), then read and
    validate it. None when the user cancels; InvalidInputError when the file is bad."""
    name = Path(path).name
    if importing.is_table_file(path):
        kinds = ["accounts", "reps", *importing.HISTORY_KINDS]
        kind, ok = msg.get_item(parent, "Import table", f"{name} holds:", kinds, 0)
        if not ok:
            return None
        if kind in importing.HISTORY_KINDS:
            from ..services.history_import import read_history_file

            return kind, read_history_file(kind, path, project=getattr(parent, "project", None))
        reader = importing.read_accounts_file if kind == "accounts" else importing.read_reps_file
        return kind, reader(path)
    dialog = UnitColumnsDialog(name, importing.vector_columns(path), parent)
    if not dialog.exec():
        return None
    id_column, name_column = dialog.values()
    return "units", importing.read_units_file(path, id_column, name_column, source_crs=dialog.source_crs())


def import_data_file(window, path: str) -> importing.ImportReport | None:
    """The GUI's import of one data file into ``window.project``: read, choose the mode with a preview,
    apply as one undo step (the undo history is kept). Errors are shown in dialogs."""
    try:
        found = read_data_file(window, path)
        if found is None:
            return None
        kind, read = found
        dialog = ImportModeDialog(window.project, kind, read, Path(path).name, window)
        if not dialog.exec() or dialog.prepared is None:
            return None
    except InvalidInputError as exc:
        ImportErrorsDialog(exc, window).exec()
        return None
    except TerritoryError as exc:
        msg.critical(window, "Import failed", str(exc))
        return None
    command = ImportCommand(window.project, dialog.prepared,
                            after=window.refresh_project)
    window.undo_stack.push(command)
    window.setWindowModified(not window.undo_stack.isClean())
    box = QMessageBox(QMessageBox.Icon.Information, "Import", "\n".join(command.report.lines()),
                      QMessageBox.StandardButton.Ok, window)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.exec()
    return command.report
