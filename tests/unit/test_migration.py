"""Migrating one initiative to another workflow version: where it lands, what it keeps, what
drops, when it is refused; and folding a history across the migration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kosiflow.definition import Definition, load_definition, load_definition_text
from kosiflow.engine import (
    Actor,
    InitiativeState,
    MigrateWorkflow,
    Recorded,
    Refused,
    decide,
    fold,
)
from kosiflow.engine.events import (
    Event,
    GateApproved,
    InitiativeCreated,
    ItemTicked,
    PhaseChanged,
    WorkflowMigrated,
)
from kosiflow.engine.visits import phase_visits
from kosiflow.errors import StoreError

ROOT = Path(__file__).resolve().parents[2]
V1 = load_definition(ROOT / "workflows" / "kosi-lab.yaml")
V2 = load_definition(ROOT / "tests" / "data" / "kosi-lab-v2.yaml")
"""Renames "prototyping" to "piloting", drops "learnings_shared", adds "safety_checked"."""
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
COORD = Actor("p-coord", frozenset({"coordinator"}))
ADMIN = Actor("p-admin", frozenset({"admin"}))
SCIENCE = Actor("p-sci", frozenset({"science"}))
TO_PILOTING = MigrateWorkflow(V2, {"prototyping": "piloting"})


def lookup(workflow_id: str, version: int) -> Definition:
    return {1: V1, 2: V2}[version]


def prototyping_history() -> list[Recorded]:
    """An initiative in its first prototyping visit with two items done and one sign-off."""
    events: list[Event] = [
        InitiativeCreated("kosi-lab", 1, V1.content_hash, "Fahrradgaragen", "initiation"),
        PhaseChanged("start_co_creation", "initiation", "co_creation", 1),
        PhaseChanged("start_prototyping", "co_creation", "prototyping", 1),
        ItemTicked("prototyping", 1, "prototype_set_up", "Fotos"),
        ItemTicked("prototyping", 1, "learnings_shared"),
        GateApproved("prototyping", 1, "consolidate", "administration"),
    ]
    return [
        Recorded(seq, "p-coord", T0 + timedelta(days=seq), event)
        for seq, event in enumerate(events, start=1)
    ]


def migrated(state: InitiativeState, command: MigrateWorkflow, actor: Actor) -> list[Recorded]:
    outcome = decide(state, command, actor)
    assert not isinstance(outcome, Refused), [b.message("en") for b in outcome.blockers]
    at = T0 + timedelta(days=100)
    return [Recorded(state.version + 1 + i, actor.id, at, e) for i, e in enumerate(outcome)]


def test_a_migrated_initiative_goes_on_in_the_mapped_phase_of_the_new_version() -> None:
    history = prototyping_history()
    before = fold(V1, "i-1", history)
    history += migrated(before, TO_PILOTING, ADMIN)
    after = fold(V1, "i-1", history, lookup)
    assert after.definition is V2
    assert (after.phase, after.visit) == ("piloting", 1)
    assert after.phase_entered_at == before.phase_entered_at  # the clock keeps running
    assert list(after.checklist) == ["prototype_set_up"]  # "learnings_shared" is gone
    assert list(after.approvals) == ["consolidate"]  # the gate still leaves the phase
    assert after.visits == {"initiation": 1, "co_creation": 1, "piloting": 1}
    event = history[-1].event
    assert isinstance(event, WorkflowMigrated)
    assert (event.from_version, event.to_version, event.dropped_items) == (
        1,
        2,
        ("learnings_shared",),
    )


def test_the_migrated_visit_is_one_visit_in_the_phase_visits() -> None:
    history = prototyping_history()
    history += migrated(fold(V1, "i-1", history), TO_PILOTING, COORD)
    visits = phase_visits(history, T0 + timedelta(days=200))
    assert [(v.phase, v.visit) for v in visits] == [
        ("initiation", 1),
        ("co_creation", 1),
        ("piloting", 1),
    ]
    assert visits[-1].entered.at == T0 + timedelta(days=3)


def test_folding_a_migrated_history_needs_the_versions_it_ran_under() -> None:
    history = prototyping_history()
    history += migrated(fold(V1, "i-1", history), TO_PILOTING, ADMIN)
    with pytest.raises(StoreError, match="needs that definition"):
        fold(V1, "i-1", history)
    # A history folded from its projection's (newer) version still starts under its own.
    assert fold(V2, "i-1", history[:3], lookup).definition is V1


def test_a_version_text_that_differs_from_the_recorded_one_is_refused() -> None:
    history = prototyping_history()
    history += migrated(fold(V1, "i-1", history), TO_PILOTING, ADMIN)
    other = load_definition_text(V2.source_text + "\n# edited without a version bump\n")
    with pytest.raises(StoreError, match="another text"):
        fold(V1, "i-1", history, lambda _id, version: other if version == 2 else V1)


def _refusal(state: InitiativeState, command: MigrateWorkflow, actor: Actor) -> list[str]:
    outcome = decide(state, command, actor)
    assert isinstance(outcome, Refused)
    return [b.code for b in outcome.blockers]


def test_landing_in_a_phase_the_version_does_not_have_is_refused() -> None:
    state = fold(V1, "i-1", prototyping_history())
    outcome = decide(state, MigrateWorkflow(V2), ADMIN)
    assert isinstance(outcome, Refused)
    (missing,) = outcome.blockers
    assert missing.code == "phase_missing"
    assert "piloting" in missing.message("en")
    assert "hat keine Phase 'prototyping'" in missing.message("de")


@pytest.mark.parametrize(
    ("command", "actor", "code"),
    [
        (MigrateWorkflow(V2, {"prototyping": "archived"}), ADMIN, "phase_final"),
        (MigrateWorkflow(V1), ADMIN, "version_current"),
        (TO_PILOTING, SCIENCE, "role_missing"),
    ],
)
def test_a_migration_is_refused(command: MigrateWorkflow, actor: Actor, code: str) -> None:
    assert _refusal(fold(V1, "i-1", prototyping_history()), command, actor) == [code]


def test_an_ended_initiative_is_not_migrated() -> None:
    history = prototyping_history()
    archive = PhaseChanged("archive", "prototyping", "archived", 1, "gestoppt")
    history.append(Recorded(len(history) + 1, "p-coord", T0 + timedelta(days=50), archive))
    assert _refusal(fold(V1, "i-1", history), TO_PILOTING, ADMIN) == ["ended"]
