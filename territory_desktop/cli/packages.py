"""``territory-desktop export-package`` and ``import-report``: field packages for reps' devices and the
reports they bring back (services.packages, services.field_reports)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

from ..models import InvalidInputError
from ._common import (
    TextProgress,
    check_scenario,
    input_file,
    json_text,
    number_in,
    printable,
    project_command,
    project_file,
)

DESCRIPTION = """\
Write a field package for a rep's phone or tablet: index.html (offline field app), accounts.csv,
schedule.ics, routes.gpx, territory.gpkg, territory.pdf and a signed manifest.json. The schedule is the
plan saved in the project for the rep, else a new plan of --weeks weeks from --start. A package holds
that rep's data only.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = project_command(
        sub, "export-package", "write a rep's offline field package (or one per rep with --all)", DESCRIPTION,
        epilog="examples:\n  territory-desktop export-package --project demo.gpkg --rep R01 --out R01.zip\n"
               "  territory-desktop export-package --project demo.gpkg --all --out packages/",
        raw=True)
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--rep", metavar="ID", help="rep_id to export for")
    who.add_argument("--all", action="store_true", help="one package per rep, into the folder --out")
    p.add_argument("--out", required=True, metavar="DIR_OR_ZIP",
                   help="a folder (created), or a .zip file; with --all a folder that gets REP_ID.zip per rep "
                        "(or REP_ID folders with --folders)")
    p.add_argument("--folders", action="store_true", help="with --all: folders instead of zip files")
    p.add_argument("--start", metavar="DATE", help="first day of a new plan, YYYY-MM-DD (default next Monday)")
    p.add_argument("--weeks", type=number_in(1, 5, int), default=1, metavar="N",
                   help="weeks of a new plan, 1 to 5 (default 1)")
    p.add_argument("--scenario", default=None, help="scenario id (default: the active one)")
    p.add_argument("--time-limit", type=number_in(0.1, 60), default=0.5, metavar="S",
                   help="route planner seconds per rep for a new plan, 0.1 to 60 (default 0.5)")
    p.add_argument("--no-pdf", action="store_true", help="skip the printable PDF map")
    p.add_argument("--jobs", type=number_in(1, 16, int), default=min(os.cpu_count() or 1, 16), metavar="N",
                   help="with --all: export in N processes, 1 to 16 (default: the number of cores)")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    p.set_defaults(func=run_export)

    r = sub.add_parser(
        "import-report", help="merge a field report from a rep's device into the project",
        description="Check a field report (signature, checksum, rep, accounts), add its visits to the "
                    "visit history and merge its account corrections three-way against the package's base "
                    "copy. Conflicting changes (the desk changed the same field differently) are listed and "
                    "not applied unless --resolve says which side wins. Importing a report twice changes "
                    "nothing. A refused report writes nothing.")
    r.add_argument("--project", required=True, type=project_file, metavar="P.gpkg", help="project file")
    r.add_argument("report", type=input_file, metavar="REPORT", help="the report file (.json) from the field app")
    r.add_argument("--resolve", choices=("field", "desk"), default=None,
                   help="settle conflicts: field = the rep's value wins, desk = keep the project's value")
    r.add_argument("--json", action="store_true", help="print the merge result as JSON")
    r.set_defaults(func=run_import)


def _start(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError("--start", [f"{text!r} is not a date YYYY-MM-DD"]) from None


def _pdf_writer():
    """The print engine's wall map (Qt, offscreen), as ``territory-desktop print`` calls it."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ..ui.field_packages import pdf_writer
    from ..ui.print import ensure_application

    ensure_application()
    return pdf_writer()


def run_export(args: argparse.Namespace) -> int:
    from ..services.packages import PackageOptions, export_all_packages, export_rep_package
    from ..services.project import open_project
    from ..storage.project_file import package_key

    out = Path(args.out)
    if not out.parent.is_dir():
        raise InvalidInputError("--out", [f"the folder {out.parent} does not exist"])
    t0 = time.perf_counter()
    project = open_project(args.project)
    check_scenario(project, args.scenario)
    opts = PackageOptions(key=package_key(args.project), start=_start(args.start), weeks=args.weeks,
                          scenario_id=args.scenario, time_limit=args.time_limit, zip=not args.folders)
    factory = None if args.no_pdf else _pdf_writer
    if args.all:
        written = export_all_packages(project, out, opts, progress=TextProgress(), jobs=args.jobs,
                                      pdf_factory=factory)
    else:
        opts.zip = out.suffix.lower() == ".zip"
        opts.pdf = factory() if factory else None
        written = [export_rep_package(project, args.rep, out, opts)]
    elapsed = time.perf_counter() - t0
    sizes = [_size(p) for p in written]
    if args.json:
        print(json_text({"packages": [{"path": str(p), "bytes": s} for p, s in zip(written, sizes, strict=True)],
                         "seconds": round(elapsed, 2)}))
    else:
        print(f"wrote {len(written)} package{'s' if len(written) != 1 else ''} "
              f"({sum(sizes) / 1e6:.1f} MB) in {elapsed:.1f} s: {printable(written[0]) if written else ''}"
              f"{' ..' if len(written) > 1 else ''}")
    return 0


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_import(args: argparse.Namespace) -> int:
    from ..services.field_reports import import_report

    result = import_report(args.project, args.report, resolve=args.resolve)
    if args.json:
        print(json_text(result))
        return 0
    print(f"report {printable(result['report_id'])} from rep {printable(result['rep_id'])}: "
          f"{result['visits_added']} visits added, {result['visits_already_imported']} already imported, "
          f"{result['corrections_applied']} corrections applied, {len(result['conflicts'])} conflicts")
    for c in result["conflicts"]:
        state = f"resolved: {c['resolved']}" if c.get("resolved") else "not applied"
        print(f"  conflict {printable(c['account_id'])} {c['field']}: base {printable(c['base'])!s}, "
              f"field {printable(c['field_value'])}, desk {printable(c['desk_value'])} ({state})")
    if result["conflicts"] and not args.resolve:
        print("  run again with --resolve field or --resolve desk to settle them", file=sys.stderr)
    return 0
