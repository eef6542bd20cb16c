"""Choropleth classes for unit metrics with mapclassify: quantiles, natural breaks, equal interval.

Colours are ColorBrewer sequential ramps as ``#RRGGBB`` strings (no Qt here).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..models import InfeasibleError

SCHEMES = {"quantiles": "Quantiles", "natural_breaks": "Natural breaks (Fisher-Jenks)",
           "equal_interval": "Equal interval"}
#: ColorBrewer YlOrRd, 3..7 classes
RAMPS = {
    3: ["#ffeda0", "#feb24c", "#f03b20"],
    4: ["#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"],
    5: ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"],
    6: ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"],
    7: ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"],
}
NO_DATA = "#d9d9d9"


@dataclass
class Classes:
    """Result of a classification: ``index`` per value (-1 = no data), upper ``bins``, ``colours``."""

    scheme: str
    index: np.ndarray
    bins: np.ndarray
    colours: list[str]
    counts: list[int]

    def legend(self, fmt: str = "{:,.0f}") -> list[tuple[str, str]]:
        """(colour, label) rows like ``"120 - 340 (812)"``: lower and upper bound and unit count."""
        rows = []
        lower = None
        for i, upper in enumerate(self.bins):
            label = f"{fmt.format(lower)} – {fmt.format(upper)}" if lower is not None else f"≤ {fmt.format(upper)}"
            rows.append((self.colours[i], f"{label}  ({self.counts[i]})"))
            lower = upper
        return rows


def classify(values: np.ndarray, scheme: str = "quantiles", k: int = 5) -> Classes:
    """Classify ``values`` (NaN = no data) into at most ``k`` classes (3..7) with ``scheme``."""
    if scheme not in SCHEMES:
        raise InfeasibleError(f"classification scheme '{scheme}' is not one of {', '.join(SCHEMES)}")
    if not 3 <= k <= 7:
        raise InfeasibleError(f"number of classes {k} must be between 3 and 7")
    values = np.asarray(values, dtype=float)
    ok = np.isfinite(values)
    index = np.full(len(values), -1, dtype=int)
    if not ok.any():
        return Classes(scheme, index, np.array([]), [], [])
    data = values[ok]
    distinct = np.unique(data)
    k_eff = int(min(k, len(distinct)))
    if k_eff <= 1:
        index[ok] = 0
        return Classes(scheme, index, np.array([distinct[-1]]), [RAMPS[3][1]], [int(ok.sum())])
    import mapclassify  # imported on first use: it pulls in matplotlib and scikit-learn (~3 s)

    if scheme == "quantiles":
        classifier = mapclassify.Quantiles(data, k=k_eff)
    elif scheme == "natural_breaks":
        # exact Fisher-Jenks is O(k n^2) (pure Python without numba): above 400 values it runs on 400
        # evenly spaced order statistics (deterministic), and every value is then binned by those breaks
        sample = data if len(data) <= 400 else np.sort(data)[np.linspace(0, len(data) - 1, 400).astype(int)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            classifier = mapclassify.FisherJenks(sample, k=k_eff)
    else:
        classifier = mapclassify.EqualInterval(data, k=k_eff)
    bins = np.asarray(classifier.bins, dtype=float)
    bins[-1] = max(bins[-1], float(data.max()))
    yb = np.minimum(np.searchsorted(bins, data, side="left"), len(bins) - 1)
    n = len(bins)
    colours = RAMPS[max(3, n)][:n] if n >= 3 else RAMPS[3][:n]
    index[ok] = yb
    counts = np.bincount(yb, minlength=n).tolist()
    return Classes(scheme, index, bins, colours, counts)


@dataclass(frozen=True)
class Metric:
    """A unit measure the choropleth can show: display ``title``, ``unit`` (may be empty) and whether it
    is a per-area density (the unit's total divided by its area in km², times ``per_km2``)."""

    title: str
    unit: str = ""
    base: str | None = None  # the total a density divides by the area
    per_km2: float = 1.0

    @property
    def label(self) -> str:
        return f"{self.title} ({self.unit})" if self.unit else self.title


METRICS = {
    "workload_hours": Metric("Workload", "h/yr"),
    "accounts": Metric("Accounts"),
    "potential": Metric("Potential"),
    "sales_12m": Metric("Sales, last 12 months"),
    "accounts_density": Metric("Account density", "accounts per 1,000 km²", "accounts", 1000.0),
    "workload_density": Metric("Workload density", "h/yr per 1,000 km²", "workload_hours", 1000.0),
    "potential_density": Metric("Potential density", "per km²", "potential"),
    "sales_density": Metric("Sales density, last 12 months", "per km²", "sales_12m"),
    "route_workload": Metric("Route workload", "h/yr"),
    "route_load_pct": Metric("Territory route load", "% of rep capacity"),
}


def metric_label(key: str) -> str:
    """'Account density (accounts per 1,000 km²)' for a known metric, else the column name as it is."""
    metric = METRICS.get(key)
    return metric.label if metric else key


def unit_metric_values(project, key: str) -> np.ndarray:
    """Values of metric ``key`` per unit, in ``project.units`` order (NaN = no data): the measures of
    ``services.metrics.unit_measures``, sales of the last 12 months of history, their densities per
    ``area_km2``, the route workload and the territory route load, or any numeric unit column."""
    from .metrics import unit_measures

    metric = METRICS.get(key)
    ids = project.units["unit_id"].to_numpy()
    if metric is None:
        if key not in project.units.columns:
            raise InfeasibleError(f"unit metric '{key}' is neither one of {', '.join(METRICS)} nor a unit column")
        return project.units[key].to_numpy(float)
    base = metric.base or key
    if base in ("route_workload", "route_load_pct"):
        return _route_values(project, base).reindex(ids).to_numpy(float)
    if base == "sales_12m":
        totals = _sales_12m(project).reindex(ids).fillna(0.0).to_numpy(float)
    else:
        totals = unit_measures(project)[base].reindex(ids).to_numpy(float)
    if metric.base is None:
        return totals
    area = project.units["area_km2"].to_numpy(float) if "area_km2" in project.units else np.full(len(ids), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(area > 0, totals / area * metric.per_km2, np.nan)


def _route_values(project, key: str):
    """Per unit: its share of the route workload (services.workload.unit_route_workload, h/yr), or the
    route load of its territory (% of the rep's capacity, services.workload.unit_route_load)."""
    from .workload import unit_route_load, unit_route_workload

    return unit_route_workload(project) if key == "route_workload" else unit_route_load(project)


def _sales_12m(project):
    """Sales amount per unit over the last 12 months of the project's sales history."""
    import pandas as pd

    from .project import ensure_history

    ensure_history(project)
    sales = project.sales
    if sales is None or not len(sales):
        return pd.Series(dtype=float)
    periods = pd.PeriodIndex(sales["period"].astype(str), freq="M")
    recent = sales[np.asarray(periods > periods.max() - 12)]
    unit_of = project.accounts.set_index("account_id")["unit_id"]
    return recent.groupby(recent["account_id"].map(unit_of))["amount"].sum()
