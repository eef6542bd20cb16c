"""Make the demo's history worth analysing: territories that differ, and stories for the alerts to find.

Applied to the sales, visits and opportunities that ``services.demo`` generated (seeded, deterministic):

- **Growth and decline**: each territory gets a trend from -12 % to +18 % a year (shuffled), on top of the
  accounts' own growth, so some territories grow and some decline.
- **Sudden drop**: the 9th territory (by id) loses 35 % of its sales in the last three months.
- **Falling coverage**: the 14th territory's visits thin out from six months back to a third of plan in the
  last three months.
- **Rising lost-deal rate**: the 22nd territory loses most deals that close in the last six months.
- **Churn and new customers**: 8 % of customers stop buying at a random month; 12 % of the prospects
  (accounts with no sales) become customers in the last two years; customers skip 5 % of months.
- **Seasonality** comes from the generator (+-15 % over the year, peak in June).

The territories named here are listed in :data:`STORIES` positions so tests and the README can find them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..models import Project
from .metrics import account_owners

#: position (0-based, territories sorted by id) of each story's territory
STORIES = {"sudden_drop": 8, "falling_coverage": 13, "rising_lost_rate": 21}
DROP = 0.35
TREND_RANGE = (-0.12, 0.18)


def story_territories(project: Project) -> dict[str, str]:
    """Territory id of each story (see :data:`STORIES`), for the project's active scenario."""
    ids = sorted(project.scenario_territories()["territory_id"])
    return {story: ids[k] for story, k in STORIES.items() if k < len(ids)}


def enrich_history(project: Project, rng: np.random.Generator) -> None:
    """Reshape ``project``'s generated history in place (see the module docstring)."""
    owners = account_owners(project)
    stories = story_territories(project)
    project.sales = _sales(rng, project, owners, stories.get("sudden_drop"))
    project.visits = _thin_visits(rng, project.visits, owners, stories.get("falling_coverage"))
    project.opportunities = _lose_deals(rng, project.opportunities, owners, stories.get("rising_lost_rate"))


def _month_index(periods: pd.Series) -> tuple[np.ndarray, pd.PeriodIndex]:
    months = pd.PeriodIndex(periods.astype(str), freq="M")
    first = months.min()
    return np.asarray((months - first).map(lambda d: d.n), dtype=np.int64), months


def _sales(rng: np.random.Generator, project: Project, owners: pd.Series, drop_territory: str | None
           ) -> pd.DataFrame:
    s = project.sales
    month, _ = _month_index(s["period"])
    n_months = int(month.max()) + 1
    terr = s["account_id"].map(owners).to_numpy(object)
    ids = sorted(project.scenario_territories()["territory_id"])
    trend = dict(zip(ids, rng.permutation(np.linspace(*TREND_RANGE, len(ids))), strict=True))
    g = pd.Series(terr).map(trend).fillna(0.0).to_numpy(float)
    amount = s["amount"].to_numpy(float) * (1 + g) ** ((month - n_months / 2) / 12)
    if drop_territory is not None:
        amount = np.where((terr == drop_territory) & (month >= n_months - 3), amount * (1 - DROP), amount)
    out = s.assign(amount=np.round(amount, 2))
    keep = _customer_life(rng, out["account_id"].to_numpy(object), month, n_months)
    return pd.concat([out[keep], _new_customers(rng, project, s, n_months)], ignore_index=True)


def _customer_life(rng: np.random.Generator, account: np.ndarray, month: np.ndarray, n_months: int
                   ) -> np.ndarray:
    """Rows kept: churned customers stop at a random month, and 5 % of customer-months are skipped."""
    codes, uniques = pd.factorize(account)
    churn = rng.random(len(uniques)) < 0.08
    stop = np.where(churn, rng.integers(6, n_months, len(uniques)), n_months)
    return (month < stop[codes]) & (rng.random(len(account)) >= 0.05)


def _new_customers(rng: np.random.Generator, project: Project, sales: pd.DataFrame, n_months: int
                   ) -> pd.DataFrame:
    """Prospects that start buying in the last two years, at a tenth of their potential a year."""
    a = project.accounts
    prospects = a[~a["account_id"].isin(set(sales["account_id"]))]
    chosen = prospects[rng.random(len(prospects)) < 0.12]
    start = rng.integers(n_months - 24, n_months, len(chosen))
    periods = pd.period_range(end=pd.Period(max(sales["period"]), "M"), periods=n_months, freq="M")
    rows = [(acc, str(periods[m]), pot / 120 * rng.lognormal(0, 0.25))
            for acc, pot, s0 in zip(chosen["account_id"], chosen["potential"], start, strict=True)
            for m in range(s0, n_months)]
    return pd.DataFrame({"account_id": [r[0] for r in rows], "period": [r[1] for r in rows],
                         "product": "Core", "amount": np.round([r[2] for r in rows], 2)})


def _thin_visits(rng: np.random.Generator, visits: pd.DataFrame, owners: pd.Series, territory: str | None
                 ) -> pd.DataFrame:
    if territory is None or not len(visits):
        return visits
    day = pd.to_datetime(visits["date"])
    months_back = ((day.max() - day).dt.days / 30.4).to_numpy()
    # 1 six months ago -> 1/3 three months ago, and 1/3 since: a field book of a few dozen accounts (the
    # demo's field-coverage model) still shows the fall in the last quarter's coverage
    keep_p = np.clip(0.33 + (1 - 0.33) * ((months_back - 3) / 3), 0.33, 1.0)
    mine = (visits["account_id"].map(owners) == territory).to_numpy()
    keep = ~mine | (rng.random(len(visits)) < keep_p)
    return visits[keep].reset_index(drop=True)


def _lose_deals(rng: np.random.Generator, opps: pd.DataFrame, owners: pd.Series, territory: str | None
                ) -> pd.DataFrame:
    if territory is None or not len(opps):
        return opps
    closed = pd.to_datetime(opps["closed"])
    recent = (closed >= closed.max() - pd.Timedelta(days=182)).to_numpy()
    mine = (opps["account_id"].map(owners) == territory).to_numpy()
    flip = mine & recent & opps["won"].eq(True).to_numpy() & (rng.random(len(opps)) < 0.75)
    out = opps.copy()
    out.loc[flip, "won"] = False
    out.loc[flip, "stage"] = "Closed Lost"
    return out
