"""The KPI dock: ranking table with sparklines, trend with the forecast band, bar comparison, potential vs
actual scatter, alerts and forecast accuracy. Installed by :func:`install_kpi_ui` (View > KPIs, Ctrl+Shift+K).

Numbers come from :func:`services.kpi_report.dashboard`, run in a worker; every KPI header and choice
carries its definition as a tooltip (``engine.kpi.KPI_DEFINITIONS``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..engine.kpi import KPI_DEFINITIONS
from ..models import TerritoryError
from .dialogs import ask_table_path
from .kpi_charts import (
    RATIO_KPIS,
    draw_bars,
    draw_comparison,
    draw_scatter,
    draw_trend,
    format_kpi,
    make_plot,
    peers_html,
    sparkline,
)
from .kpi_lists import AccuracyTable, AlertList
from .widgets import fit_columns, sortable_table
from .workers import Worker, run_job

TABLE_KPIS = ("sales", "growth_yoy", "coverage", "win_rate", "pipeline")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


def _cell(text: str, key) -> QStandardItem:
    """A read-only cell showing ``text`` and sorting by ``key`` (a number, NaN last, or text)."""
    item = QStandardItem(text)
    item.setEditable(False)
    if isinstance(key, float):
        key = -1e300 if np.isnan(key) else key
    item.setData(key, SORT_ROLE)
    return item


class KpiDock(QWidget):
    """Controls on top; ranking table left; charts, alerts and accuracy in tabs on the right."""

    def __init__(self, window) -> None:
        super().__init__()
        self.window = window
        self.data = None
        self._project = window.project
        self.worker: Worker | None = None
        self._workers: list[Worker] = []
        self._controls()
        self.model = QStandardItemModel()
        self.table, self.proxy = sortable_table(self.model, SORT_ROLE, self)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setToolTip("Click a row for its trend; Ctrl/Shift-click several to compare them side by side")
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._row_picked())
        self.tabs = QTabWidget()
        self.trend, self.bars = make_plot("Sales"), make_plot("Comparison")
        self.scatter = make_plot("Potential vs sales", short_x=True)
        self.alerts, self.accuracy, self.peers = AlertList(), AccuracyTable(), QTextBrowser()
        for widget, title in ((self.trend, "Trend"), (self.bars, "Compare"), (self.scatter, "Potential vs actual"),
                              (self.alerts, "Alerts"), (self.accuracy, "Forecast accuracy"), (self.peers, "Peers")):
            self.tabs.addTab(widget, title)
        split = QSplitter()
        split.addWidget(self.table)
        split.addWidget(self.tabs)
        split.setSizes([560, 640])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self.bar)
        layout.addWidget(split)

    def _controls(self) -> None:
        self.period, self.by, self.kpi = QComboBox(), QComboBox(), QComboBox()
        self.by.addItems(["territory", "rep", "district", "region"])
        for i, (name, text) in enumerate(KPI_DEFINITIONS.items()):
            self.kpi.addItem(name)
            self.kpi.setItemData(i, text, Qt.ItemDataRole.ToolTipRole)
        self.kpi.setToolTip("The KPI ranked, compared and shown on the bars (hover an entry for its definition)")
        self.refresh_button, self.map_button, self.export_button, self.png_button = (
            QPushButton("Refresh"), QPushButton("Show on map"), QPushButton("Export table..."),
            QPushButton("Save chart..."))
        self.quotas_button = QPushButton("Quotas...")
        self.quotas_button.setToolTip("Read the period's quotas (CSV/XLSX: id or territory_id, quota, optionally "
                                      "period; what 'quotas --out' writes) for attainment = sales / quota; without a file, the "
                                      "quotas stored in the project ('quotas --save') that cover the period")
        self.quotas_file: str | None = None
        self.set_quotas_button = QPushButton("Set Quotas...")
        self.set_quotas_button.setToolTip("Set and store the plan's quotas (total, method, new reps' ramps) with a "
                                          "preview; attainment then follows them")
        self.map_button.setToolTip("Colour the map's units by their territory's (or rep's, district's, "
                                   "region's) value of the chosen KPI")
        self.status = QLabel("")
        self.bar = QHBoxLayout()
        for label, widget in (("Period", self.period), ("By", self.by), ("KPI", self.kpi)):
            self.bar.addWidget(QLabel(label))
            self.bar.addWidget(widget)
        for widget in (self.refresh_button, self.quotas_button, self.set_quotas_button, self.map_button, self.export_button,
                       self.png_button):
            self.bar.addWidget(widget)
        self.bar.addWidget(self.status, 1)
        self.refresh_button.clicked.connect(self.refresh)
        self.period.activated.connect(lambda _i: self.refresh())
        self.by.activated.connect(lambda _i: self.refresh())
        self.kpi.currentIndexChanged.connect(lambda _i: self._show())
        self.export_button.clicked.connect(self.export_table)
        self.map_button.clicked.connect(self.show_on_map)
        self.png_button.clicked.connect(self.save_chart)
        self.quotas_button.clicked.connect(lambda: self.set_quotas_file())
        self.set_quotas_button.clicked.connect(self.open_set_quotas)

    # ---- computing
    def set_periods(self) -> None:
        from ..services.kpi_report import history_periods

        project = self.window.project
        self.period.clear()
        self.period.addItems(history_periods(project) if project is not None else [])

    def refresh(self) -> None:
        """Recompute in a worker for the chosen period and grouping (keeps the window responsive)."""
        from ..services.kpi_report import dashboard

        project = self.window.project
        if project is None or not len(project.sales):
            self.status.setText("no sales history in this project")
            return
        if self.period.count() == 0:
            self.set_periods()
        period, by, quotas = self.period.currentText() or None, self.by.currentText(), self.quotas_file
        self.status.setText("computing...")
        self.worker = run_job(lambda progress, stop: dashboard(project, period, by, quotas), self.set_data,
                              on_failed=self._failed, state=getattr(self.window, "state", None),
                              label="Computing KPIs")
        self._workers.append(self.worker)

    def set_quotas_file(self, path: str | None = None) -> None:
        """Use the quotas of ``path`` (asked for when None; Cancel clears them) and recompute."""
        if path is None:
            path = QFileDialog.getOpenFileName(self, "Quotas", "", "Quotas (*.csv *.xlsx)")[0] or None
        self.quotas_file = path
        self.quotas_button.setText(f"Quotas: {Path(path).name}" if path else "Quotas...")
        self.refresh()

    def open_set_quotas(self) -> None:
        from .quota_dialog import open_quota_dialog

        open_quota_dialog(self.window)

    def follow_project(self, visible: bool) -> None:
        """Another project in the window: forget the old numbers; recompute when the dock is shown."""
        project = self.window.project
        if self.data is not None and project is not self._project:
            self.data = None
            self.model.clear()
            self.set_periods()
            if visible:
                self.refresh()
        self._project = project

    def follow_scenario(self, visible: bool) -> None:
        """Another active scenario: sales are attributed through its plan, so the numbers are recomputed
        (a renamed or added scenario, which fires the same event, changes nothing)."""
        project = self.window.project
        sid = project.active_scenario if project is not None else None
        if self.data is not None and sid != getattr(self, "_data_scenario", sid):
            self.data = None
            self.model.clear()
            if visible:
                self.refresh()

    def _failed(self, exc) -> None:
        self.status.setText(str(exc).splitlines()[0] if isinstance(exc, TerritoryError) else f"failed: {exc}")

    def set_data(self, data) -> None:
        self.data, self._project = data, self.window.project
        self._data_scenario = self._project.active_scenario if self._project is not None else None
        self.status.setText(f"{data.period} by {data.by}: {len(data.table)} rows, {len(data.alerts)} alerts")
        self._show()
        self._show_alerts()
        self._show_accuracy()
        self.peers.setHtml(peers_html(self.data.peers))

    # ---- showing
    def _show(self) -> None:
        if self.data is None:
            return
        self._fill_table()
        self._draw_bars()
        self._draw_scatter()
        self._draw_trend(self._picked_node())

    def _columns(self) -> list[str]:
        chosen = self.kpi.currentText()
        quota = ("quota", "attainment") if self.data.table["quota"].notna().any() else ()
        return [chosen] + [k for k in (*TABLE_KPIS, *quota) if k != chosen]

    def _fill_table(self) -> None:
        t, cols = self.data.table, self._columns()
        headers = ["id", "name", "last 12 months", *cols]
        self.model.clear()
        self.model.setHorizontalHeaderLabels(headers)
        for j, name in enumerate(cols, start=3):
            self.model.horizontalHeaderItem(j).setToolTip(KPI_DEFINITIONS.get(name, name))
        history = dict(zip(self.data.nodes, self.data.history, strict=True))
        for rec in t.to_dict("records"):
            gid, name = str(rec["group_id"]), str(rec["name"] or "")
            spark = _cell("", 0.0)
            if gid in history:
                spark.setData(sparkline(history[gid][-12:]), Qt.ItemDataRole.DecorationRole)
            row = [_cell(gid, gid), _cell(name, name), spark]
            for kpi in cols:
                value = float(rec[kpi])
                item = _cell(format_kpi(kpi, value), value)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                row.append(item)
            self.model.appendRow(row)
        self.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)
        fit_columns(self.table)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(2, 112)

    def _draw_bars(self) -> None:
        d, kpi = self.data, self.kpi.currentText()
        draw_bars(self.bars, d.table, kpi, f"{kpi} by {d.by}, {d.period}", self._picked())

    def _draw_scatter(self) -> None:
        draw_scatter(self.scatter, self.data.table, self.data.period)

    def _draw_trend(self, node: str) -> None:
        draw_trend(self.trend, self.data, node)

    def _picked(self) -> list[str]:
        """Ids of the selected rows, in table order."""
        rows = sorted(self.table.selectionModel().selectedRows(), key=lambda index: index.row())
        return [str(index.data()) for index in rows]

    def _picked_node(self) -> str:
        picked = self._picked()
        return picked[0] if picked else "total"

    def _row_picked(self) -> None:
        if self.data is None:
            return
        picked = self._picked()
        if len(picked) > 1:
            draw_comparison(self.trend, self.data, picked)
        else:
            self._draw_trend(self._picked_node())
        self._draw_bars()

    def _show_alerts(self) -> None:
        self.alerts.show_alerts(self.data.alerts)
        self.tabs.setTabText(3, f"Alerts ({len(self.data.alerts)})")

    def _show_accuracy(self) -> None:
        self.accuracy.show_backtest(self.data.backtest)

    def show_on_map(self) -> None:
        """The chosen KPI as the map's choropleth (View > Choropleth's layer and legend)."""
        from ..services.kpi_report import unit_values

        window, data, kpi = self.window, self.data, self.kpi.currentText()
        if data is None or getattr(window, "canvas", None) is None or window.canvas.scene is None:
            return
        scale = 100.0 if kpi in RATIO_KPIS else 1.0  # ratios as percent, so the legend's classes read well
        name = f"{kpi}{' %' if scale != 1 else ''} {data.period}"
        window.metric_providers[name] = lambda: scale * unit_values(window.project, data.table, data.by, kpi,
                                                                    window.canvas.scene.unit_ids)
        window.apply_choropleth(name, "quantiles", 5)

    # ---- exporting
    def export_table(self) -> None:
        from ..storage.export import write_table

        if self.data is None:
            return
        path = ask_table_path(self, "Export KPI table", f"kpis-{self.data.period}.xlsx")
        if path:
            write_table(self.data.table, path, sheet=f"KPIs {self.data.period}")
            self.status.setText(f"wrote {path}")

    def save_chart(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save chart", "chart.png", "PNG (*.png)")
        if path:
            self.tabs.currentWidget().grab().save(path)
            self.status.setText(f"wrote {path}")


def install_kpi_ui(window) -> KpiDock:
    """Add the KPI dock (bottom, hidden until asked for) and View > KPIs (Ctrl+Shift+K) to ``window``
    through its extension points; the dock follows the window's project through the app state."""
    widget = KpiDock(window)
    dock = window.add_dock("kpis", "KPIs", widget, Qt.DockWidgetArea.BottomDockWidgetArea)
    dock.hide()
    window.state.project_changed.connect(lambda _p: widget.follow_project(dock.isVisible()))
    window.state.scenario_changed.connect(lambda _s: widget.follow_scenario(dock.isVisible()))
    action = QAction("&KPIs", window)
    action.setShortcut(QKeySequence("Ctrl+Shift+K"))
    tip = "Performance by territory: KPIs, trend and forecast, comparison, alerts"
    action.setToolTip(f"{tip} (Ctrl+Shift+K)")
    action.setStatusTip(tip)
    action.triggered.connect(lambda: _show(window, dock, widget))
    window.add_action("view", "kpis", action)
    return widget


def _show(window, dock: QDockWidget, widget: KpiDock) -> None:
    dock.show()
    dock.raise_()
    widget.set_periods()
    widget.refresh()
