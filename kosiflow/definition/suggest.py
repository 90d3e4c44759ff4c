"""Near-miss hints for problems: "unknown role 'scince' (did you mean 'science'?)"."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: object, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest option to ``word``, or ``""`` when none is close."""
    if not isinstance(word, str):
        return ""
    matches = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""
