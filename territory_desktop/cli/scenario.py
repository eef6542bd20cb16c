"""``territory-desktop scenario list|create|rename|duplicate|activate|delete --project P ...``: scenarios
(services.scenarios, the same functions the GUI's scenario manager calls). Changes are saved to the file."""

from __future__ import annotations

import argparse

from ._common import json_text, printable, project_command

DESCRIPTION = """\
Manage the scenarios of a project: alternative alignments of units to territories, each with a reason.

Examples:
  territory-desktop scenario list --project demo.gpkg --json
  territory-desktop scenario create --project demo.gpkg --name "West split" --reason "new rep in Denver"
  territory-desktop scenario rename --project demo.gpkg --scenario scenario-1 --name "West split v2"
  territory-desktop scenario duplicate --project demo.gpkg --scenario scenario-1
  territory-desktop scenario activate --project demo.gpkg --scenario "West split"
  territory-desktop scenario delete --project demo.gpkg --scenario scenario-1

SCENARIO is an id or a name only one scenario has. The last scenario and the active one cannot be deleted.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scenario", help="list, create, rename, duplicate, activate or delete scenarios",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = project_command(actions, "list", "list the scenarios", "List the scenarios of the project.")
    ls.add_argument("--json", action="store_true", help="print JSON")
    create = project_command(actions, "create", "a copy of the active alignment as a new scenario",
                             "Copy the active scenario (or --from) into a new scenario.")
    create.add_argument("--name", required=True, help="the new scenario's name")
    create.add_argument("--reason", default="", help="why the scenario exists (its description)")
    create.add_argument("--from", dest="source", metavar="SCENARIO", help="copy this scenario (default: active)")
    rename = project_command(actions, "rename", "rename a scenario (or change its reason)", "Rename a scenario.")
    rename.add_argument("--scenario", required=True)
    rename.add_argument("--name", required=True, help="the new name")
    rename.add_argument("--reason", default=None, help="a new reason (default: keep it)")
    dup = project_command(actions, "duplicate", "copy a scenario", "Copy a scenario into a new one.")
    dup.add_argument("--scenario", required=True)
    dup.add_argument("--name", default=None, help="the copy's name (default: 'NAME (copy)')")
    delete = project_command(actions, "delete", "delete a scenario", "Delete a scenario with its territories "
                             "and plan (not the last one, nor the active one).")
    delete.add_argument("--scenario", required=True)
    activate = project_command(actions, "activate", "make a scenario the active one",
                               "Make a scenario the active one (shown when the project opens; the default "
                               "of commands that take --scenario).")
    activate.add_argument("--scenario", required=True)
    for q in (create, rename, dup, delete, activate):
        q.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..services import scenarios as sc
    from ..services.project import open_project, save_project

    if args.action == "list":
        return _print_list(sc.list_scenarios(open_project(args.project, history=False)), args.json)
    project = open_project(args.project, for_writing=True, history=False)
    result: dict = {"action": args.action}
    if args.action == "create":
        source = sc.resolve_scenario(project, args.source, "--from") if args.source else None
        result["scenario_id"] = sc.create_scenario(project, args.name, args.reason, source)
    else:
        sid = sc.resolve_scenario(project, args.scenario)
        result["scenario_id"] = sid
        if args.action == "rename":
            sc.rename_scenario(project, sid, args.name, args.reason)
        elif args.action == "activate":
            sc.activate_scenario(project, sid)
        elif args.action == "duplicate":
            result["scenario_id"] = sc.duplicate_scenario(project, sid, args.name)
            result["from"] = sid
        else:
            sc.delete_scenario(project, sid)
    save_project(project)
    result["name"] = sc.scenario_name(project, result["scenario_id"]) if args.action != "delete" else None
    if args.json:
        print(json_text(result))
    else:
        what = {"create": "created", "rename": "renamed", "duplicate": "created", "delete": "deleted",
                "activate": "activated"}[args.action]
        print(f"{what} scenario {printable(result['scenario_id'])}"
              + (f" '{printable(result['name'])}'" if result["name"] else "") + f" in {args.project}")
    return 0


def _print_list(rows: list[dict], as_json: bool) -> int:
    if as_json:
        print(json_text(rows))
        return 0
    print(f"{'':1} {'id':<16} {'name':<28} {'parent':<14} {'terr':>5} {'units':>6} {'changed':>8}  reason")
    for r in rows:
        changed = "" if r["units_changed_from_parent"] is None else str(r["units_changed_from_parent"])
        print(f"{'*' if r['active'] else ' '} {printable(r['scenario_id'])[:16]:<16} {printable(r['name'])[:28]:<28} "
              f"{printable(r['parent_id'] or '')[:14]:<14} {r['territories']:>5} {r['units_assigned']:>6} "
              f"{changed:>8}  {printable(r['description'])[:60]}")
    return 0
