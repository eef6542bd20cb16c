"""One ownership rule everywhere: a key account owned by an account-attribute (rule) territory is that
territory's in routing, printing, metrics and the per-unit measures the balancer uses."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from test_routing_service import START, _project

from territory_desktop.models import CRS
from territory_desktop.services.metrics import territory_totals, unit_measures
from territory_desktop.services.ownership import account_owners, account_reps
from territory_desktop.services.printing import accounts_by_territory
from territory_desktop.services.routing import plan_rep_visits, rep_accounts


@pytest.fixture
def project():
    """The routing project (T1/r1 = unit u0 with a00..a19, T2/r2 = u1 with a20..a23; overrides a20 -> T1,
    a00 -> T2) plus key-account territory K1 of rep r3 whose rule names a05 (in u0) and a20."""
    p = _project()
    rule = json.dumps({"account_ids": ["a05", "a20"]})
    p.territories = pd.concat([p.territories, pd.DataFrame([
        {"scenario_id": "base", "territory_id": "K1", "name": "Key accounts", "colour": "#e15759", "rep_id": "r3",
         "parent_id": None, "level": "territory", "kind": "account", "rule": rule}])], ignore_index=True)
    r3 = gpd.GeoDataFrame({"rep_id": ["r3"], "name": ["Kim"], "capacity_hours": 1600.0, "skills": "",
                           "work_start_minute": 480, "work_end_minute": 1020, "zip": ""},
                          geometry=[shapely.Point(-87.72, 41.88)], crs=CRS)
    p.reps = pd.concat([p.reps, r3], ignore_index=True)
    return p


# expected by hand from the fixture: the rule takes a05 from T1; a20's override (T1) beats the rule
EXPECTED = {"K1": {"a05"}, "T1": {f"a{k:02d}" for k in range(1, 20) if k != 5} | {"a20"},
            "T2": {"a00", "a21", "a22", "a23"}}


def test_owners_and_reps(project):
    owners = account_owners(project)
    assert {t: set(owners.index[owners == t]) for t in EXPECTED} == EXPECTED
    reps = account_reps(project)
    assert reps["a05"] == "r3" and reps["a20"] == "r1" and reps["a00"] == "r2"


def test_routing_routes_the_key_account_to_the_rule_territorys_rep(project):
    assert set(rep_accounts(project, "r3")["account_id"]) == {"a05"}
    assert set(rep_accounts(project, "r1")["account_id"]) == EXPECTED["T1"]
    assert set(rep_accounts(project, "r2")["account_id"]) == EXPECTED["T2"]
    plan = plan_rep_visits(project, "r3", START, weeks=2, time_limit=2)
    assert {c.account_id for c in plan.plan.coverage} == {"a05"}


def test_printing_lists_the_key_account_under_its_rule_territory(project):
    rows = accounts_by_territory(project)
    assert {t: {r[0] for r in rows[t]} for t in EXPECTED} == EXPECTED


def test_metrics_count_the_key_account_once_in_its_rule_territory(project):
    totals = territory_totals(project).set_index("territory_id")
    assert {t: int(totals.loc[t, "accounts"]) for t in EXPECTED} == {t: len(a) for t, a in EXPECTED.items()}
    hours = {a: 52 / f * 0.5 for a, f in zip(project.accounts["account_id"], project.accounts["visit_frequency_weeks"],
                                             strict=True)}
    assert totals.loc["K1", "workload_hours"] == pytest.approx(hours["a05"])
    # the balancer's per-unit measures count only accounts owned by their unit's territory
    um = unit_measures(project)
    assert um.loc["u0", "accounts"] == 20 - 2  # a00 (override to T2) and a05 (rule K1) are not T1's by area
    assert um.loc["u1", "accounts"] == 4 - 1  # a20 is T1's by override
