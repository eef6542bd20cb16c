"""Quotas for a project's territories (and their reps), top-down from a total; ramps; reps needed.

Bases per territory of the active scenario: potential (``metrics.territory_totals``), and sales from the
project's history by the account owners of today's plan (``metrics.account_owners``): ``trailing_12``
(the last 12 months with data) and ``prior_year`` (the last complete calendar year); ``bottom-up``: the
reconciled forecast (``engine.forecast``, the report's model) of each territory's sales over the plan's 12
months, from its monthly history attributed by date (the plan in force at each sale).

Stored quotas (schema 5, the ``quotas`` table): ``save_quotas`` keeps a result as the set of the active
scenario and its plan months (replacing one only when asked); ``stored_quotas`` gives the report and the KPI
dock each territory's quota for a report period from the set that covers it.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ..engine.quotas import monthly_quota, ramp_factors, reps_needed, shares, split_quota
from ..models import InvalidInputError, Project
from ..models.project import QUOTA_COLUMNS
from .metrics import account_owners, territory_totals


def quota_bases(project: Project) -> tuple[pd.DataFrame, dict[str, np.ndarray], dict[str, str]]:
    """(territories, {basis: value per territory}, {basis: the months it covers})."""
    totals = territory_totals(project)
    ids = totals["territory_id"]
    bases = {"potential": totals["potential"].to_numpy(float)}
    covered = {"potential": "annual potential"}
    sales = project.sales
    months = _months(sales["period"])
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


#: the total a quota plan starts from when the project has neither sales nor potential
FALLBACK_TOTAL = 1_000_000.0


def suggested_total(project: Project, growth: float = 0.0) -> tuple[float, str]:
    """A total to start a quota plan from, and where it comes from: the sales of the last complete calendar
    year (the history runs from its January to its December or later), else of the trailing 12 months up
    to the last month with sales (annualised when the history is shorter); without sales, the accounts'
    annual potential; else ``FALLBACK_TOTAL``. Grown by ``growth`` (0.05 = 5 %) and rounded to three
    significant figures (12,345,678 -> 12,300,000), a figure a planner would type."""
    base, why = _sales_base(project)
    if base <= 0:
        potential = pd.to_numeric(project.accounts["potential"], errors="coerce") if len(project.accounts) else None
        base = float(potential.sum()) if potential is not None else 0.0
        why = "the accounts' annual potential"
    if not np.isfinite(base) or base <= 0:
        return FALLBACK_TOTAL, "no sales history or potential"
    grown = base * (1.0 + growth)
    rounded = float(f"{grown:.3g}")
    if growth:
        why += f" grown {growth:+.0%}"
    return rounded, f"{why}: {grown:,.0f}, rounded"


def _sales_base(project: Project) -> tuple[float, str]:
    """(sales of the last complete year or the trailing 12 months, what they cover); (0, "") without sales."""
    sales = project.sales
    if not len(sales):
        return 0.0, ""
    months = _months(sales["period"])
    amount = pd.to_numeric(sales["amount"], errors="coerce").to_numpy(float)
    ok = ~np.asarray(months.isna()) & np.isfinite(amount)
    if not ok.any():
        return 0.0, ""
    months, amount = months[ok], amount[ok]
    first, last = months.min(), months.max()
    year = last.year if last.month == 12 else last.year - 1
    if first <= pd.Period(f"{year}-01", "M"):
        return float(amount[np.asarray(months.year == year)].sum()), f"{year} sales"
    start = max(first, last - 11)
    n = (last - start).n + 1
    total = float(amount[np.asarray(months >= start)].sum()) * 12 / n
    return total, f"sales {start}..{last}" + (f" annualised from {n} months" if n < 12 else "")


def _months(periods: pd.Series) -> pd.PeriodIndex:
    """``periods`` (YYYY-MM) as months, each distinct text parsed once (pandas parses a sequence of texts
    one by one: 20 s for the demo's 935k sales rows, against 0.1 s this way)."""
    if not len(periods):
        return pd.PeriodIndex([], freq="M")
    codes, texts = pd.factorize(periods.astype(str))
    months = pd.PeriodIndex([*texts, None], freq="M")
    return months[np.where(codes < 0, len(texts), codes)]  # a missing period (code -1) stays NaT


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


# ------------------------------------------------------------------------------------ stored quota sets

def quota_rows(project: Project, result: dict, created_at: str) -> pd.DataFrame:
    """The rows (``QUOTA_COLUMNS``) of ``plan_quotas``' ``result`` as a set of the active scenario and the
    result's plan months."""
    first, last = (pd.Period(m, "M") for m in result["plan_months"].split(".."))
    rows = [{"scenario_id": project.active_scenario, "period": result["plan_months"],
             "territory_id": str(r["territory_id"]), "rep_id": None if r["rep_id"] is None else str(r["rep_id"]),
             "period_start": str(first.start_time.date()), "period_end": str(last.end_time.date()),
             "quota": r["quota"], "share": r["share"], "method": result["method"],
             "ramp_months": r.get("ramp_months"), "in_role_from": r.get("in_role_from"),
             "ramped_quota": r.get("ramped_quota"),
             "monthly": json.dumps(r["monthly"], sort_keys=True) if "monthly" in r else None,
             "created_at": created_at} for r in result["territories"]]
    return pd.DataFrame(rows, columns=QUOTA_COLUMNS)


def quota_clash(project: Project, plan_months: str) -> str | None:
    """What already holds the active scenario's quotas for ``plan_months`` ("scenario 'base' already has
    quotas for 2027-01..2027-12 (3 territories, by even, saved ...)"), or None."""
    stored = project.quotas
    if not len(stored):
        return None
    old = stored[((stored["scenario_id"].astype(str) == project.active_scenario)
                  & (stored["period"].astype(str) == plan_months)).to_numpy(bool)]
    if not len(old):
        return None
    return (f"scenario '{project.active_scenario}' already has quotas for {plan_months} ({len(old)} territories, "
            f"by {old['method'].iat[0]}, saved {old['created_at'].iat[0]})")


def save_quotas(project: Project, result: dict, replace: bool = False) -> int:
    """Store ``result`` (``plan_quotas``) as the quota set of the active scenario and its plan months; a set
    already stored for both is replaced only with ``replace`` (else InvalidInputError naming it, see
    ``quota_clash``); a frozen scenario (under review or published) refuses (``review.check_editable``).
    Returns the rows stored; the project is marked dirty (saved by the next save) and the audit log says so."""
    from ..storage.project_file import now
    from .review import check_editable

    check_editable(project)
    clash = quota_clash(project, result["plan_months"])
    if clash and not replace:
        raise InvalidInputError("quotas --save", [f"{clash}: give --replace to replace them"])
    stored = project.quotas
    same = ((stored["scenario_id"].astype(str) == project.active_scenario)
            & (stored["period"].astype(str) == result["plan_months"])).to_numpy(bool) if len(stored) else \
        np.zeros(0, dtype=bool)
    rows = quota_rows(project, result, now())
    kept = stored[~same] if len(stored) else stored
    project.quotas = pd.concat([kept, rows], ignore_index=True) if len(kept) else rows
    project.mark_dirty("quotas")
    project.log("save quotas", f"{'replaced' if clash else 'stored'} {len(rows)} quotas of scenario "
                               f"'{project.active_scenario}' for {result['plan_months']} by {result['method']}, "
                               f"total {result['total']:,.2f}")
    return len(rows)


def stored_quotas(project: Project, period: str, scenario_id: str | None = None) -> pd.Series | None:
    """Quota per territory id for the report period ``period`` (``engine.kpi.parse_period``) from the
    stored set of the scenario (default: active) whose months cover the period (the newest such set):
    each territory's quota spread evenly over the set's months (a new rep's: the ramped monthly quotas),
    summed over the period's days. None when no stored set covers the period."""
    from ..engine.kpi import EPOCH, parse_period

    sid = scenario_id or project.active_scenario
    q = project.quotas
    if not len(q):
        return None
    p = parse_period(period)
    start, end = (pd.Timestamp(EPOCH + np.timedelta64(d, "D")) for d in (p.start, p.end))
    q = q[q["scenario_id"].astype(str) == sid]
    first = pd.to_datetime(q["period_start"], errors="coerce")
    after_last = pd.to_datetime(q["period_end"], errors="coerce") + pd.Timedelta(days=1)
    q = q[((first <= start) & (after_last >= end)).to_numpy(bool)]
    if not len(q):
        return None
    newest = q["period"][q["created_at"].astype(str) == q["created_at"].astype(str).max()].iat[0]
    q = q[q["period"] == newest]
    months = pd.period_range(pd.Timestamp(q["period_start"].iat[0]), pd.Timestamp(q["period_end"].iat[0]), freq="M")
    share = _period_share(months, start, end)
    values = [_period_quota(row, months, share) for row in q.itertuples()]
    return pd.Series(values, index=q["territory_id"].astype(str).to_numpy(), dtype=float)


def _period_share(months: pd.PeriodIndex, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    """The fraction of each month's days inside [start, end)."""
    lo = np.maximum(months.start_time.to_numpy(), start.to_datetime64())
    hi = np.minimum((months.end_time + pd.Timedelta(1, "ns")).to_numpy(), end.to_datetime64())
    inside = np.clip((hi - lo) / np.timedelta64(1, "D"), 0, None)
    return inside / months.days_in_month.to_numpy(float)


def _period_quota(row, months: pd.PeriodIndex, share: np.ndarray) -> float:
    monthly = json.loads(row.monthly) if isinstance(row.monthly, str) and row.monthly else None
    if monthly:
        per = np.array([float(monthly.get(str(m), 0.0)) for m in months])
    else:
        per = np.full(len(months), float(row.quota) / len(months))
    return round(float((per * share).sum()), 2)
