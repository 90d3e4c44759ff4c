"""Near-miss hints for problems: "unknown role 'scince' (did you mean 'science'?)"."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: object, options: Iterable[str]) -> str | None:
    """The option closest to ``word``, or None when none is close."""
    if not isinstance(word, str):
        return None
    matches = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: object, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest option to ``word``, or ``""`` when none is close."""
    match = closest(word, options)
    return f" (did you mean '{match}'?)" if match is not None else ""
