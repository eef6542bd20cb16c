"""Reps and account-type territories: match reps to territories, balance key-account territories."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine.balance import assign_reps, balance_accounts
from ..models import InvalidInputError, Project
from .metrics import account_owners, account_workload
from .projection import project_units


def match_reps(project: Project, scenario_id: str | None = None, skill_weight: float = 1.0,
               capacity_weight: float = 2.0) -> pd.DataFrame:
    """Optimal rep -> territory matching for a scenario's geographic territories.

    Uses rep homes, ``capacity_hours`` and ``skills`` (comma-separated industries) against each territory's
    workload hours and its workload mix by account industry. Returns one row per match: rep_id,
    territory_id, distance_km, skill_match, load_over_capacity and reason; ``current_rep`` shows the rep
    the territory has now.
    """
    sid = scenario_id or project.active_scenario
    terr = project.scenario_territories(sid)
    terr = terr[terr["kind"].fillna("geographic") == "geographic"].reset_index(drop=True)
    reps = project.reps.reset_index(drop=True)
    if len(terr) == 0 or len(reps) == 0:
        raise InvalidInputError("rep assignment", ["the scenario needs territories and the project reps"])
    units = project_units(project.units)
    plan = project.plans[sid].as_dict()
    ids = units["unit_id"].astype(str).to_numpy()
    tids = terr["territory_id"].astype(str).tolist()
    cent = units.geometry.representative_point()
    owners = account_owners(project, sid)
    hours = account_workload(project)
    frame = pd.DataFrame({"t": owners.to_numpy(), "h": hours.to_numpy(),
                          "industry": project.accounts["industry"].astype(str).to_numpy()})
    work = frame.groupby("t")["h"].sum().reindex(tids).fillna(0.0).to_numpy()
    mix_tab = frame.groupby(["t", "industry"])["h"].sum()
    mix = []
    for t in tids:
        part = mix_tab[t] if t in mix_tab.index.get_level_values(0) else pd.Series(dtype=float)
        total = float(part.sum())
        mix.append({str(k): float(v) / total for k, v in part.items()} if total > 0 else {})
    lab = np.array([plan.get(u) for u in ids], dtype=object)
    centres = np.array([[cent.x[lab == t].mean(), cent.y[lab == t].mean()] if (lab == t).any() else [np.nan] * 2
                        for t in tids])
    if np.isnan(centres).any():
        empty = [t for t, c in zip(tids, centres, strict=True) if np.isnan(c).any()]
        raise InvalidInputError("rep assignment", [f"territory {t} has no units" for t in empty[:20]])
    homes = project_units(reps, units.crs)
    xy = np.column_stack([homes.geometry.x.to_numpy(), homes.geometry.y.to_numpy()])
    skills = [set(str(s).split(",")) if isinstance(s, str) else set() for s in reps["skills"]]
    matches = assign_reps(reps["rep_id"].astype(str).tolist(), xy, reps["capacity_hours"].to_numpy(float), skills,
                          tids, centres, work, mix, skill_weight, capacity_weight)
    current = dict(zip(terr["territory_id"].astype(str), terr["rep_id"], strict=True))
    return pd.DataFrame([{"rep_id": m.rep, "territory_id": m.territory, "current_rep": current.get(m.territory),
                          "distance_km": round(m.distance_km, 1), "skill_match": round(m.skill_match, 3),
                          "load_over_capacity": round(m.load_over_capacity, 3), "reason": m.reason}
                         for m in matches])


def propose_account_balance(project: Project, territory_ids: list[str] | None = None,
                            measures: tuple[str, ...] = ("workload_hours",), tolerance: float = 0.02,
                            scenario_id: str | None = None, time_limit: float = 10.0) -> dict[str, str]:
    """Balance the accounts owned by account-type territories (default: all of the scenario's) among them.

    The accounts are the units (no contiguity); measures are ``accounts``, ``workload_hours`` or
    ``potential`` per account. Accounts stay near their territory's rep home when the reps have homes.
    Returns account_id -> territory_id for the accounts whose owner changes (apply them with
    ``Plan.set_account_overrides``, one undo step in the GUI).
    """
    sid = scenario_id or project.active_scenario
    terr = project.scenario_territories(sid)
    acct = terr[terr["kind"] == "account"]
    tids = [str(t) for t in (territory_ids or acct["territory_id"].tolist())]
    if len(tids) < 2:
        raise InvalidInputError("account balancing", ["give at least two account-type territories"])
    unknown = [t for t in tids if t not in set(acct["territory_id"].astype(str))]
    if unknown:
        raise InvalidInputError("account balancing", [f"{t} is not an account-type territory of '{sid}'"
                                                      for t in unknown])
    owners = account_owners(project, sid)
    mine = owners.isin(tids).to_numpy()
    accounts = project.accounts[mine]
    if len(accounts) < len(tids):
        raise InvalidInputError("account balancing", [f"{len(accounts)} accounts for {len(tids)} territories"])
    values = {"accounts": np.ones(len(accounts)),
              "workload_hours": account_workload(project).to_numpy()[mine],
              "potential": accounts["potential"].to_numpy(float)}
    bad = [m for m in measures if m not in values]
    if bad:
        raise InvalidInputError("account balancing", [f"unknown measure '{m}' (accounts, workload_hours, potential)"
                                                      for m in bad])
    w = np.column_stack([values[m] for m in measures])
    xy = homes = None
    reps = project.reps.set_index("rep_id") if len(project.reps) else None
    rep_of = dict(zip(acct["territory_id"].astype(str), acct["rep_id"], strict=True))
    if reps is not None and all(isinstance(rep_of.get(t), str) and rep_of[t] in reps.index for t in tids):
        metric = project_units(accounts)
        xy = np.column_stack([metric.geometry.x.to_numpy(), metric.geometry.y.to_numpy()])
        h = project_units(reps.loc[[rep_of[t] for t in tids]], metric.crs)
        homes = np.column_stack([h.geometry.x.to_numpy(), h.geometry.y.to_numpy()])
    labels = balance_accounts(w, len(tids), np.full(len(measures), tolerance), list(measures), xy, homes,
                              time_limit=time_limit)
    ids = accounts["account_id"].astype(str).to_numpy()
    before = owners.to_numpy()[mine]
    return {ids[i]: tids[t] for i, t in enumerate(labels) if before[i] != tids[t]}
