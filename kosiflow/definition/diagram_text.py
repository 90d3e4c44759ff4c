"""Text in a diagram without a font at hand: estimated widths and word wrapping.

The diagram is drawn offline, so no font metrics exist; widths are estimated from the characters
(narrow, wide, other) in em, on the generous side for common sans-serif fonts, so that text
estimated to fit a box really fits it.
"""

from __future__ import annotations

import re

_NARROW = frozenset("iljtfrI.,:;!|'`()[] /-")
_WIDE = frozenset("mwMW@%&—●<>=+~^")
_EM_NARROW = 0.37
_EM_WIDE = 0.92
_EM_UPPER = 0.74
_EM_OTHER = 0.63
_BOLD = 1.13

_PIECES = re.compile(r"[^/-]*[/-]|[^/-]+")
"""A word's pieces: a line may break after a slash or a hyphen."""


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """The estimated width of ``text`` in px at font size ``size``."""
    em = 0.0
    for char in text:
        if char in _NARROW:
            em += _EM_NARROW
        elif char in _WIDE:
            em += _EM_WIDE
        elif char.isupper():
            em += _EM_UPPER
        else:
            em += _EM_OTHER
    return em * size * (_BOLD if bold else 1.0)


def _chunks(piece: str, max_width: float, size: float, bold: bool) -> list[str]:
    """``piece`` cut into parts that each fit ``max_width`` (a word too long for any line)."""
    parts: list[str] = []
    part = ""
    for char in piece:
        if part and text_width(part + char, size, bold=bold) > max_width:
            parts.append(part)
            part = ""
        part += char
    return [*parts, part] if part else parts


def wrap(text: str, max_width: float, size: float, *, bold: bool = False) -> tuple[str, ...]:
    """``text`` broken into lines no wider than ``max_width``: at spaces, after ``/`` or ``-``,
    and inside a word only when the word alone is too wide. Whitespace runs become one space."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        glue = " " if line else ""
        for piece in _PIECES.findall(word):
            for chunk in _chunks(piece, max_width, size, bold):
                if line and text_width(line + glue + chunk, size, bold=bold) > max_width:
                    lines.append(line)
                    line, glue = "", ""
                line += glue + chunk
                glue = ""
    if line or not lines:
        lines.append(line)
    return tuple(lines)
