"""Routing on a Project: ownership (territories, overrides), due visits, plan rows, re-planning, CLI."""

from __future__ import annotations

import json
import math
import time
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from territory_desktop.models import CRS, InvalidInputError, Plan, Project
from territory_desktop.services.routing import (
    plan_rep_visits,
    plan_rows,
    plan_summary,
    rep_accounts,
    replan_day,
)

START = date(2027, 3, 1)  # a Monday


def _project() -> Project:
    """Two 0.1-degree units near Chicago, rep r1 owns T1 (unit u0), rep r2 owns T2 (unit u1)."""
    p = Project(name="routes")
    boxes = [shapely.box(-87.8, 41.85, -87.7, 41.95), shapely.box(-87.7, 41.85, -87.6, 41.95)]
    p.units = gpd.GeoDataFrame({"unit_id": ["u0", "u1"], "name": ["West", "East"], "area_km2": 1.0,
                                "locked": False}, geometry=boxes, crs=CRS)
    rng = np.random.default_rng(5)
    n = 24
    xs = np.r_[rng.uniform(-87.79, -87.71, n - 4), rng.uniform(-87.69, -87.61, 4)]
    ys = rng.uniform(41.86, 41.94, n)
    freq = [1, 2, 4, 8] * (n // 4)
    p.accounts = gpd.GeoDataFrame(
        {"account_id": [f"a{k:02d}" for k in range(n)], "name": [f"Acct {k}" for k in range(n)], "segment": "B",
         "industry": "Retail", "size_class": "Small", "potential": 1.0, "visit_frequency_weeks": freq,
         "service_minutes": 30.0, "open_minute": 480, "close_minute": 1020, "zip": "",
         "unit_id": ["u0"] * (n - 4) + ["u1"] * 4},
        geometry=gpd.points_from_xy(xs, ys), crs=CRS)
    p.reps = gpd.GeoDataFrame({"rep_id": ["r1", "r2"], "name": ["Rita", "Sam"], "capacity_hours": 1600.0,
                               "skills": "", "work_start_minute": 480, "work_end_minute": 1020, "zip": ""},
                              geometry=gpd.points_from_xy([-87.75, -87.65], [41.9, 41.9]), crs=CRS)
    p.territories = pd.DataFrame([
        {"scenario_id": "base", "territory_id": t, "name": t, "colour": "#4e79a7", "rep_id": r, "parent_id": None,
         "level": "territory", "kind": "geographic", "rule": None} for t, r in (("T1", "r1"), ("T2", "r2"))])
    # a20 lies in u1 (T2) but is overridden to T1; a00 lies in u0 but is overridden to T2
    p.plans = {"base": Plan({"u0": "T1", "u1": "T2"}, account_overrides={"a20": "T1", "a00": "T2"})}
    # a03 (every 8 weeks) was visited 2 weeks before the start: not due in a 4-week plan
    p.visits = pd.DataFrame({"account_id": ["a03", "a07"], "rep_id": ["r1", "r1"],
                             "date": ["2027-02-15", "2026-11-01"], "minutes": 30.0, "outcome": "completed",
                             "note": None})
    return p


def test_rep_accounts_follow_territories_and_overrides() -> None:
    p = _project()
    expected_r1 = {f"a{k:02d}" for k in range(1, 20)} | {"a20"}
    assert set(rep_accounts(p, "r1")["account_id"]) == expected_r1
    assert set(rep_accounts(p, "r2")["account_id"]) == {"a00", "a21", "a22", "a23"}
    with pytest.raises(InvalidInputError, match="rep 'nobody'"):
        rep_accounts(p, "nobody")


def test_plan_on_a_project_meets_frequencies_and_rows_match() -> None:
    p = _project()
    rp = plan_rep_visits(p, "r1", START, weeks=4, time_limit=8)
    assert rp.not_due == ["a03"]  # visited 2 weeks ago, every 8 weeks
    acc = p.accounts.set_index("account_id")
    owned = {f"a{k:02d}" for k in range(1, 20)} | {"a20"}
    need = {a: math.ceil(4 / acc.at[a, "visit_frequency_weeks"]) for a in owned - {"a03"}}
    rows = plan_rows(rp)
    got = rows["account_id"].value_counts().to_dict()
    assert got == need
    summary = plan_summary(rp)
    assert summary.required_visits == summary.planned_visits == sum(need.values()) == len(rows)
    assert not summary.unplanned
    assert summary.to_json()["days"][0]["stops"] == summary.days[0].stops
    # every row's drive km equals the great-circle x 1.3 leg from the previous stop
    from territory_desktop.engine.travel import haversine_km

    for _, day in rows.groupby("date"):
        px, py = rp.home
        for r in day.sort_values("seq").itertuples():
            assert r.drive_km == pytest.approx(haversine_km(px, py, r.lon, r.lat) * 1.3, abs=0.01)
            px, py = r.lon, r.lat
    json.dumps(summary.to_json())  # JSON-ready


def test_replan_day_after_cancellation_under_two_seconds() -> None:
    rp = plan_rep_visits(_project(), "r1", START, weeks=2, time_limit=6)
    day = max(rp.plan.days, key=lambda d: len(rp.plan.days[d].stops))
    gone = rp.plan.days[day].visit_ids[-1]
    t0 = time.perf_counter()
    route = replan_day(rp, day, remove=(gone,))
    assert time.perf_counter() - t0 < 2.0
    assert gone not in route.visit_ids and len(route.stops) == len(set(route.visit_ids))
    assert gone not in set(plan_rows(rp).query("date == @day.isoformat()")["account_id"])


def test_route_cli_end_to_end(tmp_path, capsys) -> None:
    from territory_desktop.cli import main
    from territory_desktop.services.project import save_project

    path = tmp_path / "routes.gpkg"
    save_project(_project(), path)
    out = tmp_path / "plan.csv"
    code = main(["route", "--project", str(path), "--rep", "r2", "--start", START.isoformat(), "--weeks", "2",
                 "--json", "--out", str(out), "--time-limit", "5"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rep_id"] == "r2" and summary["planned_visits"] == summary["required_visits"] == len(
        pd.read_csv(out))
    assert main(["route", "--project", str(path), "--rep", "zz", "--start", "2027-03-01"]) == 2
    assert "zz" in capsys.readouterr().err
    assert main(["route", "--project", str(path), "--rep", "r1", "--start", "March 1"]) == 2
    assert "not a date" in capsys.readouterr().err


def test_matrix_cache_is_reused() -> None:
    p = _project()
    cache: dict = {}
    a = plan_rep_visits(p, "r2", START, weeks=1, time_limit=3, matrix_cache=cache)
    assert len(cache) == 1
    b = plan_rep_visits(p, "r2", START, weeks=1, time_limit=3, matrix_cache=cache)
    assert b.dist_m is a.dist_m and len(cache) == 1

