"""The command line: ``territory-desktop SUBCOMMAND ...``; with no subcommand the GUI opens.

Each subcommand lives in its own module here with ``register(subparsers)``, which adds its parser and
sets ``func`` to a ``run(args) -> int`` function. Errors a user can act on (``TerritoryError``) are
printed as lines on stderr with exit code 2; no traceback. Qt is imported only by the GUI commands,
lazily, so headless commands never load it.
"""

from __future__ import annotations

import argparse
import sys

from ..models import TerritoryError
from . import demo, importing, info

#: modules with register(subparsers); later issues append theirs here
COMMAND_MODULES = [demo, importing, info]


def _optional_modules() -> list:
    """Command modules owned by other features; imported if present so the CLI grows by adding files."""
    import importlib

    found = []
    for name in ("balance", "route", "size", "screenshot", "printing", "gui"):
        try:
            found.append(importlib.import_module(f"{__name__}.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="territory-desktop",
        description="Territory Desktop: sales territory planning on a map. With no command, opens the GUI.",
    )
    parser.add_argument("--version", action="version", version="territory-desktop 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES + _optional_modules():
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from ..ui.app import run_gui  # lazy: headless commands never load Qt

        return run_gui([])
    try:
        return int(args.func(args) or 0)
    except TerritoryError as exc:
        first, *rest = str(exc).splitlines() or [type(exc).__name__]
        print(f"error: {first}", file=sys.stderr)
        for line in rest:
            print(f"  {line.strip()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
