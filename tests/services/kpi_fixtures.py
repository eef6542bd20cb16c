"""A tiny project with a realignment on 2026-08-01 (unit U1 moves from T1 to T2), used by the KPI tests.

The expected numbers in the tests are worked out by hand from the rows below.
"""

from __future__ import annotations

import pandas as pd

from territory_desktop.models import Plan, Project


def _territories(sid: str) -> list[dict]:
    base = {"scenario_id": sid, "colour": "#000000", "kind": "geographic", "rule": None}
    return [base | {"territory_id": "T1", "name": "One", "rep_id": "R1", "parent_id": "D1", "level": "territory"},
            base | {"territory_id": "T2", "name": "Two", "rep_id": "R2", "parent_id": "D1", "level": "territory"},
            base | {"territory_id": "D1", "name": "Dist", "rep_id": None, "parent_id": "G1", "level": "district"},
            base | {"territory_id": "G1", "name": "Reg", "rep_id": None, "parent_id": None, "level": "region"}]


def tiny_project() -> Project:
    p = Project(name="tiny")
    p.accounts = pd.DataFrame({
        "account_id": ["a1", "a2", "a3", "a4", "a5"], "unit_id": ["U1", "U2", "U3", "U3", "U3"],
        "potential": [1000.0, 2000.0, 3000.0, 4000.0, 5000.0],
        "visit_frequency_weeks": [4, 0, 13, 0, 0], "service_minutes": [60.0, 30.0, 30.0, 30.0, 30.0]})
    p.territories = pd.DataFrame(_territories("base") + _territories("new"))
    p.scenarios = pd.DataFrame([{"scenario_id": s, "name": s, "description": "", "parent_id": None,
                                 "created": ""} for s in ("base", "new")])
    p.plans = {"base": Plan({"U1": "T1", "U2": "T1", "U3": "T2"}),
               "new": Plan({"U1": "T2", "U2": "T1", "U3": "T2"})}
    p.active_scenario = "new"
    p.plans_in_force = [("2024-01-01", "base"), ("2026-08-01", "new")]
    sales = [("a1", "2026-07", 100), ("a1", "2026-08", 50), ("a3", "2026-08", 20), ("a4", "2026-09", 15),
             ("a1", "2026-04", 80), ("a2", "2026-06", 25), ("a3", "2026-05", 40),
             ("a1", "2025-07", 60), ("a3", "2025-09", 10)]
    p.sales = pd.DataFrame([{"account_id": a, "period": m, "product": "Core", "amount": float(x)}
                            for a, m, x in sales])
    visits = [("a1", "2026-07-10", "completed"), ("a1", "2026-08-15", "completed"),
              ("a1", "2026-09-12", "completed"), ("a3", "2026-09-01", "completed"),
              ("a3", "2026-08-02", "no answer")]
    p.visits = pd.DataFrame([{"account_id": a, "rep_id": None, "date": d, "minutes": 30.0, "outcome": o,
                              "note": None} for a, d, o in visits])
    opps = [("o1", "a1", "2026-05-01", "2026-07-20", 1000, True), ("o2", "a3", "2026-06-01", "2026-08-10", 500, False),
            ("o3", "a4", "2026-08-01", "2026-09-10", 300, True), ("o4", "a2", "2026-09-01", None, 2000, None),
            ("o5", "a1", "2026-06-15", "2026-10-15", 700, True)]
    p.opportunities = pd.DataFrame([{"opportunity_id": i, "account_id": a, "rep_id": None, "created": c,
                                     "closed": d, "stage": "", "amount": float(x), "won": w}
                                    for i, a, c, d, x, w in opps])
    return p
