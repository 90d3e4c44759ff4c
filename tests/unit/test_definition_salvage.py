"""Every problem of a file in one run: a broken part hides nothing else and causes nothing else.

Refused tags, broken checklist items and transitions, and broken phase references each leave the
rest of the file checked, including the phase graph; and a loop of automatic transitions is found.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kosiflow.definition import load_definition_text
from kosiflow.errors import DefinitionError

MINI = (Path(__file__).parent / "definition_cases" / "mini.yaml").read_text(encoding="utf-8")
ITEM = "      - id: task\n"
Found = list[tuple[int, int, str, str]]


def problems_of(text: str) -> Found:
    with pytest.raises(DefinitionError) as caught:
        load_definition_text(text, "bad.yaml")
    return [(p.line, p.column, p.path, p.message) for p in caught.value.problems]


def graph(phases: str, transitions: str) -> str:
    """The mini file with phases a, b, ... and done (from line 11; a is initial), then these
    transitions (from line 13 + the number of phases)."""
    listed = "".join(f"  - {{id: {p}, title: {{de: {p}, en: {p}}}}}\n" for p in phases)
    done = "  - {id: done, title: {de: Ende, en: End}, final: true}\n"
    return f"{MINI.split('initial:')[0]}initial: a\nphases:\n{listed}{done}transitions:\n" + (
        transitions
    )


# -- refused tags ----------------------------------------------------------------------------------


def test_a_refused_tag_does_not_hide_the_other_problems_of_the_file() -> None:
    text = (
        MINI.replace("id: mini", "id: !!python/object/apply:os.system [ls]")
        .replace("version: 1", "!!python/name:os.system version: 1")
        .replace("{de: Mini, en: Mini}", "{de: Mini}")
        .replace(ITEM, ITEM + "        roles: !!python/tuple [coordinator]\n")
        .replace("to: done", "to: dne")
    )

    # The refused values count as absent: no "missing required key 'version'", no "expected a
    # text" for the id, and the item is dropped without a word about its roles.
    assert problems_of(text) == [
        (2, 5, "id", "tag '!!python/object/apply:os.system' is not allowed"),
        (3, 1, "<document>", "tag '!!python/name:os.system' is not allowed"),
        (5, 8, "title", "missing translation for 'en'"),
        (15, 16, "phases[0].checklist[0].roles", "tag '!!python/tuple' is not allowed"),
        (23, 9, "transitions[0].to", "unknown phase 'dne' (did you mean 'done'?)"),
    ]


def test_a_refused_tag_on_a_mapping_drops_it_without_reading_inside() -> None:
    text = MINI.replace("title: {de: Mini, en: Mini}", "title: !!python/object:x {de: 1}").replace(
        "  science:", "  system:"
    )

    assert problems_of(text) == [
        (5, 8, "title", "tag '!!python/object:x' is not allowed"),
        (8, 3, "roles.system", "role 'system' is reserved by kosiflow (platform roles: admin, "
                               "auditor, system)"),
    ]  # fmt: skip


def test_a_refused_key_is_not_reported_again_as_missing_or_unknown() -> None:
    text = (
        MINI.replace("{de: Mini, en: Mini}", "{de: Mini, !!python/str en: Mini}")
        .replace("  science:", "  !!python/name:os.system science:")
        .replace(ITEM, ITEM + "        roles: [science]\n")
    )

    # The title and the roles count as broken (not as lacking 'en' or 'science'), quietly.
    assert problems_of(text) == [
        (5, 19, "title", "tag '!!python/str' is not allowed"),
        (8, 3, "roles", "tag '!!python/name:os.system' is not allowed"),
    ]


# -- broken checklist items ------------------------------------------------------------------------


def test_a_broken_item_does_not_hide_the_problems_of_its_phase() -> None:
    text = (
        MINI.replace("    title: {de: Start, en: Start}", "    title: {de: Start}")
        .replace(ITEM, ITEM + "        colour: red\n")
        .replace(
            "        title: {de: Aufgabe, en: Task}\n",
            "        title: {de: Aufgabe, en: Task}\n"
            "      - {id: other, title: {de: Andere}, roles: [scince]}\n",
        )
        + "  - {trigger: finish, from: start, to: done}\n"
    )

    assert problems_of(text) == [
        (12, 12, "phases[0].title", "missing translation for 'en'"),
        (15, 9, "phases[0].checklist[0].colour", "unknown key 'colour'"),
        (17, 28, "phases[0].checklist[1].title", "missing translation for 'en'"),
        (17, 50, "phases[0].checklist[1].roles[0]",
         "unknown role 'scince' (did you mean 'science'?)"),
        (25, 15, "transitions[1].trigger",
         "trigger 'finish' already leaves phase 'start' (transitions[0])"),
    ]  # fmt: skip


def test_the_items_of_a_broken_phase_are_still_checked() -> None:
    text = MINI.replace("  - id: start\n", "  - id: start\n    colour: red\n").replace(
        ITEM, ITEM + "        roles: [scince]\n"
    )

    assert problems_of(text) == [
        (12, 5, "phases[0].colour", "unknown key 'colour'"),
        (16, 17, "phases[0].checklist[0].roles[0]",
         "unknown role 'scince' (did you mean 'science'?)"),
    ]  # fmt: skip


def test_a_final_phase_whose_items_are_all_broken_still_has_no_checklist() -> None:
    text = MINI.replace("    final: true", "    final: true\n    checklist:\n      - {id: x}")

    assert problems_of(text) == [
        (19, 5, "phases[1].checklist", "a final phase has no checklist: reaching it ends the "
                                       "initiative"),
        (20, 9, "phases[1].checklist[0].title", "missing required key 'title'"),
    ]  # fmt: skip


# -- the phase graph with broken references --------------------------------------------------------


def test_a_broken_reference_does_not_hide_the_other_graph_problems() -> None:
    text = graph(
        "abcd",
        "  - {trigger: go, from: a, to: b}\n"
        "  - {trigger: next, from: b, to: nowhere}\n"
        "  - {trigger: end, from: [a, c], to: done}\n"
        "  - {trigger: jump, from: a, to: d}\n",
    )

    # b is not blamed: its broken transition is a way out that may well lead to an end.
    assert problems_of(text) == [
        (13, 10, "phases[2].id", "phase 'c' cannot be reached from the initial phase 'a'"),
        (14, 10, "phases[3].id",
         "phase 'd' has no way out: it is not final and no transition leaves it"),
        (18, 34, "transitions[1].to", "unknown phase 'nowhere'"),
    ]  # fmt: skip


BROKEN_EDGES = {
    # a misspelt target is read as the phase it resembles: done is reached, b ends
    "test_a_misspelt_target_is_read_as_the_phase_it_resembles": (
        "ab",
        "  - {trigger: go, from: a, to: b}\n  - {trigger: end, from: b, to: dnoe}\n",
        (16, 33, "transitions[1].to", "unknown phase 'dnoe' (did you mean 'done'?)"),
    ),
    # the unknown source may be reachable, so c and what follows it are not called unreachable
    "test_the_target_of_an_unknown_source_is_not_called_unreachable": (
        "abc",
        "  - {trigger: go, from: a, to: b}\n  - {trigger: end, from: [a, b, c], to: done}\n"
        "  - {trigger: side, from: elsewhere, to: c}\n",
        (18, 27, "transitions[2].from", "unknown phase 'elsewhere'"),
    ),
    "test_the_target_of_a_malformed_transition_is_not_called_unreachable": (
        "abc",
        "  - {trigger: go, from: a, to: b}\n  - {trigger: end, from: [a, b, c], to: done}\n"
        "  - {trigger: side, from: b, to: c, colour: red}\n",
        (18, 37, "transitions[2].colour", "unknown key 'colour'"),
    ),
    # an unreadable source could be any phase: b, which has no other way out, too
    "test_an_unreadable_source_could_be_any_phase": (
        "ab",
        "  - {trigger: go, from: a, to: b}\n  - {trigger: end, from: a, to: done}\n"
        "  - {trigger: side, from: 5, to: done}\n",
        (17, 27, "transitions[2].from", 'expected a phase id, a list of phase ids or "*"'),
    ),
    # a missing target could be any phase: an end for b, and c (reachable from nowhere else)
    "test_a_missing_target_could_be_any_phase": (
        "abc",
        "  - {trigger: go, from: a, to: b}\n  - {trigger: end, from: [a, c], to: done}\n"
        "  - {trigger: side, from: b}\n",
        (18, 5, "transitions[2].to", "missing required key 'to'"),
    ),
}


@pytest.mark.parametrize(
    ("phases", "transitions", "expected"), list(BROKEN_EDGES.values()), ids=list(BROKEN_EDGES)
)
def test_a_broken_transition_is_not_blamed_on_the_phases_it_could_join(
    phases: str, transitions: str, expected: tuple[int, int, str, str]
) -> None:
    assert problems_of(graph(phases, transitions)) == [expected]


# -- loops of automatic transitions ----------------------------------------------------------------

AUTO_LOOPS = {
    "test_two_automatic_transitions_may_not_form_a_loop": (
        "ab",
        "  - {trigger: go, from: a, to: b, auto: true}\n"
        "  - {trigger: back, from: b, to: a, auto: true}\n"
        "  - {trigger: end, from: '*', to: done}\n",
        [(16, 43, "transitions[1].auto", "automatic transitions 'go' and 'back' form a loop "
                                         "a → b → a; at least one of them must not be automatic")],
    ),
    "test_a_loop_is_reported_at_its_last_transition_from_where_that_leads": (
        "abc",
        "  - {trigger: on, from: b, to: c, auto: true}\n"
        "  - {trigger: back, from: c, to: a, auto: true}\n"
        "  - {trigger: go, from: a, to: b, auto: true}\n"
        "  - {trigger: end, from: '*', to: done}\n",
        [(18, 41, "transitions[2].auto", "automatic transitions 'on', 'back' and 'go' form a "
                                         "loop b → c → a → b; at least one of them must not be "
                                         "automatic")],
    ),
    "test_an_automatic_transition_may_not_lead_back_to_its_phase": (
        "ab",
        "  - {trigger: go, from: a, to: b}\n  - {trigger: hold, from: '*', to: b, auto: true}\n"
        "  - {trigger: end, from: b, to: done}\n",
        [(16, 45, "transitions[1].auto", "automatic transition 'hold' forms a loop b → b; it "
                                         "must not be automatic")],
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("phases", "transitions", "expected"), list(AUTO_LOOPS.values()), ids=list(AUTO_LOOPS)
)
def test_loops_of_automatic_transitions_are_refused(
    phases: str, transitions: str, expected: Found
) -> None:
    assert problems_of(graph(phases, transitions)) == expected


def test_a_chain_of_automatic_transitions_that_ends_is_fine() -> None:
    text = graph(
        "ab",
        "  - {trigger: go, from: a, to: b, auto: true}\n"
        "  - {trigger: end, from: b, to: done, auto: true}\n"
        "  - {trigger: back, from: b, to: a}\n",
    )

    assert [t.trigger for t in load_definition_text(text).transitions] == ["go", "end", "back"]
