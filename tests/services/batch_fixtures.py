"""A small saved project for the batch tests (four reps, a few accounts each) and task functions that
pool and Dask workers import by name (this folder is on sys.path under pytest, and spawned workers get
the parent's sys.path)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from territory_desktop.models import CRS, InvalidInputError, Plan, Project

REPS = ["r1", "r2", "r3", "r4"]


def small_project(accounts_per_rep: int = 7, seed: int = 3) -> Project:
    """Four 0.1-degree units near Chicago, rep rK owns territory TK (unit uK); rep r4 has no home, so
    planning it fails with that reason."""
    rng = np.random.default_rng(seed)
    p = Project(name="batch")
    x0 = [-87.9, -87.8, -87.7, -87.6]
    p.units = gpd.GeoDataFrame({"unit_id": [f"u{k}" for k in range(4)], "name": [f"U{k}" for k in range(4)],
                                "area_km2": 1.0, "locked": False},
                               geometry=[shapely.box(x, 41.85, x + 0.1, 41.95) for x in x0], crs=CRS)
    n = accounts_per_rep
    xs = np.concatenate([rng.uniform(x + 0.01, x + 0.09, n) for x in x0])
    ys = rng.uniform(41.86, 41.94, 4 * n)
    p.accounts = gpd.GeoDataFrame(
        {"account_id": [f"a{k:03d}" for k in range(4 * n)], "name": [f"Acct {k}" for k in range(4 * n)],
         "segment": "B", "industry": "Retail", "size_class": "Small", "potential": 1.0,
         "visit_frequency_weeks": ([1, 2] * n)[: 4 * n] if n % 2 == 0 else [1, 2] * (2 * n),
         "service_minutes": 30.0, "open_minute": 480, "close_minute": 1020, "zip": "",
         "unit_id": [f"u{k // n}" for k in range(4 * n)]},
        geometry=gpd.points_from_xy(xs, ys), crs=CRS)
    homes = [shapely.Point(x + 0.05, 41.9) for x in x0[:3]] + [shapely.Point()]
    p.reps = gpd.GeoDataFrame({"rep_id": REPS, "name": ["Ann", "Bo", "Cy", "Di"], "capacity_hours": 1600.0,
                               "skills": "", "work_start_minute": 480, "work_end_minute": 1020, "zip": ""},
                              geometry=homes, crs=CRS)
    p.territories = pd.DataFrame([
        {"scenario_id": "base", "territory_id": f"T{k}", "name": f"T{k}", "colour": "#4e79a7", "rep_id": REPS[k],
         "parent_id": None, "level": "territory", "kind": "geographic", "rule": None} for k in range(4)])
    p.plans = {"base": Plan({f"u{k}": f"T{k}" for k in range(4)})}
    return p


def square(x: int, stop=None) -> int:
    """A task: x squared; 13 fails with the project's own error, 7 with a bug."""
    if x == 13:
        raise InvalidInputError("square", [f"row {x}: unlucky"])
    if x == 7:
        raise ZeroDivisionError("division by zero")
    return x * x


def die_once(x: int, marker: str, stop=None) -> int:
    """A task whose process is killed (SIGKILL) the first time it runs for x == 2 (marker file absent)."""
    flag = Path(marker)
    if x == 2 and not flag.exists():
        flag.write_text("died")
        os.kill(os.getpid(), signal.SIGKILL)
    return x * 10


def always_die(x: int, stop=None) -> int:
    """A task whose process is killed each time for x == 1."""
    if x == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return x


def slow(x: int, stop=None) -> int:
    """A task that takes 0.3 s."""
    import time

    time.sleep(0.3)
    return x
