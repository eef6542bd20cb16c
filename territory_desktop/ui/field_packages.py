"""File > Export Field Packages... and File > Import Field Report...: the GUI of services.packages and
services.field_reports. The export runs in a worker with progress and Cancel; the import merges into the
open project (saved with the project), and conflicts are shown as a table with both values."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ..models import TerritoryError
from ..services.field_reports import prepare_merge, record_merge
from ..services.packages import PackageOptions, export_all_packages
from ..storage.project_file import package_key
from . import plaintext as msg
from .workers import run_job_with_dialog


def install_field_packages(window) -> None:
    """Add the two actions to the File menu."""
    export = QAction("Export &Field Packages...", window)
    export.setStatusTip("One offline package per rep (field app, calendar, routes, GeoPackage, PDF map)")
    export.triggered.connect(lambda _checked=False: export_packages(window))
    window.add_action("file", "export_field_packages", export)
    imp = QAction("Import Field &Report...", window)
    imp.setStatusTip("Merge the visits and corrections a rep logged in the field app")
    imp.triggered.connect(lambda _checked=False: import_field_report(window))
    window.add_action("file", "import_field_report", imp, separator=False)


def _saved_path(window, title: str) -> str | None:
    project = window.project
    if project is None:
        return None
    if not project.path:
        msg.warning(window, title, "Save the project first: packages are signed with a key kept in its file")
        return None
    return project.path


def export_packages(window, folder: str | None = None):
    """Ask for a folder and write one zip per rep into it (in a worker: progress and Cancel)."""
    path = _saved_path(window, "Export field packages")
    if path is None:
        return None
    if folder is None:
        folder = QFileDialog.getExistingDirectory(window, "Folder for the field packages", str(Path(path).parent))
        if not folder:
            return None
    try:
        opts = PackageOptions(key=package_key(path), zip=True, start=None, pdf=pdf_writer())
    except TerritoryError as exc:
        msg.warning(window, "Export field packages", str(exc))
        return None
    project = window.project

    def job(progress, stop):
        return export_all_packages(project, folder, opts, progress=progress, stop=stop)

    def done(written) -> None:
        window.statusBar().showMessage(f"{len(written)} field packages written to {folder}", 8000)

    return run_job_with_dialog(window, "Export field packages", "Writing one package per rep...", job, done,
                               on_failed=lambda exc: msg.warning(window, "Export field packages", str(exc)),
                               state=getattr(window, "state", None))


def pdf_writer():
    """The print engine's wall map of a rep's territory (``territory.pdf``); the CLI uses it too."""
    from ..services.printing import page_spec
    from .print import PrintOptions, export_map

    def write(rep_project, path: Path, routes: list) -> None:
        export_map(rep_project, path, PrintOptions(page=page_spec("letter", landscape=True), title=rep_project.name,
                                                   subtitle="Field package map", accounts=True,
                                                   routes=routes or None, source="field package",
                                                   when=date.today(), dpi=150))

    return write


def import_field_report(window, report_path: str | None = None, resolve: str | None = None) -> dict | None:
    """Ask for a report, check it, show conflicts (both values) and merge it into the open project."""
    path = _saved_path(window, "Import field report")
    if path is None:
        return None
    if report_path is None:
        report_path, _ = QFileDialog.getOpenFileName(window, "Field report", str(Path(path).parent),
                                                     "Field report (*.json)")
        if not report_path:
            return None
    project = window.project
    try:
        key = package_key(path)
        report, result = prepare_merge(project, report_path, key)
        if result.conflicts:
            resolve = resolve or ConflictDialog(window, result.conflicts).choice()
            if resolve is None:
                return None
            report, result = prepare_merge(project, report_path, key, resolve)
    except TerritoryError as exc:
        msg.warning(window, "Import field report", str(exc))
        return None
    if record_merge(project, report, result):
        window.mark_modified()
    text = (f"Field report of rep {report.rep_id}: {len(result.visits)} visits added "
            f"({result.skipped_visits} already imported), {len(result.applied)} corrections applied, "
            f"{len(result.conflicts)} conflicts")
    window.statusBar().showMessage(text, 10000)
    return {"visits_added": len(result.visits), "corrections_applied": len(result.applied),
            "conflicts": len(result.conflicts)}


class ConflictDialog(QDialog):
    """The fields both the rep and the desk changed since the export: base, field and desk values side by
    side; the planner keeps the desk's values or takes the field's."""

    def __init__(self, parent, conflicts: list[dict]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Field report: conflicting changes")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{len(conflicts)} field(s) were changed both in the field and at the desk "
                                "since the package was exported. Choose which values to keep."))
        table = QTableWidget(len(conflicts), 5, self)
        table.setHorizontalHeaderLabels(["Account", "Field", "At export", "Field value", "Desk value"])
        for r, c in enumerate(conflicts):
            for k, value in enumerate((c["account_id"], c["field"], c["base"], c["field_value"], c["desk_value"])):
                table.setItem(r, k, QTableWidgetItem("" if value is None else str(value)))  # plain text
        table.resizeColumnsToContents()
        layout.addWidget(table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, parent=self)
        self._choice = None
        for label, value in (("Keep desk values", "desk"), ("Take field values", "field")):
            button = buttons.addButton(label, QDialogButtonBox.ButtonRole.AcceptRole)
            button.clicked.connect(lambda _c=False, v=value: self._choose(v))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.table = table
        self.resize(720, 320)

    def _choose(self, value: str) -> None:
        self._choice = value
        self.accept()

    def choice(self) -> str | None:
        return self._choice if self.exec() == QDialog.DialogCode.Accepted else None
