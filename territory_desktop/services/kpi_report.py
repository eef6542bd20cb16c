"""The KPI report behind ``territory-desktop report`` and the KPI dock: KPIs, forecast, backtest, alerts.

The JSON shape is fixed (scripts outside the project read it): a top-level ``territories`` list, each
with ``territory_id`` (the group's id: territory, rep, district or region per ``by``) and the KPIs under
their names; ``forecast_backtest`` keyed by level; ``alerts``; ``forecast``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..engine import alerts as alert_rules
from ..engine.forecast import backtest, forecast_hierarchy
from ..engine.kpi import KPI_NAMES, compute_kpis, parse_period, period_between
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


def forecast_rows(series: SalesSeries, months: int = FORECAST_MONTHS) -> list[dict]:
    """Reconciled forecast of every node for the months after the history, with 80/95 % intervals."""
    fc = forecast_hierarchy(series.hierarchy, series.bottom, months)
    first = series.first_month + series.bottom.shape[1]
    rows = []
    for i, (node, level) in enumerate(zip(series.hierarchy.labels, series.hierarchy.levels, strict=True)):
        for k in range(months):
            rows.append({"id": node, "level": str(level), "month": str(first + k),
                         "mean": round(float(fc.mean[i, k]), 2),
                         "lower_80": round(float(fc.lower[80][i, k]), 2), "upper_80": round(float(fc.upper[80][i, k]), 2),
                         "lower_95": round(float(fc.lower[95][i, k]), 2), "upper_95": round(float(fc.upper[95][i, k]), 2)})
    return rows


def build_report(project: Project, period: str | None = None, by: str = "territory",
                 quotas: pd.Series | None = None) -> dict:
    """Everything ``report --json`` prints (see the module docstring)."""
    label = period or latest_period(project)
    coded = code_project(project)
    table = kpi_table(project, label, by, quotas, coded)
    series = territory_series(project, coded)
    return {
        "project": project.name, "period": parse_period(label).label, "by": by,
        "territories": group_rows(project, table, by),
        "forecast_backtest": {level: {k: _clean(v) for k, v in scores.items()}
                              for level, scores in backtest(series.hierarchy, series.bottom).items()},
        "forecast": forecast_rows(series),
        "alerts": territory_alerts(project, coded, series),
    }


def _window_kpis(project: Project, coded: CodedProject, group_of, labels, start, end) -> pd.DataFrame:
    return compute_kpis(coded.history, period_between("window", start, end), group_of, len(labels))


def _month_day(month: pd.Period) -> int:
    return int((np.datetime64(str(month), "D") - np.datetime64("1970-01-01", "D")).astype(np.int64))


def territory_alerts(project: Project, coded: CodedProject | None = None,
                     series: SalesSeries | None = None) -> list[dict]:
    """Alerts per territory at the end of the history (see :mod:`engine.alerts`)."""
    coded = coded or code_project(project)
    series = series or territory_series(project, coded)
    group_of, labels = group_codes(coded, territory_table(project), "territory")
    T = series.bottom.shape[1]
    end = series.first_month + T  # the month after the history
    day = {k: _month_day(end - k) for k in (0, 3, 6, 18)}
    last, prev = (_window_kpis(project, coded, group_of, labels, day[3], day[0]),
                  _window_kpis(project, coded, group_of, labels, day[6], day[3]))
    before = _window_kpis(project, coded, group_of, labels, day[18], day[6])
    year = _window_kpis(project, coded, group_of, labels, _month_day(end - 12), day[0])
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
    fc = forecast_hierarchy(hier, y[:, :-months], months)
    b = hier.bottom
    mean = fc.mean[b].sum(axis=1)
    sd = ((fc.upper[95][b] - fc.mean[b]) / alert_rules.Z95).sum(axis=1)  # months fully correlated: wide
    actual = y[:, -months:].sum(axis=1)
    return alert_rules.forecast_exits(hier.labels[b], actual, mean, mean - alert_rules.Z95 * sd,
                                      mean + alert_rules.Z95 * sd, label)


__all__ = ["KPI_NAMES", "build_report", "forecast_rows", "group_rows", "territory_alerts"]
