"""The KPI dock's charts (pyqtgraph) and small renderings: sparklines, short axis numbers, the trend with
its forecast band, bars, the potential-vs-sales scatter, the peer-group page. Functions of a plot widget
and the numbers; no state."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap, QPolygonF

RATIO_KPIS = {"growth_pop", "growth_yoy", "penetration", "win_rate", "retention", "coverage", "attainment"}
ACCENT, BAND80, BAND95 = QColor("#4e79a7"), QColor(78, 121, 167, 90), QColor(78, 121, 167, 45)
PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"]
TITLE = {"color": "#333333", "size": "10pt"}


def format_kpi(name: str, value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    if name in RATIO_KPIS:
        return f"{value:.1%}"
    return f"{value:,.1f}" if name == "sales_cycle_days" else f"{value:,.0f}"


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


def make_plot(title: str, short_x: bool = False) -> pg.PlotWidget:
    axes = {"left": ShortAxis("left")} | ({"bottom": ShortAxis("bottom")} if short_x else {})
    w = pg.PlotWidget(background="w", axisItems=axes)
    w.setTitle(title, **TITLE)
    w.showGrid(x=False, y=True, alpha=0.25)
    for axis in ("left", "bottom"):
        w.getAxis(axis).setTextPen("#444444")
        w.getAxis(axis).setPen("#999999")
    return w


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


def draw_bars(plot: pg.PlotWidget, table: pd.DataFrame, kpi: str, title: str, only: list[str]) -> None:
    """``kpi`` per group as bars, best first, the top quartile in orange; ``only`` (2+ ids) keeps those."""
    t = table.sort_values(kpi, ascending=False, na_position="last")
    if len(only) > 1:  # side-by-side comparison of the chosen rows
        t = t[t["group_id"].astype(str).isin(only)]
    values = np.nan_to_num(t[kpi].to_numpy(float))
    plot.clear()
    plot.setTitle(f"{title} (top quartile in orange)", **TITLE)
    quartile = values >= np.quantile(values, 0.75) if len(values) else values
    brushes = [pg.mkBrush("#f28e2b" if q else "#4e79a7") for q in quartile]
    plot.addItem(pg.BarGraphItem(x=np.arange(len(values)), height=values, width=0.75, brushes=brushes,
                                 pen=pg.mkPen(None)))
    ticks = [(i, str(g)) for i, g in enumerate(t["group_id"])]
    plot.getAxis("bottom").setTicks([ticks[:: max(1, len(ticks) // 20)]])


def draw_scatter(plot: pg.PlotWidget, table: pd.DataFrame, period: str) -> None:
    """Sales against potential with the average sales-per-potential line; outliers and the largest named."""
    plot.clear()
    x, y = table["potential"].to_numpy(float), table["sales"].to_numpy(float)
    plot.addItem(pg.ScatterPlotItem(x=x, y=y, size=9, brush=pg.mkBrush(ACCENT), pen=pg.mkPen("w")))
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0)
    if ok.sum() < 2:
        return
    slope = float((x[ok] * y[ok]).sum() / (x[ok] ** 2).sum())  # sales per unit of potential
    xs = np.array([0.0, x[ok].max()])
    plot.plot(xs, slope * xs, pen=pg.mkPen("#999999", style=Qt.PenStyle.DashLine))
    ratio = np.where(ok, y / np.maximum(slope * x, 1e-9), 1.0)
    picked = set(np.argsort(-x)[:3]) | set(np.argsort(ratio)[:3]) | set(np.argsort(-ratio)[:3])
    for i in sorted(picked):
        label = pg.TextItem(str(table["group_id"].iat[i]), color="#555555", anchor=(0, 1))
        label.setPos(x[i], y[i])
        plot.addItem(label)
    plot.setTitle("Potential vs sales (dashed: the average sales per unit of potential)", **TITLE)
    plot.setLabel("bottom", "potential")
    plot.setLabel("left", f"sales {period}")


def draw_comparison(plot: pg.PlotWidget, data, ids: list[str]) -> None:
    """Side by side: the chosen rows' monthly sales on one chart (up to eight)."""
    plot.clear()
    if plot.plotItem.legend is None:
        plot.addLegend(offset=(10, 10))
    for colour, node in zip(PALETTE, [n for n in ids if n in data.nodes], strict=False):
        plot.plot(np.arange(len(data.months)), data.history[data.nodes.index(node)],
                  pen=pg.mkPen(colour, width=2), name=node)
    plot.setTitle(f"Monthly sales of {len(ids)} chosen rows", **TITLE)


def draw_trend(plot: pg.PlotWidget, data, node: str) -> None:
    """A node's monthly sales, its reconciled forecast in 80/95 % bands and its level's backtest MASE."""
    node = node if node in data.nodes else "total"
    i, n = data.nodes.index(node), len(data.months)
    plot.clear()
    plot.plot(np.arange(n), data.history[i], pen=pg.mkPen(ACCENT, width=2), name="sales")
    if data.forecast is not None:
        _draw_band(plot, data.forecast, i, np.arange(n - 1, n + data.forecast.mean.shape[1]), data.history[i, -1])
    acc = data.backtest.get(data.levels[i], {})
    accuracy = (f" · backtest MASE {acc['mase']:.2f} (seasonal naive {acc['seasonal_naive_mase']:.2f})"
                if acc else "")
    plot.setTitle(f"{node}: monthly sales, forecast with 80/95 % bands{accuracy}", **TITLE)
    plot.getAxis("bottom").setTicks([[(k, data.months[k]) for k in range(0, n, 6)]])


def _draw_band(plot: pg.PlotWidget, forecast, i: int, x_fc: np.ndarray, last: float) -> None:
    for level, colour in ((95, BAND95), (80, BAND80)):
        lo = pg.PlotDataItem(x_fc, np.r_[last, forecast.lower[level][i]])
        hi = pg.PlotDataItem(x_fc, np.r_[last, forecast.upper[level][i]])
        plot.addItem(pg.FillBetweenItem(lo, hi, brush=pg.mkBrush(colour)))
    plot.plot(x_fc, np.r_[last, forecast.mean[i]], pen=pg.mkPen(ACCENT, width=2, style=Qt.PenStyle.DashLine))


def peers_html(peers: dict | None) -> str:
    """The peer groups (top quartile in bold) and the practice gaps as a small HTML page."""
    if not peers:
        return "<p>Peer groups are computed by territory (choose <b>By: territory</b>).</p>"
    html = ["<h3>Peer groups (by potential, then share of A accounts)</h3>"]
    for g in peers["groups"]:
        names = ", ".join(f"<b>{t}</b>" if t in g["top_quartile"] else t for t in g["territories"])
        html.append(f"<p>Group {g['group']}: potential {short_number(g['potential_from'])} to "
                    f"{short_number(g['potential_to'])}<br>{names}</p>")
    html.append("<p>Bold: the top quartile of the group by sales / potential.</p>"
                "<h3>What the top quartile does differently</h3><table cellpadding='4'>"
                "<tr><th align='left'>practice</th><th>top quartile</th><th>rest</th><th>difference</th></tr>")
    for gap in peers["practices"]:
        cells = "".join(f"<td align='right'>{gap[k]:.3g}</td>" for k in ("top_quartile", "rest", "difference"))
        html.append(f"<tr><td title='{gap['meaning']}'>{gap['practice']}</td>{cells}</tr>")
    return "".join(html) + "</table>"
