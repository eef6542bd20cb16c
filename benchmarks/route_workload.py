"""Route-workload estimator against full plans: per territory, estimated vs planned hours a week.

    python benchmarks/route_workload.py --project demo/demo.gpkg [--territories T01,T05] [--sample 8]
        [--weeks 4] [--time-limit 20] [--fit] [--plans plans.json]

For each territory, the reference is a full periodic plan (solve_periodic) of all its visits due in
``--weeks`` weeks: every account every N weeks (N <= weeks: one visit per N-week block, same weekday),
rarer accounts in the share of the cycle that falls in the horizon; the rep's home and working hours;
as many routes a day as needed (so nothing is left out); great-circle x 1.3 travel with speed bands;
objective total working time. Planned hours = travel + service over the routes, per week. The estimate
is the continuous approximation (engine.routing.workload) on the same visits. Accounts a day trip from
home cannot reach are left out of both. ``--fit`` also prints the leg constant k and the day fill that
minimise the squared relative error, and the errors with them. ``--plans FILE`` keeps the plans (they do
not depend on the estimator): a second run with the same file re-checks a model change in seconds.
Prints JSON; per territory also the planned and estimated components (drive out and back from home =
line haul, legs between visits = local, routes = days).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from territory_desktop.engine.routing.periodic import (
    PeriodicAccount,
    PeriodicDay,
    PeriodicProblem,
    PeriodicRep,
    every_n_weeks,
    solve_periodic,
)
from territory_desktop.engine.routing.workload import DEFAULT_MODEL, estimate_route_workload
from territory_desktop.engine.travel import GreatCircleProvider
from territory_desktop.services.metrics import account_owners
from territory_desktop.services.project import open_project
from territory_desktop.services.workload import local_km


def reference_accounts(project, tid: str, weeks: int):
    """The territory's rep and accounts due in ``weeks`` weeks (every (freq / weeks)-th of the rarer
    ones, in account order), without those a day trip from home cannot reach."""
    terr = project.scenario_territories().set_index("territory_id")
    rep = project.reps.set_index("rep_id").loc[terr.loc[tid, "rep_id"]]
    acc = project.accounts[(account_owners(project).to_numpy() == tid)]
    acc = acc[acc["visit_frequency_weeks"].fillna(0) > 0]
    freq = acc["visit_frequency_weeks"].to_numpy(int)
    due = np.array([f <= weeks or k % max(1, round(f / weeks)) == 0 for k, f in enumerate(freq)], dtype=bool)
    acc = acc[due]
    gc = GreatCircleProvider()
    km = gc.road_km(np.r_[rep.geometry.x, acc.geometry.x.to_numpy()], np.r_[rep.geometry.y, acc.geometry.y.to_numpy()])
    day = float(rep.get("work_end_minute", 1020)) - float(rep.get("work_start_minute", 480))
    reach = 2 * gc.hours(km[0, 1:]) * 60 + acc["service_minutes"].to_numpy(float) <= day
    return rep, acc[reach]


def reference_problem(rep, acc, weeks: int) -> PeriodicProblem:
    lon = np.r_[rep.geometry.x, acc.geometry.x.to_numpy()]
    lat = np.r_[rep.geometry.y, acc.geometry.y.to_numpy()]
    gc = GreatCircleProvider()
    km = gc.road_km(lon, lat)
    minutes = gc.hours(km) * 60.0
    freq = acc["visit_frequency_weeks"].to_numpy(int)
    accounts = [PeriodicAccount(k + 1, every_n_weeks(min(int(f), weeks), weeks), service=float(s), name=str(a))
                for k, (a, f, s) in enumerate(zip(acc["account_id"], freq, acc["service_minutes"], strict=True))]
    start, end = float(rep.get("work_start_minute", 480)), float(rep.get("work_end_minute", 1020))
    need = 3 * math.ceil(sum(a.service * a.frequency for a in accounts) / (end - start) / (5 * weeks)) + 3
    return PeriodicProblem(km, minutes, accounts, [PeriodicRep(0, start, end, vehicles=need, name=str(rep.name))],
                           [PeriodicDay()] * (5 * weeks), distance_weight=0.0, duration_weight=1.0)


def estimate(rep, acc, weeks: int, model=DEFAULT_MODEL):
    """The estimator on the same visits (visits per week = visits in the horizon / weeks)."""
    xy = local_km(acc.geometry.x.to_numpy(), acc.geometry.y.to_numpy(), float(rep.geometry.x), float(rep.geometry.y))
    freq = acc["visit_frequency_weeks"].to_numpy(float)
    per_week = np.array([len(every_n_weeks(min(int(f), weeks), weeks)[0]) / weeks for f in freq])
    day_h = (float(rep.get("work_end_minute", 1020)) - float(rep.get("work_start_minute", 480))) / 60.0
    return estimate_route_workload(np.zeros(2), xy, per_week, acc["service_minutes"].to_numpy(float),
                                   replace(model, day_hours=day_h), GreatCircleProvider().hours)


def planned_routes(problem: PeriodicProblem, time_limit: float) -> list[list[int]]:
    """The plan's routes as account indices (into ``problem.accounts``), in visiting order."""
    return [list(r.accounts) for r in solve_periodic(problem, time_limit=time_limit).routes]


def planned_hours_per_week(problem: PeriodicProblem, routes: list[list[int]], weeks: int) -> dict:
    """Planned hours a week, split the way the estimator splits them: the drive out from home to the
    first visit and back from the last (``planned_linehaul_h``), the legs between visits
    (``planned_local_h``), service; and routes (working days) a week."""
    m, acc = problem.duration, problem.accounts
    out_back = between = service = 0.0
    for r in routes:
        nodes = [0] + [acc[a].location for a in r] + [0]
        legs = [float(m[a, b]) for a, b in itertools.pairwise(nodes)]
        out_back += legs[0] + legs[-1]
        between += sum(legs[1:-1])
        service += sum(acc[a].service for a in r)
    total = out_back + between + service
    return {"planned_h": total / 60.0 / weeks, "planned_travel_h": (out_back + between) / 60.0 / weeks,
            "planned_linehaul_h": out_back / 60.0 / weeks, "planned_local_h": between / 60.0 / weeks,
            "routes_per_week": len(routes) / weeks, "visits": sum(len(r) for r in routes)}


def cached_routes(cache: dict, tid: str, acc, problem: PeriodicProblem, time_limit: float) -> list[list[int]]:
    """The territory's planned routes from ``cache`` (``--plans``) when it holds a plan of exactly these
    accounts, else a new plan (stored in ``cache``): the plans do not depend on the estimator, so a
    model change is re-checked on the same plans in seconds."""
    ids = [str(a) for a in acc["account_id"]]
    hit = cache.get(tid)
    if hit and hit["account_ids"] == ids:
        return hit["routes"]
    routes = planned_routes(problem, time_limit)
    cache[tid] = {"account_ids": ids, "time_limit_s": time_limit, "routes": routes}
    return routes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--project", required=True)
    ap.add_argument("--territories", default="", help="comma-separated territory ids (default: a sample)")
    ap.add_argument("--sample", type=int, default=8)
    ap.add_argument("--weeks", type=int, default=4)
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--fit", action="store_true")
    ap.add_argument("--plans", default="", help="JSON file of planned routes: reused when it holds a "
                    "territory's plan of the same accounts, written with the new ones")
    args = ap.parse_args(argv)
    cache = json.loads(Path(args.plans).read_text()) if args.plans and Path(args.plans).exists() else {}
    project = open_project(args.project)
    all_ids = sorted(project.scenario_territories()["territory_id"].astype(str))
    tids = [t for t in args.territories.split(",") if t] or all_ids[::max(1, len(all_ids) // args.sample)][:args.sample]
    rows, cases = [], []
    for tid in tids:
        t0 = time.perf_counter()
        rep, acc = reference_accounts(project, tid, args.weeks)
        problem = reference_problem(rep, acc, args.weeks)
        ref = planned_hours_per_week(problem, cached_routes(cache, tid, acc, problem, args.time_limit), args.weeks)
        if args.plans:
            Path(args.plans).write_text(json.dumps(cache))
        est = estimate(rep, acc, args.weeks)
        cases.append((rep, acc, ref["planned_h"]))
        rows.append({"territory_id": tid, "accounts": len(acc), **{k: round(v, 2) for k, v in ref.items()},
                     "estimated_h": round(est.total_h, 2), "estimated_travel_h": round(est.travel_h, 2),
                     "estimated_linehaul_h": round(est.linehaul_h, 2), "estimated_local_h": round(est.local_h, 2),
                     "estimated_days": round(est.days, 2),
                     "error_pct": round(100 * (est.total_h - ref["planned_h"]) / ref["planned_h"], 1),
                     "seconds": round(time.perf_counter() - t0, 1)})
        print(json.dumps(rows[-1]), file=sys.stderr)
    out = {"k": DEFAULT_MODEL.k, "fill": DEFAULT_MODEL.fill, "weeks": args.weeks, "time_limit_s": args.time_limit, "territories": rows,
           "mean_abs_error_pct": round(float(np.mean([abs(r["error_pct"]) for r in rows])), 1),
           "max_abs_error_pct": max(abs(r["error_pct"]) for r in rows),
           "within_10pct": sum(abs(r["error_pct"]) <= 10 for r in rows)}
    if args.fit:
        out["fitted_k"], out["fitted_fill"], out["fitted_errors_pct"] = fit_k(cases, args.weeks)
    print(json.dumps(out, indent=1))
    return 0


def fit_k(cases, weeks: int) -> tuple[float, float, list[float]]:
    """The leg constant k (0.60-2.00 by 0.05) and day fill (0.85-1.00 by 0.01) with the least squared
    relative error against the planned hours."""
    best = (math.inf, DEFAULT_MODEL.k, DEFAULT_MODEL.fill, [])
    for k, fill in itertools.product(np.arange(0.60, 2.001, 0.05), np.arange(0.85, 1.001, 0.01)):
        model = replace(DEFAULT_MODEL, k=float(k), fill=float(fill))
        errs = [100 * (estimate(rep, acc, weeks, model).total_h - planned) / planned for rep, acc, planned in cases]
        best = min(best, (sum(e * e for e in errs), round(float(k), 2), round(float(fill), 2),
                          [round(e, 1) for e in errs]))
    return best[1], best[2], best[3]


if __name__ == "__main__":
    sys.exit(main())
