"""``territory-desktop assign-leads``: assign a file of leads to territories and reps by the planner's rules."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..models import InvalidInputError
from ._common import input_file, json_text, output_file, parse_mapping, printable, project_file

DESCRIPTION = """\
Assign each lead of LEADS_FILE (CSV or XLSX: lead id, lat/lon or ZIP, value, industry, product, source,
date, company, domain or e-mail) to a territory and a rep of the project's active scenario, by the rules
of --rules (JSON); without --rules, by the rules stored in the project (the Leads dock's list, or an
earlier --save-rules), else every rule in the standard order. --save-rules stores the --rules file's rules
in the project (also with --preview, which then saves only the rules). Each lead gets an explanation and
the rules tried that did not apply; leads nobody can take are listed with the reason.

Without --preview the assignments and the round-robin state are saved in the project (table `leads`),
with an audit entry; the next run continues the rotation. Leads already in the project are left alone.

Examples:
  territory-desktop assign-leads --project demo.gpkg leads.csv --preview
  territory-desktop assign-leads --project demo.gpkg leads.xlsx --rules rules.json --json
  territory-desktop assign-leads --project demo.gpkg leads.csv --rules rules.json --save-rules --preview
"""
SHOWN = 20


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("assign-leads", help="assign leads to territories and reps by ordered rules",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("leads_file", type=input_file, metavar="LEADS_FILE", help="leads (.csv or .xlsx)")
    p.add_argument("--project", type=project_file, required=True, metavar="P.gpkg", help="the project")
    p.add_argument("--preview", action="store_true", help="show the assignments; save nothing")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    p.add_argument("--rules", type=input_file, metavar="RULES.json", help="rule order, tiers, teams, caps, "
                   "absences and round robin (see the README)")
    p.add_argument("--save-rules", action="store_true", help="store the --rules file's rules in the project: "
                   "later runs without --rules (and the Leads dock) use them")
    p.add_argument("--map", action="append", metavar="FIELD=COLUMN", help="use COLUMN of the file for FIELD")
    p.add_argument("--sheet", help="worksheet of an XLSX file (default: the first)")
    p.add_argument("--encoding", help="text encoding of a CSV file (default: UTF-8, else Windows-1252)")
    p.add_argument("--out", type=output_file(".csv", ".xlsx"), metavar="FILE.csv",
                   help="also write every lead's assignment and explanation here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..services.leads import apply_leads, propose_leads, read_leads
    from ..services.project import open_project, save_project
    from ..storage.export import write_table

    if args.save_rules and not args.rules:
        raise InvalidInputError("--save-rules", ["--save-rules needs --rules RULES.json (the rules to store)"])
    project = open_project(args.project, for_writing=not args.preview or args.save_rules)
    ruleset, rules_from = _rules(args, project)
    leads, notes = read_leads(args.leads_file, parse_mapping(args.map), args.sheet, args.encoding)
    proposal = propose_leads(project, leads, ruleset)
    if not args.preview:
        apply_leads(project, proposal, Path(args.leads_file).name)
    if not args.preview or args.save_rules:
        save_project(project)
    if args.out:
        write_table(proposal.table, args.out)
    _report(args, proposal, notes + proposal.notes, rules_from)
    return 0


def _rules(args: argparse.Namespace, project) -> tuple:
    """The run's rules and where they came from: the --rules file (stored first with --save-rules), else
    the project's stored rules, else the defaults."""
    from ..services.lead_rules import parse_rules, project_rules, read_rules_data, store_rules

    rep_ids = set(project.reps["rep_id"].astype(str))
    if not args.rules:
        return project_rules(project, rep_ids)
    data, source = read_rules_data(args.rules), Path(args.rules).name
    ruleset = parse_rules(data, source, rep_ids)
    if args.save_rules:
        store_rules(project, data, source, rep_ids)
    return ruleset, "file"


def _report(args: argparse.Namespace, proposal, notes: list[str], rules_from: str) -> None:
    table = proposal.table
    summary = {"leads": len(table), "assigned": proposal.assigned, "unassigned": len(table) - proposal.assigned,
               "by_rep": table["rep_id"].value_counts().sort_index().to_dict(),
               "matched_accounts": table["matched_by"].value_counts().to_dict(),
               "skipped_already_in_project": proposal.skipped, "saved": not args.preview, "notes": notes,
               "rules_from": rules_from, "rules_saved": bool(args.save_rules)}
    if args.json:
        rows = table.astype(object).where(table.notna(), None).to_dict("records")
        print(json_text({**summary, "assignments": rows, "rotation": proposal.rotation}))
        return
    for note in notes:
        print(f"note: {printable(note)}")
    saved = ("saved in the project" if not args.preview else
             "preview, only the rules saved" if args.save_rules else "preview, nothing saved")
    if args.save_rules:
        print(f"rules of {Path(args.rules).name} stored in the project")
    elif rules_from != "file":
        print(f"rules: {'the rules stored in the project' if rules_from == 'project' else 'the defaults'}")
    print(f"{summary['assigned']} of {summary['leads']} leads assigned, {summary['unassigned']} unassigned ({saved})")
    for row in table.head(SHOWN).itertuples():
        text = row.explanation if row.rep_id is not None else f"UNASSIGNED: {row.reason}"
        print(f"  {printable(row.lead_id)}: {printable(text)}")
    if len(table) > SHOWN:
        print(f"  ... {len(table) - SHOWN} more (--json or --out for all)")
    gone = proposal.unassigned()
    if len(gone) and len(table) > SHOWN:
        print(f"unassigned ({len(gone)}):")
        for row in gone.head(SHOWN).itertuples():
            print(f"  {printable(row.lead_id)}: {printable(row.reason)}")
