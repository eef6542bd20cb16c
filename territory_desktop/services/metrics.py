"""Who owns each account, and the totals per unit and per territory, for tables, KPIs and the balancer.

Ownership of an account in a scenario, first match wins:
1. an account override (``Plan.account_overrides``, set when a planner moves one account);
2. an account-type territory whose ``rule`` matches the account (JSON ``{"field": [values, ...]}``, all
   fields must match; ``{"account_ids": [...]}`` names key accounts);
3. the territory of the unit the account lies in.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ..engine.metrics import account_workload_hours, deviation_pct
from ..models import Project

MEASURES = ("accounts", "workload_hours", "potential")


def account_workload(project: Project) -> pd.Series:
    a = project.accounts
    return pd.Series(account_workload_hours(a["visit_frequency_weeks"].to_numpy(float),
                                            a["service_minutes"].to_numpy(float)),
                     index=a["account_id"].to_numpy(), name="workload_hours")


def _rule_mask(accounts: pd.DataFrame, rule: dict) -> np.ndarray:
    mask = np.ones(len(accounts), dtype=bool)
    for field, values in rule.items():
        column = "account_id" if field == "account_ids" else field
        if column not in accounts.columns:
            return np.zeros(len(accounts), dtype=bool)
        allowed = {str(v) for v in (values if isinstance(values, list) else [values])}
        mask &= accounts[column].astype(str).isin(allowed).to_numpy()
    return mask


def account_owners(project: Project, scenario_id: str | None = None) -> pd.Series:
    """Territory id owning each account (index account_id; None where no territory owns it)."""
    sid = scenario_id or project.active_scenario
    plan = project.plans[sid]
    a = project.accounts
    unit_to_territory = plan.as_dict()
    owners = np.array([unit_to_territory.get(u) for u in a["unit_id"].to_numpy(dtype=object)], dtype=object)
    owners[pd.isna(owners)] = None
    terr = project.scenario_territories(sid)
    for row in terr[terr["kind"] == "account"].itertuples():
        if not row.rule:
            continue
        rule = json.loads(row.rule) if isinstance(row.rule, str) else dict(row.rule)
        owners[_rule_mask(a, rule)] = row.territory_id
    overrides = plan.account_overrides()
    ids = a["account_id"].to_numpy(dtype=object)
    if overrides:
        for i in np.flatnonzero(pd.Index(ids).isin(list(overrides))):
            owners[i] = overrides[ids[i]]
    return pd.Series(owners, index=ids, name="territory_id", dtype=object)


def unit_measures(project: Project, scenario_id: str | None = None) -> pd.DataFrame:
    """Per unit (index unit_id): accounts, workload_hours and potential of the accounts that lie in it
    and are owned geographically (not by an override or an account-type territory)."""
    sid = scenario_id or project.active_scenario
    a = project.accounts
    owners = account_owners(project, sid).to_numpy()
    unit_terr = a["unit_id"].map(project.plans[sid].as_dict()).to_numpy()
    geographic = (owners == unit_terr) | pd.isna(owners)
    frame = pd.DataFrame({
        "unit_id": a["unit_id"].to_numpy(),
        "accounts": geographic.astype(float),
        "workload_hours": account_workload(project).to_numpy() * geographic,
        "potential": a["potential"].to_numpy(float) * geographic,
    })
    sums = frame.groupby("unit_id").sum()
    out = pd.DataFrame(0.0, index=pd.Index(project.units["unit_id"].to_numpy(), name="unit_id"),
                       columns=list(MEASURES))
    common = sums.index.intersection(out.index)
    out.loc[common] = sums.loc[common, list(MEASURES)].to_numpy()
    return out


def territory_totals(project: Project, scenario_id: str | None = None) -> pd.DataFrame:
    """One row per territory of the scenario: name, rep, units, accounts, workload_hours, potential, and
    the % deviation of workload from the mean of the geographic territories."""
    sid = scenario_id or project.active_scenario
    terr = project.scenario_territories(sid)
    owners = account_owners(project, sid)
    a = project.accounts
    out = terr[["territory_id", "name", "rep_id", "kind", "parent_id"]].copy().reset_index(drop=True)
    row_of = pd.Index(out["territory_id"].to_numpy(dtype=object))
    n = len(out)
    owned = row_of.get_indexer(owners.to_numpy())  # -1: no territory of this scenario owns the account
    has = owned >= 0
    unit_rows = row_of.get_indexer(pd.Index(list(project.plans[sid].as_dict().values()), dtype=object))
    out["units"] = np.bincount(unit_rows[unit_rows >= 0], minlength=n).astype(int)
    weights = {"accounts": np.ones(len(a)), "workload_hours": account_workload(project).to_numpy(float),
               "potential": a["potential"].to_numpy(float)}
    for m in MEASURES:
        out[m] = np.bincount(owned[has], weights=weights[m][has], minlength=n) if n else np.zeros(0)
    out["accounts"] = out["accounts"].astype(int)
    geo = (out["kind"] != "account").to_numpy()
    dev = np.zeros(len(out))
    if geo.any():
        dev[geo] = deviation_pct(out.loc[geo, "workload_hours"].to_numpy())
    out["workload_deviation_pct"] = dev
    return out
