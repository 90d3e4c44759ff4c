"""What kosiflow draws and prints for people, shared by the pages and the command line: bar
charts as SVG, and HTML documents printed to PDF by headless Chromium."""

from __future__ import annotations

from kosiflow.render.charts import Look, Series, bar_chart
from kosiflow.render.pdf import (
    CHROMIUM_VARIABLE,
    DEFAULT_CHROMIUM,
    PdfUnavailable,
    chromium_path,
    print_pdf,
)

__all__ = [
    "CHROMIUM_VARIABLE",
    "DEFAULT_CHROMIUM",
    "Look",
    "PdfUnavailable",
    "Series",
    "bar_chart",
    "chromium_path",
    "print_pdf",
]
