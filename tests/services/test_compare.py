"""Scenario management, comparison and minimal-disruption realignment on small hand-made plans: every
expected number below is worked out by hand from the fixture, not read from the code."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from territory_desktop.models import CRS, InfeasibleError, InvalidInputError, Plan, Project
from territory_desktop.services import review
from territory_desktop.services.compare import compare_scenarios, comparison_sheets
from territory_desktop.services.scenarios import (
    create_scenario,
    delete_scenario,
    duplicate_scenario,
    list_scenarios,
    rename_scenario,
    resolve_scenario,
)


def grid_units(nx: int = 3, ny: int = 3) -> gpd.GeoDataFrame:
    """nx x ny one-degree squares from (-100, 40), ids u0.. row by row (as tests/conftest.py's, importable
    from the ui tests too)."""
    boxes = [shapely.box(-100 + i, 40 + j, -99 + i, 41 + j) for j in range(ny) for i in range(nx)]
    return gpd.GeoDataFrame({"unit_id": [f"u{k}" for k in range(len(boxes))],
                             "name": [f"Unit {k}" for k in range(len(boxes))], "area_km2": 1.0, "locked": False},
                            geometry=boxes, crs=CRS)


def territory_rows(ids_names: list[tuple[str, str]], scenario: str = "base") -> pd.DataFrame:
    return pd.DataFrame([{"scenario_id": scenario, "territory_id": t, "name": n, "colour": "#4e79a7",
                          "rep_id": None, "parent_id": None, "level": "territory", "kind": "geographic",
                          "rule": None} for t, n in ids_names])


def _accounts(rows: list[tuple[str, str, float, float]]) -> gpd.GeoDataFrame:
    """(account_id, unit_id, lon, lat) rows with the other account fields filled."""
    n = len(rows)
    return gpd.GeoDataFrame(
        {"account_id": [r[0] for r in rows], "name": [f"Account {r[0]}" for r in rows], "segment": "A",
         "industry": "Retail", "size_class": "Small", "potential": 100.0, "visit_frequency_weeks": [4] * n,
         "service_minutes": 30.0, "open_minute": 480, "close_minute": 1020, "zip": "",
         "unit_id": [r[1] for r in rows]},
        geometry=gpd.points_from_xy([r[2] for r in rows], [r[3] for r in rows]), crs=CRS)


def _reps(ids: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"rep_id": ids, "name": [f"Rep {r}" for r in ids], "capacity_hours": 1600.0,
                             "skills": "", "work_start_minute": 480, "work_end_minute": 1020, "zip": ""},
                            geometry=gpd.points_from_xy([-99.5 + i for i in range(len(ids))], [40.5] * len(ids)),
                            crs=CRS)


@pytest.fixture
def two_plans() -> Project:
    """3x3 grid; base: W (columns 0-1, rep r1) and E (column 2, rep r2); scenario "b" moves u1 and u4 to E.
    Accounts: a1 in u0, a2 in u4, a3 in u8, a4 and a5 in u1. Sales inside the last 12 months: a1 5000,
    a2 1000, a3 700, a4 300, a5 200 (and 500 two years earlier, outside the window); open pipeline: a1 50,
    a2 400 (a4's 900 is closed)."""
    p = Project(name="two plans")
    p.units = grid_units()
    p.accounts = _accounts([("a1", "u0", -99.5, 40.5), ("a2", "u4", -98.5, 41.5), ("a3", "u8", -97.5, 42.5),
                            ("a4", "u1", -98.6, 40.5), ("a5", "u1", -98.4, 40.5)])
    p.reps = _reps(["r1", "r2"])
    terr = territory_rows([("W", "West"), ("E", "East")])
    terr["rep_id"] = ["r1", "r2"]
    p.territories = terr
    base = {f"u{k}": ("E" if k % 3 == 2 else "W") for k in range(9)}
    p.plans = {"base": Plan(base)}
    sid = create_scenario(p, "Moved", "u1 and u4 to East")
    p.plans[sid].assign(["u1", "u4"], "E")
    p.sales = pd.DataFrame({"account_id": ["a1", "a2", "a3", "a4", "a5", "a5"],
                            "period": ["2026-06-30", "2026-03-01", "2025-09-01", "2026-01-15", "2025-12-01",
                                       "2024-05-01"],
                            "product": "P", "amount": [5000.0, 1000.0, 700.0, 300.0, 200.0, 500.0]})
    p.opportunities = pd.DataFrame({"opportunity_id": ["o1", "o2", "o3"], "account_id": ["a1", "a2", "a4"],
                                    "rep_id": ["r1", "r1", "r1"], "created": ["2026-01-01"] * 3,
                                    "closed": [None, None, "2026-05-01"], "stage": ["open", "open", "won"],
                                    "amount": [50.0, 400.0, 900.0], "won": [False, False, True]})
    return p


def test_compare_counts_moves_and_relationship_disruption_by_hand(two_plans):
    sid = resolve_scenario(two_plans, "Moved")
    c = compare_scenarios(two_plans, "base", sid, route=False)
    t = c.totals
    assert t["units_moved"] == 2
    assert set(c.units["unit_id"]) == {"u1", "u4"}
    assert t["accounts_changing_rep"] == 3  # a2 (u4), a4 and a5 (u1): r1 -> r2
    assert set(c.accounts.loc[c.accounts["changes_rep"], "account_id"]) == {"a2", "a4", "a5"}
    assert t["revenue_changing_rep"] == pytest.approx(1000 + 300 + 200)  # a5's 2024 sale is outside T12M
    assert t["pipeline_changing_rep"] == pytest.approx(400)  # a4's opportunity is closed
    assert t["revenue_t12m_total"] == pytest.approx(5000 + 1000 + 700 + 300 + 200)
    rows = c.territories.set_index("territory_id")
    expected = {"W": dict(units_before=6, units_after=4, gained=0, lost=2, accounts_before=4, accounts_after=1,
                          revenue_before=6500.0, revenue_after=5000.0, pipeline_before=450.0, pipeline_after=50.0),
                "E": dict(units_before=3, units_after=5, gained=2, lost=0, accounts_before=1, accounts_after=4,
                          revenue_before=700.0, revenue_after=2200.0, pipeline_before=0.0, pipeline_after=400.0)}
    for tid, values in expected.items():
        for key, value in values.items():
            assert rows.loc[tid, key] == pytest.approx(value), (tid, key)
    # workload: 52/4 visits a year x 0.5 h = 6.5 h per account
    assert rows.loc["E", "workload_after"] == pytest.approx(4 * 6.5)
    reps = c.reps.set_index("rep_id")
    assert reps.loc["r1", "accounts_lost"] == 3 and reps.loc["r2", "accounts_gained"] == 3
    assert reps.loc["r2", "revenue_gained"] == pytest.approx(1500)
    flows = c.flows
    assert len(flows) == 1 and flows.iloc[0]["territory_before"] == "W" and flows.iloc[0]["units"] == 2
    assert flows.iloc[0]["accounts"] == 3


def test_compare_json_keys_are_the_contract(two_plans):
    sid = resolve_scenario(two_plans, "Moved")
    doc = json.loads(json.dumps(compare_scenarios(two_plans, "base", sid, route=False).to_json()))
    for key in ("units_moved", "accounts_changing_rep", "revenue_changing_rep", "territories"):
        assert key in doc
    for row in doc["territories"]:
        assert {"territory_id", "units_before", "units_after", "gained", "lost"} <= set(row)


def test_a_rep_change_alone_is_disruption_without_a_unit_move(two_plans):
    """Give East to a new rep r3 in a copy: no unit moves, yet a3 changes rep."""
    two_plans.reps = _reps(["r1", "r2", "r3"])
    sid = duplicate_scenario(two_plans, "base", "New rep east")
    t = two_plans.territories
    two_plans.territories.loc[(t["scenario_id"] == sid) & (t["territory_id"] == "E"), "rep_id"] = "r3"
    c = compare_scenarios(two_plans, "base", sid, route=False)
    assert c.totals["units_moved"] == 0
    assert c.totals["accounts_changing_rep"] == 1 and c.totals["accounts_changing_territory"] == 0
    assert c.totals["revenue_changing_rep"] == pytest.approx(700)


def test_scenario_management(two_plans):
    p = two_plans
    sid = create_scenario(p, "Copy", "why not")
    assert p.plans[sid].as_dict() == p.plans["base"].as_dict()
    assert p.plans[sid] is not p.plans["base"]
    assert len(p.scenario_territories(sid)) == 2
    rename_scenario(p, sid, "Copy 2", "a reason")
    listed = {r["scenario_id"]: r for r in list_scenarios(p)}
    assert listed[sid]["name"] == "Copy 2" and listed[sid]["description"] == "a reason"
    moved = resolve_scenario(p, "moved")  # names are case-insensitive
    assert listed[moved]["units_changed_from_parent"] == 2
    with pytest.raises(InvalidInputError, match="shown"):
        delete_scenario(p, "base")
    review.transition(p, sid, "propose")
    with pytest.raises(InvalidInputError, match="is proposed"):  # the review flow's freeze
        delete_scenario(p, sid)
    with pytest.raises(InvalidInputError, match="is proposed"):
        rename_scenario(p, sid, "Renamed under review")
    review.transition(p, sid, "send-back")
    delete_scenario(p, sid)
    assert sid not in p.plans and not (p.territories["scenario_id"] == sid).any()
    assert sid not in set(p.scenarios["scenario_id"])
    delete_scenario(p, moved)
    with pytest.raises(InvalidInputError, match="only scenario"):
        delete_scenario(p, "base")
    with pytest.raises(InvalidInputError, match="no scenario 'nope'"):
        resolve_scenario(p, "nope")
    with pytest.raises(InvalidInputError, match="empty"):
        create_scenario(p, "  ")


def test_change_report_xlsx_has_the_sheets(two_plans, tmp_path):
    from openpyxl import load_workbook

    from territory_desktop.storage.export import write_sheets

    sid = resolve_scenario(two_plans, "Moved")
    out = write_sheets(comparison_sheets(compare_scenarios(two_plans, "base", sid, route=False)),
                       tmp_path / "c.xlsx")
    book = load_workbook(out)
    assert book.sheetnames == ["Summary", "Territories", "Reps", "Accounts", "Units"]
    units = [r[0] for r in book["Units"].iter_rows(min_row=2, values_only=True)]
    assert sorted(units) == ["u1", "u4"]


# ---------------------------------------------------------------- realignment


@pytest.fixture
def lopsided() -> Project:
    """6x6 grid, 2 territories: L = column 0 (6 units), R = the rest (30 units), reps r1 and r2. Every unit
    has 2 accounts, so workload is 6:30 and balancing must move units from R to L."""
    p = Project(name="lopsided")
    p.units = grid_units(6, 6)
    rows = []
    for k in range(36):
        x, y = -100 + (k % 6) + 0.5, 40 + (k // 6) + 0.5
        rows += [(f"a{k:02d}x", f"u{k}", x - 0.2, y), (f"a{k:02d}y", f"u{k}", x + 0.2, y)]
    p.accounts = _accounts(rows)
    p.reps = _reps(["r1", "r2"])
    terr = territory_rows([("L", "Left"), ("R", "Right")])
    terr["rep_id"] = ["r1", "r2"]
    p.territories = terr
    p.plans = {"base": Plan({f"u{k}": ("L" if k % 6 == 0 else "R") for k in range(36)})}
    return p


def _reps_by_hand(p: Project, sid: str) -> dict[str, str]:
    rep = dict(zip(p.scenario_territories(sid)["territory_id"], p.scenario_territories(sid)["rep_id"], strict=True))
    plan = p.plans[sid].as_dict()
    return {a: rep[plan[u]] for a, u in zip(p.accounts["account_id"], p.accounts["unit_id"], strict=True)}


def test_realign_respects_the_cap_and_never_moves_a_protected_account(lopsided):
    from territory_desktop.services.realign import RealignRequest, realign

    # u1 (column 1, next to L) is the first unit a balancer would take; protect one of its accounts
    protect = ("a01x",)
    req = RealignRequest("balance", measure="accounts", tolerance=0.05, max_accounts_moved=10, protect=protect,
                         alternatives=2, time_limit=3)
    options = realign(lopsided, req)
    assert {o.cap_label for o in options} == {"10 accounts", "5 accounts"}
    before = _reps_by_hand(lopsided, "base")
    for o in options:
        after = _reps_by_hand(lopsided, o.scenario_id)
        changed = [a for a in before if before[a] != after[a]]
        cap = 10 if o.cap_label == "10 accounts" else 5
        assert 0 < len(changed) <= cap
        assert o.disruption["accounts_changing_rep"] == len(changed)
        assert "a01x" not in changed and lopsided.plans[o.scenario_id].territory_of("u1") == "R"
        assert o.scenario_id in lopsided.plans and not o.within_tolerance  # 5 % needs ~12 units moved


def test_realign_with_room_reaches_the_goal_moving_the_least(lopsided):
    from territory_desktop.services.realign import RealignRequest, realign

    req = RealignRequest("balance", measure="accounts", tolerance=0.05, max_accounts_moved=40, alternatives=1,
                         time_limit=5)
    (option,) = realign(lopsided, req)
    plan = lopsided.plans[option.scenario_id].as_dict()
    counts = pd.Series(plan).value_counts() * 2  # 2 accounts per unit
    assert option.within_tolerance and np.allclose(counts / counts.mean(), 1, atol=0.05)
    # the least it can move: 12 units (24 accounts) to L, from 6 units to 18 each
    assert option.disruption["accounts_changing_rep"] == 24


def test_realign_remove_rep_dissolves_the_territory(lopsided):
    from territory_desktop.services.realign import RealignRequest, realign

    lopsided.territories = pd.concat([lopsided.territories, territory_rows([("M", "Middle")])], ignore_index=True)
    lopsided.territories.loc[lopsided.territories["territory_id"] == "M", "rep_id"] = "r3"
    lopsided.reps = _reps(["r1", "r2", "r3"])
    lopsided.plans["base"].assign([f"u{k}" for k in range(36) if k % 6 == 3], "M")
    req = RealignRequest("remove-rep", rep_id="r3", measure="accounts", tolerance=0.5, alternatives=1, time_limit=3)
    (option,) = realign(lopsided, req)
    plan = lopsided.plans[option.scenario_id].as_dict()
    assert "M" not in set(plan.values()) and None not in set(plan.values())
    assert set(lopsided.scenario_territories(option.scenario_id)["territory_id"]) == {"L", "R"}
    with pytest.raises(InvalidInputError, match="protect"):
        realign(lopsided, RealignRequest("remove-rep", rep_id="r3", protect=("nope",)))
    with pytest.raises(InfeasibleError, match="a03x"):  # u3 is M's: its rep leaves, the account must change rep
        realign(lopsided, RealignRequest("remove-rep", rep_id="r3", measure="accounts", tolerance=0.5,
                                         protect=("a03x",), alternatives=1, time_limit=2))


def test_realign_add_rep_starts_the_new_territory_at_the_reps_home(lopsided):
    from territory_desktop.services.realign import RealignRequest, realign

    reps = _reps(["r1", "r2", "r3"])
    reps.loc[2, "geometry"] = shapely.Point(-94.5, 45.5)  # in u35, the north-east corner (R's)
    lopsided.reps = reps
    req = RealignRequest("add-rep", rep_id="r3", measure="accounts", tolerance=0.3, max_accounts_moved=30,
                         alternatives=1, time_limit=3)
    (option,) = realign(lopsided, req)
    terr = lopsided.scenario_territories(option.scenario_id)
    new = terr.loc[terr["rep_id"] == "r3", "territory_id"]
    assert len(new) == 1 and len(terr) == 3
    plan = lopsided.plans[option.scenario_id].as_dict()
    assert plan["u35"] == new.iloc[0]
    mine = [u for u, t in plan.items() if t == new.iloc[0]]
    # every account of the new territory changed rep (r2 -> r3): 2 per unit
    assert option.disruption["accounts_changing_rep"] >= 2 * len(mine) > 2
    assert lopsided.plans["base"].territory_of("u35") == "R"  # the start is untouched


def test_realign_new_market_assigns_orphans_and_counts_them(lopsided):
    """Column 5 (u5, u11, ..., u35) has no territory yet: the new market joins R, its neighbour; the
    accounts there gain a rep (12 accounts), nothing else has to move."""
    from territory_desktop.services.realign import RealignRequest, realign

    lopsided.plans["base"].assign([f"u{k}" for k in range(5, 36, 6)], None)
    req = RealignRequest("new-market", measure="accounts", tolerance=0.9, max_accounts_moved=4, alternatives=1,
                         time_limit=2)
    (option,) = realign(lopsided, req)
    plan = lopsided.plans[option.scenario_id].as_dict()
    assert all(plan[f"u{k}"] == "R" for k in range(5, 36, 6))
    assert option.disruption["units_moved"] == 6 and option.disruption["accounts_changing_rep"] == 12
