"""The KPI dock's two list tabs: alerts (coloured by severity) and the forecast backtest's accuracy."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QTableWidget, QTableWidgetItem

from .widgets import fit_columns

ISSUE, GOOD = "#b03a2e", "#2e7d32"  # alert text colours: an issue, good news
ACCURACY_KEYS = ("mase", "seasonal_naive_mase", "smape", "seasonal_naive_smape", "coverage_80", "coverage_95")


class AlertList(QListWidget):
    """One line per alert, "T12  sales drop: ...", red for issues and green for good news."""

    def show_alerts(self, alerts: list[dict]) -> None:
        self.clear()
        for a in alerts:
            item = QListWidgetItem(f"{a['territory_id']}  {a['kind'].replace('_', ' ')}: {a['message']}")
            item.setForeground(QColor(ISSUE if a["severity"] == "issue" else GOOD))
            item.setToolTip(", ".join(f"{k} {v}" for k, v in a.items() if isinstance(v, float)))
            self.addItem(item)
        if not alerts:
            self.addItem("No alerts")


class AccuracyTable(QTableWidget):
    """Backtest errors per level (rows) against the seasonal naive forecast: MASE as a number, the rest in %."""

    def __init__(self) -> None:
        super().__init__()
        self.setToolTip("Rolling-origin backtest over the last 12 months, 1-3 months ahead, against "
                        "a seasonal naive forecast (same month last year)")

    def show_backtest(self, backtest: dict[str, dict[str, float]]) -> None:
        levels = list(backtest)
        self.clear()
        self.setRowCount(len(levels))
        self.setColumnCount(len(ACCURACY_KEYS))
        self.setHorizontalHeaderLabels([k.replace("seasonal_naive", "naive") for k in ACCURACY_KEYS])
        self.setVerticalHeaderLabels(levels)
        for i, level in enumerate(levels):
            for j, k in enumerate(ACCURACY_KEYS):
                v = backtest[level][k]
                self.setItem(i, j, QTableWidgetItem(f"{v:.3f}" if "mase" in k else f"{v:.1%}"))
        fit_columns(self)
