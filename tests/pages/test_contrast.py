"""Every text colour of the stylesheet stands out from its background by 4.5:1 (WCAG AA)."""

from __future__ import annotations

import re

import pytest

from api.pages.rendering import STATIC

PAIRS = [
    ("text", "background"),
    ("text", "panel"),
    ("muted", "background"),
    ("muted", "panel"),
    ("link", "background"),
    ("link", "panel"),
    ("on-primary", "primary"),
    ("primary", "background"),
    ("on-primary", "passed"),
    ("on-primary", "current"),
    ("skipped-text", "skipped-bg"),
    ("ok-text", "ok-bg"),
    ("warn-text", "warn-bg"),
    ("bad-text", "bad-bg"),
    ("bad-text", "background"),
    ("text", "ok-bg"),
    ("text", "bad-bg"),
]
"""(text colour, background colour) as the stylesheet combines them."""


def _colours() -> dict[str, str]:
    css = (STATIC / "kosiflow.css").read_text()
    root = css.split(":root {")[1].split("}")[0]
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6});", root))


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.parametrize(("text", "background"), PAIRS)
def test_text_colours_have_enough_contrast(text: str, background: str) -> None:
    colours = _colours()

    assert contrast(colours[text], colours[background]) >= 4.5
