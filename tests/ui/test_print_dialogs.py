"""GUI printing: the export dialog writes the file and remembers its choices in QSettings; the print preview
paints pages on a QPrinter (PDF output format here, as a real printer would receive them)."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QWidget

from territory_desktop.ui.print.dialogs import ExportDialog, open_print_preview, options_from_settings

_spec = importlib.util.spec_from_file_location("printing_fixture", Path(__file__).parents[1] / "services" /
                                               "test_printing.py")
_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixture)


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def test_export_dialog_writes_and_remembers(qtbot, tmp_path, settings):
    project = _fixture.four_territory_project()
    dialog = ExportDialog(None, project, settings)
    qtbot.addWidget(dialog)
    out = tmp_path / "wall.svg"
    dialog.path.setText(str(out))
    dialog.page.setCurrentIndex(dialog.page.findData("a3"))
    dialog.landscape.setCurrentIndex(1)
    dialog.title.setText("East region")
    dialog.units.setCurrentIndex(dialog.units.findData("km"))
    dialog.accounts.setChecked(True)
    files = dialog.export()
    assert files == [out] and out.exists() and "East region" in out.read_text()
    again = ExportDialog(None, project, settings)
    qtbot.addWidget(again)
    assert again.path.text() == str(out)
    assert again.page.currentData() == "a3" and again.landscape.currentIndex() == 1
    assert again.title.text() == "East region" and again.units.currentData() == "km"
    assert again.accounts.isChecked() and not again.atlas.isChecked()
    opts, atlas = options_from_settings(settings)
    assert (opts.page.name, opts.page.width_mm, opts.page.height_mm) == ("a3", 420.0, 297.0) and not atlas


def test_export_dialog_custom_page_and_book(qtbot, tmp_path, settings):
    project = _fixture.four_territory_project()
    dialog = ExportDialog(None, project, settings)
    qtbot.addWidget(dialog)
    dialog.path.setText(str(tmp_path / "book.pdf"))
    dialog.page.setCurrentIndex(dialog.page.findData("custom"))
    dialog.custom_w.setValue(300)
    dialog.custom_h.setValue(500)
    dialog.landscape.setCurrentIndex(0)
    dialog.atlas.setChecked(True)
    dialog.max_accounts.setValue(3)
    assert dialog.custom_w.isVisibleTo(dialog)
    dialog.export()
    from pypdf import PdfReader

    reader = PdfReader(str(tmp_path / "book.pdf"))
    assert len(reader.pages) == 9  # portrait: cover, then per territory its map page and its accounts page
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 300 / 25.4 * 72) < 1.5 and abs(float(box.height) - 500 / 25.4 * 72) < 1.5
    opts, atlas = options_from_settings(settings)
    assert atlas and opts.page.name == "custom" and opts.max_accounts == 3


def _pdf_printer(out, settings):
    """A printer writing PDF to ``out`` (as a real printer would receive the pages), set up from the
    remembered options; returns (printer, options)."""
    from territory_desktop.ui.print.dialogs import configure_printer

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(out))
    opts, _ = options_from_settings(settings)
    configure_printer(printer, opts)
    return printer, opts


def test_print_preview_paints_on_a_printer(qtbot, tmp_path, settings):
    project = _fixture.four_territory_project()
    dialog = open_print_preview(None, project, settings=settings, show=False)
    qtbot.addWidget(dialog)
    out = tmp_path / "printed.pdf"
    printer, _opts = _pdf_printer(out, settings)
    dialog.paintRequested.emit(printer)
    from pypdf import PdfReader

    reader = PdfReader(str(out))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert all(name in text for name in ("Mesa", "Canyon", "Prairie", "Riverside", "Territories"))
    box = reader.pages[0].mediabox  # letter landscape by default
    assert abs(float(box.width) - 792) < 2 and abs(float(box.height) - 612) < 2


def _pdf_pages(path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(str(path)).pages)


def test_map_book_preview_renders_in_the_worker_with_the_export_page_count(qtbot, tmp_path, settings):
    """The preview runs off the GUI thread (the job is listed in the app state while it runs) and shows as
    many pages as File > Export Map writes with the same choices; 4 territories with 3 accounts per page:
    the cover plus, per territory, its map page and one continued accounts page = 9 (portrait)."""
    from territory_desktop.ui.state import AppState

    settings.setValue("print/landscape", False)
    settings.setValue("print/max_accounts", 3)
    project = _fixture.four_territory_project()
    host = QWidget()
    host.state = AppState()
    qtbot.addWidget(host)
    seen_jobs = []
    host.state.jobs_changed.connect(lambda jobs: seen_jobs.append(dict(jobs)))
    preview = open_print_preview(host, project, book=True, settings=settings, show=False)
    assert preview.busy() and list(host.state.jobs.values()) == ["Rendering the map book..."]
    qtbot.waitUntil(lambda: preview.dialog is not None, timeout=60000)
    assert host.state.jobs == {} and seen_jobs[-1] == {}
    dialog = ExportDialog(None, project, settings)
    qtbot.addWidget(dialog)
    dialog.path.setText(str(tmp_path / "book.pdf"))
    dialog.atlas.setChecked(True)
    dialog.export()
    assert preview.dialog.pages == _pdf_pages(tmp_path / "book.pdf") == 9
    preview.dialog.close()


def test_map_book_preview_cancel_stops_the_worker(qtbot, settings):
    project = _fixture.four_territory_project()
    preview = open_print_preview(None, project, book=True, settings=settings, show=False)
    preview.cancel()
    qtbot.waitUntil(lambda: not preview.busy(), timeout=60000)
    assert preview.cancelled and preview.dialog is None and preview.error is None


def test_map_book_export_runs_in_the_worker_and_can_be_cancelled(qtbot, tmp_path, settings, monkeypatch):
    """Save starts the export in the worker; Cancel stops the map book at its next page and the dialog
    stays open with nothing accepted."""
    from territory_desktop.ui.print import dialogs

    project = _fixture.four_territory_project()
    dialog = ExportDialog(None, project, settings)
    qtbot.addWidget(dialog)
    dialog.path.setText(str(tmp_path / "b.pdf"))
    dialog.atlas.setChecked(True)
    pages = []
    real = dialogs.export_book

    def slow_book(project, path, options, progress, stop):
        def progress_then_wait(fraction, message):
            pages.append(message)
            progress(fraction, message)
            if len(pages) == 2:
                deadline = time.monotonic() + 10
                while not stop.is_set() and time.monotonic() < deadline:  # the worker waits for Cancel here
                    time.sleep(0.01)
        return real(project, path, options, progress_then_wait, stop)

    monkeypatch.setattr(dialogs, "export_book", slow_book)
    dialog.accept()
    assert dialog.worker is not None and dialog.progress.isVisibleTo(dialog)
    qtbot.waitUntil(lambda: len(pages) >= 2, timeout=30000)
    dialog.reject()  # Cancel while writing
    qtbot.waitUntil(lambda: dialog.worker is None, timeout=30000)
    assert dialog.result() == 0 and dialog.files == [] and len(pages) == 2
    assert dialog.save_button.isEnabled() and not dialog.progress.isVisibleTo(dialog)


def test_export_dialog_suggests_the_project_folder_and_a_safe_name(qtbot, tmp_path, settings):
    project = _fixture.four_territory_project()
    project.name = "Demo: lower-48 counties"
    project.path = str(tmp_path / "demo.gpkg")
    dialog = ExportDialog(None, project, settings)
    qtbot.addWidget(dialog)
    assert dialog.path.text() == str(tmp_path / "Demo - lower-48 counties.pdf")


def test_file_menu_print_entries_reach_the_print_engine(qtbot, monkeypatch):
    """File > Print Preview / Map Book Preview / Print / Export Map call the shared print dialogs."""
    from territory_desktop.ui.main_window import MainWindow
    from territory_desktop.ui.print import dialogs

    calls = []
    monkeypatch.setattr(dialogs, "open_print_preview", lambda w, p, book=False: calls.append(("preview", book)))
    monkeypatch.setattr(dialogs, "print_map_dialog", lambda w, p: calls.append(("print", False)))
    monkeypatch.setattr(dialogs, "export_map_dialog", lambda w, p: calls.append(("export", False)))
    window = MainWindow()
    qtbot.addWidget(window)
    window.project = object()  # any project: the dialogs are stubbed
    for key in ("print_preview", "book_preview", "print", "export_map"):
        window.actions_[key].trigger()
    assert calls == [("preview", False), ("preview", True), ("print", False), ("export", False)]
    window.project = None


def test_printing_runs_in_the_worker(qtbot, tmp_path, settings):
    """File > Print paints the map book on the printer off the GUI thread (a PDF printer here): the cover,
    then per territory its map page, as many pages as the book has."""
    from pypdf import PdfReader

    from territory_desktop.ui.print.dialogs import start_printing

    project = _fixture.four_territory_project()
    out = tmp_path / "printed.pdf"
    printer, opts = _pdf_printer(out, settings)
    _worker, progress = start_printing(None, printer, project, opts, book=True)
    assert progress.isVisible()
    qtbot.waitUntil(lambda: not progress.isVisible(), timeout=60000)
    reader = PdfReader(str(out))
    assert len(reader.pages) >= 5
    text = " ".join(reader.pages[0].extract_text().split())
    assert all(name in text for name in ("Mesa", "Canyon", "Prairie", "Riverside"))
