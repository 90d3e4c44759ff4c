"""Matching blockers against what a step names: a code and, optionally, what it is about."""

from __future__ import annotations

from collections.abc import Sequence

from kosiflow.bdd.failures import SpecFailure, blocker_lines
from kosiflow.bdd.texts import say
from kosiflow.bdd.world import World
from kosiflow.engine import Blocker


def is_about(world: World, blocker: Blocker, code: str, subject: str | None) -> bool:
    """Whether ``blocker`` has ``code`` and, when given, names ``subject`` (an id or title)."""
    if blocker.code != code:
        return False
    if not subject:
        return True
    ids = world.names.ids_of(subject)
    return any(str(value) in ids for value in blocker.params.values())


def wanted(code: str, subject: str | None) -> str:
    """What a step asks for, as a failure shows it: ``code (subject)``."""
    return f"{code} ({subject})" if subject else code


def same_reasons(world: World, blockers: Sequence[Blocker], rows: list[dict[str, str]]) -> bool:
    """Every row names one blocker and every blocker is named by one row (rows that name a
    subject pick theirs first, so a row without one cannot take it from them)."""
    left = list(blockers)
    for row in sorted(rows, key=lambda r: not r.get("subject")):
        found = next((b for b in left if is_about(world, b, row["code"], row.get("subject"))), None)
        if found is None:
            return False
        left.remove(found)
    return not left


def differ(
    world: World, key: str, rows: list[dict[str, str]], found: Sequence[Blocker], **values: str
) -> SpecFailure:
    """The failure of a table of reasons that is not what was found: both, one per line."""
    expected = "\n".join(f"  • {wanted(r['code'], r.get('subject'))}" for r in rows) or "  -"
    lines = blocker_lines(found, world.lang) or "  -"
    return SpecFailure(
        f"{say(world.lang, key, **values)}\n{say(world.lang, 'expected_rows')}\n{expected}\n"
        f"{say(world.lang, 'found_rows')}\n{lines}"
    )
