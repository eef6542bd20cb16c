"""``territory-desktop review``: move a scenario through draft -> proposed -> approved -> published, send
it back to draft, or restore its published snapshot into a draft scenario."""

from __future__ import annotations

import argparse

from ._common import check_scenario, json_text, printable, project_command

DESCRIPTION = """\
The review flow of a scenario: propose (draft -> proposed), approve (proposed -> approved), publish
(approved -> published: keeps a snapshot and makes it the plan in force from --from DATE, default today;
KPIs attribute each sale to the plan in force on its date), send-back (to draft). A proposed, approved or
published scenario refuses every edit until it is sent back. restore copies the scenario's latest
published snapshot (or, with --from DATE, the plan in force on that date) into a draft scenario: --to ID
(default SCENARIO-restored); an existing draft is replaced only with --overwrite. status lists the steps.
Who: the TERRITORY_DESKTOP_USER environment variable, else the login name.

Examples:
  territory-desktop review --project demo.gpkg --scenario base propose --note "Q3 realignment"
  territory-desktop review --project demo.gpkg --scenario base publish --from 2027-01-01
  territory-desktop review --project demo.gpkg --scenario base restore --to base-2027 --json
"""

ACTIONS = ("propose", "approve", "publish", "send-back", "restore", "status")


def register(sub: argparse._SubParsersAction) -> None:
    p = project_command(sub, "review", "review flow of a scenario: propose, approve, publish, send back, restore",
                        DESCRIPTION, raw=True)
    p.add_argument("--scenario", required=True, metavar="S", help="the scenario id")
    p.add_argument("action", choices=ACTIONS, help="the step to take (status: only list the steps)")
    p.add_argument("--from", dest="from_date", metavar="DATE",
                   help="publish: in force from this date (default today); restore: the plan in force then")
    p.add_argument("--note", default="", metavar="TEXT", help="a note kept with the step")
    p.add_argument("--to", metavar="ID", help="restore: the draft scenario to restore into")
    p.add_argument("--overwrite", action="store_true", help="restore: replace the --to scenario if it exists")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..services import review
    from ..services.project import open_project, save_project

    project = open_project(args.project, for_writing=args.action != "status")
    check_scenario(project, args.scenario)
    result: dict = {"scenario_id": args.scenario}
    if args.action == "restore":
        result["restored_into"] = review.restore(project, args.scenario, args.to, args.overwrite, args.from_date)
    elif args.action != "status":
        result["step"] = review.transition(project, args.scenario, args.action, args.from_date, args.note)
    if args.action != "status":
        save_project(project)
    result["status"] = review.status(project, args.scenario)
    result["history"] = review.history(project, args.scenario).astype(object).where(
        lambda f: f.notna(), None).to_dict("records")
    result["plans_in_force"] = [{"from_date": d, "plan": r} for d, r in project.plans_in_force if isinstance(r, str)]
    if args.json:
        print(json_text(result))
    else:
        _print(result)
    return 0


def _print(result: dict) -> None:
    if "restored_into" in result:
        print(f"restored into draft scenario {printable(result['restored_into'])}")
    print(f"scenario {printable(result['scenario_id'])}: {result['status']}")
    for h in result["history"]:
        extra = f" in force from {h['from_date']} (snapshot {printable(h['snapshot_id'])})" if h["from_date"] else ""
        note = f"  {printable(h['note'])}" if h["note"] else ""
        print(f"  {h['ts']}  {h['status']:<9} {printable(h['user'] or '')}{extra}{note}")
