"""KPIs of a project: builds the engine's coded history from the project's tables and labels the result.

Plans in force: ``project.plans_in_force`` is a list of ``(from_date, plan)`` where ``plan`` is a scenario
id, a published snapshot id (``services.review``: publishing fills it, the file keeps it) or a :class:`Plan`
of the active scenario's territories, in force from ISO ``from_date`` on. With no history, today's plan (the active scenario) is in force for
all dates. Ownership under each plan comes from :func:`services.metrics.account_owners`, the one place
that decides who owns an account.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..engine.kpi import History, Period, compute_kpis, day_number, parse_period
from ..models import InvalidInputError, Plan, Project, RowProblem
from .metrics import account_owners, account_workload
from .review import is_snapshot, snapshot_project

if TYPE_CHECKING:  # the forecast engine is imported when a series is built, not with this module
    from ..engine.forecast import Hierarchy

GROUP_LEVELS = ("territory", "rep", "district", "region")
#: visit outcomes that count as a visit done (an empty outcome counts too)
DONE_OUTCOMES = ("completed", "done")


@dataclass(frozen=True)
class CodedProject:
    """The engine history of a project plus the labels of its codes."""

    history: History
    territory_ids: np.ndarray  # code -> territory id
    account_ids: np.ndarray  # code -> account id


def _owner_rows(project: Project) -> tuple[list[int], list[pd.Series]]:
    entries = list(getattr(project, "plans_in_force", None) or [])
    if not entries:
        return [np.iinfo(np.int64).min // 2], [account_owners(project)]
    entries.sort(key=lambda e: str(e[0]))
    days, rows = [], []
    for from_date, plan in entries:
        day = day_number([str(from_date)])[0]
        if day < 0:
            raise InvalidInputError("plans in force", [f"'{from_date}' is not a date"])
        days.append(int(day))
        rows.append(_owners_under(project, plan))
    return days, rows


def _owners_under(project: Project, plan: Plan | str) -> pd.Series:
    if isinstance(plan, str) and is_snapshot(project, plan):
        return account_owners(snapshot_project(project, plan), plan)
    if isinstance(plan, str):
        if plan not in project.plans:
            raise InvalidInputError("plans in force", [f"scenario '{plan}' does not exist"])
        return account_owners(project, plan)
    sid = project.active_scenario
    return account_owners(dataclasses.replace(project, plans={**project.plans, sid: plan}), sid)


def _account_codes(project: Project, table: pd.DataFrame, ids: pd.Index, source: str) -> np.ndarray:
    codes = ids.get_indexer(table["account_id"].astype(str))
    if (codes < 0).any():
        values = table["account_id"].to_numpy(object)
        raise InvalidInputError(source, [RowProblem(int(i) + 1, "account_id", f"account '{values[i]}' does not "
                                                    "exist") for i in np.flatnonzero(codes < 0)])
    return codes


def _dates(table: pd.DataFrame, column: str, source: str, optional: bool = False) -> np.ndarray:
    """Day numbers of a date column; every unreadable (or, unless ``optional``, empty) value is an error."""
    values = table[column].to_numpy(object)
    days = day_number(values)
    empty = pd.isna(table[column]).to_numpy() | (table[column].astype(str).str.strip() == "").to_numpy()
    bad = (days < 0) & ~(empty & optional)
    if bad.any():
        raise InvalidInputError(source, [RowProblem(int(i) + 1, column, f"'{values[i]}' is not a date")
                                         for i in np.flatnonzero(bad)])
    return days


def code_project(project: Project) -> CodedProject:
    """The coded history the KPI and forecast engines read (see :class:`engine.kpi.History`)."""
    a = project.accounts
    ids = pd.Index(a["account_id"].astype(str))
    days, rows = _owner_rows(project)
    flat = pd.concat([r.reset_index(drop=True) for r in rows], ignore_index=True)
    codes, territory_ids = pd.factorize(flat, use_na_sentinel=True)
    owners = np.asarray(codes, dtype=np.int64).reshape(len(rows), len(a))
    s, v, o = project.sales, project.visits, project.opportunities
    outcome = v["outcome"].fillna("").astype(str).str.lower() if len(v) else pd.Series([], dtype=str)
    v = v[outcome.isin((*DONE_OUTCOMES, "")).to_numpy()]
    history = History(
        n_territories=len(territory_ids), owner_from_day=np.asarray(days, dtype=np.int64), owners=owners,
        potential=a["potential"].to_numpy(float), workload_hours=account_workload(project).to_numpy(),
        visit_frequency_weeks=a["visit_frequency_weeks"].to_numpy(float),
        sale_account=_account_codes(project, s, ids, "sales"), sale_day=_dates(s, "period", "sales"),
        sale_amount=s["amount"].to_numpy(float),
        visit_account=_account_codes(project, v, ids, "visits"), visit_day=_dates(v, "date", "visits"),
        opp_account=_account_codes(project, o, ids, "opportunities"),
        opp_created=_dates(o, "created", "opportunities"),
        opp_closed=_dates(o, "closed", "opportunities", optional=True),
        opp_amount=o["amount"].to_numpy(float), opp_won=o["won"].eq(True).to_numpy(bool),
    )
    return CodedProject(history, np.asarray(territory_ids, dtype=object), ids.to_numpy())


def territory_table(project: Project) -> pd.DataFrame:
    """Territories (all scenarios, the active one first) with their rep, district and region ids."""
    t = project.territories
    t = pd.concat([t[t["scenario_id"] == project.active_scenario], t]).drop_duplicates("territory_id")
    parent = dict(zip(t["territory_id"], t["parent_id"], strict=True))
    terr = t[t["level"] == "territory"][["territory_id", "name", "rep_id", "parent_id"]].copy()
    terr = terr.rename(columns={"parent_id": "district"})
    terr["region"] = terr["district"].map(lambda d: parent.get(d) if isinstance(d, str) else None)
    return terr.set_index("territory_id")


def group_codes(coded: CodedProject, table: pd.DataFrame, by: str) -> tuple[np.ndarray, np.ndarray]:
    """(group_of per territory code, group labels) for ``by`` in :data:`GROUP_LEVELS`."""
    if by not in GROUP_LEVELS:
        raise InvalidInputError("--by", [f"'{by}' is not one of {', '.join(GROUP_LEVELS)}"])
    column = {"territory": None, "rep": "rep_id", "district": "district", "region": "region"}[by]
    known = pd.Series(coded.territory_ids).where(pd.Series(coded.territory_ids).isin(table.index))
    labels = known if column is None else known.map(table[column])
    codes, uniques = pd.factorize(labels, sort=True, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object)


def kpi_table(project: Project, period: str | Period, by: str = "territory",
              quotas: pd.Series | None = None, coded: CodedProject | None = None) -> pd.DataFrame:
    """One row per group (``group_id`` column first) with every KPI for ``period``.

    ``quotas``: quota per group id for this period (attainment, and a ``quota`` column); a group without
    its own quota has the sum of its territories' quotas (a rep's, district's or region's from territory
    quotas); groups with neither have none (NaN).
    """
    p = parse_period(period) if isinstance(period, str) else period
    coded = coded or code_project(project)
    table = territory_table(project)
    group_of, labels = group_codes(coded, table, by)
    q = None if quotas is None else group_quotas(quotas, labels, table, by)
    frame = compute_kpis(coded.history, p, group_of, len(labels), q)
    frame.insert(0, "group_id", labels)
    frame["quota"] = np.full(len(labels), np.nan) if q is None else q
    return frame


def group_quotas(quotas: pd.Series, labels: np.ndarray, table: pd.DataFrame, by: str) -> np.ndarray:
    """Quota per group label: its own, else the sum of the quotas of the territories it holds (NaN: none)."""
    own = pd.Series(labels).map(quotas).to_numpy(float)
    if by == "territory":
        return own
    column = {"rep": "rep_id", "district": "district", "region": "region"}[by]
    held = quotas[quotas.index.isin(table.index)]
    rolled = held.groupby(table.loc[held.index, column].to_numpy()).sum(min_count=1)
    return np.where(np.isnan(own), pd.Series(labels).map(rolled).to_numpy(float), own)


def latest_period(project: Project, kind: str = "quarter") -> str:
    """The last complete month/quarter/year with sales (the report's default period)."""
    if not len(project.sales):
        raise InvalidInputError("sales", ["the project has no sales history: give --period"])
    last = pd.Period(max(project.sales["period"].astype(str)), "M")
    if kind == "month":
        return str(last)
    q = last.asfreq("Q")
    if last != q.asfreq("M", how="end"):
        q -= 1
    return f"{q.year}-Q{q.quarter}"


@dataclass(frozen=True)
class SalesSeries:
    """Monthly sales of the territories (rows) from ``first_month`` on, and their hierarchy."""

    hierarchy: Hierarchy
    bottom: np.ndarray  # (territories, months)
    first_month: pd.Period | None  # None: no sales


def territory_series(project: Project, coded: CodedProject | None = None) -> SalesSeries:
    """Monthly sales per territory of the active scenario's hierarchy, attributed by date."""
    from ..engine.forecast import build_hierarchy
    from ..engine.kpi import monthly_sales

    coded = coded or code_project(project)
    table = territory_table(project)
    group_of, labels = group_codes(coded, table, "territory")
    if not len(project.sales):
        return SalesSeries(build_hierarchy(labels, _parents(table, labels)), np.zeros((len(labels), 0)), None)
    months = pd.PeriodIndex(project.sales["period"].astype(str).unique(), freq="M")
    first, last = months.min(), months.max()
    n_months = (last - first).n + 1
    bottom = monthly_sales(coded.history, group_of, len(labels), np.datetime64(str(first), "M"), n_months)
    return SalesSeries(build_hierarchy(labels, _parents(table, labels)), bottom, first)


def _parents(table: pd.DataFrame, labels: np.ndarray) -> dict[str, np.ndarray]:
    return {level: table.loc[labels, level].to_numpy(object) for level in ("district", "region")}


#: column names read as the id of a quota row (the ``quotas --out`` file has territory_id)
QUOTA_ID_COLUMNS = ("id", "territory_id", "rep_id", "district_id", "region_id", "group_id")


def read_quotas(path: str, period: str | None = None) -> pd.Series:
    """Quotas from CSV/XLSX with columns ``id`` (territory/rep/district/region; or ``territory_id``, as
    ``quotas --out`` writes) and ``quota``; with a ``period`` column, only the rows of ``period`` (one file
    can hold every quarter). Every bad row reported at once (spreadsheet row numbers, header = row 1)."""
    from ..storage.tabular import read_table

    table = read_table(path)
    frame = table.frame
    cols = {str(c).strip().lower(): c for c in frame.columns}
    id_col = next((c for c in QUOTA_ID_COLUMNS if c in cols), None)
    if id_col is not None:
        cols["id"] = cols[id_col]
    if "period" in cols and period is not None:
        frame = frame[frame[cols["period"]].astype(str).str.strip().str.upper() == period.upper()]
    rows = frame.index  # the index holds the spreadsheet row numbers
    missing = [c for c in ("id", "quota") if c not in cols]
    if missing:
        raise InvalidInputError(str(path), [f"no '{c}' column (columns: {', '.join(map(str, frame.columns))})"
                                            for c in missing])
    ids = frame[cols["id"]].astype(str).str.strip()
    values = pd.to_numeric(frame[cols["quota"]].astype(str).str.strip(), errors="coerce")
    problems = list(table.problems)
    problems += [RowProblem(int(rows[i]), str(cols["quota"]), f"'{frame[cols['quota']].iat[i]}' is not a quota "
                                                               "(a number >= 0)")
                 for i in np.flatnonzero(~(values >= 0).to_numpy())]
    problems += [RowProblem(int(rows[i]), str(cols["id"]), f"duplicate id '{ids.iat[i]}'")
                 for i in np.flatnonzero(ids.duplicated().to_numpy())]
    problems += [RowProblem(int(rows[i]), str(cols["id"]), "empty id")
                 for i in np.flatnonzero((ids == "").to_numpy())]
    if problems:
        raise InvalidInputError(str(path), problems)
    return pd.Series(values.to_numpy(float), index=ids.to_numpy())


#: unit measures from the history that the balancer can balance or cap (``balance --weight sales_t12m``)
PERFORMANCE_MEASURES = ("sales_t12m", "pipeline", "growth_t12m")


def account_performance(project: Project) -> pd.DataFrame:
    """Per account (index account_id, the accounts table's order): ``sales_t12m`` (sales of the 12 months
    up to the last day with sales), ``sales_prior_12m`` (the 12 months before) and ``pipeline`` (amount of
    the opportunities still open). The one definition of trailing-12-month revenue and open pipeline."""
    h = code_project(project).history
    end = int(h.sale_day.max()) + 1 if len(h.sale_day) else 0
    per_account = {}
    for name, lo, hi in (("now", end - 365, end), ("before", end - 730, end - 365)):
        mask = (h.sale_day >= lo) & (h.sale_day < hi)
        per_account[name] = np.bincount(h.sale_account[mask], h.sale_amount[mask], minlength=h.n_accounts)
    open_ = h.opp_closed < 0
    pipeline = np.bincount(h.opp_account[open_], h.opp_amount[open_], minlength=h.n_accounts)
    return pd.DataFrame({"sales_t12m": per_account["now"], "sales_prior_12m": per_account["before"],
                         "pipeline": pipeline}, index=project.accounts["account_id"].astype(str).to_numpy())


def unit_performance_measures(project: Project, scenario_id: str | None = None) -> pd.DataFrame:
    """Per unit (index unit_id): ``sales_t12m`` (sales of the last 12 months with sales), ``pipeline`` (open
    at the end of the history) and ``growth_t12m`` (sales_t12m minus the 12 months before, may be negative)
    of the accounts lying in the unit and owned through it (not by an override or an account territory)."""
    sid = scenario_id or project.active_scenario
    a = project.accounts
    owners = account_owners(project, sid).to_numpy()
    unit_terr = a["unit_id"].map(project.plans[sid].as_dict()).to_numpy()
    geographic = ((owners == unit_terr) | pd.isna(owners)).astype(float)
    perf = account_performance(project)
    now = perf["sales_t12m"].to_numpy()
    frame = pd.DataFrame({"unit_id": a["unit_id"].to_numpy(), "sales_t12m": now * geographic,
                          "pipeline": perf["pipeline"].to_numpy() * geographic,
                          "growth_t12m": (now - perf["sales_prior_12m"].to_numpy()) * geographic})
    sums = frame.groupby("unit_id").sum()
    index = pd.Index(project.units["unit_id"].to_numpy(), name="unit_id")
    return sums.reindex(index).fillna(0.0)[list(PERFORMANCE_MEASURES)]
