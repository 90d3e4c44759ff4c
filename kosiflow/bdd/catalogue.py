"""The step catalogue: every step of the library with an example, and the steps closest to a typo.

``kosiflow steps --lang de|en`` prints :func:`catalogue_text`; ``features/STEPS.md`` and
``features/SCHRITTE.md`` hold its output.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

from kosiflow.bdd import (
    check_steps,
    command_steps,
    history_steps,
    outcome_steps,
    shortcut_steps,
)
from kosiflow.bdd.patterns import Pattern
from kosiflow.bdd.registry import LANGUAGES, SECTIONS, STEPS, StepSpec
from kosiflow.bdd.texts import language_of

STEP_MODULES = (command_steps, shortcut_steps, check_steps, outcome_steps, history_steps)
"""Importing these declares every step (``STEPS`` is complete once they are imported)."""

_TITLES: Mapping[str, Mapping[str, str]] = {
    "en": {
        "title": "kosiflow steps",
        "intro": "Steps for `.feature` files that run with plain `pytest` once kosiflow is "
        "installed. Start each sentence with Given, When, Then, And or But. Values go in "
        '"double quotes"; ids of the workflow (phases, items, steps, roles) may also be given '
        "by their title. A part in [brackets] may be left out. Commands may be written in the "
        "present (When) or the perfect tense (Given). A command that is refused fails its "
        "step with the reasons, unless the next step checks the refusal. "
        "Run a feature through the HTTP API with `pytest --kosiflow-via=api` or the tag `@api`.",
        "setup": "Setting up",
        "commands": "Commands, each as a named person",
        "shortcuts": "Shortcuts for setting the scene",
        "phase": "Phase, checklist and progress",
        "blockers": "What blocks a step",
        "outcomes": "How the command before ended",
        "history": "What an auditor sees",
    },
    "de": {
        "title": "kosiflow-Schritte",
        "intro": "Schritte für `.feature`-Dateien, die nach der Installation von kosiflow mit "
        "einfachem `pytest` laufen. Die Datei beginnt mit `# language: de`; jeder Satz beginnt "
        'mit Angenommen, Wenn, Dann, Und oder Aber. Werte stehen in "doppelten '
        'Anführungszeichen"; Kennungen des Ablaufs (Phasen, Punkte, Schritte, Rollen) dürfen '
        "auch mit ihrem Titel genannt werden. Ein Teil in [eckigen Klammern] darf fehlen. "
        "Befehle gibt es in der Gegenwart (Wenn) und im Perfekt (Angenommen). Ein abgelehnter "
        "Befehl lässt seinen Schritt mit den Gründen scheitern, außer der nächste Schritt prüft "
        "die Ablehnung. Über die HTTP-API läuft ein Feature mit `pytest --kosiflow-via=api` "
        "oder dem Tag `@api`.",
        "setup": "Vorbereitung",
        "commands": "Befehle, jeweils als benannte Person",
        "shortcuts": "Abkürzungen für die Ausgangslage",
        "phase": "Phase, Checkliste und Fortschritt",
        "blockers": "Was einen Schritt sperrt",
        "outcomes": "Wie der Befehl davor ausging",
        "history": "Was die Revision sieht",
    },
}

_PLACEHOLDERS: Mapping[str, Mapping[str, str]] = {
    "en": {},
    "de": {
        "file": "Datei",
        "name": "Name",
        "roles": "Rollen",
        "role": "Rolle",
        "person": "Person",
        "title": "Titel",
        "participant": "Beteiligte",
        "item": "Punkt",
        "evidence": "Nachweis",
        "reason": "Begründung",
        "trigger": "Schritt",
        "text": "Text",
        "first": "Erste",
        "second": "Zweite",
        "phase": "Phase",
        "visit": "Besuch",
        "status": "Status",
        "percent": "Prozent",
        "count": "Anzahl",
        "code": "Code",
        "subject": "Betrifft",
    },
}
"""How the catalogue names placeholders for readers of each language."""

_VALUE = re.compile(r'"[^"]*"|\b\d+\b')
_CLOSE_ENOUGH = 0.6


def all_steps() -> list[StepSpec]:
    """Every step of the library, in catalogue order."""
    return sorted(STEPS, key=lambda s: SECTIONS.index(s.section))


def catalogue_text(lang: str) -> str:
    """The catalogue as Markdown: per section, each step's sentences and an example."""
    lang = language_of(lang)
    words = _TITLES[lang]
    lines = [f"# {words['title']}", "", words["intro"], ""]
    for section in SECTIONS:
        lines += [f"## {words[section]}", ""]
        for spec in (s for s in all_steps() if s.section == section):
            lines += [f"- `{p.shown(_PLACEHOLDERS[lang])}`" for p in spec.patterns[lang]]
            lines += ["", "  ```gherkin", *(f"  {e}" for e in spec.examples[lang]), "  ```", ""]
    return "\n".join(lines)


def closest_steps(text: str, lang: str, count: int = 3) -> list[str]:
    """The sentences of the library most like ``text`` (its values ignored), best first."""
    sought = _VALUE.sub(lambda m: '"…"' if m.group().startswith('"') else "…", text)
    scored: dict[str, float] = {}
    languages = (language_of(lang), *[x for x in LANGUAGES if x != language_of(lang)])
    for language in languages:
        for spec in STEPS:
            for pattern in spec.patterns[language]:
                score = _likeness(sought, pattern)
                if score >= _CLOSE_ENOUGH:
                    shown = pattern.shown(_PLACEHOLDERS[language])
                    scored[shown] = max(score, scored.get(shown, 0.0))
        if scored:
            break
    return sorted(scored, key=lambda shown: -scored[shown])[:count]


def _likeness(sought: str, pattern: Pattern) -> float:
    return max(
        difflib.SequenceMatcher(None, sought.casefold(), skeleton.casefold()).ratio()
        for skeleton in pattern.skeletons
    )
