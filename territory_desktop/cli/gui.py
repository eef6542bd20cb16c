"""``territory-desktop gui [PROJECT]``: open the main window (with a project file, or the most recent)."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser("gui", help="open the main window",
                              description="Open the Territory Desktop main window. With PROJECT, open that "
                                          "project file; without, reopen the most recent project.")
    p.add_argument("project", nargs="?", help="project file (.gpkg) to open")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..ui.app import run_gui

    return run_gui([args.project] if args.project else [])
