"""``territory-desktop info PROJECT [--json]``: counts, CRS and territories with their totals."""

from __future__ import annotations

import argparse

from ._common import json_text, printable, project_file


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="summarise a project: counts, CRS, territories and totals",
                       description="Print a project's counts, CRS, scenarios and the territories of the "
                                   "active scenario with units, accounts, workload (hours/year) and potential.")
    p.add_argument("project", metavar="PROJECT", type=project_file, help="project file (.gpkg)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..services.info import project_summary
    from ..services.project import open_project

    summary = project_summary(open_project(args.project))
    if args.json:
        print(json_text(summary))
        return 0
    c = summary["counts"]
    print(f"{printable(summary['name'])}  ({printable(summary['path'])})")
    print(f"CRS {summary['crs']}; scenario '{summary['active_scenario']}' of {c['scenarios']}")
    print(f"{c['units']} units ({c['orphan_units']} orphan), {c['accounts']} accounts "
          f"({c['accounts_outside_units']} outside every unit), {c['reps']} reps, {c['territories']} territories")
    print(f"history: {c['sales_rows']} sales rows, {c['visits']} visits, {c['opportunities']} opportunities")
    if summary["open_for_editing_by"]:
        print(f"busy: open for editing in {summary['open_for_editing_by']}")
    for note in summary["open_notes"]:
        print(f"note: {note}")
    if summary["territories"]:
        print(f"\n{'territory':<10} {'name':<18} {'rep':<5} {'units':>6} {'accounts':>9} {'workload h':>11} "
              f"{'potential':>14} {'dev %':>7}")
        for t in summary["territories"]:
            print(f"{printable(t['territory_id']):<10} {printable(t['name'])[:18]:<18} "
                  f"{printable(t['rep_id'] or ''):<5} {t['units']:>6} "
                  f"{t['accounts']:>9} {t['workload_hours']:>11,.1f} {t['potential']:>14,.0f} "
                  f"{t['workload_deviation_pct']:>7.1f}")
    return 0
