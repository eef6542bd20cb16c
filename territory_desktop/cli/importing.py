"""``import-units``, ``import-accounts``, ``import-reps``; ``import-sales``, ``import-opportunities``,
``import-visits`` (``--project P.gpkg FILE``, the project must exist): bring files into a project.

The whole file is validated first; every bad row is listed on stderr (row, column, reason) and the
command exits 2 with nothing written. A project that does not exist yet is created.

``--mode upsert`` (default) updates records whose id exists and appends new ones; ``--mode append``
refuses ids that exist; ``--mode replace`` removes what the file does not hold: it prints what it would
remove and what refers to it, and exits 2 unless ``--yes`` is given.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._common import TextProgress, parse_mapping, project_command

_MAP_HELP = ("FIELD=COLUMN: use COLUMN of the file for FIELD (repeatable). Columns are otherwise matched by "
             "name, ignoring case and punctuation (e.g. 'Account ID', 'Latitude', 'ZIP')")
_MODE_HELP = ("upsert (default): update records whose id exists, append new ones; append: refuse ids that "
              "exist already; replace: the file becomes the whole table (asks for --yes)")


def _add_mode(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mode", choices=("upsert", "append", "replace"), default="upsert", help=_MODE_HELP)
    p.add_argument("--yes", action="store_true", help="confirm --mode replace (without it, the counts of what "
                                                      "would be removed are printed and nothing changes)")


def _add_table_file(p: argparse.ArgumentParser) -> None:
    """FILE, --map, --sheet, --encoding and the mode options of a CSV/XLSX import."""
    p.add_argument("file", metavar="FILE", help=".csv or .xlsx file")
    p.add_argument("--map", action="append", metavar="FIELD=COLUMN", help=_MAP_HELP)
    p.add_argument("--sheet", help="worksheet of an XLSX file (default: the first)")
    p.add_argument("--encoding", help="text encoding of a CSV (default: from its BOM, else UTF-8, else "
                                      "Windows-1252)")
    _add_mode(p)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import-units", help="import geographic units (Shapefile, GeoPackage, GeoJSON, KML)",
                       description="Add or update the project's units from the polygons of a vector file, in "
                                   "any CRS (reprojected to EPSG:4326). Invalid geometries are repaired and "
                                   "reported; accounts are placed in the units again.")
    p.add_argument("project", metavar="PROJECT", help="project file (.gpkg), created if missing")
    p.add_argument("file", metavar="FILE", help="vector file with polygons")
    p.add_argument("--id", required=True, dest="id_column", help="column with the unique unit id")
    p.add_argument("--name", dest="name_column", help="column with the unit's display name")
    p.add_argument("--layer", help="layer to read from a multi-layer file")
    p.add_argument("--crs", help="CRS of the file's coordinates, e.g. EPSG:4269 (overrides a wrong .prj)")
    _add_mode(p)
    p.set_defaults(func=run_import, kind="units")

    for kind, what in (("accounts", "accounts (customers and prospects)"), ("reps", "sales reps")):
        p = sub.add_parser(f"import-{kind}", help=f"import {what} from CSV or XLSX",
                           description=f"Add or update the project's {what} from the rows of a CSV or XLSX "
                                       "file, matched by id. Locations come from lat/lon columns or, where those "
                                       "are empty, from a US ZIP code column (offline, at the ZIP centroid).")
        p.add_argument("project", metavar="PROJECT", help="project file (.gpkg), created if missing")
        _add_table_file(p)
        p.set_defaults(func=run_import, kind=kind)
    _register_history(sub)


_HISTORY = {"sales": "sales transactions (account, month, product, amount)",
            "opportunities": "opportunities (id, account, rep, created, closed, stage, amount, won)",
            "visits": "visits made (account, rep, date, minutes, outcome, note)"}


def _register_history(sub: argparse._SubParsersAction) -> None:
    for kind, what in _HISTORY.items():
        p = project_command(sub, f"import-{kind}", f"import {kind} history from CSV or XLSX",
                            f"Add {what} to the project from a CSV or XLSX file. Every row is checked first "
                            "(dates, numbers, duplicates, accounts and reps the project must have); a bad "
                            "row is listed and nothing is imported. The KPIs count each row for the "
                            "territory that owned its account at the row's date.")
        _add_table_file(p)
        p.set_defaults(func=run_history_import, kind=kind)


def run_history_import(args: argparse.Namespace) -> int:
    """``import-sales|import-opportunities|import-visits --project P FILE``: validate, prepare, apply, save."""
    from ..services.history_import import prepare_history_import, read_history_file
    from ..services.project import open_project

    project = open_project(args.project)
    read = read_history_file(args.kind, args.file, parse_mapping(args.map), args.sheet, args.encoding, project)
    prepared = prepare_history_import(project, args.kind, read, Path(args.file).name, args.mode)
    return _confirm_apply_save(args, project, prepared)


def _confirm_apply_save(args: argparse.Namespace, project, prepared) -> int:
    """Refuse an unconfirmed replace (printing what it would do), else apply, save and print the report."""
    from ..services.importing import apply_import
    from ..services.project import save_project

    if args.mode == "replace" and project.path is not None and not args.yes:
        print(f"--mode replace would change the {args.kind} of {Path(args.project).name}:", file=sys.stderr)
        for line in prepared.counts.lines():
            print(f"  {line}", file=sys.stderr)
        print("nothing was changed; run again with --yes to replace", file=sys.stderr)
        return 2
    report = apply_import(project, prepared)
    save_project(project, args.project)
    for line in report.lines():
        stream = sys.stderr if line.startswith("warning") else sys.stdout
        print(line, file=stream)
    return 0


def _load_or_new(path: str):
    from ..models import Project
    from ..services.project import open_project

    if Path(path).exists():  # the sales, visits and opportunities are read only if the import needs them
        return open_project(path, history=False)
    return Project(name=Path(path).stem)


def _read(args: argparse.Namespace):
    from ..services import importing

    if args.kind == "units":
        return importing.read_units_file(args.file, args.id_column, args.name_column, args.layer, args.crs)
    reader = importing.read_accounts_file if args.kind == "accounts" else importing.read_reps_file
    return reader(args.file, parse_mapping(args.map), args.sheet, args.encoding)


def run_import(args: argparse.Namespace) -> int:
    """Read and validate, prepare the change for ``--mode``, confirm a replace, apply and save."""
    from ..services.importing import prepare_import

    progress = TextProgress()
    project = _load_or_new(args.project)
    progress(0.0, f"reading {Path(args.file).name}")
    read = _read(args)
    progress(0.5, "comparing with the project")
    prepared = prepare_import(project, args.kind, read, Path(args.file).name, args.mode)
    progress(0.8, "saving")
    return _confirm_apply_save(args, project, prepared)
