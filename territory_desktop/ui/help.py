"""Help > About (version from the package metadata, licences of the bundled libraries) and Help > Manual
(the README's user guide rendered in the app, with its pictures and a table of contents)."""

from __future__ import annotations

import html
import importlib.metadata as md
import re
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextBrowser, QVBoxLayout, QWidget

from ..services.about import DIST, app_version, bundled_libraries

README = Path(__file__).resolve().parents[2] / "README.md"


def manual_text() -> tuple[str, Path | None]:
    """The user guide's Markdown and the folder its pictures are relative to: the README next to the
    package (a source checkout), else the long description in the installed package's metadata."""
    if README.exists():
        return README.read_text(encoding="utf-8"), README.parent
    try:
        return md.metadata(DIST).get_payload() or "", None
    except md.PackageNotFoundError:
        return "# Territory Desktop\n\nThe manual is not installed with this copy.", None


class _TextDialog(QDialog):
    def __init__(self, parent: QWidget | None, title: str, size: tuple[int, int]) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.box = QVBoxLayout(self)
        self.box.addWidget(self.browser, 1)
        self.box.addWidget(buttons)
        self.resize(*size)


class AboutDialog(_TextDialog):
    """Version and the licence of every bundled library (name, version, licence)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, "About Territory Desktop", (560, 560))
        self.libraries = bundled_libraries()
        self.version = app_version()
        header = QLabel(f"<h2>Territory Desktop {html.escape(self.version)}</h2>"
                        "<p>Sales territory design, balancing, routes and printed maps.</p>")
        self.box.insertWidget(0, header)
        rows = "".join(f"<tr><td>{html.escape(lib.name)}</td><td>{html.escape(lib.version)}</td>"
                       f"<td>{html.escape(lib.licence)}</td></tr>" for lib in self.libraries)
        self.browser.setHtml("<p><b>Bundled libraries and their licences</b></p>"
                             "<table cellspacing=0 cellpadding=3 width='100%'>"
                             "<tr><th align=left>Library</th><th align=left>Version</th><th align=left>Licence</th></tr>"
                             f"{rows}</table><p>Qt for Python (PySide6) is used under the LGPL-3.0.</p>")


class ManualDialog(_TextDialog):
    """The README rendered (QTextBrowser.setMarkdown); in-page links jump to their section."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, "Territory Desktop Manual", (980, 820))
        text, folder = manual_text()
        if folder is not None:
            self.browser.setSearchPaths([str(folder)])
            self.browser.document().setBaseUrl(QUrl.fromLocalFile(str(folder) + "/"))
        self.browser.setOpenExternalLinks(False)
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._follow)
        if folder is not None:
            _add_scaled_images(self.browser.document(), text, folder)
        self.browser.document().setDocumentMargin(14)
        self.browser.setMarkdown(text)
        self.sections = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)

    def _follow(self, url: QUrl) -> None:
        if url.hasFragment() and not url.host() and not url.path().strip("/"):
            self.show_section(url.fragment())
        else:
            from PySide6.QtGui import QDesktopServices

            QDesktopServices.openUrl(url)

    def show_section(self, slug: str) -> bool:
        """Scroll to the heading whose GitHub-style anchor is ``slug`` ("the-project-file")."""
        block = self.browser.document().begin()
        while block.isValid():
            if block.blockFormat().headingLevel() and _slug(block.text()) == slug:
                top = self.browser.document().documentLayout().blockBoundingRect(block).top()
                self.browser.verticalScrollBar().setValue(int(top))
                return True
            block = block.next()
        return False


def _slug(title: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def _add_scaled_images(document, text: str, folder: Path, width: int = 900) -> None:
    """Register the Markdown's pictures scaled to ``width`` px so a full-window screenshot fits the page."""
    from PySide6.QtGui import QImage, QTextDocument

    for src in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text):
        image = QImage(str(folder / src))
        if not image.isNull():
            if image.width() > width:
                image = image.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
            document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(src), image)


def install_help(window) -> None:
    """Help > Manual (Shift+F1) and Help > About."""
    manual = QAction("&Manual", window)
    manual.setShortcut(QKeySequence("Shift+F1"))
    manual.setStatusTip("The user guide (README) rendered in a window")
    manual.triggered.connect(lambda: ManualDialog(window).open())
    about = QAction("&About Territory Desktop", window)
    about.setStatusTip("Version and the licences of the bundled libraries")
    about.triggered.connect(lambda: AboutDialog(window).open())
    window.add_action("help", "manual", manual)
    window.add_action("help", "about", about, separator=False)
