"""Allocate a budget, materials or staff hours across territories to maximise expected return.

Each territory has a diminishing-returns response curve ``r(x)``, the extra sales that spending ``x`` brings:

- ``log``:  r(x) = a * ln(1 + x / b)                 marginal a / (b + x)
- ``hill``: r(x) = R * x^s / (K^s + x^s), 0 < s <= 1 marginal R s K^s x^(s-1) / (K^s + x^s)^2

Both are concave (s <= 1), so the optimum of ``max sum r_i(x_i)`` subject to ``sum x_i = total`` and
``lo_i <= x_i <= hi_i`` is where every territory not at a bound has the same marginal return (KKT):
``allocate_continuous`` finds that common marginal ``lam`` with scipy's ``brentq``, each ``x_i(lam)``
by inverting the marginal (in closed form for log; by bisection for hill). ``allocate_whole`` solves the
whole-unit problem (staff, kits) with OR-Tools CP-SAT over each curve's table of values.

``fit_curve`` estimates a log curve ``sales = c + a ln(1 + spend / b)`` from a territory's history with
scipy's ``curve_fit`` and reports R^2 and the standard errors; ``curve_from_potential`` is the fallback.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, curve_fit

from ..models import InfeasibleError, InvalidInputError


@dataclass(frozen=True)
class Curve:
    """One territory's response: ``form`` "log" (a, b) or "hill" (a = R, b = K, s); fit quality if fitted."""

    form: str
    a: float
    b: float
    s: float = 1.0
    source: str = "potential"
    r2: float | None = None
    #: relative standard error of ``a`` (the curve's scale) from the fit; None when not fitted
    a_rel_se: float | None = None
    points: int = 0

    def value(self, x):
        x = np.maximum(np.asarray(x, dtype=float), 0.0)
        if self.form == "log":
            return self.a * np.log1p(x / self.b)
        xs = x ** self.s
        return self.a * xs / (self.b ** self.s + xs)

    def marginal(self, x):
        x = np.maximum(np.asarray(x, dtype=float), 1e-12)
        if self.form == "log":
            return self.a / (self.b + x)
        ks, xs = self.b ** self.s, x ** self.s
        return self.a * self.s * ks * xs / x / (ks + xs) ** 2

    def spend_at(self, lam: float, lo: float, hi: float) -> float:
        """The spend in [lo, hi] where the marginal return equals ``lam`` (a bound when it never does)."""
        if self.form == "log":
            return float(np.clip(self.a / lam - self.b, lo, hi))
        if self.marginal(hi) >= lam:
            return hi
        if self.marginal(lo) <= lam:
            return lo
        lo_x, hi_x = lo, hi
        for _ in range(200):
            mid = 0.5 * (lo_x + hi_x)
            lo_x, hi_x = (mid, hi_x) if self.marginal(mid) > lam else (lo_x, mid)
        return 0.5 * (lo_x + hi_x)


def curve_from_potential(potential: float, share: float, lift: float = 0.1, saturation: float = 1.0) -> Curve:
    """A prior curve where there is no history (Hill, s = 1): spending without limit adds ``lift`` x
    potential; spending ``saturation`` x ``share`` (the territory's potential-proportional part of the
    total, in the total's units) brings half of that. With only prior curves and no binding bounds the
    optimum is the potential-proportional split."""
    return Curve("hill", lift * max(float(potential), 1e-9), saturation * max(float(share), 1e-9), 1.0,
                 "potential")


def _log_model(x, c, a, b):
    return c + a * np.log1p(x / b)


def fit_curve(spend: np.ndarray, sales: np.ndarray) -> Curve | None:
    """Fit ``sales = c + a ln(1 + spend / b)`` (a, b > 0); None when the history cannot support a fit
    (fewer than 4 periods, no spread in spend, or no positive response)."""
    spend, sales = np.asarray(spend, float), np.asarray(sales, float)
    ok = np.isfinite(spend) & np.isfinite(sales) & (spend >= 0)
    spend, sales = spend[ok], sales[ok]
    if len(spend) < 4 or np.ptp(spend) <= 0:
        return None
    scale = max(float(np.median(spend[spend > 0])) if (spend > 0).any() else 1.0, 1e-9)
    slope = np.polyfit(spend, sales, 1)[0]
    if slope <= 0:
        return None
    try:
        params, cov = curve_fit(_log_model, spend, sales, p0=[sales.min(), slope * scale, scale],
                                bounds=([-np.inf, 1e-12, scale * 1e-3], [np.inf, np.inf, scale * 1e3]),
                                maxfev=20_000)
    except (RuntimeError, ValueError):
        return None
    residual = sales - _log_model(spend, *params)
    total = float(((sales - sales.mean()) ** 2).sum())
    r2 = 1.0 - float((residual ** 2).sum()) / total if total > 0 else 0.0
    se = np.sqrt(np.diag(cov)) if np.all(np.isfinite(cov)) else np.full(3, np.nan)
    return Curve("log", float(params[1]), float(params[2]), 1.0, "history", r2,
                 float(se[1] / params[1]) if params[1] > 0 else None, len(spend))


@dataclass
class Allocation:
    """Amount per territory, expected return, marginal return at the optimum, and the common marginal."""

    amount: np.ndarray
    expected: np.ndarray
    marginal: np.ndarray
    lam: float

    @property
    def total_return(self) -> float:
        return float(self.expected.sum())


def _check(curves: list[Curve], total: float, lo: np.ndarray, hi: np.ndarray) -> None:
    if len(lo) != len(curves) or len(hi) != len(curves):
        raise InvalidInputError("allocate", ["one minimum and one maximum per territory"])
    if lo.sum() > total + 1e-9:
        raise InfeasibleError(f"the minimums add up to {lo.sum():,.2f}, more than the total {total:,.2f}")
    bad = [f"territory {i + 1}: minimum {lo[i]:g} is above its maximum {hi[i]:g}" for i in
           np.flatnonzero(lo > hi)]
    if bad:
        raise InvalidInputError("allocate", bad)
    if hi.sum() < total - 1e-9:
        raise InfeasibleError(f"the maximums add up to {hi.sum():,.2f}, less than the total {total:,.2f}: "
                              "raise the maximums or lower the total")


def allocate_continuous(curves: list[Curve], total: float, lo=None, hi=None) -> Allocation:
    """Spend exactly ``total`` across the territories, maximising the sum of ``r_i`` (see module doc)."""
    n = len(curves)
    lo = np.zeros(n) if lo is None else np.asarray(lo, float)
    hi = np.full(n, float(total)) if hi is None else np.minimum(np.asarray(hi, float), total)
    hi = np.maximum(hi, np.minimum(lo, total))  # a maximum above the total is the total
    _check(curves, total, lo, hi)

    def spend(lam: float) -> np.ndarray:
        return np.array([c.spend_at(lam, low, h) for c, low, h in zip(curves, lo, hi, strict=True)])

    top = max(float(c.marginal(low)) for c, low in zip(curves, lo, strict=True)) * (1 + 1e-9)
    bottom = min(float(c.marginal(h)) for c, h in zip(curves, hi, strict=True)) * (1 - 1e-9)
    if spend(top).sum() >= total:  # the minimums already spend it all
        lam = top
    elif spend(bottom).sum() <= total:  # every territory at its maximum
        lam = bottom
    else:
        lam = brentq(lambda v: spend(v).sum() - total, bottom, top, xtol=1e-15, rtol=1e-13, maxiter=1000)
    amount = spend(lam)
    expected = np.array([float(c.value(x)) for c, x in zip(curves, amount, strict=True)])
    marginal = np.array([float(c.marginal(x)) for c, x in zip(curves, amount, strict=True)])
    return Allocation(amount, expected, marginal, float(lam))


def allocate_whole(curves: list[Curve], total: int, lo=None, hi=None, time_limit: float = 10.0) -> Allocation:
    """Whole units (staff, kits): integer amounts summing to ``total`` by CP-SAT over value tables.

    Values are scaled to integers (1e6 / the largest value) for the solver and reported unscaled.
    """
    from ortools.sat.python import cp_model

    n = len(curves)
    lo = np.zeros(n, dtype=np.int64) if lo is None else np.ceil(np.asarray(lo, float) - 1e-9).astype(np.int64)
    hi = (np.full(n, int(total), dtype=np.int64) if hi is None
          else np.minimum(np.floor(np.asarray(hi, float) + 1e-9), total).astype(np.int64))
    hi = np.maximum(hi, np.minimum(lo, total))
    _check(curves, float(total), lo.astype(float), hi.astype(float))
    tables = [c.value(np.arange(low, h + 1)) for c, low, h in zip(curves, lo, hi, strict=True)]
    scale = 1e6 / max(max(float(t.max()) for t in tables), 1e-12)
    model = cp_model.CpModel()
    steps, values = [], []
    for i, table in enumerate(tables):
        step = model.new_int_var(0, int(hi[i] - lo[i]), f"x{i}")
        value = model.new_int_var(0, round(float(table.max()) * scale) + 1, f"v{i}")
        model.add_element(step, [round(float(v) * scale) for v in table], value)
        steps.append(step)
        values.append(value)
    model.add(sum(steps) == int(total - lo.sum()))
    model.maximize(sum(values))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 2
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise InfeasibleError("no whole-unit allocation meets the minimums, maximums and total")
    amount = lo + np.array([solver.value(s) for s in steps], dtype=np.int64)
    expected = np.array([float(c.value(x)) for c, x in zip(curves, amount, strict=True)])
    marginal = np.array([float(c.value(x + 1) - c.value(x)) for c, x in zip(curves, amount, strict=True)])
    return Allocation(amount, expected, marginal, float(np.median(marginal)))


def what_if(curves: list[Curve], totals, lo=None, hi=None, whole: bool = False) -> list[tuple[float, float]]:
    """(total, best expected return) for each total that the bounds allow: the curve of return vs total."""
    out = []
    for total in totals:
        try:
            run = allocate_whole(curves, int(total), lo, hi, 2.0) if whole else \
                allocate_continuous(curves, float(total), lo, hi)
        except InfeasibleError:
            continue
        out.append((float(total), run.total_return))
    return out
