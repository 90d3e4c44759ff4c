"""Text for SVG written by hand (the workflow diagram, the bar charts): every text there comes
from people or workflow files, so it is escaped for XML and put on one line first."""

from __future__ import annotations

import html
import re

__all__ = ["one_line", "xml_text"]

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""Characters XML 1.0 does not allow, not even escaped (replaced by U+FFFD)."""


def xml_text(text: str) -> str:
    """``text`` escaped for XML text and double-quoted attributes."""
    return html.escape(_XML_INVALID.sub("\ufffd", text), quote=True)


def one_line(text: str) -> str:
    """``text`` with every run of white space (line breaks too) as one space, trimmed."""
    return " ".join(text.split())
