"""A diff between two moments in words: every kind of change on hand-built histories, with its
evidence (seq numbers), in German and English."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kosiflow.definition import Definition, load_definition
from kosiflow.engine import InitiativeState, Recorded, fold
from kosiflow.engine.changes import SENTENCES, Change, changes_between, sentence
from kosiflow.engine.events import (
    Event,
    GateApproved,
    InitiativeCreated,
    InitiativeHeld,
    InitiativeResumed,
    ItemReopened,
    ItemTicked,
    ItemWaived,
    NoteAdded,
    ParticipantAdded,
    PhaseChanged,
    PhaseOverdue,
    TextsRemoved,
    WorkflowMigrated,
)
from tests.unit.engine_workflow import guard_workflow

ROOT = Path(__file__).resolve().parents[2]
GUARD = guard_workflow()
V1 = load_definition(ROOT / "workflows" / "kosi-lab.yaml")
V2 = load_definition(ROOT / "tests" / "data" / "kosi-lab-v2.yaml")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
JANA, TOM, GONE = "p-jana", "p-tom", "p-gone"
NAMES = {JANA: "Jana Becker", TOM: "Tom Berger", GONE: ""}


def _lookup(workflow_id: str, version: int) -> Definition:
    if workflow_id == GUARD.id:
        return GUARD
    return {1: V1, 2: V2}[version]


class Story:
    """One initiative's history, built event by event (a day apart)."""

    def __init__(self, definition: Definition = GUARD, phase: str = "start") -> None:
        self.definition = definition
        self.records: list[Recorded] = []
        d = definition
        self.add(JANA, InitiativeCreated(d.id, d.version, d.content_hash, "Bänke am Markt", phase))

    def add(self, actor: str, event: Event) -> Story:
        seq = len(self.records) + 1
        self.records.append(Recorded(seq, actor, T0 + timedelta(days=seq), event))
        return self

    def state(self, upto: int) -> InitiativeState:
        return fold(self.definition, "i-1", self.records[:upto], _lookup)

    def changes(self, since: int, until: int | None = None) -> list[Change]:
        """The changes from after event ``since`` to after event ``until`` (default: last)."""
        until = len(self.records) if until is None else until
        return changes_between(self.state(since), self.records[since:until], self.state(until))

    def said(self, since: int, lang: str = "en", until: int | None = None) -> list[str]:
        definitions = (V2, V1) if self.definition is V1 else (self.definition,)
        return [sentence(c, definitions, NAMES, lang) for c in self.changes(since, until)]


def _codes(changes: list[Change]) -> list[tuple[str, tuple[int, ...]]]:
    return [(c.code, c.seqs) for c in changes]


def test_no_events_in_between_is_no_change() -> None:
    story = Story().add(JANA, NoteAdded("x"))
    assert story.changes(2) == []


def test_from_before_the_start_the_initiative_is_started() -> None:
    story = Story().add(TOM, ItemTicked("start", 1, "challenge", "https://x"))
    assert _codes(story.changes(0)) == [("created", (1,)), ("item.ticked", (2,))]
    assert story.said(0)[0] == "Jana Becker started the initiative “Bänke am Markt” in Start."
    assert story.said(0, "de")[0] == (
        "Jana Becker hat die Initiative „Bänke am Markt“ in Start begonnen."
    )


def test_items_ticked_waived_and_reopened_name_who_and_the_phase() -> None:
    story = (
        Story()
        .add(JANA, ItemTicked("start", 1, "challenge", "https://x"))  # 2
        .add(TOM, ItemWaived("start", 1, "mandate", "Ratsbeschluss genügt"))  # 3
        .add(JANA, ItemTicked("start", 1, "press"))  # 4
        .add(TOM, ItemReopened("start", 1, "press", "zu früh"))  # 5
    )
    assert _codes(story.changes(1)) == [
        ("item.ticked", (2,)),
        ("item.waived", (3,)),
        ("item.back_open", (4, 5)),
    ]
    assert story.said(1) == [
        "Jana Becker ticked “Challenge agreed” (Start).",
        "Tom Berger waived “Mandate secured” (Start).",
        "Jana Becker ticked “Press contact” (Start) and Tom Berger reopened it; it is open as "
        "before.",
    ]
    assert story.said(1, "de") == [
        "Jana Becker hat „Fragestellung vereinbart“ (Start) abgehakt.",
        "Tom Berger hat „Mandat gesichert“ (Start) erlassen.",
        "Jana Becker hat „Pressekontakt“ (Start) abgehakt und Tom Berger hat den Punkt wieder "
        "geöffnet; er ist offen wie zuvor.",
    ]


def test_an_item_done_at_the_first_moment_reopened_or_redone_later() -> None:
    story = (
        Story()
        .add(JANA, ItemTicked("start", 1, "challenge", "https://x"))  # 2
        .add(JANA, ItemWaived("start", 1, "mandate", "Ratsbeschluss"))  # 3
        .add(TOM, ItemReopened("start", 1, "challenge", "falscher Link"))  # 4
        .add(TOM, ItemReopened("start", 1, "mandate", "doch nötig"))  # 5
        .add(TOM, ItemWaived("start", 1, "mandate", "Ratsbeschluss liegt vor"))  # 6
    )
    assert _codes(story.changes(3)) == [("item.reopened", (4,)), ("item.waived_again", (5, 6))]
    assert story.said(3) == [
        "Tom Berger reopened “Challenge agreed” (Start).",
        "“Mandate secured” (Start) was reopened and waived again, last by Tom Berger.",
    ]
    story.add(JANA, ItemTicked("start", 1, "challenge", "https://y"))  # 7
    assert _codes(story.changes(3)) == [
        ("item.ticked_again", (4, 7)),
        ("item.waived_again", (5, 6)),
    ]
    assert story.said(3, "de")[0] == (
        "„Fragestellung vereinbart“ (Start) wurde wieder geöffnet und erneut abgehakt, zuletzt "
        "von Jana Becker."
    )


def test_sign_offs_given_withdrawn_by_a_reopening_and_renewed() -> None:
    story = (
        Story()
        .add(JANA, ItemTicked("start", 1, "challenge", "https://x"))  # 2
        .add(TOM, GateApproved("start", 1, "begin", "administration"))  # 3
        .add(JANA, GateApproved("start", 1, "begin", "civil_society"))  # 4
    )
    assert story.said(2) == [
        "Tom Berger signed off “Begin work” for Public administration.",
        "Jana Becker signed off “Begin work” for Civil society.",
    ]
    story.add(JANA, ItemReopened("start", 1, "challenge", "neu", ("begin",)))  # 5
    story.add(TOM, GateApproved("start", 1, "begin", "administration"))  # 6
    changes = story.changes(4)
    assert _codes(changes) == [
        ("item.reopened", (5,)),
        ("approval.withdrawn", (5,)),
        ("approval.renewed", (5, 6)),
    ]
    assert story.said(4)[1:] == [
        "The sign-off of “Begin work” by Civil society was withdrawn: Jana Becker reopened "
        "“Challenge agreed”.",
        "The sign-off of “Begin work” by Public administration was withdrawn and given again "
        "by Tom Berger.",
    ]
    assert story.said(4, "de")[1] == (
        "Die Freigabe von „Arbeit beginnen“ durch Zivilgesellschaft entfiel: Jana Becker hat "
        "„Fragestellung vereinbart“ wieder geöffnet."
    )
    given_and_gone = story.changes(2, 5)
    assert ("approval.given_withdrawn", (4, 5)) in _codes(given_and_gone)
    assert (
        "Jana Becker signed off “Begin work” for Civil society; the sign-off was withdrawn "
        "again when Jana Becker reopened “Challenge agreed”."
    ) in story.said(2, until=5)


def _through_work(story: Story) -> Story:
    return (
        story.add(JANA, PhaseChanged("begin", "start", "work", 1))  # 2
        .add(TOM, PhaseChanged("back", "work", "start", 2, reason="Mandat fehlt"))  # 3
        .add(JANA, PhaseChanged("begin", "start", "work", 2))  # 4
        .add(JANA, PhaseChanged("wrap", "work", "wrap_up", 1))  # 5
    )


def test_the_phase_moved_in_one_step_through_others_or_back() -> None:
    story = _through_work(Story())
    assert story.said(1, until=2) == [
        "The phase moved from Start to Work (“Begin work”, Jana Becker)."
    ]
    assert story.said(1, "de", until=2) == [
        "Die Phase wechselte von Start zu Arbeit („Arbeit beginnen“, Jana Becker)."
    ]
    assert _codes(story.changes(1)) == [("phase.moved_through", (2, 3, 4, 5))]
    assert story.said(1) == ["The phase moved from Start through Work, Start and Work to Wrap-up."]
    assert story.said(1, "de") == [
        "Die Phase wechselte von Start über Arbeit, Start und Arbeit zu Abschluss."
    ]
    assert story.said(2, until=4) == [
        "The initiative went from Work through Start back to Work (visit 2)."
    ]
    assert story.said(2, "de", until=4) == [
        "Die Initiative ging von Arbeit über Start zurück zu Arbeit (2. Durchlauf)."
    ]


def test_items_of_a_visit_left_in_between_stay_facts_of_that_visit() -> None:
    story = (
        Story()
        .add(JANA, ItemTicked("start", 1, "challenge", "https://x"))  # 2
        .add(JANA, PhaseChanged("begin", "start", "work", 1))  # 3
        .add(TOM, PhaseChanged("back", "work", "start", 2, reason="Mandat fehlt"))  # 4
    )
    changes = story.changes(2)
    assert _codes(changes) == [("phase.returned", (3, 4))]  # nothing was reopened
    story.add(TOM, ItemTicked("start", 2, "challenge", "https://y"))  # 5
    assert ("item.ticked", (5,)) in _codes(story.changes(2))


def test_an_automatic_final_step_ends_the_initiative() -> None:
    story = _through_work(Story()).add(JANA, ItemTicked("wrap_up", 1, "report"))  # 6
    story.add("system", PhaseChanged("finish", "wrap_up", "done", 1, automatic=True, cause_seq=6))
    assert story.said(5) == [
        "The phase moved from Wrap-up to Done (“finish”, kosiflow (automatically)).",
        "The initiative ended in phase Done.",
        "Jana Becker ticked “Report” (Wrap-up).",
    ]
    assert story.said(5, "de")[1] == "Die Initiative endete in der Phase Fertig."


@pytest.mark.parametrize(
    ("events", "since", "code", "en", "de"),
    [
        (
            [(JANA, InitiativeHeld("Haushaltssperre"))],
            1,
            "hold.held",
            "Jana Becker put the initiative on hold.",
            "Jana Becker hat die Initiative pausiert.",
        ),
        (
            [(JANA, InitiativeHeld("Sperre")), (TOM, InitiativeResumed())],
            2,
            "hold.resumed",
            "Tom Berger resumed the initiative.",
            "Tom Berger hat die Initiative fortgesetzt.",
        ),
        (
            [(JANA, InitiativeHeld("Sperre")), (TOM, InitiativeResumed())],
            1,
            "hold.held_resumed",
            "Jana Becker put the initiative on hold and Tom Berger resumed it; it runs as before.",
            "Jana Becker hat die Initiative pausiert und Tom Berger hat sie fortgesetzt; sie "
            "läuft wie zuvor.",
        ),
        (
            [
                (JANA, InitiativeHeld("Sperre")),
                (TOM, InitiativeResumed()),
                (JANA, InitiativeHeld("Wieder")),
            ],
            2,
            "hold.resumed_held",
            "Tom Berger resumed the initiative and Jana Becker put it on hold again.",
            "Tom Berger hat die Initiative fortgesetzt und Jana Becker hat sie erneut pausiert.",
        ),
    ],
)
def test_put_on_hold_and_resumed(
    events: list[tuple[str, Event]], since: int, code: str, en: str, de: str
) -> None:
    story = Story()
    for actor, event in events:
        story.add(actor, event)
    assert [c.code for c in story.changes(since)] == [code]
    assert story.said(since) == [en]
    assert story.said(since, "de") == [de]


def test_notes_participants_and_deadlines() -> None:
    story = (
        Story()
        .add(JANA, ParticipantAdded("p-verein", "civil_society"))  # 2
        .add(JANA, NoteAdded("Termin steht"))  # 3
        .add("system", PhaseOverdue("start", 1, 30, "2026-02-04T09:00:00+00:00"))  # 4
        .add(GONE, NoteAdded("Rückruf"))  # 5
    )
    assert _codes(story.changes(1)) == [
        ("participant.added", (2,)),
        ("notes.added", (3, 5)),
        ("overdue", (4,)),
    ]
    names = {**NAMES, "p-verein": "Quartiersverein Ost"}
    said = [sentence(c, (GUARD,), names, "en") for c in story.changes(1)]
    assert said == [
        "Jana Becker added Quartiersverein Ost as a participant for Civil society.",
        "2 notes were added, by Jana Becker and an erased person.",
        "Start (visit 1) went past its 30 days on 2026-02-04.",
    ]
    assert [sentence(c, (GUARD,), names, "de") for c in story.changes(1)] == [
        "Jana Becker hat Quartiersverein Ost als Beteiligte(n) für Zivilgesellschaft hinzugefügt.",
        "2 Notizen wurden hinzugefügt, von Jana Becker und eine gelöschte Person.",
        "Start (1. Durchlauf) hat am 2026-02-04 die Frist von 30 Tagen überschritten.",
    ]
    assert story.said(4) == ["An erased person added a note."]
    assert story.said(4, "de") == ["Eine gelöschte Person hat eine Notiz hinzugefügt."]


def test_a_migration_is_said_with_both_versions_and_where_it_landed() -> None:
    story = (
        Story(V1, "initiation")
        .add(JANA, PhaseChanged("start_co_creation", "initiation", "co_creation", 1))  # 2
        .add(JANA, PhaseChanged("start_prototyping", "co_creation", "prototyping", 1))  # 3
        .add(JANA, ItemTicked("prototyping", 1, "prototype_set_up", "Fotos"))  # 4
        .add(
            TOM,
            WorkflowMigrated(
                1,
                2,
                V2.content_hash,
                {"prototyping": "piloting"},
                "piloting",
                1,
                ("learnings_shared",),
            ),
        )
        .add(JANA, ItemReopened("piloting", 1, "prototype_set_up", "neu"))  # 6
    )
    assert _codes(story.changes(4)) == [("migrated", (5,)), ("item.reopened", (6,))]
    assert story.said(4) == [
        "Tom Berger moved the initiative from version 1 to version 2 of its workflow; it is in "
        "Piloting.",
        "Jana Becker reopened “Prototype or pilot set up” (Piloting).",
    ]


def test_texts_removed_under_the_retention_policy_are_said_with_their_count() -> None:
    story = (
        Story()
        .add(JANA, ItemTicked("initiation", 1, "kickoff", "https://example.org/protokoll"))  # 2
        .add(JANA, NoteAdded("Termin steht"))  # 3
        .add("system", TextsRemoved(((2, "evidence"), (3, "text")), evidence_days=30))  # 4
    )
    assert _codes(story.changes(3)) == [("texts.removed", (4,))]
    assert story.said(3) == [
        "2 texts of earlier events (evidence links or notes) were removed under the retention "
        "policy."
    ]
    assert story.said(3, "de") == [
        "2 Texte früherer Ereignisse (Nachweise oder Notizen) wurden gemäß der "
        "Aufbewahrungsregel gelöscht."
    ]


def test_every_code_has_both_languages_with_the_same_placeholders() -> None:
    for code, texts in SENTENCES.items():
        assert set(texts) == {"de", "en"}, code
        fields = [
            sorted(part.split("}")[0] for part in text.split("{")[1:]) for text in texts.values()
        ]
        assert fields[0] == fields[1], code
