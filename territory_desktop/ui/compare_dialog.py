"""Compare Scenarios: pick the scenario before (A) and after (B); the dialog shows the diff map (the print
engine's map with the moved units hatched and flow arrows), the disruption figures and the tables per
territory, rep and account, and exports the change report to XLSX or PDF. The numbers come from
``services.compare`` (computed in a worker), the same as ``territory-desktop compare``."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..models import Project, TerritoryError
from ..services import compare as cmp
from ..services.printing import page_spec, safe_file_name, territory_summaries
from ..services.scenarios import list_scenarios
from . import plaintext as msg
from .workers import run_job, run_job_with_dialog

MAP_SIZE = (720, 460)


def render_diff_map(project: Project, comparison: cmp.Comparison, size: tuple[int, int] = MAP_SIZE) -> QImage:
    """The diff map as an image: scenario B with the moved units hatched and the flow arrows."""
    from .print import PrintOptions
    from .print.compare import install_diff_layer
    from .print.document import scenario_view
    from .print.elements import Page
    from .print.mapframe import PrintMap
    from .print.pages import paint_map

    view = scenario_view(project, comparison.b)
    options = PrintOptions(page=page_spec("letter", True), reps=False)
    pm = PrintMap(view, options)
    install_diff_layer(pm.renderer, view, comparison, pm.scene.crs)
    image = QImage(size[0], size[1], QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    try:
        page = Page(painter, QRectF(0, 0, size[0], size[1]), 96 / 25.4)
        paint_map(page, pm, QRectF(1, 1, size[0] - 2, size[1] - 2), pm.full_extent(), territory_summaries(view),
                  options)
    finally:
        painter.end()
    return image


def _table(columns: list[tuple[str, str, str, float]], rows: list[tuple[str, ...]]) -> QTableWidget:
    t = QTableWidget(len(rows), len(columns))
    t.setHorizontalHeaderLabels([c[1] for c in columns])
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setAlternatingRowColors(True)
    t.verticalHeader().hide()
    t.verticalHeader().setDefaultSectionSize(t.fontMetrics().height() + 6)
    right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    for i, row in enumerate(rows):
        for j, (text, col) in enumerate(zip(row, columns, strict=True)):
            item = QTableWidgetItem(text)
            if col[2] == "r":
                item.setTextAlignment(right)
            t.setItem(i, j, item)
    t.resizeColumnsToContents()
    t.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
    return t


class CompareDialog(QDialog):
    """Scenario A and B pickers, diff map, figures, tables and export buttons."""

    def __init__(self, window, a: str | None = None, b: str | None = None) -> None:
        super().__init__(window)
        self.window_ = window
        self.comparison: cmp.Comparison | None = None
        self.last_written: Path | None = None
        self.setWindowTitle("Compare Scenarios")
        self.resize(1280, 820)
        self.a_box, self.b_box = QComboBox(), QComboBox()
        for box in (self.a_box, self.b_box):
            for r in list_scenarios(window.project):
                box.addItem(f"{r['name']} ({r['scenario_id']})", r["scenario_id"])
            box.currentIndexChanged.connect(lambda _i: self.recompute())
        ids = list(window.project.plans)
        self._pick(self.a_box, a or window.project.active_scenario)
        self._pick(self.b_box, b if b and b != self.a_box.currentData() else
                   next((s for s in reversed(ids) if s != self.a_box.currentData()), ids[0]))
        self.map = QLabel("Computing...")
        self.map.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.map.setMinimumSize(480, 320)
        self.map.setStyleSheet("background: white; border: 1px solid #c9cdd2;")
        self.figures = QFormLayout()
        self.tabs = QTabWidget()
        self.xlsx_button, self.pdf_button = QPushButton("Export &XLSX..."), QPushButton("Export &PDF...")
        self.xlsx_button.clicked.connect(lambda: self.export(".xlsx"))
        self.pdf_button.clicked.connect(lambda: self.export(".pdf"))
        self._layout()
        self.recompute()

    def _layout(self) -> None:
        pick = QHBoxLayout()
        for text, box in (("Before (A):", self.a_box), ("After (B):", self.b_box)):
            pick.addWidget(QLabel(text))
            pick.addWidget(box, 1)
        pick.addStretch(1)
        for b in (self.xlsx_button, self.pdf_button):
            pick.addWidget(b)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.map)
        side = QWidget()
        side.setLayout(self.figures)
        side.setMinimumWidth(330)
        top.addWidget(side)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 1)
        top.setSizes([900, 360])
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(top)
        body.addWidget(self.tabs)
        body.setSizes([470, 330])
        layout = QVBoxLayout(self)
        layout.addLayout(pick)
        layout.addWidget(body, 1)

    @staticmethod
    def _pick(box: QComboBox, sid: str) -> None:
        box.blockSignals(True)
        box.setCurrentIndex(max(0, box.findData(sid)))
        box.blockSignals(False)

    def recompute(self) -> None:
        a, b = self.a_box.currentData(), self.b_box.currentData()
        if a == b:
            self.map.setText("Pick two different scenarios.")
            return
        project = self.window_.project
        self.map.setText("Computing...")
        for button in (self.xlsx_button, self.pdf_button):
            button.setEnabled(False)
        run_job(lambda progress, stop: cmp.compare_scenarios(project, a, b), self.show_comparison,
                on_failed=lambda exc: msg.warning(self, "Compare scenarios", str(exc)),
                state=self.window_.state, label="Comparing scenarios")

    def show_comparison(self, comparison: cmp.Comparison) -> None:
        if (comparison.a, comparison.b) != (self.a_box.currentData(), self.b_box.currentData()):
            return  # the picks changed while it ran: a newer job follows
        self.comparison = comparison
        self.map.setPixmap(QPixmap.fromImage(render_diff_map(self.window_.project, comparison)))
        while self.figures.rowCount():
            self.figures.removeRow(0)
        for label, value in cmp.summary_lines(comparison):
            v = QLabel(value)
            v.setStyleSheet("font-weight: bold;")
            self.figures.addRow(label, v)
        self.figures.addRow(QLabel("Hatched: units that change territory.\nArrows: old territory → new "
                                   "(width: units moved)."))
        self.tabs.clear()
        self.tabs.addTab(_table(cmp.TERRITORY_REPORT_COLUMNS, cmp.territory_report_rows(comparison)), "Territories")
        self.tabs.addTab(_table(cmp.REP_REPORT_COLUMNS, cmp.rep_report_rows(comparison)), "Reps affected")
        self.tabs.addTab(_table(cmp.ACCOUNT_REPORT_COLUMNS, cmp.account_report_rows(comparison, 2000)),
                         "Accounts changing rep")
        for button in (self.xlsx_button, self.pdf_button):
            button.setEnabled(True)

    def export(self, suffix: str, path: str | None = None) -> Path | None:
        """Write the change report: XLSX at once (returns the path), PDF in a worker (``last_written``)."""
        c, project = self.comparison, self.window_.project
        if c is None:
            return None
        if path is None:
            folder = Path(project.path).resolve().parent if project.path else Path.home()
            default = folder / safe_file_name(f"{project.name} {c.a_name} vs {c.b_name}", suffix)
            kind = "Excel workbook (*.xlsx)" if suffix == ".xlsx" else "PDF (*.pdf)"
            path, _f = QFileDialog.getSaveFileName(self, "Export change report", str(default), kind)
            if not path:
                return None
        if suffix == ".pdf":
            self._export_pdf(project, c, path)
            return None
        from ..storage.export import write_sheets

        try:
            written = write_sheets(cmp.comparison_sheets(c), path)
        except (TerritoryError, OSError, ValueError) as exc:
            msg.warning(self, "Export change report", str(exc))
            return None
        self._written(written)
        return written

    def _export_pdf(self, project: Project, c: cmp.Comparison, path: str) -> None:
        """The PDF is painted in a worker (progress with Cancel), as the map book is."""
        from .print import PrintOptions
        from .print.compare import export_comparison

        options = PrintOptions(page=page_spec("letter", True))
        run_job_with_dialog(self, "Export change report", "Writing the change report PDF",
                            lambda progress, stop: export_comparison(project, c, path, options), self._written,
                            on_failed=lambda exc: msg.warning(self, "Export change report", str(exc)),
                            state=self.window_.state)

    def _written(self, written: Path) -> None:
        self.last_written = Path(written)
        self.window_.statusBar().showMessage(f"Change report written to {written}", 6000)


def open_compare_dialog(window, a: str | None = None, b: str | None = None) -> CompareDialog | None:
    """Open the dialog (needs a project with two scenarios or more)."""
    if window.project is None:
        return None
    if len(window.project.plans) < 2:
        msg.information(window, "Compare scenarios", "The project has one scenario: create another one first "
                        "(Scenario > Manage Scenarios > New).")
        return None
    dialog = CompareDialog(window, a, b)
    dialog.open()
    return dialog
