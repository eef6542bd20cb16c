"""Sales KPIs per group (territory, rep, district, region) and period, on plain arrays.

Everything is integer-coded and vectorised (``np.bincount``), so 500,000 sales rows take well under a
second. Dates are whole days since 1970-01-01 (``int64``). A monthly sale is dated the first day of its
month.

Attribution: a sale, a visit or an opportunity counts for the territory that owned its account *on its
date*, read from a "plans in force" history (``owner_from_day`` with one row of ``owners`` per plan, the
plan in force from that day on; a date before the first plan falls to the first plan). The caller builds
``owners`` with the project's one ownership function (``services.metrics.account_owners``).

The KPI definitions are in :data:`KPI_DEFINITIONS` (shown as tooltips and in the README).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..models import InvalidInputError

#: KPI name -> definition (one sentence; the README table and GUI tooltips show these)
KPI_DEFINITIONS: dict[str, str] = {
    "sales": "Sum of sales amounts dated in the period, counted for the territory that owned the account "
             "on the sale's date.",
    "growth_pop": "Period over period growth: sales / sales of the previous period of the same length - 1.",
    "growth_yoy": "Year over year growth: sales / sales of the same period a year earlier - 1.",
    "revenue_per_visit": "Sales / completed visits in the period (visits counted like sales, by the "
                         "territory owning the account on the visit's date).",
    "penetration": "Share of the accounts the group owns at the end of the period that bought in the period.",
    "win_rate": "Won / (won + lost) of the opportunities closed in the period.",
    "avg_deal_size": "Mean amount of the opportunities won in the period.",
    "sales_cycle_days": "Mean days from creation to close of the opportunities won in the period.",
    "followup_days": "Mean days from an opportunity's creation to the next completed visit to its account "
                     "(opportunities created in the period; none within 120 days: not counted).",
    "new_customers": "Accounts buying in the period that bought nothing in the 12 months before it.",
    "retention": "Of the accounts that bought in the previous period, the share that bought again in "
                 "this one.",
    "pipeline": "Amount of the opportunities open at the end of the period (created before its end, not "
                "closed by then).",
    "coverage": "Completed visits / visits required by the owned accounts' frequencies over the period "
                "(an account visited every N weeks needs days / (7 N) visits).",
    "workload_hours": "Field hours a year the owned accounts need (52 / frequency x service minutes / 60).",
    "potential": "Sum of the potential of the accounts the group owns at the end of the period.",
    "attainment": "Sales / quota of the period, where a quota exists.",
}
KPI_NAMES = tuple(KPI_DEFINITIONS)
#: the counts behind the ratios, returned next to the KPIs
COUNT_COLUMNS = ("accounts", "visits", "visits_required", "deals_won", "deals_lost", "won_amount")

EPOCH = np.datetime64("1970-01-01", "D")
FOLLOW_UP_LIMIT_DAYS = 120
_KEY = np.int64(1 << 21)  # account * _KEY + day orders visits by account, then day (days < 2 million)


@dataclass(frozen=True)
class Period:
    """A half-open range of days ``[start, end)`` with its comparison periods."""

    label: str
    start: int
    end: int
    prev_start: int
    yoy_start: int
    yoy_end: int

    @property
    def days(self) -> int:
        return self.end - self.start


def day_number(values) -> np.ndarray:
    """Days since 1970-01-01 of ISO dates or 'YYYY-MM' months (array-like of str, None for missing -> -1)."""
    s = pd.Series(values, dtype=object)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    days = pd.to_datetime(pd.Series(uniques, dtype=object), errors="coerce").to_numpy("datetime64[D]")
    table = np.where(np.isnat(days), -1, (days - EPOCH).astype(np.int64))
    out = np.full(len(s), -1, dtype=np.int64)
    ok = codes >= 0
    out[ok] = table[codes[ok]]
    return out


def _day(ts: pd.Timestamp) -> int:
    return int((np.datetime64(ts.date(), "D") - EPOCH).astype(np.int64))


def _month_period(label: str, first: pd.Period, months: int) -> Period:
    start = first.to_timestamp()
    end = start + pd.DateOffset(months=months)
    prev = start - pd.DateOffset(months=months)
    return Period(label, _day(start), _day(end), _day(prev), _day(start - pd.DateOffset(years=1)),
                  _day(end - pd.DateOffset(years=1)))


def period_between(label: str, start: int, end: int) -> Period:
    """The days ``[start, end)``; the previous period is as many days just before, the year-ago one a year
    earlier."""
    a, b = (pd.Timestamp(EPOCH + np.timedelta64(d, "D")) for d in (start, end))
    return Period(label, start, end, 2 * start - end, _day(a - pd.DateOffset(years=1)),
                  _day(b - pd.DateOffset(years=1)))


def parse_period(text: str) -> Period:
    """'2026-Q3', '2026-07', '2026' or a custom range '2026-01-15..2026-03-31' (inclusive end)."""
    t = text.strip()
    if m := re.fullmatch(r"(\d{4})-?Q([1-4])", t, flags=re.IGNORECASE):
        return _month_period(f"{m[1]}-Q{m[2]}", pd.Period(f"{m[1]}-{3 * int(m[2]) - 2:02d}", "M"), 3)
    if re.fullmatch(r"\d{4}-\d{2}", t) and 1 <= int(t[5:]) <= 12:
        return _month_period(t, pd.Period(t, "M"), 1)
    if re.fullmatch(r"\d{4}", t):
        return _month_period(t, pd.Period(f"{t}-01", "M"), 12)
    if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", t):
        try:
            a, b = pd.Timestamp(m[1]), pd.Timestamp(m[2]) + pd.Timedelta(days=1)
        except ValueError:
            a = b = None
        if a is not None and b > a:
            return period_between(t, _day(a), _day(b))
    raise InvalidInputError("--period", [(f"'{text}' is not a period: use 2026-Q3, 2026-07, 2026 or "
                                         "2026-01-01..2026-03-31")])


@dataclass(frozen=True)
class History:
    """Coded inputs of the KPIs. Accounts are 0..n-1, territories 0..t-1 (-1 = no territory).

    - ``owner_from_day`` (k,) ascending, ``owners`` (k, n): territory of each account under each plan;
    - accounts: ``potential``, ``workload_hours``, ``visit_frequency_weeks`` (n,);
    - sales: ``sale_account``, ``sale_day``, ``sale_amount`` (m,);
    - visits (completed only): ``visit_account``, ``visit_day``;
    - opportunities: ``opp_account``, ``opp_created``, ``opp_closed`` (-1 = open), ``opp_amount``,
      ``opp_won`` (bool).
    """

    n_territories: int
    owner_from_day: np.ndarray
    owners: np.ndarray
    potential: np.ndarray
    workload_hours: np.ndarray
    visit_frequency_weeks: np.ndarray
    sale_account: np.ndarray
    sale_day: np.ndarray
    sale_amount: np.ndarray
    visit_account: np.ndarray
    visit_day: np.ndarray
    opp_account: np.ndarray
    opp_created: np.ndarray
    opp_closed: np.ndarray
    opp_amount: np.ndarray
    opp_won: np.ndarray

    @property
    def n_accounts(self) -> int:
        return int(self.owners.shape[1])


def attribute(history: History, account: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Territory code (-1 = none) owning each ``account[i]`` on ``day[i]``, by the plan then in force."""
    k = np.searchsorted(history.owner_from_day, day, side="right") - 1
    return history.owners[np.clip(k, 0, None), account]


def owners_on(history: History, day: int) -> np.ndarray:
    """Territory code of every account under the plan in force on ``day``."""
    k = max(int(np.searchsorted(history.owner_from_day, day, side="right")) - 1, 0)
    return history.owners[k]


def _ratio(num: np.ndarray, den: np.ndarray, minus_one: bool = False) -> np.ndarray:
    out = np.full(len(num), np.nan)
    ok = den > 0
    out[ok] = num[ok] / den[ok] - (1.0 if minus_one else 0.0)
    return out


class _Grouper:
    """Sums per group of territory-coded rows (``group_of[t]``, -1 drops the row)."""

    def __init__(self, group_of: np.ndarray, n_groups: int):
        self.group_of = np.append(np.asarray(group_of, dtype=np.int64), -1)  # index -1: no territory
        self.n = n_groups

    def sum(self, territory: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        g = self.group_of[territory]
        keep = g >= 0
        w = None if weights is None else np.asarray(weights, dtype=float)[keep]
        return np.bincount(g[keep], weights=w, minlength=self.n).astype(float)

    def count_unique(self, territory: np.ndarray, account: np.ndarray, n_accounts: int) -> np.ndarray:
        """Distinct accounts per group (an account counted once per group)."""
        g = self.group_of[territory]
        keep = g >= 0
        pairs = np.unique(g[keep] * np.int64(n_accounts) + account[keep])
        return np.bincount(pairs // n_accounts, minlength=self.n).astype(float)


def _sales_in(history: History, territory: np.ndarray, lo: int, hi: int):
    mask = (history.sale_day >= lo) & (history.sale_day < hi)
    return territory[mask], history.sale_account[mask], history.sale_amount[mask]


def _buyers(history: History, lo: int, hi: int) -> np.ndarray:
    """(n,) bool: accounts with a positive sale in [lo, hi), whoever owned them."""
    mask = (history.sale_day >= lo) & (history.sale_day < hi) & (history.sale_amount > 0)
    out = np.zeros(history.n_accounts, dtype=bool)
    out[history.sale_account[mask]] = True
    return out


def _sales_kpis(h: History, p: Period, grp: _Grouper, sale_terr: np.ndarray) -> dict[str, np.ndarray]:
    t, acc, amount = _sales_in(h, sale_terr, p.start, p.end)
    sales = grp.sum(t, amount)
    prev = grp.sum(*_sales_in(h, sale_terr, p.prev_start, p.start)[::2])
    yoy = grp.sum(*_sales_in(h, sale_terr, p.yoy_start, p.yoy_end)[::2])
    buying = amount > 0
    before = _buyers(h, p.start - 365, p.start)
    new = buying & ~before[acc]
    new_customers = grp.count_unique(t[new], acc[new], h.n_accounts)
    pt, pacc, pamount = _sales_in(h, sale_terr, p.prev_start, p.start)
    pbuy = pamount > 0
    now = _buyers(h, p.start, p.end)
    base = grp.count_unique(pt[pbuy], pacc[pbuy], h.n_accounts)
    again = pbuy & now[pacc]
    kept = grp.count_unique(pt[again], pacc[again], h.n_accounts)
    return {"sales": sales, "growth_pop": _ratio(sales, prev, True), "growth_yoy": _ratio(sales, yoy, True),
            "new_customers": new_customers, "retention": _ratio(kept, base)}


def _opportunity_kpis(h: History, p: Period, grp: _Grouper) -> dict[str, np.ndarray]:
    closed_in = (h.opp_closed >= p.start) & (h.opp_closed < p.end)
    t = attribute(h, h.opp_account, np.where(h.opp_closed >= 0, h.opp_closed, h.opp_created))
    won = closed_in & h.opp_won
    lost = closed_in & ~h.opp_won
    n_won, n_lost = grp.sum(t[won]), grp.sum(t[lost])
    won_amount = grp.sum(t[won], h.opp_amount[won])
    cycle = grp.sum(t[won], (h.opp_closed - h.opp_created)[won])
    open_at_end = (h.opp_created < p.end) & ((h.opp_closed < 0) | (h.opp_closed >= p.end))
    t_end = attribute(h, h.opp_account, np.full(len(h.opp_account), p.end - 1))
    pipeline = grp.sum(t_end[open_at_end], h.opp_amount[open_at_end])
    return {"win_rate": _ratio(n_won, n_won + n_lost), "avg_deal_size": _ratio(won_amount, n_won),
            "sales_cycle_days": _ratio(cycle, n_won), "pipeline": pipeline, "deals_won": n_won,
            "deals_lost": n_lost, "won_amount": won_amount}


def _account_kpis(h: History, p: Period, grp: _Grouper) -> dict[str, np.ndarray]:
    owner_end = owners_on(h, p.end - 1)
    freq = h.visit_frequency_weeks.astype(float)
    required_each = np.divide(p.days, 7.0 * freq, out=np.zeros_like(freq), where=freq > 0)
    # required visits follow ownership: each plan in force during the period contributes its share
    required = np.zeros(grp.n)
    for k, lo, hi in _plan_spans(h, p.start, p.end):
        required += grp.sum(h.owners[k], required_each * (hi - lo) / p.days)
    mask = (h.visit_day >= p.start) & (h.visit_day < p.end)
    visit_terr = attribute(h, h.visit_account[mask], h.visit_day[mask])
    visits = grp.sum(visit_terr)
    bought = _buyers(h, p.start, p.end)
    accounts = grp.sum(owner_end)
    return {"visits": visits, "visits_required": required, "coverage": _ratio(visits, required),
            "accounts": accounts, "penetration": _ratio(grp.sum(owner_end, bought), accounts),
            "workload_hours": grp.sum(owner_end, h.workload_hours), "potential": grp.sum(owner_end, h.potential)}


def _followup_kpis(h: History, p: Period, grp: _Grouper) -> dict[str, np.ndarray]:
    made = (h.opp_created >= p.start) & (h.opp_created < p.end)
    acc, day = h.opp_account[made], h.opp_created[made]
    keys = np.sort(h.visit_account.astype(np.int64) * _KEY + h.visit_day)
    pos = np.searchsorted(keys, acc.astype(np.int64) * _KEY + day, side="left")
    nxt = keys[np.minimum(pos, len(keys) - 1)] if len(keys) else np.full(len(acc), -1, dtype=np.int64)
    wait = nxt % _KEY - day
    ok = (pos < len(keys)) & (nxt // _KEY == acc) & (wait <= FOLLOW_UP_LIMIT_DAYS)
    t = attribute(h, acc[ok], day[ok])
    return {"followup_days": _ratio(grp.sum(t, wait[ok]), grp.sum(t))}


def _plan_spans(h: History, lo: int, hi: int) -> list[tuple[int, int, int]]:
    """(plan index, from, to) of the plans in force within [lo, hi)."""
    starts = np.append(h.owner_from_day, np.iinfo(np.int64).max)
    starts[0] = np.iinfo(np.int64).min  # the first plan also covers everything before it
    return [(k, max(lo, int(starts[k])), min(hi, int(starts[k + 1]))) for k in range(len(h.owner_from_day))
            if max(lo, int(starts[k])) < min(hi, int(starts[k + 1]))]


def compute_kpis(history: History, period: Period, group_of: np.ndarray, n_groups: int,
                 quotas: np.ndarray | None = None) -> pd.DataFrame:
    """All KPIs (columns :data:`KPI_NAMES` then :data:`COUNT_COLUMNS`), one row per group 0..n_groups-1.

    ``group_of[t]`` maps territory code ``t`` to its group (-1: not counted). ``quotas`` (n_groups,),
    NaN where none, gives ``attainment``. Ratios with a zero denominator are NaN.
    """
    grp = _Grouper(group_of, n_groups)
    sale_terr = attribute(history, history.sale_account, history.sale_day)
    cols = _sales_kpis(history, period, grp, sale_terr)
    cols |= _opportunity_kpis(history, period, grp)
    cols |= _account_kpis(history, period, grp)
    cols |= _followup_kpis(history, period, grp)
    cols["revenue_per_visit"] = _ratio(cols["sales"], cols["visits"])
    q = np.full(n_groups, np.nan) if quotas is None else np.asarray(quotas, dtype=float)
    cols["attainment"] = _ratio(cols["sales"], np.nan_to_num(q, nan=0.0))
    return pd.DataFrame({name: cols[name] for name in KPI_NAMES + COUNT_COLUMNS})


def monthly_sales(history: History, group_of: np.ndarray, n_groups: int, first_month: np.datetime64,
                  n_months: int) -> np.ndarray:
    """(n_groups, n_months) sales per group and calendar month from ``first_month``, attributed by date."""
    terr = attribute(history, history.sale_account, history.sale_day)
    g = np.append(np.asarray(group_of, dtype=np.int64), -1)[terr]
    month = (history.sale_day.astype("datetime64[D]").astype("datetime64[M]")
             - np.datetime64(first_month, "M")).astype(np.int64)
    keep = (g >= 0) & (month >= 0) & (month < n_months)
    flat = np.bincount(g[keep] * n_months + month[keep], weights=history.sale_amount[keep],
                       minlength=n_groups * n_months)
    return flat.reshape(n_groups, n_months)
