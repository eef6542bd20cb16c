"""``territory-desktop audit``: who changed which assignment and when, filtered, printed or exported."""

from __future__ import annotations

import argparse

from ._common import json_text, output_file, printable, project_command

DESCRIPTION = """\
List the project's audit log, oldest first: every save records one row per assignment change (unit or
account, scenario, old and new territory) with who saved it and when, plus imports and review steps.
Filter by --since/--until (dates, inclusive), --user and --territory (moved into or out of it); --csv
writes the rows (.csv or .xlsx, formula-safe).

Examples:
  territory-desktop audit --project demo.gpkg --since 2026-11-01 --user alice
  territory-desktop audit --project demo.gpkg --territory T003 --csv changes.xlsx
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = project_command(sub, "audit", "the audit log: who changed which assignment and when", DESCRIPTION,
                        raw=True)
    p.add_argument("--since", metavar="DATE", help="only entries from this date on (YYYY-MM-DD)")
    p.add_argument("--until", metavar="DATE", help="only entries up to this date (inclusive)")
    p.add_argument("--user", metavar="U", help="only entries by this user")
    p.add_argument("--territory", metavar="T", help="only changes into or out of this territory")
    p.add_argument("--csv", type=output_file(".csv", ".xlsx"), metavar="F", help="write the rows to F")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..services.audit import audit_entries, export_audit

    rows = audit_entries(args.project, since=args.since, user=args.user, territory=args.territory,
                         until=args.until)
    if args.csv:
        export_audit(rows, args.csv)
    if args.json:
        print(json_text({"entries": rows.astype(object).where(rows.notna(), None).to_dict("records")}))
        return 0
    print(f"{len(rows)} audit entr{'y' if len(rows) == 1 else 'ies'}" + (f" written to {args.csv}" if args.csv else ""))
    for r in rows.head(500).itertuples():
        print(f"{r.ts}  {printable(r.user or ''):<12} {printable(r.scenario_id or ''):<10} "
              f"{printable(r.details or r.action)}")
    if len(rows) > 500:
        print(f"... {len(rows) - 500} more (use --csv)")
    return 0
