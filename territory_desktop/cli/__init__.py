"""The command line: ``territory-desktop SUBCOMMAND ...``; with no subcommand the GUI opens.

Each subcommand lives in its own module here with ``register(subparsers)``, which adds its parser and
sets ``func`` to a ``run(args) -> int`` function. Errors a user can act on (``TerritoryError``, a bad
argument, a file the system refuses) are printed as lines on stderr with exit code 2; no traceback. A
closed stdout (``territory-desktop info P.gpkg | head -1``) ends the command quietly with exit code 141
(128 + SIGPIPE), as other Unix tools do. Qt is imported only by the GUI commands,
lazily, so headless commands never load it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from ..models import TerritoryError
from ..services.about import app_version
from . import allocate, assign_leads, demo, importing, info, quotas, reassign_leads, report
from ._common import CliParser, printable

#: modules with register(subparsers); later issues append theirs here
COMMAND_MODULES = [demo, importing, info, report, assign_leads, reassign_leads, allocate, quotas]


def _optional_modules() -> list:
    """Command modules owned by other features; imported if present so the CLI grows by adding files."""
    import importlib

    found = []
    for name in ("balance", "route", "size", "screenshot", "printing", "gui", "packages", "review", "audit",
                 "scenario", "compare", "realign"):
        try:
            found.append(importlib.import_module(f"{__name__}.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(
        prog="territory-desktop",
        description="Territory Desktop: sales territory planning on a map. With no command, opens the GUI.",
    )
    parser.add_argument("--version", action="version", version=f"territory-desktop {app_version()}",
                        help="print the version (from the installed package's metadata) and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES + _optional_modules():
        module.register(sub)
    parser.set_defaults(commands=sub.choices)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # reported by the command's parser, so the hint names the command's --help
            args.commands.get(args.command, parser).error(f"unrecognized arguments: {' '.join(extra)}")
        if args.command is None:
            from ..ui.app import run_gui  # lazy: headless commands never load Qt

            return run_gui([])
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not as a traceback at interpreter exit
        return code
    except BrokenPipeError:
        return _stdout_closed()
    except TerritoryError as exc:
        first, *rest = str(exc).splitlines() or [type(exc).__name__]
        return _fail(first, rest)
    except OSError as exc:
        if exc.filename is None:
            raise
        return _fail(f"{exc.filename}: {exc.strerror or exc}", [])
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def _fail(first: str, rest: list[str]) -> int:
    """Print ``error: FIRST`` and the indented detail lines on stderr; exit code 2."""
    try:
        print(f"error: {printable(first)}", file=sys.stderr)  # names in messages cannot drive the terminal
        for line in rest:
            print(f"  {printable(line.strip())}", file=sys.stderr)
    except BrokenPipeError:
        return _stdout_closed()
    return 2


def _stdout_closed() -> int:
    """The reader of stdout went away (``| head``): stop quietly, as a SIGPIPE would, and exit 141."""
    # OSError, ValueError, AttributeError: stdout replaced by something without a file descriptor
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the final flush must not fail again
    return 141
