"""Quotas: shares by each method against hand-computed numbers, exact sums, ramps, reps needed."""

from __future__ import annotations

import numpy as np
import pytest

from territory_desktop.engine.quotas import monthly_quota, ramp_factors, reps_needed, shares, split_quota
from territory_desktop.models import InvalidInputError

BASES = {"potential": np.array([100.0, 300.0, 600.0]), "prior_year": np.array([50.0, 50.0, 0.0]),
         "trailing_12": np.array([10.0, 30.0, 60.0])}


def test_methods():
    assert shares(BASES, "even") == pytest.approx([1 / 3] * 3)
    assert shares(BASES, "potential") == pytest.approx([0.1, 0.3, 0.6])
    assert shares(BASES, "prior_year") == pytest.approx([0.5, 0.5, 0.0])
    blend = shares(BASES, "blend", {"potential": 3, "prior_year": 1})
    assert blend == pytest.approx([0.75 * 0.1 + 0.25 * 0.5, 0.75 * 0.3 + 0.25 * 0.5, 0.75 * 0.6])


def test_split_adds_up_to_the_cent():
    q = split_quota(1_000_000.01, np.array([1, 1, 1]) / 3)
    assert round(q.sum(), 2) == 1_000_000.01 and q.max() - q.min() == pytest.approx(0.01)


def test_errors_name_the_option():
    with pytest.raises(InvalidInputError, match="prior year of every territory is 0"):
        shares({"prior_year": np.zeros(3)}, "prior_year")
    with pytest.raises(InvalidInputError, match="--blend"):
        shares(BASES, "blend", {"luck": 1})


def test_ramps():
    assert ramp_factors(3, 0)[:4] == pytest.approx([1 / 3, 2 / 3, 1, 1])
    assert ramp_factors(6, 2)[:5] == pytest.approx([3 / 6, 4 / 6, 5 / 6, 1, 1])
    assert ramp_factors(9, -2)[:4] == pytest.approx([0, 0, 1 / 9, 2 / 9])  # starts in month 3 of the plan
    assert monthly_quota(120_000, ramp_factors(0, 0)).sum() == pytest.approx(120_000)
    assert monthly_quota(120_000, ramp_factors(3, 0)).sum() == pytest.approx(10_000 * (1 / 3 + 2 / 3 + 10))


def test_reps_needed():
    assert reps_needed(16_000, 1600, 1.0) == 10
    assert reps_needed(16_001, 1600, 1.0) == 11
    assert reps_needed(16_000, 1600, 0.9) == 9
