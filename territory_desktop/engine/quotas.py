"""Quotas: a total split across territories top-down, ramp profiles for new reps, reps a plan needs.

Pure functions on arrays. Methods of ``split_quota``: ``even``; by ``potential``; by ``prior_year`` sales
(the last complete calendar year); by ``trailing_12`` months of sales; ``bottom-up``: by the forecast of the
plan's months (the quotas are the forecast itself when no total is given); or a ``blend`` of those shares
(e.g. {"potential": 0.5, "trailing_12": 0.5}). Shares always add up to exactly 1, so the quotas add up
to the total.
"""

from __future__ import annotations

import math

import numpy as np

from ..models import InvalidInputError

METHODS = ("even", "potential", "prior_year", "trailing_12", "bottom-up", "blend")
BASES = ("even", "potential", "prior_year", "trailing_12", "bottom-up")
RAMPS = (0, 3, 6, 9)


def shares(bases: dict[str, np.ndarray], method: str, blend: dict[str, float] | None = None) -> np.ndarray:
    """Each territory's share of the total (sums to 1). ``bases`` maps basis name -> value per territory."""
    if method not in METHODS:
        raise InvalidInputError("--method", [f"'{method}' is not one of {', '.join(METHODS)}"])
    if method == "blend":
        return _blend(bases, blend or {})
    values = np.ones(len(next(iter(bases.values())))) if method == "even" else np.asarray(bases[method], float)
    total = values.sum()
    if not np.isfinite(total) or total <= 0:
        raise InvalidInputError("--method", [(f"the {method.replace('_', ' ')} of every territory is 0 (no "
                                             "history for that period?): choose another method")])
    return values / total


def _blend(bases: dict[str, np.ndarray], blend: dict[str, float]) -> np.ndarray:
    bad = [f"'{k}' is not one of {', '.join(BASES)}" for k in blend if k not in BASES]
    bad += [f"{k}: the weight {w} is negative" for k, w in blend.items() if w < 0]
    if not blend or sum(blend.values()) <= 0:
        bad.append("give the blend as METHOD=WEIGHT items with a positive total weight")
    if bad:
        raise InvalidInputError("--blend", bad)
    weight = sum(blend.values())
    out = np.zeros(len(next(iter(bases.values()))))
    for k, w in blend.items():
        if w > 0:
            out += w / weight * shares(bases, k)
    return out


def split_quota(total: float, share: np.ndarray) -> np.ndarray:
    """``total`` x shares, rounded to cents with the remainder on the largest shares (adds up exactly)."""
    cents = round(float(total) * 100)
    raw = np.asarray(share, float) * cents
    out = np.floor(raw).astype(np.int64)
    out[np.argsort(-(raw - out), kind="stable")[: cents - int(out.sum())]] += 1
    return out / 100.0


def ramp_factors(ramp_months: int, months_in_role: int, months: int = 12) -> np.ndarray:
    """Productivity per month of the plan for a rep ``months_in_role`` months in at the plan's start:
    linear from 1/ramp to full over ``ramp_months`` (0: fully productive)."""
    if ramp_months not in RAMPS:
        raise InvalidInputError("--ramp", [f"{ramp_months} is not one of {', '.join(map(str, RAMPS))} months"])
    month = months_in_role + np.arange(1, months + 1)  # 1 = first month in role
    if ramp_months == 0:
        return np.ones(months)
    return np.clip(month / ramp_months, 0.0, 1.0) * (month >= 1)


def monthly_quota(annual: float, factors: np.ndarray) -> np.ndarray:
    """A year's quota by month: an even twelfth, scaled by the rep's productivity that month."""
    return annual / 12.0 * np.asarray(factors, float)


def reps_needed(workload_hours: float, capacity_hours: float, coverage: float = 1.0) -> int:
    """Reps needed to cover ``coverage`` (0-1] of ``workload_hours`` at ``capacity_hours`` each."""
    if capacity_hours <= 0:
        raise InvalidInputError("capacity", ["capacity hours per rep must be more than 0"])
    return math.ceil(coverage * workload_hours / capacity_hours - 1e-9)
