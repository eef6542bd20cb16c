"""``territory-desktop realign --project P --goal balance|add-rep|remove-rep|new-market ...``: propose plans
that reach the goal moving the least accounts/revenue (services.realign); each alternative is saved as a
new scenario in the project, with its disruption measured against the start."""

from __future__ import annotations

import argparse

from ..models.plan import REALIGN_GOALS
from ._common import TextProgress, json_text, number_in, printable, project_command

DESCRIPTION = """\
Realign the current plan with minimal disruption. Goals:
  balance     every territory within --tolerance of the mean --measure
  add-rep     a new territory for --rep (a rep without one), started at the rep's home
  remove-rep  --rep leaves: the territory is dissolved into its neighbours
  new-market  units without a territory join the territories around them
--max-accounts-moved or --max-revenue-moved (T12M) caps what may change rep; the cap asked for and looser
and tighter ones give the alternatives (default caps: 2 %, 5 %, 10 % of the accounts). --protect names key
accounts (a file with an account_id column, or ids separated by commas) that never change rep.

Examples:
  territory-desktop realign --project demo.gpkg --goal balance --tolerance 0.1 --max-accounts-moved 400
  territory-desktop realign --project demo.gpkg --goal remove-rep --rep R07 --protect A00012,A00457 --json
  territory-desktop realign --project demo.gpkg --goal add-rep --rep R41 --max-revenue-moved 2500000
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = project_command(sub, "realign", "propose realignments that move the least accounts and revenue",
                        DESCRIPTION, raw=True)
    p.add_argument("--goal", required=True, choices=REALIGN_GOALS)
    p.add_argument("--rep", metavar="REP_ID", help="add-rep: the new rep; remove-rep: the rep who leaves")
    p.add_argument("--scenario", help="start from this scenario (id or name; default: the active one)")
    p.add_argument("--measure", default="workload_hours",
                   help="what to balance: workload_hours, accounts, potential, sales_t12m or a numeric unit column")
    p.add_argument("--tolerance", type=number_in(0, 1, low_open=True), default=0.1, metavar="T",
                   help="allowed deviation from the mean, more than 0 and at most 1 (default 0.1)")
    p.add_argument("--max-accounts-moved", type=number_in(0, 100_000_000, int), metavar="N",
                   help="at most N accounts change rep beyond what the goal forces (0 to 100000000)")
    p.add_argument("--max-revenue-moved", type=number_in(0, 1e15), metavar="X",
                   help="at most X of trailing-12-month revenue changes rep (0 to 1e15)")
    p.add_argument("--protect", metavar="FILE|IDS", help="key accounts that never change rep")
    p.add_argument("--alternatives", type=number_in(1, 5, int), default=3, metavar="N",
                   help="how many caps to try (1 to 5, default 3)")
    p.add_argument("--time-limit", type=number_in(0, 3600, low_open=True), default=20.0, metavar="S",
                   help="seconds per alternative, more than 0 and at most 3600 (default 20)")
    p.add_argument("--seed", type=number_in(0, 2**31 - 1, int), default=0, metavar="N", help="random seed")
    p.add_argument("--json", action="store_true", help="print the alternatives as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..services.project import open_project, save_project
    from ..services.realign import RealignRequest, read_protected, realign
    from ..services.scenarios import resolve_scenario

    project = open_project(args.project, for_writing=True)
    start = resolve_scenario(project, args.scenario) if args.scenario else project.active_scenario
    req = RealignRequest(args.goal, start, args.measure, args.tolerance, args.rep, args.max_accounts_moved,
                         args.max_revenue_moved, read_protected(args.protect), args.alternatives, args.time_limit,
                         args.seed)
    options = realign(project, req, (lambda f, m: None) if args.quiet else TextProgress())
    save_project(project)
    if args.json:
        print(json_text({"goal": args.goal, "from": start, "protected": list(req.protect),
                         "alternatives": [o.to_json() for o in options]}))
        return 0
    print(f"{len(options)} alternatives saved as scenarios in {args.project} (least disruption first):")
    for o in options:
        d = o.disruption
        print(f"  {printable(o.scenario_id):<12} cap {o.cap_label:<22} {'reaches goal' if o.within_tolerance else 'misses goal':<12}"
              f" worst {o.worst_deviation_pct:>6.1f} %"
              f" units {d['units_moved']:>5,}  accounts changing rep {d['accounts_changing_rep']:>6,}  "
              f"revenue {d['revenue_changing_rep']:>14,.0f}  pipeline {d['pipeline_changing_rep']:>12,.0f}")
    return 0
