"""The KPI dock: ranking table with sparklines, trend with the forecast band, bar comparison, potential vs
actual scatter, alerts and forecast accuracy. Installed by :func:`install_kpi_ui` (View > KPIs, Ctrl+Shift+K).

Numbers come from :func:`services.kpi_report.dashboard`, run in a worker; every KPI header and choice
carries its definition as a tooltip (``engine.kpi.KPI_DEFINITIONS``).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QSortFilterProxyModel, Qt
from PySide6.QtGui import (
    QColor,
    QPainter,
    QPen,
    QPixmap,
    QPolygonF,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..engine.kpi import KPI_DEFINITIONS
from ..models import TerritoryError
from .docks import add_action, add_dock
from .workers import Worker, start

RATIO_KPIS = {"growth_pop", "growth_yoy", "penetration", "win_rate", "retention", "coverage", "attainment"}
TABLE_KPIS = ("sales", "growth_yoy", "coverage", "win_rate", "pipeline")
ACCENT, BAND80, BAND95 = QColor("#4e79a7"), QColor(78, 121, 167, 90), QColor(78, 121, 167, 45)


def format_kpi(name: str, value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    if name in RATIO_KPIS:
        return f"{value:.1%}"
    return f"{value:,.1f}" if name == "sales_cycle_days" else f"{value:,.0f}"


def sparkline(values: np.ndarray, width: int = 90, height: int = 22) -> QPixmap:
    """A small line of ``values`` (the last months' sales), last point marked."""
    pix = QPixmap(width, height)
    pix.fill(Qt.GlobalColor.transparent)
    v = np.asarray(values, dtype=float)
    if len(v) < 2 or not np.isfinite(v).all():
        return pix
    lo, hi = v.min(), v.max()
    ys = (height - 3) - (v - lo) / ((hi - lo) or 1.0) * (height - 6)
    xs = np.linspace(2, width - 4, len(v))
    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(ACCENT, 1.4))
    painter.drawPolyline(QPolygonF([QPointF(x, y) for x, y in zip(xs, ys, strict=True)]))
    painter.setBrush(ACCENT)
    painter.drawEllipse(QPointF(xs[-1], ys[-1]), 2.2, 2.2)
    painter.end()
    return pix


SORT_ROLE = Qt.ItemDataRole.UserRole + 1


def _cell(text: str, key) -> QStandardItem:
    """A read-only cell showing ``text`` and sorting by ``key`` (a number, NaN last, or text)."""
    item = QStandardItem(text)
    item.setEditable(False)
    if isinstance(key, float):
        key = -1e300 if np.isnan(key) else key
    item.setData(key, SORT_ROLE)
    return item


def short_number(value: float) -> str:
    """950000 -> '950k', 2500000 -> '2.5M' (axis ticks)."""
    a = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


class ShortAxis(pg.AxisItem):
    """An axis whose ticks read 950k, 2.5M instead of 9.5e+05."""

    def tickStrings(self, values, scale, spacing):
        return [short_number(v * scale) for v in values]


def _plot(title: str) -> pg.PlotWidget:
    w = pg.PlotWidget(background="w", axisItems={"left": ShortAxis("left")})
    w.setTitle(title, color="#333333", size="10pt")
    w.showGrid(x=False, y=True, alpha=0.25)
    for axis in ("left", "bottom"):
        w.getAxis(axis).setTextPen("#444444")
        w.getAxis(axis).setPen("#999999")
    return w


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
        self.proxy = QSortFilterProxyModel()
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.ExtendedSelection)
        self.table.setToolTip("Click a row for its trend; Ctrl/Shift-click several to compare them side by side")
        self.table.verticalHeader().hide()
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._row_picked())
        self.tabs = QTabWidget()
        self.trend, self.bars, self.scatter = _plot("Sales"), _plot("Comparison"), _plot("Potential vs sales")
        self.scatter.setAxisItems({"bottom": ShortAxis("bottom")})
        self.alerts, self.accuracy, self.peers = QListWidget(), QTableWidget(), QTextBrowser()
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
        self.map_button.setToolTip("Colour the map's units by their territory's (or rep's, district's, "
                                   "region's) value of the chosen KPI")
        self.status = QLabel("")
        self.bar = QHBoxLayout()
        for label, widget in (("Period", self.period), ("By", self.by), ("KPI", self.kpi)):
            self.bar.addWidget(QLabel(label))
            self.bar.addWidget(widget)
        for widget in (self.refresh_button, self.map_button, self.export_button, self.png_button):
            self.bar.addWidget(widget)
        self.bar.addWidget(self.status, 1)
        self.refresh_button.clicked.connect(self.refresh)
        self.period.activated.connect(lambda _i: self.refresh())
        self.by.activated.connect(lambda _i: self.refresh())
        self.kpi.currentIndexChanged.connect(lambda _i: self._show())
        self.export_button.clicked.connect(self.export_table)
        self.map_button.clicked.connect(self.show_on_map)
        self.png_button.clicked.connect(self.save_chart)

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
        period, by = self.period.currentText() or None, self.by.currentText()
        self.status.setText("computing...")
        self.worker = Worker(lambda progress, stop: dashboard(project, period, by))
        self.worker.signals.finished.connect(self.set_data)
        self.worker.signals.failed.connect(self._failed)
        self._workers.append(self.worker)
        start(self.worker)

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

    def _failed(self, exc) -> None:
        self.status.setText(str(exc).splitlines()[0] if isinstance(exc, TerritoryError) else f"failed: {exc}")

    def set_data(self, data) -> None:
        self.data, self._project = data, self.window.project
        self.status.setText(f"{data.period} by {data.by}: {len(data.table)} rows, {len(data.alerts)} alerts")
        self._show()
        self._show_alerts()
        self._show_accuracy()
        self._show_peers()

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
        return [chosen] + [k for k in TABLE_KPIS if k != chosen]

    def _fill_table(self) -> None:
        t, cols = self.data.table, self._columns()
        headers = ["id", "name", "last 12 months"] + cols
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
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(2, 112)

    def _draw_bars(self) -> None:
        name = self.kpi.currentText()
        t = self.data.table.sort_values(name, ascending=False, na_position="last")
        picked = self._picked()
        if len(picked) > 1:  # side-by-side comparison of the chosen rows
            t = t[t["group_id"].astype(str).isin(picked)]
        values = np.nan_to_num(t[name].to_numpy(float))
        self.bars.clear()
        self.bars.setTitle(f"{name} by {self.data.by}, {self.data.period} (top quartile in orange)",
                           color="#333333", size="10pt")
        quartile = values >= np.quantile(values, 0.75) if len(values) else values
        brushes = [pg.mkBrush("#f28e2b" if q else "#4e79a7") for q in quartile]
        self.bars.addItem(pg.BarGraphItem(x=np.arange(len(values)), height=values, width=0.75, brushes=brushes,
                                          pen=pg.mkPen(None)))
        ticks = [(i, str(g)) for i, g in enumerate(t["group_id"])]
        self.bars.getAxis("bottom").setTicks([ticks[:: max(1, len(ticks) // 20)]])

    def _draw_scatter(self) -> None:
        t = self.data.table
        self.scatter.clear()
        x, y = t["potential"].to_numpy(float), t["sales"].to_numpy(float)
        self.scatter.addItem(pg.ScatterPlotItem(x=x, y=y, size=9, brush=pg.mkBrush(ACCENT), pen=pg.mkPen("w")))
        ok = np.isfinite(x) & np.isfinite(y) & (x > 0)
        if ok.sum() < 2:
            return
        slope = float((x[ok] * y[ok]).sum() / (x[ok] ** 2).sum())  # sales per unit of potential
        xs = np.array([0.0, x[ok].max()])
        self.scatter.plot(xs, slope * xs, pen=pg.mkPen("#999999", style=Qt.PenStyle.DashLine))
        # label the largest and the furthest above / below the line, not every point
        ratio = np.where(ok, y / np.maximum(slope * x, 1e-9), 1.0)
        picked = set(np.argsort(-x)[:3]) | set(np.argsort(ratio)[:3]) | set(np.argsort(-ratio)[:3])
        for i in sorted(picked):
            label = pg.TextItem(str(t["group_id"].iat[i]), color="#555555", anchor=(0, 1))
            label.setPos(x[i], y[i])
            self.scatter.addItem(label)
        self.scatter.setTitle("Potential vs sales (dashed: the average sales per unit of potential)",
                              color="#333333", size="10pt")
        self.scatter.setLabel("bottom", "potential")
        self.scatter.setLabel("left", f"sales {self.data.period}")

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
            self._draw_comparison(picked)
        else:
            self._draw_trend(self._picked_node())
        self._draw_bars()

    def _draw_comparison(self, ids: list[str]) -> None:
        """Side by side: the chosen territories' monthly sales on one chart (up to eight)."""
        d = self.data
        self.trend.clear()
        if self.trend.plotItem.legend is None:
            self.trend.addLegend(offset=(10, 10))
        palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"]
        for colour, node in zip(palette, [n for n in ids if n in d.nodes], strict=False):
            self.trend.plot(np.arange(len(d.months)), d.history[d.nodes.index(node)],
                            pen=pg.mkPen(colour, width=2), name=node)
        self.trend.setTitle(f"Monthly sales of {len(ids)} chosen rows", color="#333333", size="10pt")

    def _draw_trend(self, node: str) -> None:
        d = self.data
        if node not in d.nodes:
            node = "total"
        i = d.nodes.index(node)
        n = len(d.months)
        self.trend.clear()
        self.trend.plot(np.arange(n), d.history[i], pen=pg.mkPen(ACCENT, width=2), name="sales")
        if d.forecast is not None:
            self._draw_band(i, np.arange(n - 1, n + d.forecast.mean.shape[1]), d.history[i, -1])
        acc = d.backtest.get(d.levels[i], {})
        accuracy = (f" · backtest MASE {acc['mase']:.2f} (seasonal naive {acc['seasonal_naive_mase']:.2f})"
                    if acc else "")
        self.trend.setTitle(f"{node}: monthly sales, forecast with 80/95 % bands{accuracy}", color="#333333",
                            size="10pt")
        ticks = [(k, d.months[k]) for k in range(0, n, 6)]
        self.trend.getAxis("bottom").setTicks([ticks])

    def _draw_band(self, i: int, x_fc: np.ndarray, last: float) -> None:
        d = self.data
        for level, colour in ((95, BAND95), (80, BAND80)):
            lo = pg.PlotDataItem(x_fc, np.r_[last, d.forecast.lower[level][i]])
            hi = pg.PlotDataItem(x_fc, np.r_[last, d.forecast.upper[level][i]])
            self.trend.addItem(pg.FillBetweenItem(lo, hi, brush=pg.mkBrush(colour)))
        self.trend.plot(x_fc, np.r_[last, d.forecast.mean[i]], pen=pg.mkPen(ACCENT, width=2, style=Qt.PenStyle.DashLine))

    def _show_alerts(self) -> None:
        self.alerts.clear()
        for a in self.data.alerts:
            item = QListWidgetItem(f"{a['territory_id']}  {a['kind'].replace('_', ' ')}: {a['message']}")
            item.setForeground(QColor("#b03a2e" if a["severity"] == "issue" else "#2e7d32"))
            item.setToolTip(", ".join(f"{k} {v}" for k, v in a.items() if isinstance(v, float)))
            self.alerts.addItem(item)
        if not self.data.alerts:
            self.alerts.addItem("No alerts")
        self.tabs.setTabText(3, f"Alerts ({len(self.data.alerts)})")

    def _show_peers(self) -> None:
        p = self.data.peers
        if not p:
            self.peers.setHtml("<p>Peer groups are computed by territory (choose <b>By: territory</b>).</p>")
            return
        html = ["<h3>Peer groups (by potential, then share of A accounts)</h3>"]
        for g in p["groups"]:
            names = ", ".join(f"<b>{t}</b>" if t in g["top_quartile"] else t for t in g["territories"])
            html.append(f"<p>Group {g['group']}: potential {short_number(g['potential_from'])} to "
                        f"{short_number(g['potential_to'])}<br>{names}</p>")
        html.append("<p>Bold: the top quartile of the group by sales / potential.</p>"
                    "<h3>What the top quartile does differently</h3><table cellpadding='4'>"
                    "<tr><th align='left'>practice</th><th>top quartile</th><th>rest</th><th>difference</th></tr>")
        for gap in p["practices"]:
            html.append(f"<tr><td title='{gap['meaning']}'>{gap['practice']}</td>"
                        + "".join(f"<td align='right'>{gap[k]:.3g}</td>" for k in ("top_quartile", "rest", "difference"))
                        + "</tr>")
        self.peers.setHtml("".join(html) + "</table>")

    def _show_accuracy(self) -> None:
        keys = ("mase", "seasonal_naive_mase", "smape", "seasonal_naive_smape", "coverage_80", "coverage_95")
        levels = list(self.data.backtest)
        self.accuracy.clear()
        self.accuracy.setRowCount(len(levels))
        self.accuracy.setColumnCount(len(keys))
        self.accuracy.setHorizontalHeaderLabels([k.replace("seasonal_naive", "naive") for k in keys])
        self.accuracy.setVerticalHeaderLabels(levels)
        for i, level in enumerate(levels):
            for j, k in enumerate(keys):
                v = self.data.backtest[level][k]
                self.accuracy.setItem(i, j, QTableWidgetItem(f"{v:.3f}" if "mase" in k else f"{v:.1%}"))
        self.accuracy.setToolTip("Rolling-origin backtest over the last 12 months, 1-3 months ahead, against "
                                 "a seasonal naive forecast (same month last year)")
        self.accuracy.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

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
        path, _ = QFileDialog.getSaveFileName(self, "Export KPI table", f"kpis-{self.data.period}.xlsx",
                                              "Excel (*.xlsx);;CSV (*.csv)")
        if path:
            write_table(self.data.table, path, sheet=f"KPIs {self.data.period}")
            self.status.setText(f"wrote {path}")

    def save_chart(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save chart", "chart.png", "PNG (*.png)")
        if path:
            self.tabs.currentWidget().grab().save(path)
            self.status.setText(f"wrote {path}")


def install_kpi_ui(window) -> KpiDock:
    """Add the KPI dock (bottom, hidden until asked for) and View > KPIs (Ctrl+Shift+K) to ``window``."""
    widget = KpiDock(window)
    dock = add_dock(window, "kpis", "KPIs", widget)
    window.kpi_dock = widget
    window.canvas.viewChanged.connect(lambda *_: widget.follow_project(dock.isVisible()))
    add_action(window, "kpis", "&View", "&KPIs", "Ctrl+Shift+K",
               "Performance by territory: KPIs, trend and forecast, comparison, alerts",
               lambda: _show(window, dock, widget))
    return widget


def _show(window, dock: QDockWidget, widget: KpiDock) -> None:
    dock.show()
    dock.raise_()
    widget.set_periods()
    widget.refresh()
