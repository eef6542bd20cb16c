"""File > Export Field Packages (worker, progress) and File > Import Field Report (merge, conflict table)."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "services"))

from field_fixtures import make_report, saved_project, visit

from territory_desktop.services.project import open_project


def test_export_then_import_in_the_window(open_window, qtbot, tmp_path, monkeypatch) -> None:
    from territory_desktop.ui import field_packages

    path = saved_project(tmp_path)
    window = open_window(open_project(path))
    window.project.path = str(path)
    assert {"export_field_packages", "import_field_report"} <= set(window.actions_)
    out = tmp_path / "packages"
    out.mkdir()
    _worker, dialog = field_packages.export_packages(window, str(out))
    qtbot.waitUntil(lambda: len(list(out.glob("*.zip"))) == 3 and not dialog.isVisible(), timeout=120000)
    with zipfile.ZipFile(out / "r1.zip") as zf:
        assert "territory.pdf" in zf.namelist() and zf.read("territory.pdf").startswith(b"%PDF")
        text = zf.read("data.js").decode()
    data = json.loads(text[text.index("=") + 1:].rstrip().rstrip(";"))
    # the desk changes a contact that the rep also changes: a conflict, shown with both values
    window.project.accounts["contact_name"] = None
    window.project.accounts.loc[window.project.accounts["account_id"] == "r1-a2", "contact_name"] = "Dana Desk"
    report = tmp_path / "report.json"
    report.write_text(make_report(data, [visit("r1-a1")],
                                  [{"account_id": "r1-a2", "field": "contact_name", "value": "Fred Field"}]))
    shown = []

    def choose(self):
        shown.append([self.table.item(0, k).text() for k in range(5)])
        return "field"

    monkeypatch.setattr(field_packages.ConflictDialog, "choice", choose)
    result = field_packages.import_field_report(window, str(report))
    assert shown == [["r1-a2", "contact_name", "", "Fred Field", "Dana Desk"]]
    assert result == {"visits_added": 1, "corrections_applied": 1, "conflicts": 1}
    acc = window.project.accounts.set_index("account_id")
    assert acc.loc["r1-a2", "contact_name"] == "Fred Field"
    assert window.isWindowModified()
    again = field_packages.import_field_report(window, str(report))  # pending in the project: not added twice
    assert again["visits_added"] == 0
