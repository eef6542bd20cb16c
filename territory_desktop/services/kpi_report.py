"""The KPI report behind ``territory-desktop report`` and the KPI dock: KPIs, forecast, backtest, alerts.

The JSON shape is fixed (scripts outside the project read it): a top-level ``territories`` list, each
with ``territory_id`` (the group's id: territory, rep, district or region per ``by``) and the KPIs under
their names; ``forecast_backtest`` keyed by level; ``forecast``; ``alerts``; ``peers`` (by territory).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..engine import alerts as alert_rules
from ..engine import peers
from ..engine.forecast import Forecast, backtest, forecast_hierarchy
from ..engine.kpi import compute_kpis, owners_on, parse_period, period_between
from ..models import Project
from .kpi import (
    CodedProject,
    SalesSeries,
    code_project,
    group_codes,
    kpi_table,
    latest_period,
    territory_series,
    territory_table,
)

FORECAST_MONTHS = 3
#: months of history the forecast needs (two seasons), and the backtest (plus its 12-month holdout)
MIN_FORECAST_MONTHS, MIN_BACKTEST_MONTHS = 24, 36


def accuracy(series: SalesSeries) -> dict:
    """The backtest per level, rounded; empty when the history is shorter than MIN_BACKTEST_MONTHS."""
    if series.bottom.shape[1] < MIN_BACKTEST_MONTHS:
        return {}
    return {level: {k: _clean(v) for k, v in scores.items()}
            for level, scores in backtest(series.hierarchy, series.bottom).items()}


def _clean(value):
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else round(float(value), 6)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _names(project: Project, by: str) -> dict:
    if by == "rep":
        return dict(zip(project.reps["rep_id"], project.reps["name"], strict=False))
    t = project.territories
    return dict(zip(t["territory_id"], t["name"], strict=False))


def group_rows(project: Project, table: pd.DataFrame, by: str) -> list[dict]:
    """The report's ``territories`` list from a :func:`services.kpi.kpi_table` frame."""
    names = _names(project, by)
    rows = []
    for rec in table.to_dict("records"):
        gid = rec.pop("group_id")
        rows.append({"territory_id": gid, "name": names.get(gid), **{k: _clean(v) for k, v in rec.items()}})
    return rows


def forecast_rows(series: SalesSeries, months: int = FORECAST_MONTHS, accuracy_by_level: dict | None = None
                  ) -> list[dict]:
    """Reconciled forecast of every node for the months after the history, with 80/95 % intervals and
    the backtest MASE of the node's level next to it."""
    if series.bottom.shape[1] < MIN_FORECAST_MONTHS:
        return []
    acc = accuracy_by_level or {}
    fc = forecast_hierarchy(series.hierarchy, series.bottom, months)
    first = series.first_month + series.bottom.shape[1]
    rows = []
    for i, (node, level) in enumerate(zip(series.hierarchy.labels, series.hierarchy.levels, strict=True)):
        for k in range(months):
            rows.append({"id": node, "level": str(level), "month": str(first + k),
                         "mean": round(float(fc.mean[i, k]), 2),
                         "lower_80": round(float(fc.lower[80][i, k]), 2), "upper_80": round(float(fc.upper[80][i, k]), 2),
                         "lower_95": round(float(fc.lower[95][i, k]), 2), "upper_95": round(float(fc.upper[95][i, k]), 2),
                         "backtest_mase": acc.get(str(level), {}).get("mase"),
                         "seasonal_naive_mase": acc.get(str(level), {}).get("seasonal_naive_mase")})
    return rows


def build_report(project: Project, period: str | None = None, by: str = "territory",
                 quotas: pd.Series | None = None) -> dict:
    """Everything ``report --json`` prints (see the module docstring)."""
    label = period or latest_period(project)
    coded = code_project(project)
    table = kpi_table(project, label, by, quotas, coded)
    series = territory_series(project, coded)
    scores = accuracy(series)
    report = {
        "project": project.name, "period": parse_period(label).label, "by": by,
        "territories": group_rows(project, table, by),
        "forecast_backtest": scores,
        "forecast": forecast_rows(series, accuracy_by_level=scores),
        "alerts": territory_alerts(project, coded, series),
        "peers": peer_comparison(project, coded, table, label) if by == "territory" else None,
    }
    if quotas is not None:
        report["attainment"] = attainment_summary(table)
    return report


def attainment_summary(table: pd.DataFrame) -> dict:
    """Sales against quota over the groups that have a quota (the report's ``attainment`` object)."""
    has = table["quota"].notna().to_numpy()
    quota, sales = float(table.loc[has, "quota"].sum()), float(table.loc[has, "sales"].sum())
    att = table.loc[has, "attainment"]
    return {"groups_with_quota": int(has.sum()), "groups_without_quota": int((~has).sum()),
            "quota": round(quota, 2), "sales": round(sales, 2),
            "attainment": _clean(sales / quota) if quota > 0 else None,
            "groups_at_or_above_quota": int((att >= 1).sum())}


def peer_comparison(project: Project, coded: CodedProject, table: pd.DataFrame, period: str) -> dict:
    """Peer groups by potential and account mix, the top quartile by yield in each, and the practices
    where the top quartile differs (see :mod:`engine.peers`). ``table``: a by-territory kpi_table."""
    group_of, labels = group_codes(coded, territory_table(project), "territory")
    owner = np.append(group_of, -1)[owners_on(coded.history, parse_period(period).end - 1)]
    is_a = (project.accounts["segment"].astype(str) == "A").to_numpy(float) if "segment" in project.accounts \
        else np.zeros(len(owner))
    ok = owner >= 0
    t = table.set_index("group_id").reindex(labels)
    accounts = t["accounts"].to_numpy(float)
    share = np.bincount(owner[ok], weights=is_a[ok], minlength=len(labels)) / np.where(accounts > 0, accounts, np.nan)
    potential, sales = t["potential"].to_numpy(float), t["sales"].to_numpy(float)
    groups = peers.peer_groups(potential, share)
    top = peers.top_quartile(sales / np.where(potential > 0, potential, np.nan), groups)
    practices = {"visits_per_account": t["visits"].to_numpy(float) / np.where(accounts > 0, accounts, np.nan),
                 "coverage": t["coverage"].to_numpy(float), "a_share": share,
                 "followup_days": t["followup_days"].to_numpy(float)}
    rows = [{"group": int(g) + 1, "potential_from": _clean(potential[groups == g].min()),
             "potential_to": _clean(potential[groups == g].max()),
             "territories": [str(x) for x in labels[groups == g]],
             "top_quartile": [str(x) for x in labels[(groups == g) & top]]} for g in np.unique(groups)]
    return {"groups": rows, "practices": [{k: _clean(v) for k, v in gap.items()}
                                          for gap in peers.practice_gaps(practices, top)]}


def _window_kpis(coded: CodedProject, group_of: np.ndarray, n: int, start: int, end: int) -> pd.DataFrame:
    return compute_kpis(coded.history, period_between("window", start, end), group_of, n)


def _month_day(month: pd.Period) -> int:
    return int((np.datetime64(str(month), "D") - np.datetime64("1970-01-01", "D")).astype(np.int64))


def territory_alerts(project: Project, coded: CodedProject | None = None,
                     series: SalesSeries | None = None) -> list[dict]:
    """Alerts per territory at the end of the history (see :mod:`engine.alerts`)."""
    coded = coded or code_project(project)
    series = series or territory_series(project, coded)
    group_of, labels = group_codes(coded, territory_table(project), "territory")
    T = series.bottom.shape[1]
    if T == 0:
        return []
    end = series.first_month + T  # the month after the history
    day = {k: _month_day(end - k) for k in (0, 3, 6, 18)}
    last, prev, before, year = (_window_kpis(coded, group_of, len(labels), a, b) for a, b in
                                ((day[3], day[0]), (day[6], day[3]), (day[18], day[6]),
                                 (_month_day(end - 12), day[0])))
    out = _forecast_exit_alerts(series, f"{end - 3}..{end - 1}")
    out += alert_rules.falling_coverage(labels, prev["visits"].to_numpy(), prev["visits_required"].to_numpy(),
                                        last["visits"].to_numpy(), last["visits_required"].to_numpy())
    recent_lost = last["deals_lost"].to_numpy() + prev["deals_lost"].to_numpy()
    recent_closed = recent_lost + last["deals_won"].to_numpy() + prev["deals_won"].to_numpy()
    out += alert_rules.rising_lost_rate(labels, before["deals_lost"].to_numpy(),
                                        (before["deals_lost"] + before["deals_won"]).to_numpy(),
                                        recent_lost, recent_closed)
    out += alert_rules.thin_pipeline(labels, last["pipeline"].to_numpy(), year["win_rate"].to_numpy(),
                                     year["won_amount"].to_numpy() / 4, year["deals_won"].to_numpy())
    return out


def _forecast_exit_alerts(series: SalesSeries, label: str, months: int = 3) -> list[dict]:
    """The last ``months`` of each territory against a forecast made just before them."""
    hier, y = series.hierarchy, series.bottom
    if y.shape[1] - months < MIN_FORECAST_MONTHS:
        return []
    fc = forecast_hierarchy(hier, y[:, :-months], months)
    b = hier.bottom
    mean = fc.mean[b].sum(axis=1)
    sd = ((fc.upper[95][b] - fc.mean[b]) / alert_rules.Z95).sum(axis=1)  # months fully correlated: wide
    actual = y[:, -months:].sum(axis=1)
    return alert_rules.forecast_exits(hier.labels[b], actual, mean, mean - alert_rules.Z95 * sd,
                                      mean + alert_rules.Z95 * sd, label)




@dataclass(frozen=True)
class Dashboard:
    """What the KPI dock shows, computed off the GUI thread by :func:`dashboard`."""

    period: str
    by: str
    table: pd.DataFrame  # kpi_table rows (group_id, name, KPIs)
    months: list[str]  # history months
    nodes: list[str]  # forecast nodes (total, regions, districts, territories)
    levels: list[str]
    history: np.ndarray  # (nodes, months) sales
    forecast: Forecast | None  # next FORECAST_MONTHS months, reconciled (None: history too short)
    backtest: dict
    alerts: list[dict]
    peers: dict | None = None  # peer groups and practice gaps (by territory only)


def dashboard(project: Project, period: str | None = None, by: str = "territory",
              quotas_file: str | None = None) -> Dashboard:
    """KPIs, node histories, forecast, backtest and alerts for the KPI dock; ``quotas_file`` as
    ``report --quotas`` (its rows of the period) gives quota and attainment; without one, the stored quotas
    that cover the period (``quotas.stored_quotas``)."""
    from .kpi import read_quotas
    from .quotas import stored_quotas

    label = period or latest_period(project)
    coded = code_project(project)
    quotas = read_quotas(quotas_file, parse_period(label).label) if quotas_file else stored_quotas(project, label)
    table = kpi_table(project, label, by, quotas, coded)
    names = _names(project, by)
    table.insert(1, "name", [names.get(g) for g in table["group_id"]])
    series = territory_series(project, coded)
    hier = series.hierarchy
    months = [str(series.first_month + k) for k in range(series.bottom.shape[1])] if series.first_month else []
    return Dashboard(parse_period(label).label, by, table, months, [str(x) for x in hier.labels],
                     [str(x) for x in hier.levels], hier.S @ series.bottom,
                     forecast_hierarchy(hier, series.bottom, FORECAST_MONTHS)
                     if series.bottom.shape[1] >= MIN_FORECAST_MONTHS else None,
                     accuracy(series), territory_alerts(project, coded, series),
                     peer_comparison(project, coded, table, label) if by == "territory" else None)


def history_periods(project: Project, count: int = 8) -> list[str]:
    """The last ``count`` complete quarters with sales, newest first (the dock's period choices)."""
    if not len(project.sales):
        return []
    last = pd.Period(latest_period(project).replace("-Q", "Q"), "Q")
    first = pd.Period(min(project.sales["period"].astype(str)), "M").asfreq("Q")
    return [f"{q.year}-Q{q.quarter}" for q in (last - k for k in range(count)) if q >= first]


def unit_values(project: Project, table: pd.DataFrame, by: str, kpi: str, unit_ids) -> np.ndarray:
    """The KPI of each unit's group (its territory under the active plan, or that territory's rep,
    district or region), for a choropleth; NaN for units without one."""
    plan = project.plan.as_dict()
    territory = pd.Series([plan.get(u) for u in unit_ids], dtype=object)
    column = {"territory": None, "rep": "rep_id", "district": "district", "region": "region"}[by]
    group = territory if column is None else territory.map(territory_table(project)[column])
    return group.map(table.set_index("group_id")[kpi]).to_numpy(float)
