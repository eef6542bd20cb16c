"""Quotas for a project's territories (and their reps), top-down from a total; ramps; reps needed.

Bases per territory of the active scenario: potential (``metrics.territory_totals``), and sales from the
project's history by the account owners of today's plan (``metrics.account_owners``): ``trailing_12``
(the last 12 months with data) and ``prior_year`` (the last complete calendar year); ``bottom-up``: the
reconciled forecast (``engine.forecast``, the report's model) of each territory's sales over the plan's 12
months, from its monthly history attributed by date (the plan in force at each sale).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine.quotas import monthly_quota, ramp_factors, reps_needed, shares, split_quota
from ..models import InvalidInputError, Project
from .metrics import account_owners, territory_totals


def quota_bases(project: Project) -> tuple[pd.DataFrame, dict[str, np.ndarray], dict[str, str]]:
    """(territories, {basis: value per territory}, {basis: the months it covers})."""
    totals = territory_totals(project)
    ids = totals["territory_id"]
    bases = {"potential": totals["potential"].to_numpy(float)}
    covered = {"potential": "annual potential"}
    sales = project.sales
    months = pd.PeriodIndex(sales["period"].astype(str), freq="M") if len(sales) else pd.PeriodIndex([], freq="M")
    frame = pd.DataFrame({"territory_id": sales["account_id"].map(account_owners(project)).to_numpy(),
                          "month": months, "amount": pd.to_numeric(sales["amount"], errors="coerce").to_numpy()})
    last = months.max() if len(months) else None
    year = None if last is None else (last.year if last.month == 12 else last.year - 1)
    windows = {"trailing_12": (last - 11, last) if last is not None else None,
               "prior_year": (pd.Period(f"{year}-01", "M"), pd.Period(f"{year}-12", "M")) if year else None}
    for name, window in windows.items():
        if window is None:
            bases[name], covered[name] = np.zeros(len(ids)), "no sales history"
            continue
        inside = frame[(frame["month"] >= window[0]) & (frame["month"] <= window[1])]
        by = inside.groupby("territory_id")["amount"].sum()
        bases[name] = ids.map(by).fillna(0.0).to_numpy(float)
        covered[name] = f"{window[0]}..{window[1]}"
    return totals, bases, covered


def forecast_basis(project: Project, territory_ids: pd.Series, first: pd.Period, months: int = 12
                   ) -> tuple[np.ndarray, str]:
    """Forecast sales per territory over ``months`` months from ``first`` (0 for territories without
    history), and what it covers. Raises InvalidInputError when the history is too short to forecast."""
    from ..engine.forecast import forecast_hierarchy
    from .kpi import territory_series
    from .kpi_report import MIN_FORECAST_MONTHS

    series = territory_series(project)
    n = series.bottom.shape[1]
    if n < MIN_FORECAST_MONTHS:
        raise InvalidInputError("--method bottom-up", [f"the forecast needs {MIN_FORECAST_MONTHS} months of sales "
                                                       f"history; the project has {n}"])
    after = series.first_month + n  # the first month after the history
    if first < after:
        raise InvalidInputError("--start", [f"bottom-up quotas start after the history: {first} is not after "
                                            f"the last month with sales ({after - 1})"])
    skip = (first - after).n
    fc = forecast_hierarchy(series.hierarchy, series.bottom, skip + months)
    rows = series.hierarchy.bottom
    per = pd.Series(fc.mean[rows, skip:].sum(axis=1), index=series.hierarchy.labels[rows])
    return territory_ids.map(per).fillna(0.0).to_numpy(float), f"forecast {first}..{first + months - 1}"


def _quotas(project: Project, totals: pd.DataFrame, bases: dict, covered: dict, total: float | None, method: str,
            blend: dict[str, float] | None, first: pd.Period) -> tuple[np.ndarray, np.ndarray, float]:
    """(shares, quotas, total): top-down from ``total``; bottom-up without one (the forecast, to the cent)."""
    if method == "bottom-up" or "bottom-up" in (blend or {}):
        bases["bottom-up"], covered["bottom-up"] = forecast_basis(project, totals["territory_id"], first)
    if total is None:
        if method != "bottom-up":
            raise InvalidInputError("--total", [f"--method {method} splits a total: give --total"])
        total = round(float(np.round(bases["bottom-up"], 2).sum()), 2)
    share = shares(bases, method, blend)
    return share, split_quota(total, share), total


def plan_quotas(project: Project, total: float | None, method: str, blend: dict[str, float] | None = None,
                new_reps: dict[str, str] | None = None, ramp: int = 3, start: str | None = None,
                coverage: float | None = None) -> dict:
    """Quotas per territory as a JSON-ready dict; ``new_reps`` maps rep id -> first month in role.

    ``total`` None (``method`` "bottom-up" only): each territory's quota is its forecast for the plan's
    months; with a total, the forecast's shares split it (bottom-up scaled to a top-down total)."""
    totals, bases, covered = quota_bases(project)
    if not len(totals):
        raise InvalidInputError("quotas", ["the active scenario has no territories"])
    first = pd.Period(start or f"{pd.Timestamp.today().year + 1}-01", "M")
    share, quota, total = _quotas(project, totals, bases, covered, total, method, blend, first)
    months = [str(first + k) for k in range(12)]
    rows = []
    for i, row in enumerate(totals.itertuples()):
        entry = {"territory_id": row.territory_id, "name": row.name, "rep_id": row.rep_id, "share": float(share[i]),
                 "quota": float(quota[i]), **{f"basis_{k}": float(v[i]) for k, v in bases.items()}}
        began = (new_reps or {}).get(str(row.rep_id))
        if began:
            factors = ramp_factors(ramp, (first - pd.Period(began, "M")).n)
            monthly = monthly_quota(quota[i], factors)
            entry.update(ramp_months=ramp, in_role_from=began, ramped_quota=float(monthly.sum()),
                         monthly=dict(zip(months, np.round(monthly, 2).tolist(), strict=True)))
        rows.append(entry)
    unknown = sorted(set(new_reps or {}) - set(totals["rep_id"].astype(str)))
    if unknown:
        raise InvalidInputError("--new-rep", [f"rep '{r}' has no territory in the active scenario" for r in unknown])
    result = {"total": float(total), "method": method, "blend": blend or None, "bases": covered,
              "plan_months": f"{months[0]}..{months[-1]}", "territories": rows,
              "ramped_total": float(sum(r.get("ramped_quota", r["quota"]) for r in rows))}
    if coverage is not None:
        result["capacity"] = capacity_plan(project, totals, coverage)
    return result


def capacity_plan(project: Project, totals: pd.DataFrame, coverage: float) -> dict:
    """Reps the plan needs to cover ``coverage`` of its workload at the reps' mean capacity."""
    capacity = float(project.reps["capacity_hours"].astype(float).mean()) if len(project.reps) else 1600.0
    workload = float(totals["workload_hours"].sum())
    per = [{"territory_id": t, "workload_hours": float(w), "reps_needed": reps_needed(w, capacity, coverage)}
           for t, w in zip(totals["territory_id"], totals["workload_hours"], strict=True)]
    return {"coverage": coverage, "capacity_hours_per_rep": capacity, "workload_hours": workload,
            "reps_needed": reps_needed(workload, capacity, coverage), "reps_now": len(project.reps),
            "territories": per}
