"""The step library's register: every step with its sentences in German and English.

Step modules declare their steps with :func:`step`; the pytest plugin hands each sentence to
pytest-bdd, the catalogue prints them and the coverage reads feature files with them. This
module imports neither pytest nor pytest-bdd, so the catalogue works without them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from kosiflow.bdd.patterns import Pattern, compile_template

Section = Literal["setup", "commands", "shortcuts", "phase", "blockers", "outcomes", "history"]
SECTIONS: tuple[Section, ...] = (
    "setup",
    "commands",
    "shortcuts",
    "phase",
    "blockers",
    "outcomes",
    "history",
)
LANGUAGES = ("en", "de")

StepFunction = Callable[..., None]
"""``run(world, **values)``: the placeholders' values as text (None for a left-out part), plus
``table`` (rows of cells, header first) for steps that take a data table."""


@dataclass(frozen=True, slots=True)
class StepSpec:
    """One step of the library: what it does, how it may be written, an example of each."""

    key: str
    section: Section
    patterns: Mapping[str, tuple[Pattern, ...]]
    """The sentences, by language (``en``, ``de``)."""
    examples: Mapping[str, tuple[str, ...]]
    """Whole example lines with their keyword, by language (and, for tables, the table)."""
    run: StepFunction
    table: bool = False
    """The step takes a data table."""
    outcome: bool = False
    """The step checks the outcome of the command before it (so that command may be refused)."""

    @property
    def names(self) -> tuple[str, ...]:
        """The placeholders (the same in every sentence of the step)."""
        return self.patterns["en"][0].names

    def match(self, text: str, lang: str | None = None) -> dict[str, str | None] | None:
        """The values when ``text`` is one of the step's sentences (in ``lang``, or any)."""
        for language in (lang,) if lang is not None else LANGUAGES:
            for pattern in self.patterns.get(language, ()):
                values = pattern.match(text)
                if values is not None:
                    return values
        return None


STEPS: list[StepSpec] = []
"""Every step, in the order the step modules declare them (filled when they are imported)."""


def step(
    key: str,
    section: Section,
    *,
    en: Sequence[str],
    de: Sequence[str],
    example_en: Sequence[str],
    example_de: Sequence[str],
    table: bool = False,
    outcome: bool = False,
) -> Callable[[StepFunction], StepFunction]:
    """Declare a step: its sentence templates and examples in English and German.

    Raises:
        ValueError: when the sentences of the step do not all have the same placeholders.
    """

    def declare(run: StepFunction) -> StepFunction:
        patterns = {
            "en": tuple(compile_template(t) for t in en),
            "de": tuple(compile_template(t) for t in de),
        }
        names = {frozenset(p.names) for ps in patterns.values() for p in ps}
        if len(names) != 1:
            raise ValueError(f"the sentences of step {key!r} differ in their placeholders")
        examples = {"en": tuple(example_en), "de": tuple(example_de)}
        STEPS.append(StepSpec(key, section, patterns, examples, run, table, outcome))
        return run

    return declare
