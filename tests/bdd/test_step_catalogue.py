"""The step library and its catalogue: every sentence has a working example in both languages,
no two steps claim the same sentence, and the printed catalogue is the one in ``features/``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kosiflow.bdd import all_steps, closest_steps
from kosiflow.bdd.patterns import compile_template
from kosiflow.bdd.registry import LANGUAGES
from kosiflow.cli import app

FEATURES = Path(__file__).resolve().parents[2] / "features"
KEYWORD = re.compile(r"^(Given|When|Then|And|But|Angenommen|Wenn|Dann|Und|Aber) ")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_step_has_sentences_and_an_example_in_both_languages(lang: str) -> None:
    for spec in all_steps():
        assert spec.patterns[lang], spec.key
        assert spec.examples[lang], spec.key


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_example_is_a_sentence_of_its_own_step_and_of_no_other(lang: str) -> None:
    for spec in all_steps():
        line = KEYWORD.sub("", spec.examples[lang][0])
        owners = [other.key for other in all_steps() if other.match(line, lang) is not None]
        assert owners == [spec.key], line


def test_a_german_sentence_may_put_the_verb_first_after_dann() -> None:
    phase = next(s for s in all_steps() if s.key == "phase")
    assert phase.match('ist die Initiative in der Phase "Ko-Kreation"', "de") == {
        "phase": "Ko-Kreation"
    }
    assert phase.match('die Initiative ist in der Phase "Ko-Kreation"', "de") is not None


@pytest.mark.parametrize(("lang", "document"), [("en", "STEPS.md"), ("de", "SCHRITTE.md")])
def test_the_catalogue_in_features_is_what_kosiflow_steps_prints(lang: str, document: str) -> None:
    result = CliRunner().invoke(app, ["steps", "--lang", lang])
    assert result.exit_code == 0, result.output
    assert result.output == (FEATURES / document).read_text(encoding="utf-8")
    for spec in all_steps():
        assert spec.examples[lang][0] in result.output


def test_the_catalogue_takes_only_languages_it_speaks() -> None:
    result = CliRunner().invoke(app, ["steps", "--lang", "fr"])
    assert result.exit_code == 2
    assert "'fr' is not one of: de, en" in result.output


def test_the_closest_steps_to_a_typo_come_first() -> None:
    assert closest_steps('"Jana Becker" tiks "mandate_secured"', "en")[0] == (
        '"<person>" ticks "<item>" [with the evidence "<evidence>"]'
    )
    assert closest_steps('"Jana Becker" "start_co_creation" auslösst', "de")[0] == (
        '"<Person>" "<Schritt>" [mit der Begründung "<Begründung>"] auslöst'
    )
    assert closest_steps("the moon is made of cheese", "en") == []


def test_a_template_reads_quoted_values_numbers_words_and_optional_parts() -> None:
    pattern = compile_template("{person} ticks {item}[ with the evidence {evidence}] {n:d} {s:w}")
    assert pattern.match('"Jana" ticks "x" 3 done') == {
        "person": "Jana",
        "item": "x",
        "evidence": None,
        "n": "3",
        "s": "done",
    }
    assert pattern.match('"Jana" ticks "x" with the evidence "e" 3 done') is not None
    assert pattern.match('"Jana" ticks "x" three done') is None
    assert pattern.shown({"item": "Punkt"}) == (
        '"<person>" ticks "<Punkt>" [with the evidence "<evidence>"] <n> <s>'
    )


@pytest.mark.parametrize("template", ["{a} [b", "{a} b]", "{a} and {a}"])
def test_a_broken_template_is_refused(template: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(template))):
        compile_template(template)
