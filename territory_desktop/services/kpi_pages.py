"""The map book's KPI page (Qt-free): one row per territory with the period's sales, growth, win rate,
coverage and pipeline, the bars of its chart (sales against the same period a year earlier) and the
definitions printed under the table. The Qt drawing is ``ui/print/pages.paint_kpi_page``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..engine.kpi import KPI_DEFINITIONS
from ..models import Project
from .kpi import code_project, kpi_table, latest_period
from .printing import TerritorySummary, fmt_money

#: (key, header, align, flex) as ``printing.ACCOUNT_COLUMNS``; the chart is drawn beside the table
KPI_PAGE_COLUMNS: list[tuple[str, str, str, float]] = [
    ("number", "#", "r", 0.4), ("name", "Territory", "l", 2.0), ("rep", "Rep", "l", 1.5),
    ("sales", "Sales", "r", 1.1), ("growth_yoy", "YoY", "r", 0.7), ("growth_pop", "PoP", "r", 0.7),
    ("win_rate", "Win rate", "r", 0.8), ("coverage", "Coverage", "r", 0.85), ("pipeline", "Pipeline", "r", 1.1),
]
DEFINED = ("sales", "growth_yoy", "growth_pop", "win_rate", "coverage", "pipeline")
_STEP = {"Q": 4, "M": 12, "Y": 1}


@dataclass
class KpiPage:
    """The KPI page's content: ``rows`` of text cells (columns of KPI_PAGE_COLUMNS), ``total`` (all
    territories), the chart's ``sales`` and ``prior`` (same period a year earlier) per row, notes."""

    period: str
    prior_period: str
    rows: list[tuple[str, ...]]
    total: tuple[str, ...]
    sales: np.ndarray
    prior: np.ndarray
    territory_ids: list[str]
    definitions: list[str] = field(default_factory=list)


def year_before(label: str) -> str:
    """The same period a year earlier, in the report's spelling: 2026-Q3 -> 2025-Q3, 2026-07 -> 2025-07."""
    if "-Q" in label:
        year, quarter = label.split("-Q")
        return f"{int(year) - 1}-Q{quarter}"
    if len(label) == 7:
        return str(pd.Period(label, "M") - 12)
    return str(int(label) - 1) if label.isdigit() else label


def _pct(v: float) -> str:
    return "–" if v is None or not math.isfinite(v) else f"{round(v * 100):+d}%"  # never "-0%"


def _share(v: float) -> str:
    return "–" if v is None or not math.isfinite(v) else f"{v * 100:.0f}%"


def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


def kpi_page(project: Project, summaries: list[TerritorySummary], period: str | None = None) -> KpiPage | None:
    """The KPI page of ``period`` (default: the last complete quarter) for the territories of the map
    book, in its order; None when the project has no sales history."""
    from .project import ensure_history

    ensure_history(project)  # a project the GUI opened map-first may not have read it yet
    if not len(project.sales):
        return None
    label = period or latest_period(project)
    prior_label = year_before(label)
    coded = code_project(project)
    now = kpi_table(project, label, coded=coded).set_index("group_id")
    before = kpi_table(project, prior_label, coded=coded).set_index("group_id")
    ids = [s.territory_id for s in summaries]
    now, before = now.reindex(ids), before.reindex(ids)
    rows: list[tuple[str, ...]] = [(str(s.number), s.name, s.rep_name, fmt_money(r.sales), _pct(r.growth_yoy), _pct(r.growth_pop),
             _share(r.win_rate), _share(r.coverage), fmt_money(r.pipeline))
            for s, r in zip(summaries, now.itertuples(), strict=True)]
    return KpiPage(label, prior_label, rows, _total_row(now, before), now["sales"].fillna(0).to_numpy(float),
                   before["sales"].fillna(0).to_numpy(float), ids,
                   [f"{k}: {KPI_DEFINITIONS[k]}" for k in DEFINED])


def _total_row(now: pd.DataFrame, before: pd.DataFrame) -> tuple[str, ...]:
    """All territories: sums, and ratios of the summed counts (not means of the territories' ratios);
    period-over-period growth is left blank (the previous period is not computed for the page)."""
    sales, prior = float(now["sales"].sum()), float(before["sales"].sum())
    won, lost = float(now["deals_won"].sum()), float(now["deals_lost"].sum())
    coverage = _ratio(float(now["visits"].sum()), float(now["visits_required"].sum()))
    return ("", "All territories", "", fmt_money(sales), _pct(_ratio(sales, prior) - 1),
            "", _share(_ratio(won, won + lost)), _share(coverage),
            fmt_money(float(now["pipeline"].sum())))
