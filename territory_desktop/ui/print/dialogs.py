"""GUI entry points for printing, for the main window's File menu (the menu entries live in main_window.py):

- :func:`open_print_preview` (File > Print Preview...): QPrintPreviewDialog of the wall map or map book;
- :func:`print_map_dialog` (File > Print...): the system print dialog, then straight to the printer;
- :func:`export_map_dialog` (File > Export Map...): PDF/SVG/PNG export with page, title and options, which
  remembers every choice in QSettings (group ``print``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QPageLayout, QPainter
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ...models import Project, StopFlag, TerritoryError
from ...models.progress import no_progress
from ...services.printing import PAGE_SIZES_MM, page_spec, safe_file_name
from .. import plaintext as msg
from ..workers import Worker, run_job, run_job_with_dialog
from .document import export_book, export_map, paint_book_document, paint_map_document
from .options import PrintOptions
from .output import DeviceSink, page_layout

#: resolution of PDF/SVG exports (and of the map book preview, which shows the exported PDF's pages)
VECTOR_DPI = 300
PAGE_NAMES = [("Letter", "letter"), ("Legal", "legal"), ("Tabloid", "tabloid"), ("A4", "a4"), ("A3", "a3"),
              ("Custom", "custom")]


def _settings(window) -> QSettings:
    s = getattr(window, "settings", None)
    return s if isinstance(s, QSettings) else QSettings("TerritoryDesktop", "Territory Desktop")


def options_from_settings(settings: QSettings) -> tuple[PrintOptions, bool]:
    """The remembered print options (and whether a map book was chosen last time)."""
    settings.beginGroup("print")
    try:
        page = str(settings.value("page", "letter"))
        landscape = settings.value("landscape", True, type=bool)
        if page == "custom":
            w = float(settings.value("custom_w", 600.0))
            h = float(settings.value("custom_h", 900.0))
            spec = page_spec(f"{w}x{h}mm", landscape)
        else:
            spec = page_spec(page if page in PAGE_SIZES_MM else "letter", landscape)
        opts = PrintOptions(page=spec, title=str(settings.value("title", "")),
                            subtitle=str(settings.value("subtitle", "")),
                            units=str(settings.value("units", "mi")),
                            accounts=settings.value("accounts", False, type=bool),
                            reps=settings.value("reps", True, type=bool),
                            overview=settings.value("overview", True, type=bool),
                            dpi=int(settings.value("dpi", 200)),
                            max_accounts=int(settings.value("max_accounts", 0)))
        return opts, settings.value("atlas", False, type=bool)
    finally:
        settings.endGroup()


class ExportDialog(QDialog):
    """File, page, title and content choices for an exported map; remembered in QSettings."""

    def __init__(self, parent: QWidget | None, project: Project, settings: QSettings) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export Map")
        self.project = project
        self.settings = settings
        opts, atlas = options_from_settings(settings)
        settings.beginGroup("print")
        last_path = str(settings.value("path", "") or "")
        page_key = str(settings.value("page", "letter"))
        settings.endGroup()
        if not last_path or not Path(last_path).parent.is_dir():
            last_path = str(suggested_path(project))
        self.worker: Worker | None = None
        form = QFormLayout(self)
        self.path = QLineEdit(last_path)
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form.addRow("File (.pdf, .svg, .png):", row)
        self.page = QComboBox()
        for label, key in PAGE_NAMES:
            self.page.addItem(label, key)
        self.page.setCurrentIndex(max(0, self.page.findData(page_key)))
        self.custom_w = QDoubleSpinBox(minimum=50, maximum=2000, decimals=1, suffix=" mm")
        self.custom_h = QDoubleSpinBox(minimum=50, maximum=2000, decimals=1, suffix=" mm")
        self.custom_w.setValue(min(opts.page.width_mm, opts.page.height_mm))
        self.custom_h.setValue(max(opts.page.width_mm, opts.page.height_mm))
        size_row = QHBoxLayout()
        size_row.addWidget(self.page, 1)
        size_row.addWidget(self.custom_w)
        size_row.addWidget(self.custom_h)
        form.addRow("Page:", size_row)
        self.page.currentIndexChanged.connect(self._page_changed)
        self.landscape = QComboBox()
        self.landscape.addItems(["Portrait", "Landscape"])
        self.landscape.setCurrentIndex(1 if opts.page.landscape else 0)
        form.addRow("Orientation:", self.landscape)
        self.title = QLineEdit(opts.title)
        self.title.setPlaceholderText(project.name)
        form.addRow("Title:", self.title)
        self.subtitle = QLineEdit(opts.subtitle)
        form.addRow("Subtitle:", self.subtitle)
        self._content_rows(form, opts, atlas)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        form.addRow(self.progress)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        form.addRow(buttons)
        self._page_changed()
        self.files: list[Path] = []

    def _content_rows(self, form: QFormLayout, opts: PrintOptions, atlas: bool) -> None:
        """Scale bar units, map book and layer choices, accounts per page and PNG resolution."""
        self.units = QComboBox()
        self.units.addItem("Miles", "mi")
        self.units.addItem("Kilometres", "km")
        self.units.setCurrentIndex(max(0, self.units.findData(opts.units)))
        form.addRow("Scale bar:", self.units)
        self.atlas = QCheckBox("Map book: cover, then one page per territory with its accounts")
        self.atlas.setChecked(atlas)
        self.accounts = QCheckBox("Account points on the overview map")
        self.accounts.setChecked(opts.accounts)
        self.reps = QCheckBox("Rep homes")
        self.reps.setChecked(opts.reps)
        self.overview = QCheckBox("Overview inset when zoomed")
        self.overview.setChecked(opts.overview)
        for box in (self.atlas, self.accounts, self.reps, self.overview):
            form.addRow("", box)
        self.max_accounts = QSpinBox(minimum=0, maximum=100000)
        self.max_accounts.setSpecialValueText("all")
        self.max_accounts.setValue(opts.max_accounts)
        form.addRow("Accounts per territory:", self.max_accounts)
        self.dpi = QSpinBox(minimum=50, maximum=1200, suffix=" dpi")
        self.dpi.setValue(opts.dpi)
        form.addRow("PNG resolution:", self.dpi)

    def _page_changed(self) -> None:
        custom = self.page.currentData() == "custom"
        self.custom_w.setVisible(custom)
        self.custom_h.setVisible(custom)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export map", self.path.text(),
                                              "PDF (*.pdf);;SVG (*.svg);;PNG image (*.png)")
        if path:
            self.path.setText(path)

    def options(self) -> PrintOptions:
        landscape = self.landscape.currentIndex() == 1
        key = self.page.currentData()
        spec = page_spec(f"{self.custom_w.value()}x{self.custom_h.value()}mm" if key == "custom" else key, landscape)
        out = self.path.text().strip().lower()
        dpi = self.dpi.value() if out.endswith(".png") else VECTOR_DPI
        return PrintOptions(page=spec, title=self.title.text().strip(), subtitle=self.subtitle.text().strip(),
                            units=self.units.currentData(), accounts=self.accounts.isChecked(),
                            reps=self.reps.isChecked(), overview=self.overview.isChecked(), dpi=dpi,
                            max_accounts=self.max_accounts.value())

    def remember(self) -> None:
        s = self.settings
        s.beginGroup("print")
        s.setValue("path", self.path.text().strip())
        s.setValue("page", self.page.currentData())
        s.setValue("custom_w", self.custom_w.value())
        s.setValue("custom_h", self.custom_h.value())
        s.setValue("landscape", self.landscape.currentIndex() == 1)
        for key, widget in (("title", self.title), ("subtitle", self.subtitle)):
            s.setValue(key, widget.text())
        s.setValue("units", self.units.currentData())
        for key, box in (("atlas", self.atlas), ("accounts", self.accounts), ("reps", self.reps),
                         ("overview", self.overview)):
            s.setValue(key, box.isChecked())
        s.setValue("max_accounts", self.max_accounts.value())
        s.setValue("dpi", self.dpi.value())
        s.endGroup()
        s.sync()

    def _job(self):
        """The export as a worker job ``(progress, stop) -> files``; the choices are read (and remembered)
        now, in the GUI thread."""
        path = self.path.text().strip()
        options = self.options()
        self.remember()
        if self.atlas.isChecked():
            return lambda progress, stop: export_book(self.project, path, options, progress, stop)
        return lambda progress, stop: export_map(self.project, path, options)

    def export(self) -> list[Path]:
        """Write the file(s) chosen now, in this thread; raises TerritoryError for bad input."""
        self.files = self._job()(no_progress, StopFlag())
        return self.files

    def start_export(self) -> Worker:
        """Write the file(s) in the worker with the progress bar; Cancel stops a map book at its next page.
        The dialog closes (accepted) when the files are written and stays open on an error."""
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.save_button.setEnabled(False)
        self.worker = run_job(self._job(), self._written, on_failed=self._export_failed,
                              on_cancelled=lambda: self._export_failed(None),
                              on_progress=lambda f, m: (self.progress.setValue(int(1000 * f)),
                                                        self.progress.setFormat(f"{m}  %p%")),
                              state=getattr(self.parent(), "state", None), label="Exporting the map")
        return self.worker

    def _job_ended(self) -> None:
        self.worker = None
        self.progress.setVisible(False)
        self.save_button.setEnabled(True)

    def _written(self, files: list[Path]) -> None:
        self._job_ended()
        self.files = files
        super().accept()

    def _export_failed(self, exc: BaseException | None) -> None:
        self._job_ended()
        if exc is not None:
            message = str(exc) if isinstance(exc, TerritoryError) else f"unexpected error: {exc!r}"
            msg.warning(self, "Export Map", message)

    def accept(self) -> None:
        if self.worker is None:
            self.start_export()

    def reject(self) -> None:
        if self.worker is not None:  # Cancel while writing stops the job; the dialog stays for another try
            self.worker.cancel()
            return
        super().reject()


def suggested_path(project: Project, suffix: str = ".pdf") -> Path:
    """Where an export goes by default: the project's folder (home for an unsaved project) and a file
    name made safe from the project's name (no colon or slash)."""
    folder = Path(project.path).resolve().parent if getattr(project, "path", None) else Path.home()
    return folder / safe_file_name(project.name, suffix)


def export_map_dialog(window, project: Project, settings: QSettings | None = None) -> list[Path]:
    """Show the export dialog; returns the files written ([] when cancelled)."""
    dialog = ExportDialog(window, project, settings or _settings(window))
    return dialog.files if dialog.exec() == QDialog.DialogCode.Accepted else []


def configure_printer(printer: QPrinter, options: PrintOptions) -> None:
    """Page size and orientation from ``options``; the page layout draws its own margins."""
    printer.setFullPage(True)
    printer.setPageLayout(page_layout(options.page))


def paint_on_printer(printer: QPrinter, project: Project, options: PrintOptions, book: bool = False,
                     progress=no_progress, stop: StopFlag | None = None) -> None:
    """Paint the wall map (or the map book) on ``printer`` page by page (any thread)."""
    painter = QPainter()
    if not painter.begin(printer):
        raise TerritoryError("the printer could not be opened")
    try:
        sink = DeviceSink(printer, painter)
        if book:
            paint_book_document(sink, project, options, progress, stop)
        else:
            paint_map_document(sink, project, options)
    finally:
        painter.end()


def open_print_preview(window, project: Project, book: bool = False, settings: QSettings | None = None,
                       show: bool = True):
    """File > Print Preview: the wall map in a QPrintPreviewDialog (its Print button prints to the chosen
    printer). With ``book``: File > Map Book Preview, rendered in the worker with progress and Cancel
    (:class:`~.preview.BookPreview`, the same pages the export writes). Page size and orientation start
    from the remembered export choices."""
    options, _ = options_from_settings(settings or _settings(window))
    if book:
        from .preview import BookPreview

        preview = BookPreview(window, project, options)
        preview.start(show=show)
        return preview
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    configure_printer(printer, options)
    dialog = QPrintPreviewDialog(printer, window)
    dialog.setWindowTitle("Print Preview: map book" if book else "Print Preview")

    def paint(p: QPrinter) -> None:
        current = p.pageLayout()  # the user may switch orientation in the preview
        opts = PrintOptions(**{**options.__dict__,
                               "page": page_spec(options.page.name if options.page.name != "custom" else
                                                 f"{options.page.width_mm}x{options.page.height_mm}mm",
                                                 current.orientation() == QPageLayout.Orientation.Landscape)})
        paint_on_printer(p, project, opts, book)

    dialog.paintRequested.connect(paint)
    if show:
        dialog.exec()
    return dialog


def print_map_dialog(window, project: Project, book: bool = False, settings: QSettings | None = None) -> Worker | None:
    """File > Print: the system print dialog, then the wall map (or map book) to the chosen printer, painted
    in the worker with a progress dialog and Cancel. Returns the worker (None when the dialog was cancelled)."""
    options, _ = options_from_settings(settings or _settings(window))
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    configure_printer(printer, options)
    if QPrintDialog(printer, window).exec() != QDialog.DialogCode.Accepted:
        return None
    return start_printing(window, printer, project, options, book)[0]


def start_printing(window, printer: QPrinter, project: Project, options: PrintOptions, book: bool = False):
    """Paint on ``printer`` in the worker (:func:`..workers.run_job_with_dialog`); an error is shown in a
    message box. Returns (worker, progress dialog)."""

    def failed(exc: BaseException) -> None:
        msg.warning(window, "Print", str(exc) if isinstance(exc, TerritoryError) else f"unexpected error: {exc!r}")

    return run_job_with_dialog(
        window, "Print", "Printing the map book..." if book else "Printing the map...",
        lambda progress, stop: paint_on_printer(printer, project, options, book, progress, stop),
        lambda _r: None, on_failed=failed, state=getattr(window, "state", None))
