"""Rich-text injection: a unit, territory, rep, account, measure or file named
``<img src="file:///etc/hostname"><a href="x">link</a><b>bold</b>`` is shown literally everywhere in the GUI
and in printed output; no image is loaded, no link is live.

``shown(text, fmt)`` renders a string the way Qt does (plain text, or HTML when the format is rich or Qt's
own ``mightBeRichText`` guess says so) and returns what a person would read; the tests compare that with the
planted name, so they fail whenever markup would be interpreted."""

from __future__ import annotations

import csv
import shutil
import subprocess
import unicodedata
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from hostile_data import HOSTILE, HYPERLINK, MARKUP, hostile_project  # tests/hostile_data.py
from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QInputDialog, QLabel, QMessageBox

from territory_desktop.models import InvalidInputError, RowProblem, TerritoryError


def shown(text: str, fmt: Qt.TextFormat = Qt.TextFormat.AutoText) -> str:
    """What Qt displays for ``text`` in a widget of text format ``fmt``."""
    rich = fmt == Qt.TextFormat.RichText or (fmt == Qt.TextFormat.AutoText and GuiQt.mightBeRichText(text))
    if not rich:
        return text
    doc = QTextDocument()
    doc.setHtml(text)
    assert not _images(doc) and not _anchors(doc), text  # markup we wrote has neither
    return doc.toPlainText().replace("\u2029", "\n")


def label_shows(label: QLabel) -> str:
    return shown(label.text(), label.textFormat())


def _fragments(doc: QTextDocument):
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            yield it.fragment()
            it += 1
        block = block.next()


def _images(doc: QTextDocument) -> list:
    return [f for f in _fragments(doc) if f.charFormat().isImageFormat()]


def _anchors(doc: QTextDocument) -> list:
    return [f for f in _fragments(doc) if f.charFormat().isAnchor()]


@pytest.fixture
def project():
    p = hostile_project()
    p.name = MARKUP + " [*]"
    p.accounts.loc[0, "name"] = MARKUP
    p.units[MARKUP] = range(len(p.units))  # a unit column (choropleth metric) with a hostile name
    return p


@pytest.fixture
def boxes(monkeypatch):
    """Message boxes and input dialogs recorded instead of shown: (kind, title, text)."""
    seen = []
    for name in ("warning", "critical", "information", "question"):
        monkeypatch.setattr(QMessageBox, name, lambda parent, title, text, *a, _n=name, **k: seen.append(
            (_n, title, text)) or QMessageBox.StandardButton.Cancel)
    monkeypatch.setattr(QInputDialog, "getText", lambda parent, title, label, *a, **k: seen.append(
        ("getText", title, label)) or ("", False))
    monkeypatch.setattr(QInputDialog, "getItem", lambda parent, title, label, *a, **k: seen.append(
        ("getItem", title, label)) or ("", False))
    return seen


@pytest.fixture
def window(open_window, project, monkeypatch):
    from territory_desktop.ui.panels import PropertiesPanel

    loaded = []
    original = PropertiesPanel.loadResource
    monkeypatch.setattr(PropertiesPanel, "loadResource",
                        lambda self, kind, url: loaded.append(url.toString()) or original(self, kind, url))
    w = open_window(project, size=(1300, 900))
    w.loaded_resources = loaded
    return w


def test_properties_panel_shows_names_literally_and_loads_nothing(window):
    window.canvas.select_ids(["-u0", "u3"])  # -u0 is named MARKUP and lies in territory W, named MARKUP
    doc = window.properties.document()
    text = window.properties.toPlainText()
    assert text.count(MARKUP) == 3  # the unit's name and twice the territory W, as text
    assert "-u0" in text and "2 unit(s)" in text
    assert not _images(doc) and not _anchors(doc)
    assert window.loaded_resources == []  # no file:///etc/hostname fetched
    assert not window.properties.openLinks() and not window.properties.openExternalLinks()


def test_tables_tree_combo_and_tooltips(window):
    model = window.table_model
    row = model.frame["territory_id"].tolist().index("W")
    col = next(c for c in range(model.columnCount()) if model.headerData(c, Qt.Orientation.Horizontal) == "Territory")
    ix = model.index(row, col)
    assert model.data(ix, Qt.ItemDataRole.DisplayRole) == MARKUP  # item views draw DisplayRole as plain text
    assert shown(model.data(ix, Qt.ItemDataRole.ToolTipRole)).startswith(f"{MARKUP} (W): 6 units")
    tree = window.territory_panel.tree.model()
    names = [tree.item(r, 0).text() for r in range(tree.rowCount())]
    assert MARKUP in names
    combo = window.active_combo
    assert MARKUP in [combo.itemText(i) for i in range(combo.count())]


def test_window_title_status_bar_and_legend(window, tmp_path, boxes):
    assert window.windowHandle().title().startswith(MARKUP + " [*]")  # [*] in a name is not the marker
    target = tmp_path / "<b>bold<i>.gpkg"
    assert window._save_to(str(target))
    assert window.statusBar().currentMessage() == f"Saved {target}"
    assert "<b>bold<i>.gpkg" in window.windowHandle().title()
    window.apply_choropleth(MARKUP, "quantiles", 3)
    assert MARKUP in label_shows(window.legend)


def test_message_boxes_and_input_dialogs_show_text_literally(window, boxes):
    def refuse(project):
        raise TerritoryError(f"territory {MARKUP} cannot take it")

    window.run_edit(refuse, f"Rename {MARKUP}")
    kind, title, text = boxes[-1]
    assert kind == "warning" and shown(text) == f"territory {MARKUP} cannot take it"
    assert MARKUP in title
    window.territory_panel.select_territory("W")
    window.set_rep()
    kind, _title, label = boxes[-1]
    assert kind == "getItem" and shown(label) == f"Rep of {MARKUP}:"
    window.set_active_territory("W")
    window.move_account()
    kind, _title, label = boxes[-1]
    assert kind == "getText" and shown(label).endswith(f"to move to {MARKUP}:")


def test_open_error_names_the_file_literally(window, tmp_path, boxes):
    broken = tmp_path / "a&b<i>x.gpkg"
    broken.write_bytes(b"not a geopackage" * 10)
    assert window.open_path(str(broken)) is False
    kind, title, text = boxes[-1]
    assert kind == "critical" and title == "Cannot open project"
    assert shown(text).startswith("a&b<i>x.gpkg could not be opened")


def test_import_error_dialog_shows_file_name_and_cells_literally(qtbot):
    from territory_desktop.ui.import_dialogs import ImportErrorsDialog

    error = InvalidInputError(f"{MARKUP}.csv", [RowProblem(2, MARKUP, f"'{MARKUP}' is not a number")])
    dialog = ImportErrorsDialog(error)
    qtbot.addWidget(dialog)
    summary = next(lab for lab in dialog.findChildren(QLabel) if "problem" in lab.text())
    assert label_shows(summary).startswith(f"{MARKUP}.csv: 1 problem found.")
    assert [dialog.table.item(0, c).text() for c in (1, 2)] == [MARKUP, f"'{MARKUP}' is not a number"]


def test_validation_panel(window, qtbot):
    plan = window.project.plan
    for u in ("@u1", "u4", "u7"):  # column 1 to the east: W keeps column 0 and gets u8, a detached piece
        plan.assign([u], HYPERLINK)
    plan.assign(["u8"], "W")
    window.validate()
    qtbot.waitUntil(lambda: window.validation.list.count() > 0, timeout=10000)  # the check runs in a worker
    items = [window.validation.list.item(i) for i in range(window.validation.list.count())]
    piece = next(i for i in items if "detached piece" in i.text())
    assert piece.text() == f"{MARKUP}: detached piece of 1 unit(s)"
    assert shown(piece.toolTip()) == f"{MARKUP}: detached piece of 1 unit(s): click to select and zoom"
    assert "1 detached piece(s)" in label_shows(window.validation.summary)


def test_balance_proposal_summary_and_table(window, qtbot):
    from dataclasses import replace

    from territory_desktop.services.balancing import BalanceOptions
    from territory_desktop.services.scenario_balance import run_project_balance
    from territory_desktop.ui.balance_dialog import show_proposal

    p = window.project
    run = run_project_balance(p, BalanceOptions([MARKUP], tolerance=0.9, time_limit=3))
    proposal = run.proposals[0]
    failed = replace(proposal.summary, failure=f"{MARKUP} (W) ends 40 % over the target")
    run.proposals[0] = replace(proposal, summary=failed, warnings=(f"{MARKUP} lives outside {MARKUP}",))
    show_proposal(window, run)
    panel = window.balance_panel
    text = label_shows(panel.summary)
    assert f"Not within tolerance: {MARKUP} (W) ends 40 % over the target" in text
    assert f"{MARKUP}: max/mean" in text
    assert f"Warning: {MARKUP} lives outside {MARKUP}" in text
    cells = [panel.table.item(r, c).text() for r in range(panel.table.rowCount())
             for c in range(panel.table.columnCount()) if panel.table.item(r, c)]
    assert any(MARKUP in c for c in cells)  # the territory's name in the change table, as text


def test_routes_dock_title_calendar_and_csv_export(window, qtbot, tmp_path):
    dock = window.routes_dock
    dock.plan("r1", date(2027, 3, 1), 1, time_limit=3)
    qtbot.waitUntil(lambda: not dock.busy(), timeout=60000)
    assert dock.rep_plan is not None, dock.last_error
    assert label_shows(dock.title).startswith(f"{MARKUP} (r1): 1 week from 2027-03-01")
    assert dock.status.textFormat() == Qt.TextFormat.PlainText
    items = [lst.item(i) for lst in dock.calendar.lists.values() for i in range(lst.count())]
    tips = [shown(i.toolTip()) for i in items if i.toolTip()]
    assert any(t.startswith(f"{MARKUP} (a0)\narrive ") for t in tips)
    assert any(MARKUP in i.text() for i in items)
    out = tmp_path / "stops"  # no suffix: written as stops.csv
    n = dock.export_csv(str(out))
    with open(tmp_path / "stops.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == n == len(HOSTILE)
    expected = {MARKUP} | {"'" + h for h in HOSTILE[1:]}  # a0 renamed to MARKUP: text, no formula
    assert {r["name"] for r in rows} == expected


def _pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return unicodedata.normalize("NFKC", out)  # the font's "fi" ligature back to two letters


@pytest.mark.skipif(shutil.which("pdftotext") is None,
                    reason="pdftotext (poppler-utils) missing")
def test_printed_map_book_shows_markup_literally_in_pdf_and_svg(qtbot, tmp_path):
    from territory_desktop.services.printing import page_spec
    from territory_desktop.ui.print import PrintOptions, export_book

    p = hostile_project()
    p.name = MARKUP
    opts = PrintOptions(page=page_spec("letter", True), title=MARKUP, subtitle=MARKUP, source=MARKUP,
                        when=date(2027, 1, 1), dpi=150)
    pdf = export_book(p, tmp_path / "book.pdf", opts)[0]
    text = _pdf_text(pdf)
    assert text.count(MARKUP) >= 4  # title, subtitle, territory page heading, rep line, footer
    assert f"Rep: {MARKUP}" in text
    svgs = export_book(p, tmp_path / "book.svg", opts)
    assert len(svgs) == 3  # cover + one page per territory
    for svg in svgs:
        root = ET.parse(svg).getroot()  # well-formed XML: the markup is escaped, not spliced in
        tags = {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
        assert not tags & {"img", "image", "a", "b", "foreignObject", "script"}, tags
        texts = ["".join(el.itertext()) for el in root.iter() if el.tag.endswith("text")]
        assert any(MARKUP in t for t in texts), svg.name


def test_export_map_dialog_error_names_the_file_literally(qtbot, tmp_path, boxes):
    from PySide6.QtCore import QSettings

    from territory_desktop.ui.print.dialogs import ExportDialog

    p = hostile_project()
    p.name = MARKUP
    dialog = ExportDialog(None, p, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(dialog)
    assert dialog.title.placeholderText() == MARKUP  # a QLineEdit placeholder is plain text
    dialog.path.setText(str(tmp_path / "<i>map<b>.doc"))
    dialog.accept()  # the export runs in the worker; its error comes back as a message box
    qtbot.waitUntil(lambda: bool(boxes), timeout=20000)
    kind, title, text = boxes[-1]
    assert kind == "warning" and title == "Export Map"
    assert "<i>map<b>.doc" in shown(text)


def test_message_boxes_and_input_dialogs_go_through_plaintext():
    """Qt's static message boxes and input dialogs guess HTML from the text; only ui/plaintext.py may call
    them (with escaped text), so a new dialog cannot forget the escaping."""
    import re

    root = Path(__file__).resolve().parents[2] / "territory_desktop" / "ui"
    pattern = re.compile(r"QMessageBox\.(warning|critical|information|question|about)\(|QInputDialog\.get\w+\(")
    offenders = [f"{path.relative_to(root)}:{n}" for path in root.rglob("*.py") if path.name != "plaintext.py"
                 for n, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert offenders == [], "use ui.plaintext (warning, question, get_text, ...) instead"
