"""Shared CLI helpers: a text progress reporter, map/argument parsing and argument checks.

Every flag with a numeric or file argument is checked by an argparse ``type`` built here, so a bad value is
refused while the arguments are parsed: one ``error: ...`` line on stderr, exit code 2, before any work is
done (and before anything is saved).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from ..models import InvalidInputError, TerritoryError


class TextProgress:
    """Progress on stderr, one line per step (quiet when stderr is not a terminal, except the messages)."""

    def __init__(self) -> None:
        self._last = ""

    def __call__(self, fraction: float, message: str) -> None:
        if message != self._last:
            print(f"[{fraction * 100:3.0f}%] {message}", file=sys.stderr)
            self._last = message


#: C0/C1 control characters (and DEL): printed as-is they move the cursor, clear the screen or set the
#: terminal's title; a hostile name in a table must not
_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)]}
_CONTROL.update({ord("\t"): "\\t", ord("\n"): "\\n", ord("\r"): "\\r"})


def printable(value) -> str:
    """``value`` as text for a terminal table: control characters shown as escapes (\\r, \\x1b)."""
    return str(value).translate(_CONTROL)


def json_text(data, indent: int = 2) -> str:
    """``data`` as strict JSON (RFC 8259): NaN and +/-Infinity, which ``json`` would write as bare words no
    other parser reads, become null."""
    return json.dumps(_finite(data), indent=indent, allow_nan=False)


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class UsageError(TerritoryError):
    """A bad command line: the message is one line naming the command and the argument."""


class CliParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors raise :class:`UsageError`; ``main`` prints it as one line
    ``error: PROG: MESSAGE (see 'PROG --help')`` and returns exit code 2."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def parse_mapping(items: list[str] | None) -> dict[str, str]:
    """``["account_id=Cust No", ...]`` -> ``{"account_id": "Cust No"}``."""
    mapping = {}
    for item in items or []:
        if "=" not in item:
            raise InvalidInputError("--map", [f"'{item}' is not FIELD=COLUMN"])
        key, value = item.split("=", 1)
        mapping[key.strip()] = value.strip()
    return mapping


def _number(value: float) -> str:
    """3600 -> '3600', 2147483647 -> '2,147,483,647', 0.5 -> '0.5'."""
    if not float(value).is_integer():
        return f"{value:g}"
    return f"{int(value):,}" if abs(value) >= 10_000 else str(int(value))


def range_text(low: float, high: float, low_open: bool = False) -> str:
    """'1 to 20' or 'more than 0 and at most 3600': how the README and the errors state a valid range."""
    lo, hi = _number(low), _number(high)
    return f"more than {lo} and at most {hi}" if low_open else f"{lo} to {hi}"


def check_number(value: float, low: float, high: float, low_open: bool = False) -> str | None:
    """None when ``value`` is finite and in the range, else the reason ("must be 1 to 20")."""
    if not math.isfinite(value) or value < low or value > high or (low_open and value == low):
        return f"must be {range_text(low, high, low_open)}"
    return None


def number_in(low: float, high: float, kind: type = float, low_open: bool = False):
    """argparse ``type``: a number of ``kind`` (int or float) from ``low`` to ``high``."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            noun = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun}") from None
        reason = check_number(value, low, high, low_open)
        if reason:
            raise argparse.ArgumentTypeError(f"{text} {reason}")
        return value

    parse.__name__ = kind.__name__
    return parse


def output_file(*suffixes: str):
    """argparse ``type``: a file to write, with one of ``suffixes``, in an existing writable folder."""

    def parse(text: str) -> str:
        reason = output_problem(text, suffixes)
        if reason:
            raise argparse.ArgumentTypeError(f"{text}: {reason}")
        return text

    return parse


def output_problem(path: str, suffixes: tuple[str, ...]) -> str | None:
    """Why ``path`` cannot be written (suffix, folder missing or read-only, a folder itself), or None."""
    target = Path(path)
    if suffixes and target.suffix.lower() not in suffixes:
        listed = suffixes[0] if len(suffixes) == 1 else f"{', '.join(suffixes[:-1])} or {suffixes[-1]}"
        return f"use a {listed} file name"
    if target.is_dir():
        return "is a folder; give a file name"
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        return f"the folder {folder} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        return f"cannot write in {folder} (read-only)"
    return None


def existing_file(text: str, noun: str = "file") -> str:
    """``text`` when it names an existing, readable file; else argparse's error naming the ``noun``."""
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text}: no such {noun}")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: is a folder, not a {noun}")
    if not os.access(path, os.R_OK):
        raise argparse.ArgumentTypeError(f"{text}: cannot be read (permission denied)")
    return text


def input_file(text: str) -> str:
    """argparse ``type``: an existing, readable file (not a folder)."""
    return existing_file(text)


def project_file(text: str) -> str:
    """argparse ``type``: an existing project file (a folder named x.gpkg is refused)."""
    return existing_file(text, "project file (.gpkg)")


def check_scenario(project, scenario_id: str | None) -> None:
    """Refuse a ``--scenario`` the project does not have, listing the ones it has."""
    if scenario_id is None or scenario_id in project.plans:
        return
    names = dict(zip(project.scenarios["scenario_id"].astype(str), project.scenarios["name"].astype(str), strict=True))
    listed = ", ".join(f"{s} ({names[s]})" if names.get(s, s) != s else s for s in project.plans)
    raise InvalidInputError("--scenario", [f"no scenario '{scenario_id}'; the project has: {listed or 'none'}"])


def project_command(sub: argparse._SubParsersAction, name: str, help_text: str, description: str,
                    raw: bool = False, epilog: str | None = None) -> argparse.ArgumentParser:
    """A subcommand that works on a project: its parser with the required ``--project P.gpkg`` (checked to
    be a project file); ``raw`` keeps the description's and epilog's line breaks (examples)."""
    p = sub.add_parser(name, help=help_text, description=description, epilog=epilog,
                       formatter_class=argparse.RawDescriptionHelpFormatter if raw else argparse.HelpFormatter)
    p.add_argument("--project", type=project_file, required=True, metavar="P.gpkg", help="the project file (.gpkg)")
    return p
