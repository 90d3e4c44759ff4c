"""Validation rules: each bad file is reported at the offending line, column and path.

Every case changes one thing in ``definition_cases/mini.yaml`` (22 lines; its transition is on
lines 20-22) and expects exactly one problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from kosiflow.definition import load_definition_text
from kosiflow.errors import DefinitionError, Problem

MINI = (Path(__file__).parent / "definition_cases" / "mini.yaml").read_text(encoding="utf-8")


class Case(NamedTuple):
    old: str
    new: str
    line: int
    column: int
    path: str
    message: str


def problems_of(text: str) -> tuple[Problem, ...]:
    with pytest.raises(DefinitionError) as caught:
        load_definition_text(text, "bad.yaml")
    return caught.value.problems


def changed(old: str, new: str) -> str:
    assert old in MINI, old
    return MINI.replace(old, new, 1)


TRANSITION_END = "    to: done"
ITEM = "      - id: task\n"
PHASE = "    title: {de: Start, en: Start}"
A_B_C_DONE = """\
initial: a
phases:
  - {id: a, title: {de: A, en: A}}
  - {id: b, title: {de: B, en: B}}
  - {id: c, title: {de: C, en: C}}
  - {id: done, title: {de: D, en: D}, final: true}
transitions:
"""


def graph(transitions: str) -> str:
    """The mini file with phases a, b, c, done (lines 11-14) and these transitions (from 16)."""
    return MINI.split("initial:")[0] + A_B_C_DONE + transitions


CASES = {
    # types and values
    "test_version_must_be_an_integer": Case(
        "version: 1", "version: one", 3, 10, "version", "expected an integer, got the text 'one'"
    ),
    "test_version_must_be_positive": Case(
        "version: 1", "version: 0", 3, 10, "version", "must be a positive integer, got 0"
    ),
    "test_version_may_not_be_a_float": Case(
        "version: 1", "version: 1.0", 3, 10, "version", "expected an integer, got the number 1.0"
    ),
    "test_format_must_be_kosiflow_v1": Case(
        "format: kosiflow/v1",
        "format: kosiflow/v2",
        1,
        9,
        "format",
        "'kosiflow/v2' is not one of 'kosiflow/v1' (did you mean 'kosiflow/v1'?)",
    ),
    "test_workflow_id_must_match_its_pattern": Case(
        "id: mini", "id: Mini Lab", 2, 5, "id", "'Mini Lab' is not a valid workflow id"
    ),
    "test_languages_must_not_be_empty": Case(
        "languages: [de, en]", "languages: []", 4, 12, "languages", "must not be empty"
    ),
    "test_languages_must_be_a_list": Case(
        "languages: [de, en]", "languages: de", 4, 12, "languages", "expected a list"
    ),
    "test_languages_must_be_two_letter_codes": Case(
        "languages: [de, en]",
        "languages: [de, EN]",
        4,
        17,
        "languages[1]",
        "'EN' is not a language code",
    ),
    "test_languages_must_not_repeat": Case(
        "languages: [de, en]",
        "languages: [de, en, de]",
        4,
        21,
        "languages[2]",
        "language 'de' is listed twice",
    ),
    "test_role_names_must_match_the_name_pattern": Case(
        "  science:", "  Science:", 8, 3, "roles.Science", "'Science' is not a valid name"
    ),
    "test_roles_must_be_a_mapping": Case(
        "roles:\n  coordinator: {de: Koordination, en: Coordination}\n  science:"
        " {de: Wissenschaft, en: Science}",
        "roles: [coordinator, science]",
        6,
        8,
        "roles",
        "expected a mapping, got a list",
    ),
    "test_item_roles_must_be_a_list": Case(
        ITEM,
        ITEM + "        roles: coordinator\n",
        15,
        16,
        "phases[0].checklist[0].roles",
        "expected a list, got the text 'coordinator'",
    ),
    "test_phase_ids_must_match_the_name_pattern": Case(
        "  - id: done", "  - id: Done", 16, 9, "phases[1].id", "'Done' is not a valid name"
    ),
    "test_trigger_names_must_match_the_name_pattern": Case(
        "trigger: finish",
        "trigger: finish-now",
        20,
        14,
        "transitions[0].trigger",
        "'finish-now' is not a valid name",
    ),
    "test_final_must_be_a_boolean_and_yes_is_no_boolean": Case(
        "    final: true",
        "    final: yes",
        18,
        12,
        "phases[1].final",
        "expected true or false, got the text 'yes'",
    ),
    "test_evidence_must_be_a_known_value": Case(
        ITEM,
        ITEM + "        evidence: requird\n",
        15,
        19,
        "phases[0].checklist[0].evidence",
        "'requird' is not one of 'required', 'optional' (did you mean 'required'?)",
    ),
    "test_reason_must_be_a_known_value": Case(
        TRANSITION_END,
        TRANSITION_END + "\n    reason: nope",
        23,
        13,
        "transitions[0].reason",
        "'nope' is not one of 'required', 'optional', 'none' (did you mean 'none'?)",
    ),
    "test_checklist_rule_must_be_a_known_value": Case(
        TRANSITION_END,
        TRANSITION_END + "\n    requires: {checklist: all}",
        23,
        27,
        "transitions[0].requires.checklist",
        "'all' is not one of 'complete', 'none'",
    ),
    "test_max_days_must_be_positive": Case(
        PHASE,
        PHASE + "\n    max_days: 0",
        13,
        15,
        "phases[0].max_days",
        "must be a positive integer, got 0",
    ),
    "test_sectors_must_not_be_negative": Case(
        TRANSITION_END,
        TRANSITION_END + "\n    requires: {sectors: -1}",
        23,
        25,
        "transitions[0].requires.sectors",
        "must not be negative, got -1",
    ),
    "test_from_must_be_a_phase_a_list_or_star": Case(
        "    from: start",
        "    from: 5",
        21,
        11,
        "transitions[0].from",
        'expected a phase id, a list of phase ids or "*"',
    ),
    # keys
    "test_an_unknown_key_gets_a_did_you_mean": Case(
        ITEM,
        ITEM + "        titel: {de: a, en: b}\n",
        15,
        9,
        "phases[0].checklist[0].titel",
        "unknown key 'titel' (did you mean 'title'?)",
    ),
    "test_an_unknown_top_level_key_is_refused": Case(
        "version: 1", "version: 1\nversoin: 2", 4, 1, "versoin", "unknown key 'versoin'"
    ),
    "test_an_unknown_transition_key_is_refused": Case(
        TRANSITION_END,
        TRANSITION_END + "\n    max_days: 3",
        23,
        5,
        "transitions[0].max_days",
        "unknown key 'max_days'",
    ),
    "test_a_missing_required_key_is_reported_at_its_mapping": Case(
        "version: 1\n", "", 1, 1, "version", "missing required key 'version'"
    ),
    "test_a_missing_item_title_is_reported_at_its_item": Case(
        "        title: {de: Aufgabe, en: Task}\n",
        "",
        14,
        9,
        "phases[0].checklist[0].title",
        "missing required key 'title'",
    ),
    "test_a_missing_to_is_reported_at_its_transition": Case(
        TRANSITION_END, "", 20, 5, "transitions[0].to", "missing required key 'to'"
    ),
    "test_a_duplicate_key_is_refused": Case(
        "version: 1", "version: 1\nversion: 2", 4, 1, "version", "duplicate key 'version'"
    ),
    # translations
    "test_a_missing_translation_is_refused": Case(
        "title: {de: Mini, en: Mini}",
        "title: {de: Mini}",
        5,
        8,
        "title",
        "missing translation for 'en'",
    ),
    "test_an_undeclared_language_is_refused": Case(
        "title: {de: Mini, en: Mini}",
        "title: {de: Mini, en: Mini, fr: Mini}",
        5,
        29,
        "title.fr",
        "language 'fr' is not declared in 'languages'",
    ),
    "test_a_text_must_be_text": Case(
        "title: {de: Mini, en: Mini}",
        "title: {de: Mini, en: 5}",
        5,
        23,
        "title.en",
        "expected a text, got the number 5",
    ),
    # roles
    "test_reserved_role_names_are_refused": Case(
        "  science:",
        "  auditor:",
        8,
        3,
        "roles.auditor",
        "role 'auditor' is reserved by kosiflow",
    ),
    "test_the_coordinator_role_must_be_declared": Case(
        "  coordinator: {de: Koordination, en: Coordination}\n",
        "",
        6,
        1,
        "roles",
        "the role 'coordinator' must be declared",
    ),
    "test_an_unknown_item_role_gets_a_did_you_mean": Case(
        ITEM,
        ITEM + "        roles: [coordinator, scince]\n",
        15,
        30,
        "phases[0].checklist[0].roles[1]",
        "unknown role 'scince' (did you mean 'science'?)",
    ),
    "test_an_unknown_waiver_role_is_refused": Case(
        ITEM,
        ITEM + "        waivable_by: [business]\n",
        15,
        23,
        "phases[0].checklist[0].waivable_by[0]",
        "unknown role 'business'",
    ),
    "test_an_unknown_transition_role_is_refused": Case(
        TRANSITION_END,
        TRANSITION_END + "\n    roles: [sciense]",
        23,
        13,
        "transitions[0].roles[0]",
        "unknown role 'sciense' (did you mean 'science'?)",
    ),
    "test_an_unknown_approval_role_is_refused": Case(
        TRANSITION_END,
        TRANSITION_END + "\n    requires: {approvals: [admin]}",
        23,
        28,
        "transitions[0].requires.approvals[0]",
        "unknown role 'admin'",
    ),
    "test_approvals_may_not_name_a_role_twice": Case(
        TRANSITION_END,
        TRANSITION_END + "\n    requires: {approvals: [science, science]}",
        23,
        37,
        "transitions[0].requires.approvals[1]",
        "approval by role 'science' is listed twice",
    ),
    "test_sectors_may_not_exceed_the_declared_roles": Case(
        TRANSITION_END,
        TRANSITION_END + "\n    requires: {sectors: 3}",
        23,
        25,
        "transitions[0].requires.sectors",
        "sectors is 3, but only 2 roles are declared",
    ),
    # phases and items
    "test_phase_ids_must_be_unique": Case(
        "  - id: done\n    title: {de: Fertig, en: Done}\n    final: true\n",
        "  - id: done\n    title: {de: Fertig, en: Done}\n    final: true\n"
        "  - id: done\n    title: {de: Fertig, en: Done}\n    final: true\n",
        19,
        9,
        "phases[2].id",
        "phase 'done' is defined twice (first at phases[1])",
    ),
    "test_item_ids_must_be_unique_within_a_phase": Case(
        "        title: {de: Aufgabe, en: Task}\n",
        "        title: {de: Aufgabe, en: Task}\n      - id: task\n        title: {de: A, en: A}\n",
        16,
        13,
        "phases[0].checklist[1].id",
        "item 'task' is defined twice in this phase",
    ),
    "test_a_final_phase_has_no_checklist": Case(
        "    final: true",
        "    final: true\n    checklist:\n      - {id: x, title: {de: X, en: X}}",
        19,
        5,
        "phases[1].checklist",
        "a final phase has no checklist",
    ),
    "test_initial_must_be_a_phase": Case(
        "initial: start",
        "initial: strat",
        9,
        10,
        "initial",
        "unknown phase 'strat' (did you mean 'start'?)",
    ),
    "test_initial_must_not_be_final": Case(
        "initial: start",
        "initial: done",
        9,
        10,
        "initial",
        "the initial phase 'done' is final",
    ),
    # transitions
    "test_an_unknown_target_gets_a_did_you_mean": Case(
        "    to: done",
        "    to: dne",
        22,
        9,
        "transitions[0].to",
        "unknown phase 'dne' (did you mean 'done'?)",
    ),
    "test_an_unknown_source_in_a_list_is_refused": Case(
        "    from: start",
        "    from: [start, strat]",
        21,
        19,
        "transitions[0].from[1]",
        "unknown phase 'strat' (did you mean 'start'?)",
    ),
    "test_star_must_stand_alone": Case(
        "    from: start",
        "    from: [start, '*']",
        21,
        19,
        "transitions[0].from[1]",
        "'*' is not a valid name",
    ),
    "test_a_final_phase_has_no_outgoing_transitions": Case(
        TRANSITION_END,
        TRANSITION_END + "\n  - {trigger: reopen, from: done, to: start}",
        23,
        29,
        "transitions[1].from",
        "phase 'done' is final: no transition may leave it",
    ),
    "test_a_trigger_may_leave_a_phase_only_once": Case(
        TRANSITION_END,
        TRANSITION_END + "\n  - {trigger: finish, from: '*', to: done}",
        23,
        15,
        "transitions[1].trigger",
        "trigger 'finish' already leaves phase 'start' (transitions[0])",
    ),
    "test_an_auto_transition_may_not_require_a_reason": Case(
        TRANSITION_END,
        TRANSITION_END + "\n    auto: true\n    reason: required",
        24,
        13,
        "transitions[0].reason",
        "an auto transition cannot require a reason",
    ),
    "test_a_phase_has_at_most_one_auto_transition": Case(
        TRANSITION_END,
        TRANSITION_END + "\n    auto: true\n  - {trigger: skip, from: start, to: done, auto: true}",
        24,
        50,
        "transitions[1].auto",
        "phase 'start' already has an auto transition (transitions[0]); at most one per phase",
    ),
}


@pytest.mark.parametrize(("old", "new", "line", "column", "path", "message"),
                         list(CASES.values()), ids=list(CASES))  # fmt: skip
def test_the_problem_is_reported_where_it_is(
    old: str, new: str, line: int, column: int, path: str, message: str
) -> None:
    (problem,) = problems_of(changed(old, new))

    assert (problem.file, problem.line, problem.column, problem.path) == (
        "bad.yaml",
        line,
        column,
        path,
    )
    assert message in problem.message
    assert str(problem).startswith(f"bad.yaml:{line}:{column}: {path}: ")


GRAPH_CASES = {
    "test_unreachable_phases_and_no_reachable_final_phase_are_refused": (
        "  - {trigger: go, from: a, to: b}\n  - {trigger: back, from: b, to: a}\n",
        [
            (9, 10, "initial", "no final phase can be reached from the initial phase 'a'"),
            (13, 10, "phases[2].id", "phase 'c' cannot be reached from the initial phase 'a'"),
            (14, 10, "phases[3].id", "phase 'done' cannot be reached from the initial phase"),
        ],
    ),
    "test_a_non_final_phase_needs_a_way_out": (
        "  - {trigger: go, from: a, to: b}\n  - {trigger: end, from: [a, c], to: done}\n"
        "  - {trigger: jump, from: a, to: c}\n",
        [(12, 10, "phases[1].id", "phase 'b' has no way out: it is not final")],
    ),
    "test_a_loop_without_an_end_is_refused": (
        "  - {trigger: go, from: a, to: b}\n  - {trigger: end, from: a, to: done}\n"
        "  - {trigger: on, from: b, to: c}\n  - {trigger: back, from: c, to: b}\n",
        [
            (12, 10, "phases[1].id", "no final phase can be reached from phase 'b'"),
            (13, 10, "phases[2].id", "no final phase can be reached from phase 'c'"),
        ],
    ),
}


@pytest.mark.parametrize(
    ("transitions", "expected"), list(GRAPH_CASES.values()), ids=list(GRAPH_CASES)
)
def test_the_phase_graph_is_checked(
    transitions: str, expected: list[tuple[int, int, str, str]]
) -> None:
    problems = problems_of(graph(transitions))

    assert [(p.line, p.column, p.path) for p in problems] == [e[:3] for e in expected]
    for problem, (*_, message) in zip(problems, expected, strict=True):
        assert message in problem.message


def test_a_star_transition_is_a_way_out_of_every_phase() -> None:
    text = graph(
        "  - {trigger: go, from: a, to: b}\n  - {trigger: on, from: b, to: c}\n"
        "  - {trigger: end, from: '*', to: done}\n"
    )

    assert [p.id for p in load_definition_text(text).phases] == ["a", "b", "c", "done"]


def test_every_problem_of_a_file_is_reported_in_text_order() -> None:
    text = (
        MINI.replace("version: 1", "version: 1\nfoo: 1")
        .replace("{de: Mini, en: Mini}", "{de: Mini}")
        .replace("to: done", "to: dne")
        .replace("  science:", "  system:")
    )

    assert [(p.line, p.path) for p in problems_of(text)] == [
        (4, "foo"),
        (6, "title"),
        (9, "roles.system"),
        (23, "transitions[0].to"),
    ]


def test_a_broken_phase_does_not_hide_problems_elsewhere_nor_cascade() -> None:
    text = MINI.replace("  - id: done\n", "  - id: done\n    colour: red\n").replace(
        "  - trigger: finish\n", "  - trigger: finish\n    roles: [scinece]\n"
    )

    problems = problems_of(text)

    # The bad phase makes phase references uncheckable, but roles are still checked.
    assert [(p.line, p.path) for p in problems] == [
        (17, "phases[1].colour"),
        (22, "transitions[0].roles[0]"),
    ]
