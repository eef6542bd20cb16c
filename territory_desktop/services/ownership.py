"""Who owns each account in a scenario: the one ownership rule that routing, printing, metrics, KPIs,
packages and leads all call.

First match wins:
1. an account override (``Plan.account_overrides``, set when a planner moves one account);
2. an account-type territory whose ``rule`` matches the account (JSON ``{"field": [values, ...]}``, all
   fields must match; ``{"account_ids": [...]}`` names key accounts);
3. the territory of the unit the account lies in.

The rep of an account is the rep of its owning territory (:func:`account_reps`).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ..engine.metrics import positions
from ..models import Project


def _rule_mask(accounts: pd.DataFrame, rule: dict) -> np.ndarray:
    mask = np.ones(len(accounts), dtype=bool)
    for field, values in rule.items():
        column = "account_id" if field == "account_ids" else field
        if column not in accounts.columns:
            return np.zeros(len(accounts), dtype=bool)
        allowed = {str(v) for v in (values if isinstance(values, list) else [values])}
        mask &= accounts[column].astype(str).isin(allowed).to_numpy()
    return mask


def fixed_owners(project: Project, scenario_id: str | None = None) -> np.ndarray:
    """Per account (``project.accounts`` order): the territory that owns it whatever its unit's territory
    (an account override, else the last account-type territory whose rule matches it), or None where the
    account follows its unit (rule 3). The live totals move only the accounts that follow their unit."""
    sid = scenario_id or project.active_scenario
    plan = project.plans[sid]
    a = project.accounts
    fixed = np.full(len(a), None, dtype=object)
    terr = project.scenario_territories(sid)
    rules = terr[terr["kind"].to_numpy() == "account"]
    for territory_id, rule in zip(rules["territory_id"], rules["rule"], strict=True):
        if rule:
            fixed[_rule_mask(a, json.loads(rule) if isinstance(rule, str) else dict(rule))] = territory_id
    overrides = plan.account_overrides()
    if overrides:
        ids = a["account_id"].to_numpy()
        for i in np.flatnonzero(pd.Series(ids, dtype=object).isin(list(overrides)).to_numpy()):
            fixed[i] = overrides[ids[i]]
    return fixed


def account_owners(project: Project, scenario_id: str | None = None,
                   fixed: np.ndarray | None = None) -> pd.Series:
    """Territory id owning each account (index account_id; None where no territory owns it).
    ``fixed``: the scenario's :func:`fixed_owners` when the caller has them already."""
    sid = scenario_id or project.active_scenario
    plan = project.plans[sid]
    a = project.accounts
    unit_to_territory = plan.as_dict()
    territories = np.array([*unit_to_territory.values(), None], dtype=object)
    territories[pd.isna(territories)] = None  # per unit, not per account: a tenth of the work
    owners = territories[positions(list(unit_to_territory), a["unit_id"].to_numpy(dtype=object))]  # -1: None
    fixed = fixed_owners(project, sid) if fixed is None else fixed
    pinned = pd.notna(fixed)
    owners[pinned] = fixed[pinned]
    # object index: pandas would otherwise convert a million ids to Arrow strings (a tenth of a second)
    return pd.Series(owners, index=pd.Index(a["account_id"].to_numpy(), dtype=object), name="territory_id",
                     dtype=object)


def account_reps(project: Project, scenario_id: str | None = None) -> pd.Series:
    """Rep id of each account's owning territory (index account_id; None where no territory or no rep)."""
    sid = scenario_id or project.active_scenario
    terr = project.scenario_territories(sid)
    rep_of = {str(t): r for t, r in zip(terr["territory_id"], terr["rep_id"], strict=True) if isinstance(r, str)}
    owners = account_owners(project, sid)
    return pd.Series([rep_of.get(t) if isinstance(t, str) else None for t in owners.to_numpy()],
                     index=owners.index, name="rep_id", dtype=object)

