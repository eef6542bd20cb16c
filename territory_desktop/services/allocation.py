"""Allocate a budget, materials or staff hours across a project's territories (``engine.allocate``).

Curves: a territory with a spend history (``--history``: territory_id, period, spend[, sales]; sales
default to the project's sales of the accounts the territory owns in that period) gets a fitted log curve
when the fit works (4+ periods, spread in spend, positive response); every other territory gets the prior
curve from its potential (``curve_from_potential``): alone, those split the total in proportion to
potential. Bounds: one minimum and maximum for all, and/or a
bounds file (territory_id, min, max).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..engine.allocate import (
    Allocation,
    Curve,
    allocate_continuous,
    allocate_whole,
    curve_from_potential,
    fit_curve,
)
from ..engine.allocate import what_if as what_if_curve
from ..models import InvalidInputError, Project, RowProblem
from .leads import read_rows
from .metrics import account_owners, territory_totals


def _numbers(frame: pd.DataFrame, column: str, problems: list, blank_ok: bool, rows: np.ndarray) -> np.ndarray:
    text = frame[column].astype(str).str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(float)
    blank = (text == "").to_numpy() if blank_ok else np.zeros(len(text), dtype=bool)
    for i in np.flatnonzero((np.isnan(values) & ~blank) | (values < 0)):
        problems.append(RowProblem(int(rows[i]), column, f"'{frame[column].iat[i]}' is not a number of 0 or more"))
    return values


def _read(path: str | Path, required: tuple[str, ...], numeric: tuple[str, ...], known: set[str],
          blank_ok: bool = False) -> pd.DataFrame:
    frame, rows, _notes, _validate = read_rows(path)
    source = Path(path).name
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InvalidInputError(source, [RowProblem(None, c, f"column missing (columns: {', '.join(frame.columns)})")
                                         for c in missing])
    problems: list[RowProblem] = []
    for column in (c for c in numeric if c in frame.columns):
        frame[column] = _numbers(frame, column, problems, blank_ok, rows)
    tid = frame["territory_id"].astype(str).str.strip()
    for i in np.flatnonzero(~tid.isin(known).to_numpy()):
        problems.append(RowProblem(int(rows[i]), "territory_id", f"no territory '{tid.iat[i]}' in the active scenario"))
    if problems:
        raise InvalidInputError(source, problems)
    frame["territory_id"] = tid
    return frame.reset_index(drop=True)


def read_history(path: str | Path, project: Project) -> pd.DataFrame:
    """Spend (and optionally sales) per territory and period, checked: every bad row named."""
    known = set(project.scenario_territories()["territory_id"].astype(str))
    frame = _read(path, ("territory_id", "period", "spend"), ("spend", "sales"), known)
    if "sales" not in frame.columns:
        owners = account_owners(project)
        sales = project.sales.assign(territory_id=project.sales["account_id"].map(owners))
        by = sales.groupby(["territory_id", "period"])["amount"].sum()
        keys = pd.MultiIndex.from_arrays([frame["territory_id"], frame["period"].astype(str)])
        frame["sales"] = by.reindex(keys).fillna(0.0).to_numpy()
    return frame[["territory_id", "period", "spend", "sales"]]


def read_bounds(path: str | Path, project: Project) -> pd.DataFrame:
    known = set(project.scenario_territories()["territory_id"].astype(str))
    return _read(path, ("territory_id",), ("min", "max"), known, blank_ok=True)  # blank: no bound


def project_curves(project: Project, total: float, history: pd.DataFrame | None = None, lift: float = 0.1,
                   saturation: float = 1.0) -> tuple[pd.DataFrame, list[Curve]]:
    """The territories (``metrics.territory_totals``) and one response curve each."""
    totals = territory_totals(project)
    if not len(totals):
        raise InvalidInputError("allocate", ["the active scenario has no territories"])
    potential = totals["potential"].to_numpy(float)
    shares = total * (potential / potential.sum() if potential.sum() > 0 else np.full(len(totals), 1 / len(totals)))
    curves = []
    for row, share in zip(totals.itertuples(), shares, strict=True):
        fitted = None
        if history is not None:
            mine = history[history["territory_id"] == row.territory_id]
            fitted = fit_curve(mine["spend"].to_numpy(float), mine["sales"].to_numpy(float)) if len(mine) else None
        curves.append(fitted or curve_from_potential(row.potential, share, lift, saturation))
    return totals, curves


def bounds_for(totals: pd.DataFrame, total: float, low: float | None, high: float | None,
               bounds: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    lo = np.full(len(totals), low or 0.0)
    hi = np.full(len(totals), total if high is None else high)
    if bounds is not None:
        index = {t: i for i, t in enumerate(totals["territory_id"].astype(str))}
        for row in bounds.itertuples():
            i = index[row.territory_id]
            if "min" in bounds.columns and np.isfinite(row.min):
                lo[i] = row.min
            if "max" in bounds.columns and np.isfinite(row.max):
                hi[i] = row.max
    wrong = [f"territory {t}: minimum {a:,.2f} is above its maximum {b:,.2f}"
             for t, a, b in zip(totals["territory_id"], lo, hi, strict=True) if a > b]
    if wrong:
        raise InvalidInputError("bounds", wrong)
    return lo, hi


def allocate_project(project: Project, total: float, whole: bool = False, low: float | None = None,
                     high: float | None = None, bounds: pd.DataFrame | None = None,
                     history: pd.DataFrame | None = None, what_if_points: int = 9, lift: float = 0.1,
                     saturation: float = 1.0) -> dict:
    """The optimum allocation of ``total`` and the what-if curve, as a JSON-ready dict."""
    totals, curves = project_curves(project, total, history, lift, saturation)
    lo, hi = bounds_for(totals, total, low, high, bounds)
    run = allocate_whole(curves, int(total), lo, hi) if whole else allocate_continuous(curves, total, lo, hi)
    grid = np.linspace(0.25, 2.0, what_if_points) * total if what_if_points else np.empty(0)
    curve_points = what_if_curve(curves, np.round(grid) if whole else grid, lo, hi, whole)
    return {"total": float(total), "whole_units": whole, "expected_return": run.total_return,
            "marginal_return": run.lam, "territories": _rows(totals, curves, run, lo, hi),
            "what_if": [{"total": t, "expected_return": r} for t, r in curve_points]}


def _rows(totals: pd.DataFrame, curves: list[Curve], run: Allocation, lo: np.ndarray, hi: np.ndarray) -> list[dict]:
    rows = []
    for i, (row, c) in enumerate(zip(totals.itertuples(), curves, strict=True)):
        expected = float(run.expected[i])
        band = expected * c.a_rel_se if c.a_rel_se is not None and np.isfinite(c.a_rel_se) else None
        at = "min" if run.amount[i] <= lo[i] + 1e-9 else "max" if run.amount[i] >= hi[i] - 1e-9 else None
        rows.append({"territory_id": row.territory_id, "name": row.name, "amount": float(run.amount[i]),
                     "expected_return": expected, "expected_return_se": band,
                     "marginal_return": float(run.marginal[i]), "at_bound": at, "min": float(lo[i]),
                     "max": float(hi[i]), "potential": float(row.potential),
                     "curve": {"form": c.form, "a": c.a, "b": c.b, "s": c.s, "source": c.source, "r2": c.r2,
                               "a_rel_se": c.a_rel_se, "periods": c.points}})
    return rows
