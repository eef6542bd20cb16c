"""The KPI dock on the tiny KPI history: ranking follows the KPI, tooltips carry the definitions."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services"))
from kpi_fixtures import tiny_project

from territory_desktop.engine.kpi import KPI_DEFINITIONS
from territory_desktop.services.kpi_report import dashboard
from territory_desktop.ui.kpi_charts import format_kpi, short_number, sparkline
from territory_desktop.ui.kpi_dock import KpiDock


class FakeWindow:
    def __init__(self, project):
        self.project = project


@pytest.fixture
def dock(qtbot):
    project = tiny_project()
    widget = KpiDock(FakeWindow(project))
    qtbot.addWidget(widget)
    widget.set_data(dashboard(project, "2026-Q3"))
    return widget


def column(dock, j):
    return [dock.proxy.index(i, j).data() for i in range(dock.proxy.rowCount())]


def test_ranking_follows_the_chosen_kpi(dock):
    assert column(dock, 0) == ["T1", "T2"]  # sales: T1 100 > T2 85 (hand-computed in test_kpi)
    assert column(dock, 3) == ["100", "85"]
    dock.kpi.setCurrentText("penetration")
    assert column(dock, 0) == ["T2", "T1"]  # 75 % > 0 %
    assert column(dock, 3) == ["75.0%", "0.0%"]
    header = dock.model.horizontalHeaderItem(3)
    assert header.text() == "penetration" and header.toolTip() == KPI_DEFINITIONS["penetration"]


def test_short_history_has_no_forecast_but_draws(dock):
    assert dock.data.forecast is None and dock.data.backtest == {}
    assert dock.alerts.count() == 1 and dock.alerts.item(0).text() == "No alerts"
    dock.table.selectRow(0)
    assert "T1: monthly sales" in dock.trend.plotItem.titleLabel.text


def test_formatting_helpers(qtbot):
    assert format_kpi("coverage", 0.5) == "50.0%" and format_kpi("sales", float("nan")) == "-"
    assert short_number(950_000) == "950k" and short_number(2_500_000) == "2.5M" and short_number(12) == "12"
    pix = sparkline(np.array([1.0, 3.0, 2.0, 5.0]))
    image = pix.toImage()
    assert pix.width() == 90 and any(image.pixelColor(x, y).alpha() > 0 for x in range(90) for y in range(22))


def test_a_kpi_as_the_map_choropleth(grid8, open_window):
    import pandas as pd

    p = grid8
    column = p.accounts["account_id"].str[1:3].astype(int) % 8  # account A{k:02d}{n} lies in unit k
    p.sales = pd.DataFrame({"account_id": p.accounts["account_id"], "period": "2026-07", "product": "Core",
                            "amount": 100.0 * (column + 1) ** 2})
    w = open_window(p)
    w.kpis.set_data(dashboard(p, "2026-Q3"))
    w.kpis.kpi.setCurrentText("sales")
    w.kpis.show_on_map()
    layer = w.canvas.renderer.extras["choropleth"]
    assert layer.metric == "sales 2026-Q3" and "sales 2026-Q3" in w.legend.text()
    plan = p.plan.as_dict()
    cls = dict(zip(w.canvas.scene.unit_ids, layer.classes.index, strict=True))
    by_territory = {}
    for u, t in plan.items():
        by_territory.setdefault(t, set()).add(cls[u])
    assert all(len(c) == 1 for c in by_territory.values())  # one value per territory: one class
    # sales per territory: T1 (columns 0-2) 10 x 100 x (1 + 4 + 9) = 14,000 < T2 77,000 < T3 113,000
    assert by_territory["T1"].pop() < by_territory["T2"].pop() < by_territory["T3"].pop()


def test_another_project_clears_the_numbers(grid8, open_window):
    import pandas as pd

    p = grid8
    p.sales = pd.DataFrame({"account_id": p.accounts["account_id"], "period": "2026-07", "product": "Core",
                            "amount": 100.0})
    w = open_window(p)
    w.kpis.set_data(dashboard(p, "2026-Q3"))
    assert w.kpis.model.rowCount() == 3
    w.set_project(copy.copy(p))  # another project object
    w.canvas.viewChanged.emit()
    assert w.kpis.data is None and w.kpis.model.rowCount() == 0


def test_several_rows_compare_side_by_side(grid8, open_window):
    import pandas as pd
    import pyqtgraph as pg
    from PySide6.QtCore import QItemSelectionModel

    p = grid8
    column = p.accounts["account_id"].str[1:3].astype(int) % 8
    p.sales = pd.DataFrame({"account_id": p.accounts["account_id"], "period": "2026-07", "product": "Core",
                            "amount": 100.0 * (column + 1) ** 2})
    w = open_window(p)
    dock = w.kpis
    dock.set_data(dashboard(p, "2026-Q3"))
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    dock.table.clearSelection()
    for row in (0, 2):  # sorted by sales: T3 (113,000), T2 (77,000), T1 (14,000)
        dock.table.selectionModel().select(dock.proxy.index(row, 0), flags)
    bars = [i for i in dock.bars.plotItem.items if isinstance(i, pg.BarGraphItem)]
    assert list(bars[0].opts["height"]) == [113_000.0, 14_000.0]
    lines = [i for i in dock.trend.plotItem.items if isinstance(i, pg.PlotDataItem)]
    assert sorted(i.name() for i in lines) == ["T1", "T3"]
    assert dock.peers.toPlainText().startswith("Peer groups")


def _dock_with_quotas(qtbot, tmp_path, monkeypatch, csv_text: str):
    """A KPI dock on the tiny project for 2026-Q3 with the quotas file ``csv_text``, and its headers."""
    project = tiny_project()
    widget = KpiDock(FakeWindow(project))
    qtbot.addWidget(widget)
    path = tmp_path / "q.csv"
    path.write_text(csv_text)
    monkeypatch.setattr(widget, "refresh", lambda: widget.set_data(dashboard(project, "2026-Q3", "territory",
                                                                             widget.quotas_file)))
    widget.set_quotas_file(str(path))
    return widget, [widget.model.horizontalHeaderItem(j).text() for j in range(widget.model.columnCount())]


def test_quotas_file_gives_attainment_columns(qtbot, tmp_path, monkeypatch):
    widget, headers = _dock_with_quotas(qtbot, tmp_path, monkeypatch,
                                        "territory_id,quota,period\nT1,80,2026-Q3\nT2,100,2026-Q3\nT1,5,2026-Q2\n")
    assert widget.quotas_button.text() == "Quotas: q.csv"
    assert headers[-2:] == ["quota", "attainment"]
    rows = {widget.proxy.index(i, 0).data(): widget.proxy.index(i, len(headers) - 1).data()
            for i in range(widget.proxy.rowCount())}
    assert rows == {"T1": "125.0%", "T2": "85.0%"}  # Q3 sales 100 / 80 and 85 / 100 (hand-computed in test_kpi)


def test_quota_cells_are_whole_units_with_thousands_separators(qtbot, tmp_path, monkeypatch):
    widget, headers = _dock_with_quotas(qtbot, tmp_path, monkeypatch,
                                        "territory_id,quota,period\nT1,12345.67,2026-Q3\nT2,1000000.4,2026-Q3\n")
    j = headers.index("quota")
    rows = {widget.proxy.index(i, 0).data(): widget.proxy.index(i, j).data() for i in range(widget.proxy.rowCount())}
    assert rows == {"T1": "12,346", "T2": "1,000,000"}
