"""Alerts fire on an injected drop / decline and stay quiet on noise."""

from __future__ import annotations

import numpy as np
import pandas as pd

from territory_desktop.engine import alerts
from territory_desktop.engine.forecast import build_hierarchy
from territory_desktop.services.kpi import SalesSeries
from territory_desktop.services.kpi_report import _forecast_exit_alerts


def noisy_series(seed: int, n: int = 20, months: int = 36) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(months)
    level = rng.uniform(200_000, 600_000, n)[:, None]
    growth = rng.uniform(-0.08, 0.15, n)[:, None]
    season = 1 + 0.15 * np.sin(2 * np.pi * (t - 3) / 12)[None]
    return level * (1 + growth) ** (t / 12) * season * rng.lognormal(0, 0.05, (n, months))


def series(y: np.ndarray) -> SalesSeries:
    n = len(y)
    ids = [f"T{i:02d}" for i in range(n)]
    dist = np.array([f"D{i % 4}" for i in range(n)], dtype=object)
    reg = np.array([f"R{i % 2}" for i in range(n)], dtype=object)
    return SalesSeries(build_hierarchy(ids, {"district": dist, "region": reg}), y, pd.Period("2023-11", "M"))


def test_forecast_exit_fires_on_an_injected_drop_only():
    y = noisy_series(11)
    y[7, -3:] *= 0.7  # T07 loses 30 % in the last quarter
    found = _forecast_exit_alerts(series(y), "last quarter")
    assert [a["territory_id"] for a in found] == ["T07"]
    a = found[0]
    assert a["severity"] == "issue" and a["actual"] < a["lower_95"]
    assert a["actual"] == round(float(y[7, -3:].sum()), 4)


def test_forecast_exit_quiet_on_noise():
    fired = sum(len(_forecast_exit_alerts(series(noisy_series(seed)), "q")) for seed in range(20, 30))
    assert fired <= 2  # 200 territory-quarters of pure noise: at most a stray alert or two


def test_falling_coverage():
    ids = ["A", "B", "C"]
    # A: 60 of 100 -> 30 of 100 (falls, z = -3.2); B: 60 -> 55 (noise); C: 6 of 10 -> 4 of 10 (too few visits to tell)
    out = alerts.falling_coverage(ids, np.array([60, 60, 6.0]), np.array([100, 100, 10.0]),
                                  np.array([30, 55, 4.0]), np.array([100, 100, 10.0]))
    assert [a["territory_id"] for a in out] == ["A"]
    assert out[0]["coverage_before"] == 0.6 and out[0]["coverage_last"] == 0.3


def test_rising_lost_rate():
    ids = ["A", "B"]
    out = alerts.rising_lost_rate(ids, np.array([30, 30.0]), np.array([50, 50.0]),
                                  np.array([27, 16.0]), np.array([30, 25.0]))
    assert [a["territory_id"] for a in out] == ["A"]  # 60 % -> 90 %; B 60 % -> 64 % is noise
    assert out[0]["lost_rate_recent"] == 0.9


def test_thin_pipeline():
    # A: 10,000 x 40 % = 4,000 expected vs 20,000 a quarter (20 %); B covers 200 %; C too few deals to judge
    out = alerts.thin_pipeline(["A", "B", "C"], np.array([10_000, 100_000.0, 0.0]), np.array([0.4, 0.4, 0.4]),
                               np.array([20_000, 20_000.0, 20_000.0]), np.array([12, 12, 3]))
    assert [a["territory_id"] for a in out] == ["A"] and out[0]["ratio"] == 0.2
