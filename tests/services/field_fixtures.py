"""A small project of three reps for field-package tests, saved to a GeoPackage, and report helpers."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from territory_desktop.models import CRS, Plan, Project
from territory_desktop.services.project import save_project

REPS = ("r1", "r2", "r3")
#: hostile text in one of r1's account names (HTML and a spreadsheet formula)
HOSTILE = '=HYPERLINK("http://x")<img src=x onerror=alert(1)>'


def account_names(rep: str) -> list[str]:
    """Distinctive names per rep, so a leak into another rep's package is found by plain search."""
    word = {"r1": "Quokka", "r2": "Narwhal", "r3": "Axolotl"}[rep]
    return [f"{word} Supplies {k}" for k in range(6)]


def field_project() -> Project:
    """Three 0.1-degree units near Chicago, one territory and six accounts per rep (r1 owns T1 ...)."""
    p = Project(name="field")
    boxes = [shapely.box(-87.8 + 0.1 * k, 41.85, -87.7 + 0.1 * k, 41.95) for k in range(3)]
    p.units = gpd.GeoDataFrame({"unit_id": ["u0", "u1", "u2"], "name": ["West", "Mid", "East"], "area_km2": 1.0,
                                "locked": False}, geometry=boxes, crs=CRS)
    rng = np.random.default_rng(3)
    rows, xs, ys = [], [], []
    for k, rep in enumerate(REPS):
        for j, name in enumerate(account_names(rep)):
            rows.append({"account_id": f"{rep}-a{j}", "name": HOSTILE if (rep, j) == ("r1", 5) else name,
                         "segment": "AB"[j % 2], "industry": "Retail", "size_class": "Small",
                         "potential": 1000.0 * (j + 1), "visit_frequency_weeks": 1, "service_minutes": 30.0,
                         "open_minute": 480, "close_minute": 1020, "zip": "60601", "unit_id": f"u{k}"})
            xs.append(rng.uniform(-87.79 + 0.1 * k, -87.71 + 0.1 * k))
            ys.append(rng.uniform(41.86, 41.94))
    p.accounts = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=gpd.points_from_xy(xs, ys), crs=CRS)
    p.reps = gpd.GeoDataFrame({"rep_id": list(REPS), "name": ["Rita Quill", "Sam Norrow", "Ada Axe"],
                               "capacity_hours": 1600.0, "skills": "", "work_start_minute": 480,
                               "work_end_minute": 1020, "zip": ""},
                              geometry=gpd.points_from_xy([-87.75, -87.65, -87.55], [41.9] * 3), crs=CRS)
    p.territories = pd.DataFrame([
        {"scenario_id": "base", "territory_id": f"T{k + 1}", "name": f"Zone{k + 1}", "colour": "#4e79a7",
         "rep_id": rep, "parent_id": None, "level": "territory", "kind": "geographic", "rule": None}
        for k, rep in enumerate(REPS)])
    p.plans = {"base": Plan({"u0": "T1", "u1": "T2", "u2": "T3"})}
    p.visits = pd.DataFrame({"account_id": ["r1-a0", "r2-a0"], "rep_id": ["r1", "r2"],
                             "date": ["2027-02-15", "2027-02-16"], "minutes": 30.0, "outcome": "completed",
                             "note": ["Quokka note", "Narwhal secret note"]})
    p.mark_dirty("units", "accounts", "reps", "territories", "scenarios", "plans", "visits")
    return p


def saved_project(folder: Path) -> Path:
    path = folder / "field.gpkg"
    save_project(field_project(), path)
    return path


def data_of(package: Path) -> dict:
    """The FIELD_DATA object of a package's data.js."""
    text = (package / "data.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("=") + 1:].rstrip().rstrip(";"))


def make_report(data: dict, visits: list[dict], corrections: list[dict], report_id: str | None = None) -> str:
    """A report as the field app writes it (same envelope and checksum), built from a package's data."""
    body = json.dumps({"report_id": report_id or str(uuid.uuid4()), "created": "2027-03-01T10:00:00Z",
                       "rep_id": data["package"]["rep_id"], "package": data["package"],
                       "package_signature": data["package_signature"], "base": data["base"],
                       "visits": visits, "corrections": corrections})
    return json.dumps({"format": "territory-desktop-field-report", "format_version": 1, "body": body,
                       "sha256": hashlib.sha256(body.encode()).hexdigest()})


def visit(account_id: str, outcome: str = "completed", notes: str = "", visit_id: str | None = None) -> dict:
    return {"visit_id": visit_id or str(uuid.uuid4()), "account_id": account_id, "date": "2027-03-01",
            "minutes": 40, "outcome": outcome, "notes": notes, "next_step": "send quote"}
