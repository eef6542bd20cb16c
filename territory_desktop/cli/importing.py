"""``import-units``, ``import-accounts``, ``import-reps``: bring files into a project.

The whole file is validated first; every bad row is listed on stderr (row, column, reason) and the
command exits 2 with nothing written. A project that does not exist yet is created.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._common import TextProgress, parse_mapping

_MAP_HELP = ("FIELD=COLUMN: use COLUMN of the file for FIELD (repeatable). Columns are otherwise matched by "
             "name, ignoring case and punctuation (e.g. 'Account ID', 'Latitude', 'ZIP')")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import-units", help="import geographic units (Shapefile, GeoPackage, GeoJSON, KML)",
                       description="Replace the project's units with the polygons of a vector file, in any "
                                   "CRS (reprojected to EPSG:4326). Invalid geometries are repaired and "
                                   "reported; accounts are placed in the new units again.")
    p.add_argument("project", metavar="PROJECT", help="project file (.gpkg), created if missing")
    p.add_argument("file", metavar="FILE", help="vector file with polygons")
    p.add_argument("--id", required=True, dest="id_column", help="column with the unique unit id")
    p.add_argument("--name", dest="name_column", help="column with the unit's display name")
    p.add_argument("--layer", help="layer to read from a multi-layer file")
    p.add_argument("--crs", help="CRS of a file that declares none, e.g. EPSG:4269")
    p.set_defaults(func=run_units)

    for kind, what in (("accounts", "accounts (customers and prospects)"), ("reps", "sales reps")):
        p = sub.add_parser(f"import-{kind}", help=f"import {what} from CSV or XLSX",
                           description=f"Replace the project's {what} with the rows of a CSV or XLSX file. "
                                       "Locations come from lat/lon columns or, where those are empty, from a "
                                       "US ZIP code column (offline, at the ZIP centroid).")
        p.add_argument("project", metavar="PROJECT", help="project file (.gpkg), created if missing")
        p.add_argument("file", metavar="FILE", help=".csv or .xlsx file")
        p.add_argument("--map", action="append", metavar="FIELD=COLUMN", help=_MAP_HELP)
        p.add_argument("--sheet", help="worksheet of an XLSX file (default: the first)")
        p.add_argument("--encoding", help="text encoding of a CSV (default: UTF-8, else Windows-1252)")
        p.set_defaults(func=run_accounts if kind == "accounts" else run_reps)


def _load_or_new(path: str):
    from ..models import Project
    from ..services.project import open_project

    if Path(path).exists():
        return open_project(path)
    project = Project(name=Path(path).stem)
    return project


def _finish(project, path: str, report) -> int:
    from ..services.project import save_project

    save_project(project, path)
    for line in report.lines():
        stream = sys.stderr if line.startswith("warning") else sys.stdout
        print(line, file=stream)
    return 0


def run_units(args: argparse.Namespace) -> int:
    from ..services.importing import import_units

    project = _load_or_new(args.project)
    report = import_units(project, args.file, args.id_column, args.name_column, args.layer, args.crs)
    return _finish(project, args.project, report)


def run_accounts(args: argparse.Namespace) -> int:
    from ..services.importing import import_accounts

    project = _load_or_new(args.project)
    report = import_accounts(project, args.file, parse_mapping(args.map), args.sheet, args.encoding,
                             progress=TextProgress())
    return _finish(project, args.project, report)


def run_reps(args: argparse.Namespace) -> int:
    from ..services.importing import import_reps

    project = _load_or_new(args.project)
    report = import_reps(project, args.file, parse_mapping(args.map), args.sheet, args.encoding)
    return _finish(project, args.project, report)
