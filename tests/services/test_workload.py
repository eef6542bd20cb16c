"""Route workload per territory and unit, team sizing, and the ``size`` command."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from territory_desktop.engine.travel import TrafficProfile
from territory_desktop.services.project import save_project
from territory_desktop.services.workload import (
    planner_model,
    size_team,
    territory_workloads,
    unit_route_workload,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def staffed(grid_project):
    """The grid project with rep r1 on West and a second rep r2 (home in the east) on East."""
    p = grid_project
    r2 = gpd.GeoDataFrame({"rep_id": ["r2"], "name": ["Eve"], "capacity_hours": [1200.0], "skills": [""],
                           "work_start_minute": [480], "work_end_minute": [1020], "zip": [""]},
                          geometry=gpd.points_from_xy([-97.5], [42.5]), crs=p.reps.crs)
    p.reps = gpd.GeoDataFrame(pd.concat([p.reps, r2], ignore_index=True), crs=p.reps.crs)
    p.territories.loc[p.territories["territory_id"] == "W", "rep_id"] = "r1"
    p.territories.loc[p.territories["territory_id"] == "E", "rep_id"] = "r2"
    return p


def test_route_workload_is_service_plus_travel(staffed):
    w = territory_workloads(staffed)
    # West: a1 weekly 60 min (at r1's home), a2 every 2 weeks 30 min -> 1.25 h of service a week
    assert w["W"].service_h == pytest.approx(1.0 + 0.5 * 0.5)
    # East: a3 every 4 weeks 30 min, at r2's home; a4 is never visited
    assert w["E"].service_h == pytest.approx(0.25 * 0.5)
    assert w["W"].travel_h > 0 and w["E"].linehaul_h == pytest.approx(0.0)
    assert w["W"].hours_per_year == pytest.approx(52 * (w["W"].service_h + w["W"].travel_h))


def test_unit_shares_add_up_to_the_territories(staffed):
    # every account's nearest home is its own rep's here, so the unit shares add up to the territory
    # totals (up to great-circle vs local-projection distances: well under 1 %)
    per_unit = unit_route_workload(staffed)
    w = territory_workloads(staffed)
    assert per_unit.sum() == pytest.approx(sum(x.hours_per_year for x in w.values()), rel=0.01)
    assert per_unit["u2"] == 0.0  # only a4, never visited


def test_size_team_counts_reps_from_capacity(staffed):
    out = size_team(staffed, coverage=0.95)
    rows = {r["territory_id"]: r for r in out["territories"]}
    assert rows["E"]["capacity_hours"] == 1200.0 and rows["W"]["capacity_hours"] == 1600.0
    total = rows["W"]["route_workload_hours"] + rows["E"]["route_workload_hours"]
    assert out["reps_needed"] == math.ceil(0.95 * total / 1400.0)  # median capacity of the two reps
    with pytest.raises(Exception, match="coverage"):
        size_team(staffed, coverage=1.5)


def test_size_command_prints_the_promised_keys(staffed, tmp_path):
    path = save_project(staffed, tmp_path / "grid.gpkg")
    out = subprocess.run([sys.executable, "-m", "territory_desktop", "size", "--project", str(path),
                          "--coverage", "0.95", "--json"], capture_output=True, text=True, cwd=ROOT, check=False,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert isinstance(data["reps_needed"], int) and data["reps_needed"] >= 1
    assert {"route_workload_hours", "capacity_hours"} <= set(data["territories"][0])


def test_balance_accepts_route_workload_as_a_measure(staffed):
    from territory_desktop.services.balancing import BalanceOptions
    from territory_desktop.services.scenario_balance import propose_project_balance

    prop = propose_project_balance(staffed, BalanceOptions(["route_workload"], tolerance=0.5))
    assert set(prop.assignment.values()) <= {"W", "E"} and len(prop.assignment) == 9
    # the balancer's per-territory totals are the unit shares summed under the proposal
    shares = unit_route_workload(staffed)
    assert shares.sum() > 0


def _east_hours_by_hand() -> float:
    """East: a3 every 4 weeks, 30 min, at its rep's home. One account has no neighbour to drive to (no
    legs between visits) and its home is on site (no drive out and back): service only."""
    return 52 * 0.25 * 0.5


def test_planner_model_times_the_drives_in_the_hours_they_fall_in():
    # 8:00-17:00 with a 30 min lunch and fill 0.94: a planned day ends at 8:00 + 0.5 h + 0.94 x 8.5 h =
    # 16:29.4, so the drive back sets off at 15:29 (factor 1.0) and the drive out at 8:00 (1.35): haul
    # factor 1.175. The legs between run 9:00-15:29 (389 minutes): 60 min x 1.15, 120 x 1.1, 209 x 1.0
    m = planner_model()
    assert m.lunch_hours == 0.5 and m.day_hours == 9.0
    assert m.haul_traffic == pytest.approx((1.35 + 1.0) / 2)
    assert m.local_traffic == pytest.approx((60 * 1.15 + 120 * 1.1 + 209 * 1.0) / 389)
    assert planner_model(TrafficProfile.none()).haul_traffic == 1.0


def test_territory_table_shows_route_workload_and_load(staffed):
    from territory_desktop.services.territory_table import territory_table

    table = territory_table(staffed).set_index("Territory ID")
    east = table.loc["E"]
    assert east["Route workload (h/yr)"] == pytest.approx(_east_hours_by_hand(), abs=0.05)
    assert east["Route load (% of capacity)"] == pytest.approx(100 * _east_hours_by_hand() / 1200.0, abs=0.05)
    west = table.loc["W"]  # 65 h of service a year (52 x 1.25) plus driving
    assert west["Route workload (h/yr)"] > 65.0
    assert west["Route load (% of capacity)"] == pytest.approx(100 * west["Route workload (h/yr)"] / 1600.0, abs=0.05)


def test_route_load_on_the_map_is_the_territory_value(staffed):
    from territory_desktop.services.classify import unit_metric_values

    load = unit_metric_values(staffed, "route_load_pct")
    ids = staffed.units["unit_id"].tolist()
    east = [i for i, u in enumerate(ids) if int(u[1:]) % 3 == 2]
    assert load[east] == pytest.approx([100 * _east_hours_by_hand() / 1200.0] * 3, abs=0.05)
    shares = unit_metric_values(staffed, "route_workload")
    assert shares[ids.index("u8")] == pytest.approx(_east_hours_by_hand(), rel=0.01)  # a3's unit
    staffed.territories.loc[staffed.territories["territory_id"] == "E", "rep_id"] = None
    load = unit_metric_values(staffed, "route_load_pct")
    assert np.isnan(load[east]).all() and np.isfinite(np.delete(load, east)).all()  # no rep: no data


@pytest.fixture
def nine_accounts(grid_project):
    """The 3x3 grid with one weekly 60-minute account at the centre of every unit, rep r1 at the centre."""
    from shapely.geometry import Point

    p = grid_project
    units = p.units.set_index("unit_id")
    b = units.geometry.bounds
    cells = gpd.GeoSeries(gpd.points_from_xy((b["minx"] + b["maxx"]) / 2, (b["miny"] + b["maxy"]) / 2),
                          index=units.index)
    p.accounts = gpd.GeoDataFrame(
        {"account_id": [f"a{u}" for u in units.index], "name": list(units.index), "segment": "A",
         "industry": "Retail", "size_class": "Small", "potential": 10.0, "visit_frequency_weeks": 1,
         "service_minutes": 60.0, "open_minute": 480, "close_minute": 1020, "zip": "", "unit_id": list(units.index)},
        geometry=list(cells), crs=p.accounts.crs)
    p.reps.geometry = [Point(cells["u4"].x, cells["u4"].y)]
    p.territories["rep_id"] = "r1"
    p.mark_dirty("accounts", "reps", "territories")
    return p


def test_size_propose_builds_the_needed_territories_as_a_new_scenario(nine_accounts, tmp_path):
    from territory_desktop.services.project import open_project

    p = nine_accounts
    total = size_team(p, coverage=1.0)["total_route_workload_hours"]
    p.reps["capacity_hours"] = total / 2.5  # -> 3 reps needed at full coverage
    path = save_project(p, tmp_path / "nine.gpkg")
    out = subprocess.run([sys.executable, "-m", "territory_desktop", "size", "--project", str(path),
                          "--coverage", "1", "--propose", "--tolerance", "0.5", "--time-limit", "5", "--json"],
                         capture_output=True, text=True, cwd=ROOT, check=False,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["reps_needed"] == 3 and data["proposed"]["territories"] == 3
    sid = data["proposed"]["scenario"]
    saved = open_project(path)
    plan = saved.plans[sid].as_dict()
    assert set(plan) == {f"u{k}" for k in range(9)} and len(set(plan.values())) == 3
    assert set(saved.plans["base"].as_dict().values()) == {"W", "E"}  # the sized scenario is a new one
    # the balanced measure: each unit's route-workload share priced from the sized scenario's homes (the
    # new territories have no rep yet, so their own shares would price travel from nowhere)
    shares = unit_route_workload(saved, "base")
    per_territory = shares.groupby(pd.Series(plan)).sum()
    mean = per_territory.mean()
    assert (abs(per_territory / mean - 1) <= 0.5 + 1e-9).all()  # within the tolerance asked for
    assert data["proposed"]["within_tolerance"] is True


def test_size_propose_that_cannot_be_balanced_saves_nothing(staffed, tmp_path):
    from territory_desktop.services.project import open_project

    staffed.reps["capacity_hours"] = 1.0  # far more reps needed than the 9 units can make territories
    path = save_project(staffed, tmp_path / "grid.gpkg")
    out = subprocess.run([sys.executable, "-m", "territory_desktop", "size", "--project", str(path), "--propose",
                          "--time-limit", "2"], capture_output=True, text=True, cwd=ROOT, check=False,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 2 and "Traceback" not in out.stderr
    needed = size_team(staffed)["reps_needed"]
    assert needed > 9 and f"k = {needed} territories but only 9 units" in out.stderr
    assert set(open_project(path).plans) == {"base"}


def test_an_edited_account_is_re_estimated(staffed):
    before = territory_workloads(staffed)["E"].service_h
    staffed.accounts.loc[staffed.accounts["account_id"] == "a3", "visit_frequency_weeks"] = 1  # every week now
    after = territory_workloads(staffed)["E"].service_h
    assert before == pytest.approx(0.25 * 0.5) and after == pytest.approx(0.5)  # 30 min a week
