"""Why a scenario fails, in the lab's words: a step's failure and how a refusal is worded."""

from __future__ import annotations

from collections.abc import Sequence

from kosiflow.bdd.texts import say
from kosiflow.engine import Blocker


class SpecFailure(AssertionError):
    """A step found the process other than the scenario says; ``str()`` is for people.

    Raised instead of a bare ``assert`` so that a reader sees the sentence, not a traceback.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def blocker_lines(blockers: Sequence[Blocker], lang: str) -> str:
    """Every blocker as a bullet with its sentence and its code."""
    return "\n".join(f"  • {b.message(lang)} ({b.code})" for b in blockers)


def refusal_words(lang: str, headline: str, blockers: Sequence[Blocker]) -> str:
    """``headline: sentence (code)`` for one blocker; the headline and a bullet list for more."""
    if len(blockers) == 1:
        only = blockers[0]
        return f"{headline}: {only.message(lang)} ({only.code})"
    return f"{headline}:\n{blocker_lines(blockers, lang)}"


def gate_headline(lang: str, trigger: str, person: str, blockers: Sequence[Blocker]) -> str:
    """``Gate 'x' is shut`` (naming the person when it is their roles that keep it shut)."""
    if any(b.code == "role_missing" for b in blockers):
        return say(lang, "gate_shut_for", trigger=trigger, person=person)
    return say(lang, "gate_shut", trigger=trigger)
