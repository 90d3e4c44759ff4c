"""Data tables of steps: header cells in English or German, rows as dictionaries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kosiflow.bdd.failures import SpecFailure
from kosiflow.bdd.texts import say

COLUMNS: Mapping[str, tuple[str, ...]] = {
    "name": ("name", "Name"),
    "roles": ("roles", "Rollen"),
    "item": ("item", "Punkt"),
    "status": ("status", "Status"),
    "code": ("code", "Code"),
    "subject": ("subject", "Betrifft"),
    "event": ("event", "Ereignis"),
    "by": ("by", "von"),
    "trigger": ("trigger", "Schritt"),
    "reason": ("reason", "Grund"),
    "role": ("role", "Rolle"),
    "phase": ("phase", "Phase"),
    "target": ("target", "Ziel"),
    "evidence": ("evidence", "Nachweis"),
    "text": ("text", "Text"),
}
"""Canonical column → the headers it may have (English, German)."""

_BY_HEADER = {h.casefold(): column for column, headers in COLUMNS.items() for h in headers}


def rows_of(
    table: Sequence[Sequence[object]], lang: str, required: Sequence[str]
) -> list[dict[str, str]]:
    """The rows below the header, keyed by canonical column (other headers kept as written).

    Raises:
        SpecFailure: when a required column is missing.
    """
    if not table:
        raise SpecFailure(say(lang, "table_columns", columns=", ".join(required), found="-"))
    header = [_BY_HEADER.get(str(cell).strip().casefold(), str(cell).strip()) for cell in table[0]]
    missing = [c for c in required if c not in header]
    if missing:
        wanted = ", ".join(COLUMNS[c][1 if lang == "de" else 0] for c in required)
        found = ", ".join(str(c) for c in table[0])
        raise SpecFailure(say(lang, "table_columns", columns=wanted, found=found))
    return [
        {column: str(cell).strip() for column, cell in zip(header, row, strict=True)}
        for row in table[1:]
    ]
