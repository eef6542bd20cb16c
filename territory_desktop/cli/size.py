"""``territory-desktop size --project P.gpkg --coverage 0.95 [--json] [--propose]``: reps needed by route
workload, and optionally that many territories balanced on it, saved as a new scenario."""

from __future__ import annotations

import argparse
import json

from ._common import TextProgress, number_in, project_command


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
    p.add_argument("--propose", action="store_true",
                   help="build reps_needed territories balanced on route workload (the balancer) and save them "
                        "in the project as a new scenario")
    p.add_argument("--tolerance", type=number_in(0, 1, low_open=True), default=0.10, metavar="T",
                   help="with --propose: allowed route-workload deviation from the mean (default 0.10 = +/-10%%)")
    p.add_argument("--time-limit", type=number_in(0, 3600, low_open=True), default=60.0, metavar="S",
                   help="with --propose: seconds for the balancer (default 60)")
    p.add_argument("--seed", type=number_in(0, 2**31 - 1, int), default=0, metavar="N",
                   help="with --propose: random seed of the balancer (default 0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..services.project import open_project
    from ..services.workload import ROUTE_MODEL, size_team

    model = replace(ROUTE_MODEL, admin_hours_per_day=args.admin_hours)
    project = open_project(args.project, for_writing=args.propose)  # busy elsewhere: said before the work
    out = size_team(project, args.coverage, args.scenario, model)
    if args.propose:
        out["proposed"] = _propose(args, project, out)
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
    if args.propose:
        prop = out["proposed"]
        spread = prop["balance"]["route_workload"]
        print(f"\nproposed {prop['territories']} territories balanced on route workload "
              f"({spread['min_over_mean']:.3f}-{spread['max_over_mean']:.3f} of the mean, {prop['units_moved']} units "
              f"moved) -> scenario {prop['scenario']} in {args.project}")
    return 0


def _propose(args: argparse.Namespace, project, sizing: dict) -> dict:
    """Build and save the sized territories; the JSON block ``proposed`` (scenario, territories, balance)."""
    from ..services.project import save_project
    from ..services.workload import propose_sized_territories

    sid, proposal = propose_sized_territories(project, sizing["reps_needed"], sizing["scenario"], args.tolerance,
                                              args.time_limit, args.seed, TextProgress())
    save_project(project)
    summary = proposal.summary.to_json()
    return {"scenario": sid, "territories": sizing["reps_needed"], "units_moved": len(proposal.changes),
            "balance": summary["balance"], "within_tolerance": summary["within_tolerance"],
            "seconds": summary["seconds"]}
