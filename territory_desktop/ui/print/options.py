"""Print options shared by the CLI, the export dialog and the print preview."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ...services.printing import PageSpec, page_spec


@dataclass
class PrintOptions:
    """What to print and how. ``page`` is the sheet (see :func:`page_spec`); ``dpi`` is the device resolution
    of PDF/SVG coordinates and the pixel density of PNG pages; ``units`` of the scale bar: "mi" or "km"."""

    page: PageSpec = field(default_factory=lambda: page_spec("letter", landscape=True))
    title: str = ""
    subtitle: str = ""
    units: str = "mi"
    accounts: bool = False
    reps: bool = True
    routes: object | None = None  # array of lon/lat LineStrings, or None
    overview: bool = True
    source: str | None = None
    when: date | None = None
    dpi: int = 300
    scenario: str | None = None
    #: map book: largest number of account rows (0 = all)
    max_accounts: int = 0
    #: map book: a KPI page (per-territory table and chart) after the overview, when there is sales history
    kpi_page: bool = True
    #: the KPI page's period (2026-Q3, 2026-07, 2026; default: the last complete quarter)
    kpi_period: str | None = None
