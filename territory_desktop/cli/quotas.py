"""``territory-desktop quotas``: top-down quotas per territory and rep, ramps for new reps, reps needed."""

from __future__ import annotations

import argparse

from ..engine.quotas import METHODS, RAMPS
from ..models import InvalidInputError
from ._common import number_in, output_file, printable, project_command
from .allocate import emit

DESCRIPTION = """\
Split --total across the territories of the active scenario: even, by potential, by prior_year sales
(last complete calendar year), by trailing_12 months of sales, bottom-up from the forecast of each
territory's sales over the plan's 12 months (the quotas are the forecast; with --total, scaled to it), or a
blend (--blend potential=0.5 --blend trailing_12=0.5). Quotas add up to the total to the cent. New reps (--new-rep R05=2026-03, the
first month in role) get a linear ramp of --ramp 3, 6 or 9 months to full productivity over the plan's
12 months from --start. --coverage F adds how many reps the plan needs to cover F of its workload.
--save stores the quotas in the project (the set of the active scenario and the plan's months; --replace
replaces a set already stored for both): report and the KPI dock then use them when no quotas file is given.

Examples:
  territory-desktop quotas --project demo.gpkg --total 12000000 --method potential
  territory-desktop quotas --project demo.gpkg --method bottom-up --start 2027-01 --json
  territory-desktop quotas --project demo.gpkg --total 12e6 --method blend --blend potential=1 \\
      --blend trailing_12=1 --new-rep R07=2027-02 --ramp 6 --start 2027-01 --coverage 0.9 --json
  territory-desktop quotas --project demo.gpkg --total 12e6 --method potential --start 2027-01 --save
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = project_command(sub, "quotas", "top-down quotas per territory, ramps for new reps, reps needed",
                        DESCRIPTION, raw=True)
    p.add_argument("--total", type=number_in(0, 1e13, low_open=True), metavar="X",
                   help="the total quota (currency), more than 0; needed by every method but bottom-up (where "
                        "it scales the forecast to this total)")
    p.add_argument("--method", choices=METHODS, required=True, help="how to split the total")
    p.add_argument("--blend", action="append", default=[], metavar="METHOD=WEIGHT",
                   help="with --method blend: a basis and its weight (repeat)")
    p.add_argument("--new-rep", action="append", default=[], metavar="REP=YYYY-MM",
                   help="a new rep and the first month in role (repeat)")
    p.add_argument("--ramp", type=int, choices=RAMPS, default=3, help="months to full productivity (default 3)")
    p.add_argument("--start", metavar="YYYY-MM", help="first month of the plan (default: next January)")
    p.add_argument("--coverage", type=number_in(0, 1, low_open=True), metavar="F",
                   help="also plan capacity: reps needed to cover this fraction of the workload (0-1]")
    p.add_argument("--out", type=output_file(".csv", ".xlsx"), metavar="FILE.csv", help="write the table here")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--save", action="store_true",
                   help="store the quotas in the project (scenario and plan months; report uses them)")
    p.add_argument("--replace", action="store_true",
                   help="with --save: replace the quotas already stored for the same scenario and months")
    p.set_defaults(func=run)


def _pairs(items: list[str], option: str, number: bool) -> dict:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InvalidInputError(option, [f"'{item}' is not NAME=VALUE"])
        try:
            out[key.strip()] = float(value) if number else str(__import__("pandas").Period(value.strip(), "M"))
        except ValueError:
            kind = "a number" if number else "a month (YYYY-MM)"
            raise InvalidInputError(option, [f"'{item}': '{value}' is not {kind}"]) from None
    return out


def run(args: argparse.Namespace) -> int:
    from ..services.project import open_project, save_project
    from ..services.quotas import plan_quotas, save_quotas

    blend = _pairs(args.blend, "--blend", True)
    if blend and args.method != "blend":
        raise InvalidInputError("--blend", ["--blend needs --method blend"])
    if args.replace and not args.save:
        raise InvalidInputError("--replace", ["--replace needs --save"])
    new_reps = _pairs(args.new_rep, "--new-rep", False)
    if args.start:
        _pairs([f"start={args.start}"], "--start", False)
    project = open_project(args.project)
    result = plan_quotas(project, args.total, args.method, blend or None, new_reps, args.ramp, args.start,
                         args.coverage)
    if args.save:
        result["saved"] = save_quotas(project, result, replace=args.replace)
        save_project(project)
    if not emit(args, result, drop="monthly"):
        _print(result)
        if args.save:
            print(f"stored {result['saved']} quotas in {args.project} (scenario {project.active_scenario}, "
                  f"{result['plan_months']})")
    return 0


def _print(result: dict) -> None:
    """The table in whole currency units with thousands separators (--json and --out keep the cents)."""
    print(f"quotas of {result['total']:,.0f} by {result['method']} for {result['plan_months']}; after ramps "
          f"{result['ramped_total']:,.0f}")
    for r in result["territories"]:
        ramp = (f"  new rep from {r['in_role_from']}, {r['ramp_months']}-month ramp: {r['ramped_quota']:,.0f}"
                if "ramped_quota" in r else "")
        label = printable(f"{r['territory_id']} {r['name']}")[:28]
        print(f"  {label:<28} {printable(r['rep_id'] or '-'):<6} {r['share']:>7.2%} {r['quota']:>13,.0f}{ramp}")
    cap = result.get("capacity")
    if cap:
        print(f"capacity: {cap['reps_needed']} reps cover {cap['coverage']:.0%} of {cap['workload_hours']:,.0f} "
              f"workload hours at {cap['capacity_hours_per_rep']:,.0f} h each (now {cap['reps_now']})")
