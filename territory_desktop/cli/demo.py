"""``territory-desktop demo OUT.gpkg``: build the demo project."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..models import ProjectFileError
from ._common import TextProgress, number_in, output_file


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="build the demo project (lower-48 counties, 20,000 accounts, 40 reps)",
                       description="Build a demo project from real US geography shipped in pip packages: "
                                   "lower-48 counties as units, accounts at real ZIP centroids, 40 reps in "
                                   "real cities, an initial alignment and 3 years of sales/visit/opportunity "
                                   "history. The same seed gives the same project.")
    p.add_argument("out", metavar="OUT.gpkg", type=output_file(".gpkg"),
                   help="project file to write, in an existing folder")
    p.add_argument("--seed", type=number_in(0, 2**31 - 1, int), default=7, help="random seed, 0 or more (default 7)")
    p.add_argument("--accounts", type=number_in(1, 1_000_000, int), default=20_000,
                   help="number of accounts, 1 to 1000000 (default 20000)")
    p.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..services.demo import build_demo
    from ..services.project import save_project

    out = Path(args.out)
    if out.exists() and not args.force:
        raise ProjectFileError(f"{out} exists; pass --force to overwrite it")
    project = build_demo(seed=args.seed, n_accounts=args.accounts, progress=TextProgress())
    save_project(project, out)
    print(f"wrote {out}: {len(project.units)} units, {len(project.accounts)} accounts, "
          f"{len(project.reps)} reps, {len(project.scenario_territories())} territories")
    return 0
