"""Allocation: KKT optimum against the closed form, bounds, whole units against exhaustive search, fits."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from territory_desktop.engine.allocate import (
    Curve,
    allocate_continuous,
    allocate_whole,
    curve_from_potential,
    fit_curve,
    what_if,
)
from territory_desktop.models import InfeasibleError

A = np.array([100.0, 250.0, 60.0, 400.0])
B = np.array([10.0, 40.0, 5.0, 80.0])
LOG = [Curve("log", a, b) for a, b in zip(A, B, strict=True)]


def test_log_curves_match_the_closed_form():
    # a_i / (b_i + x_i) = lam for all i, sum x_i = T  =>  lam = sum a / (T + sum b), x_i = a_i / lam - b_i
    total = 500.0
    lam = A.sum() / (total + B.sum())
    expected = A / lam - B
    assert (expected > 0).all()
    run = allocate_continuous(LOG, total)
    assert run.amount == pytest.approx(expected, rel=1e-7)
    assert run.marginal == pytest.approx(np.full(4, lam), rel=1e-7)
    assert run.total_return == pytest.approx(float((A * np.log1p(expected / B)).sum()), rel=1e-9)


def test_bounds_honoured_and_free_territories_share_one_marginal():
    total = 500.0
    lo = np.array([0.0, 0.0, 120.0, 0.0])  # territory 3 is forced far past its optimum
    hi = np.array([1e9, 60.0, 1e9, 1e9])  # territory 2 capped
    run = allocate_continuous(LOG, total, lo, hi)
    assert run.amount.sum() == pytest.approx(total)
    assert run.amount[2] == pytest.approx(120.0) and run.amount[1] == pytest.approx(60.0)
    free = [0, 3]
    lam = (A[free].sum()) / (total - 180.0 + B[free].sum())  # closed form over the free ones
    assert run.amount[free] == pytest.approx(A[free] / lam - B[free], rel=1e-7)
    assert run.marginal[1] > lam > run.marginal[2]  # capped one would want more, forced one less


def test_infeasible_bounds_are_reported():
    with pytest.raises(InfeasibleError, match="minimums add up to 600"):
        allocate_continuous(LOG, 500.0, lo=[150, 150, 150, 150])
    with pytest.raises(InfeasibleError, match="maximums add up to 40"):
        allocate_continuous(LOG, 500.0, hi=[10, 10, 10, 10])


def test_whole_units_are_integers_and_optimal_by_exhaustive_search():
    curves = [Curve("log", 30, 2), Curve("log", 55, 6), Curve("hill", 40, 3, 0.8)]
    total, lo, hi = 12, [1, 0, 2], [8, 10, 6]
    run = allocate_whole(curves, total, lo, hi)
    assert run.amount.dtype.kind == "i" and run.amount.sum() == total
    best = max((sum(float(c.value(x)) for c, x in zip(curves, xs, strict=True)), xs)
               for xs in itertools.product(range(1, 9), range(11), range(2, 7)) if sum(xs) == total)
    assert tuple(run.amount) == best[1]
    assert run.total_return == pytest.approx(best[0], rel=1e-6)
    assert all(lo_ <= x <= hi_ for x, lo_, hi_ in zip(run.amount, lo, hi, strict=True))


def test_hill_curves_equalise_marginals():
    curves = [curve_from_potential(p, share) for p, share in ((1e6, 3e4), (4e5, 5e4), (2e6, 2e4))]
    run = allocate_continuous(curves, 100_000.0)
    assert run.amount.sum() == pytest.approx(100_000.0)
    assert run.marginal == pytest.approx(np.full(3, run.lam), rel=1e-6)
    # Michaelis-Menten closed form: R K / (K + x)^2 = lam  =>  x = sqrt(R K / lam) - K
    r, k = np.array([c.a for c in curves]), np.array([c.b for c in curves])
    assert run.amount == pytest.approx(np.sqrt(r * k / run.lam) - k, rel=1e-6)


def test_fit_recovers_a_known_curve_and_refuses_thin_history():
    rng = np.random.default_rng(1)
    spend = rng.uniform(0, 200, 40)
    sales = 1000 + 300 * np.log1p(spend / 25) + rng.normal(0, 5, 40)
    curve = fit_curve(spend, sales)
    assert curve.a == pytest.approx(300, rel=0.1) and curve.b == pytest.approx(25, rel=0.25)
    assert curve.r2 > 0.95 and 0 < curve.a_rel_se < 0.1
    assert fit_curve([1, 2, 3], [1, 2, 3]) is None
    assert fit_curve(spend, -spend) is None  # no positive response


def test_what_if_return_grows_with_total_at_a_falling_rate():
    points = what_if(LOG, [100, 200, 300, 400])
    gains = np.diff([r for _, r in points])
    assert len(points) == 4 and (gains > 0).all() and (np.diff(gains) < 0).all()
