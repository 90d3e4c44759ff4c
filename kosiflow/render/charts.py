"""Horizontal bar charts as self-contained SVG, drawn on the server (no script, no font, no link).

One row per category (a phase, say), one bar per series in each row. The series differ in more
than colour: the first kind is a solid dark bar, the second a light bar with a dark outline, so a
chart reads the same on a black-and-white print; a legend names them, and every bar carries its
value as text. ``<title>`` and ``<desc>`` say what the chart shows for screen readers (the page
should still offer the numbers as a table).

Every text comes from the caller and is treated as untrusted: escaped for XML. The chart is sized
by its content (the longest label, the longest value text), and the same input gives the same
bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from kosiflow.svg_text import one_line, xml_text

__all__ = ["Look", "Series", "bar_chart"]

Look = Literal["solid", "outline"]

_FONT_SIZE = 14
_CHAR_WIDTH = _FONT_SIZE * 0.62
"""A generous average width of a character of a sans-serif font (text is never measured)."""
_BAR_HEIGHT = 18
_BAR_GAP = 3
_ROW_GAP = 12
_BAR_AREA = 480
"""The width of the longest bar."""
_PADDING = 10
_LABEL_GAP = 8
_VALUE_GAP = 5
_LEGEND_HEIGHT = 28
_SWATCH = 14
_MAX_LABEL = 40
"""Longer labels are cut (with …) in the drawing; ``<desc>`` keeps them whole."""

_INK = "#1b1b1b"
_LOOKS: dict[Look, str] = {
    "solid": 'fill="#0b4f9c" stroke="#0b4f9c" stroke-width="1"',
    "outline": 'fill="#e8eef6" stroke="#1b1b1b" stroke-width="1.5"',
}
"""Dark solid versus light with a dark outline: told apart without colour. Value texts stand
beside the bars on white (contrast 16:1)."""
_FONTS = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', Arial, sans-serif"


@dataclass(frozen=True, slots=True)
class Series:
    """One bar per category: its values (None: no value, no bar) and how each is written."""

    name: str
    values: Sequence[float | None]
    texts: Sequence[str]
    """Each value as the reader sees it next to its bar (e.g. "12.5 days", "no data")."""
    look: Look = "solid"


def _cut(text: str) -> str:
    line = one_line(text)
    return line if len(line) <= _MAX_LABEL else line[: _MAX_LABEL - 1].rstrip() + "…"


def _num(value: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros (stable output)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _width(text: str) -> float:
    return len(text) * _CHAR_WIDTH


def _checked(categories: Sequence[str], series: Sequence[Series]) -> float:
    """The largest value; ValueError when the series do not fit the categories."""
    largest = 0.0
    for one in series:
        if len(one.values) != len(categories) or len(one.texts) != len(categories):
            raise ValueError(f"series {one.name!r} needs one value and one text per category")
        for value in one.values:
            if value is not None and (not math.isfinite(value) or value < 0):
                raise ValueError(f"series {one.name!r}: {value!r} is not a length")
            largest = max(largest, value or 0.0)
    return largest


def _legend(series: Sequence[Series], y: float) -> list[str]:
    parts, x = [], float(_PADDING)
    for one in series:
        parts.append(
            f'<rect class="kf-swatch" {_LOOKS[one.look]} x="{_num(x)}" y="{_num(y)}" '
            f'width="{_SWATCH}" height="{_SWATCH}"/>'
        )
        text_x = x + _SWATCH + 6
        parts.append(
            f'<text class="kf-legend" x="{_num(text_x)}" y="{_num(y + _SWATCH - 2)}">'
            f"{xml_text(_cut(one.name))}</text>"
        )
        x = text_x + _width(_cut(one.name)) + 18
    return parts


def _description(description: str, categories: Sequence[str], series: Sequence[Series]) -> str:
    """The caller's sentence and every value in words: "Phase: series value, series value."."""
    rows = []
    for i, category in enumerate(categories):
        values = ", ".join(f"{one_line(s.name)} {one_line(s.texts[i])}" for s in series)
        rows.append(f"{one_line(category)}: {values}.")
    return " ".join([one_line(description), *rows]).strip()


def _rows(
    categories: Sequence[str], series: Sequence[Series], scale: float, x0: float, top: float
) -> list[str]:
    parts = []
    row_height = len(series) * (_BAR_HEIGHT + _BAR_GAP) - _BAR_GAP
    for i, category in enumerate(categories):
        row_top = top + i * (row_height + _ROW_GAP)
        label_y = row_top + row_height / 2 + _FONT_SIZE * 0.35
        parts.append(
            f'<text class="kf-category" x="{_num(x0 - _LABEL_GAP)}" y="{_num(label_y)}" '
            f'text-anchor="end">{xml_text(_cut(category))}</text>'
        )
        for j, one in enumerate(series):
            bar_y = row_top + j * (_BAR_HEIGHT + _BAR_GAP)
            value = one.values[i]
            end = x0
            if value is not None:
                end = x0 + value * scale
                parts.append(
                    f'<rect class="kf-bar kf-bar-{one.look}" {_LOOKS[one.look]} x="{_num(x0)}" '
                    f'y="{_num(bar_y)}" width="{_num(value * scale)}" height="{_BAR_HEIGHT}" '
                    f'data-value="{_num(value)}"/>'
                )
            text_y = bar_y + _BAR_HEIGHT / 2 + _FONT_SIZE * 0.35
            parts.append(
                f'<text class="kf-value" x="{_num(end + _VALUE_GAP)}" y="{_num(text_y)}">'
                f"{xml_text(one_line(one.texts[i]))}</text>"
            )
    return parts


def _bars(
    categories: Sequence[str], series: Sequence[Series], largest: float
) -> tuple[float, float, list[str]]:
    """Width, height and elements of a chart with bars: legend, axis, rows."""
    label_width = max(_width(_cut(c)) for c in categories)
    value_width = max(_width(one_line(t)) for s in series for t in s.texts)
    legend_width = sum(_SWATCH + 24 + _width(_cut(s.name)) for s in series) + _PADDING
    x0 = _PADDING + label_width + _LABEL_GAP
    top = float(_PADDING + _LEGEND_HEIGHT)
    row_height = len(series) * (_BAR_HEIGHT + _BAR_GAP) - _BAR_GAP
    height = top + len(categories) * (row_height + _ROW_GAP) - _ROW_GAP + _PADDING
    width = max(x0 + _BAR_AREA + _VALUE_GAP + value_width + _PADDING, legend_width)
    scale = _BAR_AREA / largest if largest > 0 else 0.0
    elements = [
        *_legend(series, _PADDING),
        f'<line class="kf-axis" x1="{_num(x0)}" y1="{_num(top - 4)}" x2="{_num(x0)}" '
        f'y2="{_num(height - _PADDING + 4)}" stroke="{_INK}" stroke-width="1"/>',
        *_rows(categories, series, scale, x0, top),
    ]
    return width, height, elements


def _nothing(empty: str) -> tuple[float, float, list[str]]:
    """Width, height and the one text of a chart without bars."""
    text = one_line(empty)
    element = (
        f'<text class="kf-empty" x="{_PADDING}" y="{_num(_PADDING + _FONT_SIZE)}">'
        f"{xml_text(text)}</text>"
    )
    return _PADDING * 2 + _width(text), _PADDING * 2 + _FONT_SIZE * 1.5, [element]


def bar_chart(
    *,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    empty: str,
) -> str:
    """A horizontal bar chart: one row per category, one bar per series and category.

    Args:
        title: What the chart shows (its ``<title>``).
        description: A sentence before the values in ``<desc>`` (e.g. what the unit is).
        categories: The row labels, top to bottom.
        series: A few series (told apart by their look); one value or None per category.
        empty: The text shown instead of bars when there are no categories or no series.

    Bars are proportional to their values (the largest fills the bar area). Raises ValueError
    for a negative or non-finite value, or a series with too few or too many values.
    """
    largest = _checked(categories, series)
    if categories and series:
        width, height, elements = _bars(categories, series, largest)
    else:
        width, height, elements = _nothing(empty)
    w, h = _num(width), _num(height)
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="kf-chart" viewBox="0 0 {w} {h}" '
        f'width="{w}" height="{h}" role="img" font-family="{_FONTS}" '
        f'font-size="{_FONT_SIZE}" fill="{_INK}">',
        f"<title>{xml_text(one_line(title))}</title>",
        f"<desc>{xml_text(_description(description, categories, series))}</desc>",
        f'<rect class="kf-background" fill="#ffffff" width="{w}" height="{h}"/>',
        *elements,
        "</svg>",
    ]
    return "\n".join(lines) + "\n"
