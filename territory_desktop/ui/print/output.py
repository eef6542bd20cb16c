"""Write pages to files or printers: vector PDF (QPdfWriter), SVG (QSvgGenerator, one file per page), PNG
(QImage, one file per page), or any QPagedPaintDevice such as a QPrinter.

QPdfWriter in PySide6 6.12 has no outline (bookmark) API, so map book bookmarks are added afterwards with
pypdf (``add_outline``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, QSize, QSizeF
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter, QPdfWriter

from ...models import InvalidInputError, ProjectFileError
from ...services.printing import MM_PER_INCH, PageSpec
from .elements import Page

FORMATS = (".pdf", ".png", ".svg")


def page_layout(spec: PageSpec) -> QPageLayout:
    """A Qt page layout for ``spec`` with zero margins (the page layout draws its own)."""
    size = QPageSize(QSizeF(min(spec.width_mm, spec.height_mm), max(spec.width_mm, spec.height_mm)),
                     QPageSize.Unit.Millimeter, spec.name, QPageSize.SizeMatchPolicy.FuzzyMatch)
    orientation = QPageLayout.Orientation.Landscape if spec.landscape else QPageLayout.Orientation.Portrait
    return QPageLayout(size, orientation, QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter)


class Sink:
    """Pages of one document: ``begin()`` returns the first Page, ``next_page()`` the next, ``finish()``
    the files written."""

    def __init__(self, path: Path, spec: PageSpec, dpi: int) -> None:
        self.path = Path(path)
        self.spec = spec
        self.dpi = dpi
        self.files: list[Path] = []
        self.pages = 0

    @property
    def mm_px(self) -> float:
        return self.dpi / MM_PER_INCH

    def size_px(self) -> QSize:
        return QSize(round(self.spec.width_mm * self.mm_px), round(self.spec.height_mm * self.mm_px))


class PdfSink(Sink):
    title = "Territory map"

    def begin(self) -> Page:
        self.writer = QPdfWriter(str(self.path))
        self.writer.setResolution(self.dpi)
        self.writer.setPageLayout(page_layout(self.spec))
        self.writer.setCreator("Territory Desktop")
        self.writer.setTitle(self.title)
        self.painter = QPainter()
        if not self.painter.begin(self.writer):
            raise ProjectFileError(f"cannot write the PDF {self.path}")
        self.pages = 1
        return self._page()

    def _page(self) -> Page:
        return Page(self.painter, QRectF(0, 0, self.writer.width(), self.writer.height()), self.mm_px)

    def next_page(self) -> Page:
        self.writer.newPage()
        self.pages += 1
        return self._page()

    def finish(self) -> list[Path]:
        painter = getattr(self, "painter", None)
        if painter is not None and painter.isActive():
            painter.end()
        return [self.path] if self.pages else []


def _numbered(path: Path, n: int, many: bool) -> Path:
    return path if not many else path.with_name(f"{path.stem}-{n:03d}{path.suffix}")


class _FilePerPageSink(Sink):
    """A sink writing one file per page; with ``many`` the files are numbered NAME-001, NAME-002, ..."""

    def __init__(self, path: Path, spec: PageSpec, dpi: int, many: bool = False) -> None:
        super().__init__(path, spec, dpi)
        self.many = many

    def begin(self) -> Page:
        return self.next_page()


class ImageSink(_FilePerPageSink):
    """PNG pages at ``dpi``; several pages go to NAME-001.png, NAME-002.png, ..."""

    def next_page(self) -> Page:
        self._flush()
        self.pages += 1
        self.image = QImage(self.size_px(), QImage.Format.Format_ARGB32_Premultiplied)
        dpm = round(self.dpi / 0.0254)
        self.image.setDotsPerMeterX(dpm)
        self.image.setDotsPerMeterY(dpm)
        self.image.fill(0xFFFFFFFF)
        self.painter = QPainter(self.image)
        self.painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        return Page(self.painter, QRectF(0, 0, self.image.width(), self.image.height()), self.mm_px)

    def _flush(self) -> None:
        if self.pages and self.painter.isActive():
            self.painter.end()
            out = _numbered(self.path, self.pages, self.many)
            if not self.image.save(str(out), "PNG"):
                raise ProjectFileError(f"cannot write {out}")
            self.files.append(out)

    def finish(self) -> list[Path]:
        self._flush()
        return self.files


class SvgSink(_FilePerPageSink):
    """SVG pages (vector); several pages go to NAME-001.svg, ..."""

    def next_page(self) -> Page:
        from PySide6.QtSvg import QSvgGenerator

        self._flush()
        self.pages += 1
        out = _numbered(self.path, self.pages, self.many)
        gen = QSvgGenerator()
        gen.setFileName(str(out))
        gen.setResolution(self.dpi)
        gen.setSize(self.size_px())
        gen.setViewBox(QRectF(0, 0, self.size_px().width(), self.size_px().height()))
        gen.setTitle("Territory Desktop map")
        self.generator, self.out = gen, out
        self.painter = QPainter(gen)
        return Page(self.painter, QRectF(0, 0, self.size_px().width(), self.size_px().height()), self.mm_px)

    def _flush(self) -> None:
        if self.pages and self.painter.isActive():
            self.painter.end()
            self.files.append(self.out)

    def finish(self) -> list[Path]:
        self._flush()
        return self.files


class DeviceSink(Sink):
    """Any QPagedPaintDevice already set up (QPrinter in the print preview or print dialog)."""

    def __init__(self, device, painter: QPainter) -> None:
        self.device = device
        self.painter = painter
        self.files = []
        self.pages = 0

    @property
    def mm_px(self) -> float:
        return self.device.logicalDpiX() / MM_PER_INCH

    def _page(self) -> Page:
        return Page(self.painter, QRectF(0, 0, self.device.width(), self.device.height()), self.mm_px)

    def begin(self) -> Page:
        self.pages = 1
        return self._page()

    def next_page(self) -> Page:
        self.device.newPage()
        self.pages += 1
        return self._page()

    def finish(self) -> list[Path]:
        return []


def make_sink(out: str | Path, spec: PageSpec, dpi: int, many: bool) -> Sink:
    """The sink for ``out``'s suffix (.pdf, .png, .svg)."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInputError("--out", [(f"'{path.name}': the file type is chosen by the suffix; use one of "
                                          f"{', '.join(FORMATS)}")])
    if not path.parent.exists():
        raise InvalidInputError("--out", [f"folder {path.parent} does not exist"])
    if suffix == ".pdf":
        return PdfSink(path, spec, dpi)
    if suffix == ".svg":
        return SvgSink(path, spec, dpi, many)
    return ImageSink(path, spec, dpi, many)


OutlineEntry = tuple[str, int, str | None]  # title, 0-based page, parent title (None = top level)


def add_pdf_outline(path: Path, entries: list[OutlineEntry],
                    progress: Callable[[float, str], None] | None = None) -> None:
    """Add bookmarks to the PDF at ``path`` (rewritten in place). Parents are created on first use and
    point at their first child's page."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(str(path))
    writer = PdfWriter(clone_from=reader)
    parents: dict[str, object] = {}
    for title, page, parent in entries:
        if page >= len(writer.pages):
            continue
        holder = None
        if parent:
            holder = parents.get(parent)
            if holder is None:
                holder = parents[parent] = writer.add_outline_item(title=parent, page_number=page)
        writer.add_outline_item(title=title, page_number=page, parent=holder)
    writer.page_mode = "/UseOutlines"
    tmp = path.with_suffix(".outline.tmp")
    with open(tmp, "wb") as fh:
        writer.write(fh)
    tmp.replace(path)
