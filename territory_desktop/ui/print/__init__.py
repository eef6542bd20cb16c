"""Printed territory maps and map books: page layout engine shared by the GUI and the CLI.

- :func:`export_map` / :func:`export_book`: write PDF (vector, bookmarks), SVG or PNG files;
- :func:`open_print_preview`, :func:`print_map_dialog`, :func:`export_map_dialog`: GUI entry points the main
  window calls (``dialogs.py``).
"""

from .document import ensure_application, export_book, export_map, paint_book_document, paint_map_document
from .options import PrintOptions

__all__ = ["PrintOptions", "ensure_application", "export_book", "export_map", "paint_book_document", "paint_map_document"]
