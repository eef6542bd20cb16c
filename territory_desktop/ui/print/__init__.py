"""Printed territory maps and map books: page layout engine shared by the GUI and the CLI.

- :func:`export_map` / :func:`export_book`: write PDF (vector, bookmarks), SVG or PNG files;
- :func:`open_print_preview`, :func:`print_map_dialog`, :func:`export_map_dialog`: GUI entry points the main
  window calls (``dialogs.py``).
"""

from .document import ensure_application, export_book, export_map, paint_book_document, paint_map_document
from .options import PrintOptions


def __getattr__(name: str):
    """The dialogs (QtPrintSupport) load on first use: ``open_print_preview``, ``print_map_dialog``,
    ``export_map_dialog``."""
    if name in ("open_print_preview", "print_map_dialog", "export_map_dialog", "ExportDialog"):
        from . import dialogs

        return getattr(dialogs, name)
    raise AttributeError(name)


__all__ = ["ExportDialog", "PrintOptions", "ensure_application", "export_book", "export_map", "export_map_dialog",
           "open_print_preview", "paint_book_document", "paint_map_document", "print_map_dialog"]
