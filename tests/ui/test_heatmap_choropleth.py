"""Choropleth metrics with display names, units and per-area densities (checked against plain sums), and
the heatmap drawn on its own ramp over a neutral base with a legend."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from territory_desktop.services.classify import METRICS, metric_label, unit_metric_values
from territory_desktop.ui.layers import HeatmapLayer
from territory_desktop.ui.renderer import MapRenderer
from territory_desktop.ui.scene import MapScene


def test_metric_labels_name_their_units():
    assert metric_label("accounts_density") == "Account density (accounts per 1,000 km²)"
    assert metric_label("workload_hours") == "Workload (h/yr)"
    assert metric_label("some_column") == "some_column"
    assert {"accounts_density", "potential_density", "sales_12m", "sales_density"} <= set(METRICS)


def test_density_and_sales_values_equal_plain_sums(grid8):
    grid8.units["area_km2"] = np.arange(1, len(grid8.units) + 1, dtype=float) * 10.0
    months = [str(p) for p in pd.period_range("2025-09", "2026-10", freq="M")]  # 14 months
    grid8.sales = pd.DataFrame([{"account_id": a, "period": m, "product": "x", "amount": float(k + 1)}
                                for k, a in enumerate(grid8.accounts["account_id"][:6]) for m in months])
    ids = grid8.units["unit_id"].tolist()
    per_unit_accounts = grid8.accounts.groupby("unit_id").size().reindex(ids).fillna(0).to_numpy()
    area = grid8.units["area_km2"].to_numpy()
    assert unit_metric_values(grid8, "accounts_density") == pytest.approx(per_unit_accounts / area * 1000)
    expected = dict.fromkeys(ids, 0.0)
    for k, row in enumerate(grid8.accounts.head(6).itertuples()):
        expected[row.unit_id] += 12 * float(k + 1)  # the last 12 of the 14 months
    assert unit_metric_values(grid8, "sales_12m") == pytest.approx([expected[u] for u in ids])
    assert unit_metric_values(grid8, "sales_density") == pytest.approx(np.array([expected[u] for u in ids]) / area)


def _render(renderer, scene, size=(600, 400)) -> QImage:
    x0, y0, x1, y1 = scene.extent
    image = QImage(*size, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    renderer.paint(painter, QRectF(x0, y0, x1 - x0, y1 - y0), QRectF(0, 0, *size))
    painter.end()
    return image


def test_heatmap_draws_over_a_neutral_base_with_a_legend(grid8, qapp, monkeypatch):
    scene = MapScene(grid8)
    renderer = MapRenderer(scene)
    renderer.extras["heatmap"] = HeatmapLayer(scene, grid8.accounts.geometry.to_numpy()[:2])  # two accounts, SW corner
    for layer in renderer.layers:
        layer.visible = layer.key in ("units", "heatmap")
    image = _render(renderer, scene)
    far = QColor(image.pixel(520, 120))  # north-east, far from both accounts: plain base, no territory colour
    base = QColor(HeatmapLayer.BASE)
    assert max(abs(far.red() - base.red()), abs(far.green() - base.green()), abs(far.blue() - base.blue())) <= 12
    with monkeypatch.context() as m:
        m.setattr(HeatmapLayer, "paint_legend", lambda *a: None)
        plain = _render(renderer, scene)
    legend = [QColor(image.pixel(x, y)) for x in range(0, 300, 2) for y in range(250, 400, 2)
              if image.pixel(x, y) != plain.pixel(x, y)]
    assert len(legend) > 500  # a legend box at the lower left
    assert any(c.blue() > c.red() + 60 and c.lightness() < 90 for c in legend)  # with the ramp's dark blue end
    assert renderer.extras["heatmap"].top_per_1000km2 > 0
    renderer.layer("heatmap").visible = False
    coloured = QColor(_render(renderer, scene).pixel(520, 120))
    assert abs(coloured.green() - coloured.red()) > 40  # T3's green fill is back without the heatmap
