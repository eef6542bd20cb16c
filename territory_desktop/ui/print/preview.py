"""File > Map Book Preview: the map book rendered in the worker (:func:`..workers.run_job`) with a progress
dialog and Cancel, then shown page by page.

The preview renders exactly what File > Export Map writes for a PDF (``export_book`` into a temporary
PDF with the export's options), so the page counts of preview and export agree by construction; the
dialog shows that PDF with QPdfView. Nothing runs on the GUI thread but the display.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ...models import Project, TerritoryError
from .. import plaintext as msg
from ..workers import Worker, run_job_with_dialog
from .document import export_book
from .options import PrintOptions


class BookPreview:
    """One map book preview: ``start()`` renders in the worker; ``dialog`` shows the pages when done."""

    def __init__(self, window: QWidget | None, project: Project, options: PrintOptions) -> None:
        from .dialogs import VECTOR_DPI

        self.window = window
        self.project = project
        self.options = replace(options, dpi=VECTOR_DPI)
        self._dir = tempfile.TemporaryDirectory(prefix="td-book-")
        self.path = Path(self._dir.name) / "map-book.pdf"
        self.worker: Worker | None = None
        self.progress = None  # the progress dialog while rendering
        self.dialog: PreviewDialog | None = None
        self.error: str | None = None
        self.cancelled = False
        self._show = True

    def start(self, show: bool = True) -> Worker:
        self._show = show
        project, options, path = self.project, self.options, self.path
        self.worker, self.progress = run_job_with_dialog(
            self.window, "Map Book Preview", "Rendering the map book...",
            lambda progress, stop: export_book(project, path, options, progress, stop), self._rendered,
            on_failed=self._failed, on_cancelled=self._cancelled, state=getattr(self.window, "state", None),
            show=show)
        return self.worker

    def cancel(self) -> None:
        if self.worker is not None:  # as the dialog's Cancel does: the worker stops at its next page
            self.worker.cancel()
            self.progress.setLabelText("Cancelling...")

    def busy(self) -> bool:
        return self.worker is not None

    def _end(self) -> None:
        self.worker = None

    def _rendered(self, _files) -> None:
        self._end()
        self.dialog = PreviewDialog(self.window, self.path, self.project.name, self)
        if self._show:
            self.dialog.open()

    def _failed(self, exc: BaseException) -> None:
        self._end()
        self.error = str(exc) if isinstance(exc, TerritoryError) else f"unexpected error: {exc!r}"
        if self._show:
            msg.warning(self.window, "Map Book Preview", self.error)

    def _cancelled(self) -> None:
        self._end()
        self.cancelled = True


class PreviewDialog(QDialog):
    """The rendered map book, scrolled page by page, with its page count; Export and Print buttons."""

    def __init__(self, parent: QWidget | None, path: Path, name: str, owner: BookPreview) -> None:
        super().__init__(parent)
        self.owner = owner  # keeps the temporary PDF alive while the dialog shows it
        self.document = QPdfDocument(self)
        self.document.load(str(path))
        self.pages = self.document.pageCount()
        self.setWindowTitle(f"Map Book Preview: {name}")
        self.view = QPdfView(self)
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitInView)
        info = QLabel(f"{self.pages} pages, as File > Export Map writes them (PDF)")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = buttons.addButton("Export...", QDialogButtonBox.ButtonRole.ActionRole)
        self.print_button = buttons.addButton("Print...", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.clicked.connect(self._export)
        self.print_button.clicked.connect(self._print)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(self.view, 1)
        box.addWidget(info)
        box.addWidget(buttons)
        self.resize(900, 760)

    def _export(self) -> None:
        from .dialogs import export_map_dialog

        export_map_dialog(self.parent(), self.owner.project)

    def _print(self) -> None:
        from .dialogs import print_map_dialog

        print_map_dialog(self.parent(), self.owner.project, book=True)
