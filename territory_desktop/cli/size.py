"""``territory-desktop size --project P.gpkg --coverage 0.95 [--json]``: reps needed by route workload."""

from __future__ import annotations

import argparse
import json

from ._common import project_command


def register(sub: argparse._SubParsersAction) -> None:
    p = project_command(sub, "size", "how many reps the territories' route workload needs",
                        "Estimate each territory's route workload (service + travel + admin hours a year, from "
                        "its accounts' frequencies and geography and its rep's home) and the number of reps "
                        "whose capacity covers it at the given coverage.")
    p.add_argument("--coverage", type=float, default=0.95,
                   help="share of the required visits the reps must make (default 0.95)")
    p.add_argument("--scenario", default=None, help="scenario id (default: the active one)")
    p.add_argument("--admin-hours", type=float, default=0.0, metavar="H",
                   help="administration hours per working day added to the workload (default 0)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..engine.routing.workload import DEFAULT_MODEL
    from ..services.project import open_project
    from ..services.workload import size_team

    model = replace(DEFAULT_MODEL, admin_hours_per_day=args.admin_hours)
    out = size_team(open_project(args.project), args.coverage, args.scenario, model)
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"scenario '{out['scenario']}': route workload {out['total_route_workload_hours']:,.0f} h/yr; at "
          f"{100 * out['coverage']:.0f} % coverage and {out['capacity_hours_per_rep']:,.0f} h per rep: "
          f"{out['reps_needed']} reps needed ({out['reps_now']} now, "
          f"{out['territories_over_capacity']} territories over capacity)")
    print(f"\n{'territory':<10} {'rep':<5} {'route h/yr':>11} {'service h':>10} {'travel h':>9} {'days/wk':>8} "
          f"{'capacity h':>11} {'load %':>7}")
    for t in out["territories"]:
        print(f"{t['territory_id']:<10} {t['rep_id']!s:<5} {t['route_workload_hours']:>11,.0f} "
              f"{t['service_hours']:>10,.0f} {t['travel_hours']:>9,.0f} {t['days_per_week']:>8.2f} "
              f"{t['capacity_hours']:>11,.0f} {t['load_pct'] or 0:>7.1f}")
    return 0
