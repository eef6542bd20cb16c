"""The demo project: real geography, the sizes promised, and byte-for-byte determinism."""

from __future__ import annotations

import copy
import hashlib
import sqlite3

import numpy as np
import pandas as pd
import pytest

from territory_desktop.services.demo import build_demo
from territory_desktop.services.metrics import territory_totals
from territory_desktop.services.project import save_project

TABLES = ["units", "accounts", "reps", "territories", "scenarios", "assignments", "sales", "visits",
          "opportunities"]


def digest(path, table):
    with sqlite3.connect(path) as con:
        cols = [r[1] for r in con.execute(f"PRAGMA table_info({table})") if r[1] != "created"]
        h = hashlib.sha256()
        for row in con.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY 1, 2, 3"):
            h.update(repr(row).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def demo():
    return build_demo(seed=3, n_accounts=3000)


def test_demo_is_real_lower48_geography(demo):
    units = demo.units
    assert 3100 <= len(units) <= 3110  # 3,108 lower-48 counties and county equivalents
    assert set(units["state"]) >= {"CA", "TX", "ME", "FL", "WA"} and not set(units["state"]) & {"AK", "HI", "PR"}
    cook = units.set_index("unit_id").loc["17031"]
    assert cook["name"] == "Cook, IL"
    assert cook.geometry.contains(__import__("shapely").Point(-87.63, 41.88))  # downtown Chicago
    assert len(demo.reps) == 40 and len(demo.accounts) == 3000
    assert demo.accounts["unit_id"].notna().mean() > 0.99


def test_demo_alignment_assigns_every_county_and_rolls_up(demo):
    plan = demo.plan.as_dict()
    assert len(plan) == len(demo.units) and all(plan.values())
    terr = demo.territories
    assert (terr["level"] == "territory").sum() == 40
    assert set(terr.loc[terr["level"] == "region", "name"]) == {"West", "Midwest", "South", "Northeast"}
    totals = territory_totals(demo)
    assert totals["accounts"].sum() == demo.accounts["unit_id"].notna().sum()
    # independent sum: workload = 52 / frequency visits x minutes / 60
    a = demo.accounts[demo.accounts["unit_id"].notna()]
    f = a["visit_frequency_weeks"].to_numpy(float)
    expected = np.sum(np.where(f > 0, 52 / np.maximum(f, 1), 0) * a["service_minutes"].to_numpy() / 60)
    assert abs(totals["workload_hours"].sum() - expected) < 1e-6


def test_demo_history_is_plausible(demo):
    assert demo.sales["period"].min() == "2023-11" and demo.sales["period"].max() == "2026-10"
    assert (demo.sales["amount"] > 0).all()
    assert demo.visits["date"].max() <= "2026-10-31"
    days = np.array([np.datetime64(d).astype("datetime64[D]").view("int64") for d in demo.visits["date"][:500]])
    assert np.all(((days + 3) % 7) < 5)  # Monday..Friday only (1970-01-01 was a Thursday)
    assert set(demo.opportunities["stage"]) >= {"Closed Won", "Closed Lost"}


def test_same_seed_same_tables_byte_for_byte(tmp_path, demo):
    a, b = tmp_path / "a.gpkg", tmp_path / "b.gpkg"
    save_project(demo, a)
    save_project(build_demo(seed=3, n_accounts=3000), b)
    for table in TABLES:
        assert digest(a, table) == digest(b, table), table
    c = tmp_path / "c.gpkg"
    save_project(build_demo(seed=4, n_accounts=3000), c)
    assert digest(a, "accounts") != digest(c, "accounts")


def _straight_km(lon1, lat1, lon2, lat2):
    """Great-circle km by the haversine formula (written out here, not the app's)."""
    p1, p2, dl = np.radians(lat1), np.radians(lat2), np.radians(lon2 - lon1)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(h))


def test_demo_field_coverage_model(demo):
    """Field accounts lie within 2.5 h of their rep's home (2.5 h at the speed bands 30/50/70/90 km/h up to
    5/20/60 km and beyond is 60 + 1.4619 x 90 = 191.6 road km = 147.4 km straight at circuity 1.3), C accounts
    and everything farther are remote (frequency 0); each rep's book is a prefix of its candidates in
    priority order (A, then B, nearest first); and every book's route workload fits its rep's capacity."""
    from territory_desktop.services import demo_coverage
    from territory_desktop.services.ownership import account_reps
    from territory_desktop.services.workload import territory_route_table

    assert demo_coverage.REMOTE_DRIVE_HOURS == 2.5
    acc = demo.accounts
    freq = acc["visit_frequency_weeks"].to_numpy()
    field = freq > 0
    reps = demo.reps.set_index("rep_id")
    owner = account_reps(demo).to_numpy()
    hx = pd.Series(owner).map(reps.geometry.x).to_numpy(float)  # NaN: an account outside every county
    hy = pd.Series(owner).map(reps.geometry.y).to_numpy(float)
    km = np.nan_to_num(_straight_km(acc.geometry.x.to_numpy(), acc.geometry.y.to_numpy(), hx, hy), nan=np.inf)
    seg = acc["segment"].to_numpy()
    assert field.sum() > 100 and (~field).sum() > 0.5 * len(acc)
    assert km[field].max() <= 147.4 + 0.5
    assert not field[seg == "C"].any() and not field[km > 147.4 + 0.5].any()
    assert set(freq[field & (seg == "B")]) == {4} and set(freq[field & (seg == "A")]) <= {2, 4}
    for rep in reps.index:  # the field book is a prefix of the rep's A/B accounts within reach, nearest first
        mine = np.flatnonzero((owner == rep) & (seg != "C") & (km <= 147.4 - 0.5))
        order = mine[np.lexsort((km[mine], seg[mine] == "B"))]
        f = field[order]
        assert not (f[1:] & ~f[:-1]).any(), rep
    budget = 100 * demo_coverage.FIELD_LOAD
    table = territory_route_table(demo, "base")
    assert len(table) == 40 and (table["load_pct"] <= budget + 1e-6).all()
    # half the capacity: the books shrink to fit it, and a rep leaves an account within reach to inside
    # sales only when the book is full (one more account would not fit: one is < 15 % of 800 h)
    small = copy.deepcopy(demo)
    small.reps["capacity_hours"] = 800.0
    before = small.accounts["visit_frequency_weeks"].to_numpy() > 0
    kept = demo_coverage.apply_field_coverage(small)
    assert not (kept & ~before).any() and (before & ~kept).sum() > 100
    load = territory_route_table(small, "base").set_index("rep_id")["load_pct"]
    assert (load <= budget + 1e-6).all()
    trimmed = set(owner[before & ~kept])
    assert len(trimmed) >= 10 and all(load[r] >= budget - 15 for r in trimmed)


def test_demo_rep_names_are_distinct(demo):
    names = demo.reps["name"].tolist()
    assert len(set(names)) == len(names) == 40


def test_distinct_names_renames_only_the_repeats():
    from territory_desktop.services.demo import LAST, distinct_names

    names = ["Alex Garcia", "Alex Garcia", "Alex Smith", "Bo Hughes", "Bo Hughes"]
    out = distinct_names(names)
    assert len(set(out)) == 5
    assert [out[0], out[2], out[3]] == ["Alex Garcia", "Alex Smith", "Bo Hughes"]  # first holders keep theirs
    # a repeat keeps its first name and takes the next free last name after its own in LAST
    assert out[1] == f"Alex {LAST[2]}" and LAST[1] == "Smith"
    assert out[4] == f"Bo {LAST[0]}" and LAST[-1] == "Hughes"
