"""decide(): every guard and refusal, as a table of cases, plus the flows that span commands."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from kosiflow.definition import load_definition_text
from kosiflow.engine import (
    SYSTEM_ACTOR,
    Actor,
    AddNote,
    AddParticipant,
    ApproveGate,
    Command,
    CreateInitiative,
    Event,
    FireTrigger,
    Hold,
    InitiativeState,
    Recorded,
    Refused,
    ReopenItem,
    Resume,
    TickItem,
    WaiveItem,
    apply,
    decide,
    triggers,
)
from kosiflow.engine.events import GateApproved, ItemReopened, PhaseChanged
from tests.unit.engine_workflow import guard_workflow

DEFINITION = guard_workflow()
T0 = datetime(2024, 1, 1, tzinfo=UTC)

COORD = Actor("p-coord", frozenset({"coordinator"}))
ADMIN = Actor("p-admin", frozenset({"administration"}))
CIVIL = Actor("p-civil", frozenset({"civil_society"}))
SCIENCE = Actor("p-sci", frozenset({"science"}))
BOTH = Actor("p-both", frozenset({"administration", "civil_society"}))
NOBODY = Actor("p-none", frozenset())


def run(state: InitiativeState, command: Command, actor: Actor) -> InitiativeState:
    """Decide and apply, failing the test on a refusal."""
    outcome = decide(state, command, actor)
    assert not isinstance(outcome, Refused), [b.message("en") for b in outcome.blockers]
    return record(state, outcome, actor)


def record(state: InitiativeState, events: Sequence[Event], actor: Actor) -> InitiativeState:
    for event in events:
        who = SYSTEM_ACTOR if isinstance(event, PhaseChanged) and event.automatic else actor.id
        at = T0 + timedelta(minutes=state.version)
        state = apply(state, Recorded(state.version + 1, who, at, event))
    return state


def given(*steps: tuple[Command, Actor]) -> InitiativeState:
    state = InitiativeState("i-1", DEFINITION)
    for command, actor in [(CreateInitiative("Bike garages"), COORD), *steps]:
        state = run(state, command, actor)
    return state


def codes(outcome: object) -> list[str]:
    assert isinstance(outcome, Refused), outcome
    return [b.code for b in outcome.blockers]


READY_TO_BEGIN = (
    (TickItem("challenge", evidence="https://example.org/minutes"), COORD),
    (TickItem("mandate"), ADMIN),
    (AddParticipant("p-a", "administration"), COORD),
    (AddParticipant("p-c", "civil_society"), COORD),
    (ApproveGate("begin"), ADMIN),
    (ApproveGate("begin"), CIVIL),
)
IN_WORK = (*READY_TO_BEGIN, (FireTrigger("begin"), COORD))
ON_HOLD = ((Hold("waiting for the council"), COORD),)


REFUSALS = [
    pytest.param(
        (),
        FireTrigger("begin"),
        COORD,
        ["item_open", "item_open", "approval_missing", "approval_missing", "sectors_missing"],
        id="a shut gate lists every open requirement",
    ),
    pytest.param(
        READY_TO_BEGIN,
        FireTrigger("begin"),
        ADMIN,
        ["role_missing"],
        id="only the transition's roles may fire it",
    ),
    pytest.param(
        (), FireTrigger("begn"), COORD, ["trigger_unknown"], id="an unknown trigger is refused"
    ),
    pytest.param(
        (),
        FireTrigger("wrap"),
        COORD,
        ["trigger_not_available"],
        id="a trigger of another phase is refused",
    ),
    pytest.param(
        IN_WORK,
        FireTrigger("back"),
        COORD,
        ["reason_required"],
        id="a transition that requires a reason needs one",
    ),
    pytest.param(
        (*IN_WORK, (TickItem("result"), COORD)),
        FireTrigger("wrap", reason="x"),
        COORD,
        ["reason_not_allowed"],
        id="a transition that takes no reason refuses one",
    ),
    pytest.param(
        (), FireTrigger("archive"), COORD, ["reason_required"], id="archiving needs a reason"
    ),
    pytest.param(
        (),
        TickItem("challenge"),
        COORD,
        ["evidence_required"],
        id="an item that requires evidence cannot be ticked without it",
    ),
    pytest.param(
        (), TickItem("mandate"), COORD, ["role_missing"], id="only the item's roles may tick it"
    ),
    pytest.param((), TickItem("mandat"), ADMIN, ["item_unknown"], id="an unknown item is refused"),
    pytest.param(
        (), TickItem("result"), COORD, ["item_unknown"], id="an item of another phase is refused"
    ),
    pytest.param(
        ((TickItem("mandate"), ADMIN),),
        TickItem("mandate"),
        ADMIN,
        ["item_already_done"],
        id="a done item cannot be ticked twice",
    ),
    pytest.param(
        (),
        ReopenItem("mandate", "oops"),
        ADMIN,
        ["item_not_done"],
        id="an open item cannot be reopened",
    ),
    pytest.param(
        ((TickItem("mandate"), ADMIN),),
        ReopenItem("mandate", " "),
        ADMIN,
        ["reason_required"],
        id="reopening needs a reason",
    ),
    pytest.param(
        ((TickItem("mandate"), ADMIN),),
        ReopenItem("mandate", "x"),
        CIVIL,
        ["role_missing"],
        id="only the item's roles may reopen it",
    ),
    pytest.param(
        (),
        WaiveItem("challenge", "not needed"),
        SCIENCE,
        ["item_not_waivable"],
        id="an item without waivable_by cannot be waived",
    ),
    pytest.param(
        (),
        WaiveItem("mandate", "not needed"),
        ADMIN,
        ["role_missing"],
        id="only waivable_by roles may waive",
    ),
    pytest.param(
        (), WaiveItem("mandate", ""), SCIENCE, ["reason_required"], id="a waiver needs a reason"
    ),
    pytest.param(
        (),
        ApproveGate("begin"),
        SCIENCE,
        ["role_missing"],
        id="only the approving roles may sign off",
    ),
    pytest.param(
        (),
        ApproveGate("begin", role="science"),
        SCIENCE,
        ["approval_not_needed"],
        id="a role the gate does not ask for cannot sign off",
    ),
    pytest.param(
        (),
        ApproveGate("begin"),
        BOTH,
        ["approval_role_ambiguous"],
        id="holding two approving roles needs the role named",
    ),
    pytest.param(
        ((ApproveGate("begin"), ADMIN),),
        ApproveGate("begin"),
        ADMIN,
        ["already_approved"],
        id="a role signs off a gate once",
    ),
    pytest.param(
        (),
        ApproveGate("wrap"),
        COORD,
        ["trigger_not_available"],
        id="a gate of another phase cannot be signed off",
    ),
    pytest.param(
        (),
        AddParticipant("p-x", "politics"),
        COORD,
        ["role_unknown"],
        id="a participant must bring a declared role",
    ),
    pytest.param(
        (),
        AddParticipant("p-x", "science"),
        ADMIN,
        ["role_missing"],
        id="only coordinators add participants",
    ),
    pytest.param((), Hold("x"), ADMIN, ["role_missing"], id="only coordinators put on hold"),
    pytest.param((), Hold(""), COORD, ["reason_required"], id="a hold needs a reason"),
    pytest.param((), Resume(), COORD, ["not_on_hold"], id="only a held initiative resumes"),
    pytest.param(ON_HOLD, Hold("again"), COORD, ["on_hold"], id="a held initiative holds once"),
    pytest.param(
        ON_HOLD, TickItem("mandate"), ADMIN, ["on_hold"], id="on hold, items cannot be ticked"
    ),
    pytest.param(
        ON_HOLD, ApproveGate("begin"), ADMIN, ["on_hold"], id="on hold, gates cannot be signed off"
    ),
    pytest.param(
        (*READY_TO_BEGIN, *ON_HOLD),
        FireTrigger("begin"),
        COORD,
        ["on_hold"],
        id="on hold, only archiving may fire",
    ),
    pytest.param((), AddNote("  "), COORD, ["text_required"], id="a note needs text"),
    pytest.param((), AddNote("hello"), NOBODY, ["role_missing"], id="a note needs a workflow role"),
    pytest.param(
        (),
        CreateInitiative("again"),
        COORD,
        ["already_created"],
        id="an initiative is created once",
    ),
    pytest.param(
        ((FireTrigger("archive", reason="stopped"), COORD),),
        AddNote("late"),
        COORD,
        ["ended"],
        id="an ended initiative takes nothing more",
    ),
]


@pytest.mark.parametrize(("steps", "command", "actor", "expected"), REFUSALS)
def test_refusals(
    steps: tuple[tuple[Command, Actor], ...], command: Command, actor: Actor, expected: list[str]
) -> None:
    state = given(*steps)
    assert codes(decide(state, command, actor)) == expected


def test_creating_needs_a_coordinator_and_a_title() -> None:
    outcome = decide(InitiativeState("i-1", DEFINITION), CreateInitiative(" "), ADMIN)
    assert codes(outcome) == ["role_missing", "title_required"]


def test_commands_on_an_initiative_that_does_not_exist_are_refused() -> None:
    outcome = decide(InitiativeState("i-1", DEFINITION), TickItem("mandate"), ADMIN)
    assert codes(outcome) == ["not_created"]


def test_refusals_name_the_blockers_in_german_and_english() -> None:
    outcome = decide(given(), FireTrigger("begin"), COORD)
    assert isinstance(outcome, Refused)
    english = [b.message("en") for b in outcome.blockers]
    german = [b.message("de") for b in outcome.blockers]
    assert english == [
        "Checklist item 'Challenge agreed' is not done yet.",
        "Checklist item 'Mandate secured' is not done yet.",
        "Sign-off by Public administration is missing.",
        "Sign-off by Civil society is missing.",
        "Participants from 2 different sectors are needed; there are 0.",
    ]
    assert german[0] == "Checklistenpunkt 'Fragestellung vereinbart' ist noch offen."
    assert german[2] == "Freigabe durch Verwaltung fehlt."
    assert outcome.blockers[0].params == {"item": "challenge", "phase": "start"}


def test_a_misspelt_trigger_suggests_the_closest() -> None:
    outcome = decide(given(), FireTrigger("begn"), COORD)
    assert isinstance(outcome, Refused)
    assert outcome.blockers[0].message("en") == (
        "The workflow has no step 'begn' (did you mean 'begin'?)."
    )


def test_a_role_refusal_names_who_may_act() -> None:
    outcome = decide(given(), TickItem("mandate"), COORD)
    assert isinstance(outcome, Refused)
    assert outcome.blockers[0].message("en") == (
        "Only Public administration may tick 'Mandate secured'."
    )
    assert outcome.blockers[0].message("de") == "Nur Verwaltung darf 'Mandat gesichert' abhaken."


def test_a_complete_gate_fires_and_starts_a_fresh_checklist() -> None:
    state = given(*IN_WORK)
    assert (state.phase, state.visit, dict(state.checklist), dict(state.approvals)) == (
        "work",
        1,
        {},
        {},
    )


def test_optional_items_never_block() -> None:
    state = given(*READY_TO_BEGIN)
    assert "press" not in state.checklist
    assert not isinstance(decide(state, FireTrigger("begin"), COORD), Refused)


def test_a_waived_item_counts_as_done_and_shows_who_and_why() -> None:
    steps = [s for s in READY_TO_BEGIN if s[0] != TickItem("mandate")]
    state = given(*steps, (WaiveItem("mandate", "council decided already"), SCIENCE))
    waived = state.checklist["mandate"]
    assert (waived.status, waived.by, waived.reason) == (
        "waived",
        "p-sci",
        "council decided already",
    )
    assert not isinstance(decide(state, FireTrigger("begin"), COORD), Refused)


def test_reopening_an_item_voids_the_gates_sign_offs() -> None:
    state = given(*READY_TO_BEGIN)
    outcome = decide(state, ReopenItem("mandate", "mandate withdrawn"), ADMIN)
    assert outcome == [ItemReopened("start", 1, "mandate", "mandate withdrawn", ("begin",))]
    state = record(state, outcome, ADMIN)
    assert codes(decide(state, FireTrigger("begin"), COORD)) == [
        "item_open",
        "approval_missing",
        "approval_missing",
    ]


def test_rework_starts_a_new_visit_with_a_fresh_checklist() -> None:
    state = given(*IN_WORK, (FireTrigger("back", reason="site does not fit"), COORD))
    assert (state.phase, state.visit, dict(state.checklist)) == ("start", 2, {})
    state = given(*IN_WORK, (FireTrigger("back", reason="again"), COORD), *IN_WORK)
    assert (state.phase, state.visit, state.visits["start"]) == ("work", 2, 2)


def test_approvals_belong_to_the_visit() -> None:
    state = given(*IN_WORK, (FireTrigger("back", reason="again"), COORD))
    outcome = decide(state, ApproveGate("begin"), ADMIN)
    assert outcome == [GateApproved("start", 2, "begin", "administration", None)]


def test_an_automatic_transition_fires_with_the_command_that_opens_it() -> None:
    state = given(*IN_WORK, (TickItem("result"), COORD), (FireTrigger("wrap"), SCIENCE))
    outcome = decide(state, TickItem("report"), COORD)
    assert isinstance(outcome, list)
    assert len(outcome) == 2
    automatic = outcome[1]
    assert automatic == PhaseChanged(
        "finish", "wrap_up", "done", 1, None, automatic=True, cause_seq=state.version + 1
    )
    state = record(state, outcome, COORD)
    assert state.has_ended


def test_on_hold_nothing_can_open_the_gate_of_an_automatic_transition() -> None:
    held = given(*IN_WORK, (TickItem("result"), COORD), (FireTrigger("wrap"), SCIENCE))
    held = run(held, Hold("pause"), COORD)
    assert codes(decide(held, TickItem("report"), COORD)) == ["on_hold"]
    resumed = run(held, Resume("back"), COORD)
    assert resumed.phase == "wrap_up"
    assert run(resumed, TickItem("report"), COORD).phase == "done"


CHAIN = """\
format: kosiflow/v1
id: chain
version: 1
languages: [en]
title: {en: Chain}
roles:
  coordinator: {en: Coordination}
initial: a
phases:
  - id: a
    title: {en: A}
    checklist:
      - id: x
        title: {en: X}
  - id: b
    title: {en: B}
  - id: c
    title: {en: C}
    final: true
transitions:
  - {trigger: to_b, from: a, to: b, auto: true}
  - {trigger: to_c, from: b, to: c, auto: true}
"""


def test_a_chain_of_automatic_transitions_is_caused_by_the_command() -> None:
    state = InitiativeState("i-2", load_definition_text(CHAIN, "chain.yaml"))
    state = run(state, CreateInitiative("Chain"), COORD)
    outcome = decide(state, TickItem("x"), COORD)
    assert isinstance(outcome, list)
    assert [(e.target, e.cause_seq) for e in outcome if isinstance(e, PhaseChanged)] == [
        ("b", 2),
        ("c", 2),
    ]


def test_archive_is_possible_while_on_hold() -> None:
    state = given(*ON_HOLD, (FireTrigger("archive", reason="no funding"), COORD))
    assert (state.phase, state.has_ended) == ("archived", True)


def test_notes_are_accepted_while_on_hold() -> None:
    state = given(*ON_HOLD, (AddNote("called the council"), ADMIN))
    assert state.notes == 1


def test_a_named_role_signs_for_an_actor_with_two_roles() -> None:
    state = given((ApproveGate("begin", role="civil_society"), BOTH))
    assert set(state.approvals["begin"]) == {"civil_society"}
    state = run(state, ApproveGate("begin"), BOTH)
    assert set(state.approvals["begin"]) == {"administration", "civil_society"}


def test_sectors_count_distinct_roles_of_participants() -> None:
    state = given(
        (AddParticipant("p-a", "administration"), COORD),
        (AddParticipant("p-b", "administration"), COORD),
    )
    outcome = decide(state, FireTrigger("begin"), COORD)
    assert isinstance(outcome, Refused)
    sectors = [b for b in outcome.blockers if b.code == "sectors_missing"]
    assert sectors[0].params == {"required": 2, "present": 1}


def test_triggers_report_what_blocks_each_step_without_firing() -> None:
    state = given(*READY_TO_BEGIN[:2])
    report = {s.transition.trigger: s for s in triggers(state, ADMIN)}
    assert set(report) == {"begin", "archive"}
    assert [b.code for b in report["begin"].blockers] == [
        "role_missing",
        "approval_missing",
        "approval_missing",
        "sectors_missing",
    ]
    assert report["archive"].may_fire is False
    assert triggers(state)[1].may_fire is True
    assert state.phase == "start"


def test_nothing_is_reported_for_an_ended_initiative() -> None:
    state = given((FireTrigger("archive", reason="stop"), COORD))
    assert triggers(state) == []
