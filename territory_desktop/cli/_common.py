"""Shared CLI helpers: a text progress reporter and map/argument parsing."""

from __future__ import annotations

import sys

from ..models import InvalidInputError


class TextProgress:
    """Progress on stderr, one line per step (quiet when stderr is not a terminal, except the messages)."""

    def __init__(self) -> None:
        self._last = ""

    def __call__(self, fraction: float, message: str) -> None:
        if message != self._last:
            print(f"[{fraction * 100:3.0f}%] {message}", file=sys.stderr)
            self._last = message


def parse_mapping(items: list[str] | None) -> dict[str, str]:
    """``["account_id=Cust No", ...]`` -> ``{"account_id": "Cust No"}``."""
    mapping = {}
    for item in items or []:
        if "=" not in item:
            raise InvalidInputError("--map", [f"'{item}' is not FIELD=COLUMN"])
        key, value = item.split("=", 1)
        mapping[key.strip()] = value.strip()
    return mapping
