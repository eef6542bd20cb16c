"""``territory-desktop reassign-leads``: give saved leads to another rep by hand (a manual override after
``assign-leads`` saved them), with an audit entry."""

from __future__ import annotations

import argparse

from ._common import json_text, printable, project_command

DESCRIPTION = """\
Give leads already saved in the project (by assign-leads, or Apply in the Leads dock) to the rep --rep.
A lead keeps its territory when the rep serves it (the rep's own territories in the active scenario, or
a territory whose team in the stored lead rules names the rep) or when the rep serves none; otherwise it
moves to the rep's first territory. A manual reassignment overrides the capacity caps: it is made even
when the rep is over the cap, and the explanation says so. Each lead's explanation gets "reassigned
manually to REP by USER on DAY (was ...)" and --reason; one audit entry records the batch. Leads already
with the rep are left alone. Unknown lead ids or an unknown rep are refused, all named; nothing is saved.

Examples:
  territory-desktop reassign-leads --project demo.gpkg --rep R07 L00012 L00345
  territory-desktop reassign-leads --project demo.gpkg --rep R07 L00012 --reason "customer asked" --json
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = project_command(sub, "reassign-leads", "give saved leads to another rep (manual override)", DESCRIPTION,
                        raw=True)
    p.add_argument("lead_ids", nargs="+", metavar="LEAD_ID", help="ids of leads saved in the project")
    p.add_argument("--rep", required=True, metavar="REP_ID", help="the rep who takes the leads")
    p.add_argument("--reason", default="", metavar="TEXT", help="why (kept in each lead's explanation and the "
                   "audit log)")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..services.leads import reassign_leads
    from ..services.project import open_project, save_project

    project = open_project(args.project, for_writing=True, history=False)
    done = reassign_leads(project, args.lead_ids, args.rep, args.reason)
    if done.changed:
        save_project(project)
    if args.json:
        print(json_text({"rep_id": done.rep_id, "rep_name": done.rep_name, "reassigned": done.changed,
                         "previous_rep": done.previous_rep,
                         "territory_moved": {k: {"from": a, "to": b} for k, (a, b) in done.moved.items()},
                         "unchanged": done.unchanged, "open_leads": done.open_leads, "cap": done.cap,
                         "over_cap": done.over_cap, "saved": bool(done.changed), "notes": done.notes}))
        return 0
    for note in done.notes:
        print(f"note: {printable(note)}")
    n = len(done.changed)
    moves = {k: f", territory {a or '-'} -> {b}" for k, (a, b) in done.moved.items()}
    listed = ", ".join(f"{k} (from {done.previous_rep[k] or 'nobody'}{moves.get(k, '')})" for k in done.changed)
    print(printable(f"{n} lead{'s' if n != 1 else ''} reassigned to {done.rep_name} ({done.rep_id})"
                    + (f": {listed}" if n else "") + (" (saved)" if n else "; nothing saved")))
    if done.cap is not None:
        state = "over the cap" if done.over_cap else "within the cap"
        print(printable(f"{done.rep_name} holds {done.open_leads} open leads, {state} of {done.cap}"))
    return 0
