"""Forecasts: reconciled forecasts add up, are non-negative, fit known series, backtests reproduce."""

from __future__ import annotations

import numpy as np
import pytest

from territory_desktop.engine.forecast import (
    backtest,
    build_hierarchy,
    forecast_hierarchy,
    reconcile,
    seasonal_naive,
)


def synthetic(seed: int, n: int = 6, months: int = 36, noise: float = 0.04) -> np.ndarray:
    """Bottom series: level x (1 + growth)^(t/12) x season x log-normal noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(months)
    level = rng.uniform(50_000, 200_000, n)[:, None]
    growth = rng.uniform(-0.1, 0.2, n)[:, None]
    season = 1 + 0.2 * np.sin(2 * np.pi * t / 12)[None]
    return level * (1 + growth) ** (t / 12) * season * rng.lognormal(0, noise, (n, months))


@pytest.fixture
def hier():
    ids = [f"T{i}" for i in range(6)]
    return build_hierarchy(ids, {"district": np.array(["D1", "D1", "D2", "D2", "D3", "D3"], dtype=object),
                                 "region": np.array(["R1", "R1", "R1", "R1", "R2", "R2"], dtype=object)})


def test_hierarchy_rows(hier):
    assert list(hier.labels[:6]) == ["total", "R1", "R2", "D1", "D2", "D3"]
    assert hier.S.shape == (12, 6) and hier.S[0].sum() == 6 and hier.S[1].sum() == 4


def test_reconciled_forecasts_add_up_at_every_level(hier):
    fc = forecast_hierarchy(hier, synthetic(1), 6)
    m = dict(zip(hier.labels, fc.mean, strict=True))
    terr = [m[f"T{i}"] for i in range(6)]
    np.testing.assert_allclose(m["D1"], terr[0] + terr[1], rtol=1e-9)
    np.testing.assert_allclose(m["R1"], m["D1"] + m["D2"], rtol=1e-9)
    np.testing.assert_allclose(m["total"], m["R1"] + m["R2"], rtol=1e-9)
    for lv in (80, 95):
        assert (fc.lower[lv] <= fc.mean + 1e-6).all() and (fc.upper[lv] >= fc.mean - 1e-6).all()
    assert (fc.lower[95] <= fc.lower[80] + 1e-6).all() and (fc.upper[95] >= fc.upper[80] - 1e-6).all()


def test_reconciliation_never_goes_negative(hier):
    mean = np.full((12, 1), 10.0)
    mean[6] = -50.0  # an incoherent, negative base forecast for T0
    fc = reconcile(hier, mean, np.ones((12, 1)), np.ones(12))
    assert (fc.mean >= 0).all() and (fc.lower[95] >= 0).all()
    np.testing.assert_allclose(fc.mean[0], fc.mean[6:].sum(axis=0))


def test_noise_free_series_is_forecast_exactly(hier):
    clean = synthetic(2, noise=0.0)
    truth = synthetic(2, months=42, noise=0.0)[:, 36:]
    fc = forecast_hierarchy(hier, clean, 6)
    np.testing.assert_allclose(fc.mean[6:], truth, rtol=0.02)  # season is a sine: dummies fit it exactly


def test_seasonal_naive_repeats_last_year():
    y = np.arange(30, dtype=float)[None]
    mean, sd, _ = seasonal_naive(y, 14)
    assert list(mean[0, :3]) == [18.0, 19.0, 20.0] and mean[0, 12] == 18.0
    assert sd[0, 12] == pytest.approx(sd[0, 0] * np.sqrt(2))  # a second year ahead: two years of errors


def test_backtest_beats_seasonal_naive_and_covers_nominally(hier):
    result = backtest(hier, synthetic(3))
    t = result["territory"]
    assert set(result) == {"territory", "district", "region", "total"}
    assert t["mase"] <= 0.8 * t["seasonal_naive_mase"]
    assert 0.65 <= t["coverage_80"] <= 0.95 and 0.85 <= t["coverage_95"] <= 1.0


def test_backtest_is_reproducible(hier):
    a, b = backtest(hier, synthetic(4)), backtest(hier, synthetic(4))
    assert a == b
    assert backtest(hier, synthetic(5)) != a


def test_backtest_needs_two_years_before_the_holdout(hier):
    with pytest.raises(ValueError, match="36 months"):
        backtest(hier, synthetic(1, months=30))


def test_shrunk_correlation_matches_the_schafer_strimmer_formula():
    from territory_desktop.engine.forecast import shrunk_correlation

    rng = np.random.default_rng(3)
    common = rng.normal(size=30)
    x = np.vstack([common + rng.normal(scale=s, size=30) for s in (0.3, 0.6, 1.0, 3.0)])
    # by hand, pair by pair: r_ij from standardised rows, Var(r_ij) = T / (T-1)^3 * sum_t (w_ijt - mean w_ij)^2
    z = (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)
    t = z.shape[1]
    num = den = 0.0
    r = np.eye(4)
    for i in range(4):
        for j in range(4):
            if i != j:
                w = z[i] * z[j]
                r[i, j] = w.mean()
                num += t / (t - 1) ** 3 * ((w - w.mean()) ** 2).sum()
                den += w.mean() ** 2
    lam = num / den
    assert 0 < lam < 1
    np.testing.assert_allclose(r, np.corrcoef(x), atol=1e-12)  # the unshrunk part is the sample correlation
    expected = np.where(np.eye(4, dtype=bool), 1.0, (1 - lam) * r)
    np.testing.assert_allclose(shrunk_correlation(x), expected, atol=1e-12)
    # independent rows: almost no correlation is kept
    noise = shrunk_correlation(rng.normal(size=(5, 400)))
    assert np.abs(noise - np.eye(5)).max() < 0.05
