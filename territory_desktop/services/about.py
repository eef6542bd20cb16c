"""Help > About: the application's version and the licences of the libraries it bundles, read from the
installed packages' metadata (nothing hard-coded: a new dependency shows up by itself)."""

from __future__ import annotations

import importlib.metadata as md
import re
from dataclasses import dataclass

DIST = "territory-desktop"


@dataclass(frozen=True)
class Library:
    name: str
    version: str
    licence: str


def app_version() -> str:
    """The installed version of Territory Desktop ("unknown" when run from a tree that is not installed)."""
    try:
        return md.version(DIST)
    except md.PackageNotFoundError:
        return "unknown"


def licence_of(meta) -> str:
    """SPDX expression, else the licence classifier, else a one-line License field, else "see the package"."""
    expression = meta.get("License-Expression")
    if expression:
        return str(expression)
    classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    if classifiers:
        return ", ".join(classifiers)
    text = (meta.get("License") or "").strip()
    return text if text and "\n" not in text and len(text) <= 60 else "see the package"


def bundled_libraries() -> list[Library]:
    """The runtime dependencies declared by Territory Desktop (not the test/bench extras), sorted by name,
    with their installed versions and licences; a dependency that is not installed is left out."""
    try:
        requires = md.requires(DIST) or []
    except md.PackageNotFoundError:
        requires = []
    names = sorted({re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0] for r in requires if "extra ==" not in r},
                   key=str.casefold)
    out = []
    for name in names:
        try:
            meta = md.metadata(name)
        except md.PackageNotFoundError:
            continue
        out.append(Library(meta["Name"], meta["Version"], licence_of(meta)))
    return out
