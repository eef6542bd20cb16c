"""GUI entry points for printing, for the main window's File menu (the menu entries live in main_window.py):

- :func:`open_print_preview` (File > Print Preview...): QPrintPreviewDialog of the wall map or map book;
- :func:`print_map_dialog` (File > Print...): the system print dialog, then straight to the printer;
- :func:`export_map_dialog` (File > Export Map...): PDF/SVG/PNG export with page, title and options, which
  remembers every choice in QSettings (group ``print``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication, QPageLayout, QPainter
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QProgressDialog,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ...models import Project, StopFlag, TerritoryError
from ...services.printing import PAGE_SIZES_MM, page_spec
from .. import plaintext as msg
from .document import export_book, export_map, paint_book_document, paint_map_document
from .options import PrintOptions
from .output import DeviceSink, page_layout

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
        last_path = str(settings.value("path", str(Path.home() / f"{project.name or 'territories'}.pdf")))
        page_key = str(settings.value("page", "letter"))
        settings.endGroup()
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
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._page_changed()
        self.files: list[Path] = []

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
        dpi = self.dpi.value() if out.endswith(".png") else 300
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

    def export(self) -> list[Path]:
        """Write the file(s) chosen; raises TerritoryError for bad input."""
        path = self.path.text().strip()
        options = self.options()
        self.remember()
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            if self.atlas.isChecked():
                self.files = run_with_progress(self, "Exporting the map book...",
                                               lambda progress, stop: export_book(self.project, path, options,
                                                                                  progress, stop))
            else:
                self.files = export_map(self.project, path, options)
        finally:
            QGuiApplication.restoreOverrideCursor()
        return self.files

    def accept(self) -> None:
        try:
            self.export()
        except TerritoryError as exc:
            msg.warning(self, "Export Map", str(exc))
            return
        super().accept()


def run_with_progress(parent: QWidget | None, label: str, job):
    """Run ``job(progress, stop)`` with a modal progress dialog whose Cancel button sets the stop flag
    (the job raises CancelledError at its next page)."""
    bar = QProgressDialog(label, "Cancel", 0, 1000, parent)
    bar.setWindowModality(Qt.WindowModality.WindowModal)
    bar.setMinimumDuration(300)
    stop = StopFlag()

    def progress(fraction: float, message: str) -> None:
        bar.setValue(int(fraction * 1000))
        bar.setLabelText(f"{label}\n{message}")
        QApplication.processEvents()
        if bar.wasCanceled():
            stop.set()

    bar.canceled.connect(stop.set)
    try:
        return job(progress, stop)
    finally:
        bar.close()


def export_map_dialog(window, project: Project, settings: QSettings | None = None) -> list[Path]:
    """Show the export dialog; returns the files written ([] when cancelled)."""
    dialog = ExportDialog(window, project, settings or _settings(window))
    return dialog.files if dialog.exec() == QDialog.DialogCode.Accepted else []


def configure_printer(printer: QPrinter, options: PrintOptions) -> None:
    """Page size and orientation from ``options``; the page layout draws its own margins."""
    printer.setFullPage(True)
    printer.setPageLayout(page_layout(options.page))


def paint_on_printer(printer: QPrinter, project: Project, options: PrintOptions, book: bool = False) -> None:
    """Paint the wall map (or the map book) on ``printer`` page by page."""
    painter = QPainter()
    if not painter.begin(printer):
        raise TerritoryError("the printer could not be opened")
    try:
        sink = DeviceSink(printer, painter)
        if book:
            paint_book_document(sink, project, options)
        else:
            paint_map_document(sink, project, options)
    finally:
        painter.end()


def open_print_preview(window, project: Project, book: bool = False, settings: QSettings | None = None,
                       show: bool = True) -> QPrintPreviewDialog:
    """File > Print Preview: the wall map (or map book) in a QPrintPreviewDialog; its Print button prints to
    the chosen printer. Page size and orientation start from the remembered export choices."""
    options, _ = options_from_settings(settings or _settings(window))
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


def print_map_dialog(window, project: Project, book: bool = False, settings: QSettings | None = None) -> bool:
    """File > Print: the system print dialog, then the wall map (or map book) to the chosen printer."""
    options, _ = options_from_settings(settings or _settings(window))
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    configure_printer(printer, options)
    if QPrintDialog(printer, window).exec() != QDialog.DialogCode.Accepted:
        return False
    try:
        paint_on_printer(printer, project, options, book)
    except TerritoryError as exc:
        msg.warning(window, "Print", str(exc))
        return False
    return True
