"""The layer rules of ARCHITECTURE.md, checked by import-linter's contracts in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.fail("import-linter is not installed (pip install -e '.[test]')")
    r = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Contracts: 3 kept, 0 broken" in r.stdout


def test_no_qt_outside_ui_by_text():
    offenders = []
    for path in (ROOT / "territory_desktop").rglob("*.py"):
        rel = path.relative_to(ROOT / "territory_desktop")
        if rel.parts[0] == "ui":
            continue
        text = path.read_text()
        if "import PySide6" in text or "from PySide6" in text or "pyqtgraph" in text:
            offenders.append(str(rel))
    assert offenders == []
