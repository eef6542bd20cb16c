"""Totals per unit and per territory for tables, KPIs and the balancer, from account ownership
(:mod:`.ownership`: overrides, rule territories, then geography)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine.metrics import account_workload_hours, deviation_pct, positions
from ..models import Project
from .ownership import account_owners

MEASURES = ("accounts", "workload_hours", "potential")
#: display name and unit of each measure, for tables and messages
MEASURE_LABELS: dict[str, tuple[str, str]] = {"workload_hours": ("Workload", "h/yr"),
                                              "accounts": ("Accounts", "accounts"),
                                              "potential": ("Potential", "potential")}

__all__ = ["MEASURES", "MEASURE_LABELS", "account_owners", "account_workload", "territory_totals", "unit_measures"]


def account_workload_array(project: Project) -> np.ndarray:
    """Annual field hours of each account, in the order of ``project.accounts``."""
    a = project.accounts
    return account_workload_hours(a["visit_frequency_weeks"].to_numpy(float), a["service_minutes"].to_numpy(float))


def account_workload(project: Project) -> pd.Series:
    """Annual field hours of each account (index account_id)."""
    return pd.Series(account_workload_array(project), index=pd.Index(project.accounts["account_id"].to_numpy(), dtype=object),
                     name="workload_hours")


def unit_measures(project: Project, scenario_id: str | None = None) -> pd.DataFrame:
    """Per unit (index unit_id): accounts, workload_hours and potential of the accounts that lie in it
    and are owned geographically (not by an override or an account-type territory). Arrays and dict
    look-ups (the hover identify asks for it after every edit: a pandas map and group-by took 40-60 ms)."""
    sid = scenario_id or project.active_scenario
    a = project.accounts
    owners = account_owners(project, sid).to_numpy()
    plan = project.plans[sid]
    unit_ids = project.units["unit_id"].to_numpy(dtype=object)
    terr_of_unit = np.array([*(plan.territory_of(u) for u in unit_ids), None], dtype=object)
    where = positions(unit_ids.tolist(), a["unit_id"].to_numpy(dtype=object))  # -1: a unit the project lacks
    unit_terr = terr_of_unit[where]
    geographic = pd.isna(owners) | (owners == unit_terr)
    weights = {"accounts": geographic.astype(float), "workload_hours": account_workload_array(project) * geographic,
               "potential": a["potential"].to_numpy(float) * geographic}
    keep = where >= 0
    data = {m: np.bincount(where[keep], weights=weights[m][keep], minlength=len(unit_ids)).astype(float)
            for m in MEASURES}
    return pd.DataFrame(data, index=pd.Index(unit_ids, name="unit_id"), columns=list(MEASURES))


def territory_totals(project: Project, scenario_id: str | None = None,
                     owners: pd.Series | None = None) -> pd.DataFrame:
    """One row per territory of the scenario: name, rep, units, accounts, workload_hours, potential, and
    the % deviation of workload from the mean of the geographic territories. ``owners``: the scenario's
    :func:`account_owners` when the caller has them already (the table refresh shares one)."""
    sid = scenario_id or project.active_scenario
    terr = project.scenario_territories(sid)
    owners = account_owners(project, sid) if owners is None else owners
    a = project.accounts
    labels = ("territory_id", "name", "rep_id", "kind", "parent_id")
    columns = {k: terr[k].to_numpy() for k in labels}
    row_of = columns["territory_id"].tolist()
    n = len(row_of)
    owned = positions(row_of, owners.to_numpy())  # -1: no territory of this scenario owns the account
    has = owned >= 0
    unit_rows = positions(row_of, list(project.plans[sid].as_dict().values()))
    columns["units"] = np.bincount(unit_rows[unit_rows >= 0], minlength=n).astype(int)
    weights = {"accounts": np.ones(len(a)), "workload_hours": account_workload_array(project),
               "potential": a["potential"].to_numpy(float)}
    for m in MEASURES:
        columns[m] = np.bincount(owned[has], weights=weights[m][has], minlength=n) if n else np.zeros(0)
    columns["accounts"] = columns["accounts"].astype(int)
    geo = columns["kind"] != "account"
    dev = np.zeros(n)
    if geo.any():
        dev[geo] = deviation_pct(columns["workload_hours"][geo])
    columns["workload_deviation_pct"] = dev
    for k in labels:  # the territories' own dtypes (object ids stay objects)
        columns[k] = pd.Series(columns[k], dtype=terr[k].dtype, copy=False)
    return pd.DataFrame(columns)  # one frame from arrays: a column at a time cost several times more
