"""Live territory totals: after each reassignment the incrementally updated numbers equal hand-computed
ones and a full recompute (``metrics.territory_totals``, ``ownership.account_owners``), with account
overrides and rule territories left where they are."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from test_ownership import project as ownership_project  # noqa: F401 (a fixture)

from territory_desktop.models import CRS, Plan, Project
from territory_desktop.services.live_totals import LiveTotals
from territory_desktop.services.metrics import territory_totals
from territory_desktop.services.ownership import account_owners


def assert_matches_full_recompute(live: LiveTotals, project: Project) -> None:
    full, mine = territory_totals(project), live.frame()
    assert list(mine.columns) == list(full.columns)
    for column in full.columns:
        a, b = full[column].to_numpy(), mine[column].to_numpy()
        if a.dtype.kind == "f":
            np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-9, err_msg=column)
        else:
            assert [str(v) for v in b] == [str(v) for v in a], column
    assert list(live.owners) == list(account_owners(project).to_numpy())


def row(live: LiveTotals, tid: str) -> dict:
    return live.frame().set_index("territory_id").loc[tid].to_dict()


def test_moved_units_carry_their_accounts_numbers_by_hand(grid_project):
    """grid_project: W = columns 0-1 with a1 (u0: 52 visits x 60 min = 52 h, potential 100) and a2 (u4:
    26 x 30 min = 13 h, 50); E = column 2 with a3 (u8: 13 x 30 min = 6.5 h, 25) and a4 (u2: never, 10)."""
    live = LiveTotals(grid_project)
    grid_project.plan.assign_many({"u4": "E"})
    assert live.update(["u4"]) == [0, 1]
    w, e = row(live, "W"), row(live, "E")
    assert (w["units"], w["accounts"], w["workload_hours"], w["potential"]) == (5, 1, 52.0, 100.0)
    assert (e["units"], e["accounts"], e["workload_hours"], e["potential"]) == (4, 3, 19.5, 85.0)
    mean = (52.0 + 19.5) / 2
    assert w["workload_deviation_pct"] == pytest.approx((52.0 - mean) / mean * 100)
    assert live.owners.tolist() == ["W", "E", "E", "E"]
    grid_project.plan.assign_many({u: None for u in ("u0", "u1", "u3", "u6", "u7")})  # W left empty
    assert live.update(["u0", "u1", "u3", "u6", "u7"]) == [0]
    w = row(live, "W")
    assert (w["units"], w["accounts"], w["potential"]) == (0, 0, 0.0)
    assert np.copysign(1.0, w["workload_hours"]) == 1.0 and w["workload_hours"] == 0.0  # no "-0 h/yr"
    assert live.owners.tolist() == [None, "E", "E", "E"]
    assert live.update(["u0"]) == []  # nothing moved since
    assert_matches_full_recompute(live, grid_project)


def test_overridden_and_rule_accounts_stay_put(ownership_project):  # noqa: F811 (the fixture)
    """u0 (a00..a19) moves from T1 to T2: a00 (override to T2) and a05 (key account of rule territory K1)
    do not move with it, a20 (in u1, override to T1) stays in T1."""
    p = ownership_project
    live = LiveTotals(p)
    p.plan.assign_many({"u0": "T2"})
    assert live.update(["u0"]) == [0, 1]
    assert row(live, "T1")["accounts"] == 1  # a20
    assert row(live, "T2")["accounts"] == 1 + 18 + 3  # a00, a01..a19 but a05, a21..a23
    assert row(live, "K1")["accounts"] == 1  # a05
    assert_matches_full_recompute(live, p)


def _random_project(seed: int, make_grid) -> Project:
    rng = np.random.default_rng(seed)
    units = make_grid(8, 8)
    n = 400
    unit_of = rng.choice(units["unit_id"].to_numpy(), n)
    p = Project(name="random")
    p.units = units
    p.accounts = gpd.GeoDataFrame(
        {"account_id": [f"a{k}" for k in range(n)], "name": "x", "segment": "B", "industry": "Retail",
         "size_class": "Small", "potential": rng.uniform(0, 1e6, n), "visit_frequency_weeks": rng.choice([0, 1, 2, 4], n),
         "service_minutes": rng.uniform(10, 90, n), "open_minute": 480, "close_minute": 1020, "zip": "",
         "unit_id": unit_of}, geometry=gpd.points_from_xy(rng.uniform(-100, -92, n), rng.uniform(40, 48, n)), crs=CRS)
    tids = [f"T{k}" for k in range(6)]
    p.territories = pd.DataFrame([{"scenario_id": "base", "territory_id": t, "name": t, "colour": "#4e79a7",
                                   "rep_id": None, "parent_id": None, "level": "territory", "kind": "geographic",
                                   "rule": None} for t in tids])
    p.plans = {"base": Plan({u: str(rng.choice(tids)) for u in units["unit_id"]}, account_overrides={"a1": "T0"})}
    return p


@pytest.mark.parametrize("seed", [1, 2])
def test_many_random_edits_equal_a_full_recompute(seed, make_grid):
    p = _random_project(seed, make_grid)
    live = LiveTotals(p)
    rng = np.random.default_rng(seed + 10)
    units = list(p.plan.as_dict())
    targets = [*live.ids, None, "T-gone"]  # orphans, and a territory the scenario does not have
    for _ in range(60):
        changes = {str(u): targets[rng.integers(len(targets))] for u in rng.choice(units, rng.integers(1, 12))}
        p.plan.assign_many(changes)
        assert live.update(changes) is not None
        assert_matches_full_recompute(live, p)


def test_snapshot_refuses_what_it_does_not_follow(grid_project):
    live = LiveTotals(grid_project)
    assert live.update(["u-unknown"]) is None  # a unit it never saw
    grid_project.plan.set_account_overrides({"a1": "E"})
    assert not live.current() and live.update(["u0"]) is None
    live = LiveTotals(grid_project)
    grid_project.territories.loc[0, "name"] = "Renamed in place"
    assert live.update(["u0"]) is None
