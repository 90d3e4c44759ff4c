"""Deadlines: when a phase visit is overdue (time on hold not counted), and that it is recorded
once per visit, by the system only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from kosiflow.definition import load_definition
from kosiflow.engine import (
    SYSTEM,
    Actor,
    InitiativeState,
    Recorded,
    RecordOverdue,
    Refused,
    decide,
    fold,
    overdue_command,
    state_from_json,
    state_to_json,
)
from kosiflow.engine.events import (
    Event,
    InitiativeCreated,
    InitiativeHeld,
    InitiativeResumed,
    PhaseChanged,
    PhaseOverdue,
)
from tests.unit.engine_workflow import guard_workflow

KOSI_LAB = load_definition(Path(__file__).resolve().parents[2] / "workflows" / "kosi-lab.yaml")
"""Initiation allows 90 days, co-creation 120."""
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
COORD = Actor("p-coord", frozenset({"coordinator"}))


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


class History:
    """Events of one kosi-lab initiative, at days after T0."""

    def __init__(self) -> None:
        self.records: list[Recorded] = []
        self.add(0, InitiativeCreated("kosi-lab", 1, KOSI_LAB.content_hash, "T", "initiation"))

    def add(self, n: float, event: Event, actor: str = "p-coord") -> History:
        self.records.append(Recorded(len(self.records) + 1, actor, day(n), event))
        return self

    def hold(self, n: float) -> History:
        return self.add(n, InitiativeHeld("Haushaltssperre"))

    def resume(self, n: float) -> History:
        return self.add(n, InitiativeResumed())

    def move(self, n: float, trigger: str, source: str, target: str) -> History:
        return self.add(n, PhaseChanged(trigger, source, target, 1))

    @property
    def state(self) -> InitiativeState:
        return fold(KOSI_LAB, "i-1", self.records)

    def overdue_at(self, n: float) -> RecordOverdue | None:
        return overdue_command(self.state, self.records, day(n))


def test_a_visit_is_overdue_once_its_max_days_have_passed() -> None:
    history = History()
    assert history.overdue_at(90) is None
    assert history.overdue_at(91) == RecordOverdue("initiation", 1, 90, day(90).isoformat())


def test_time_on_hold_does_not_count_toward_the_deadline() -> None:
    history = History().hold(10).resume(40)
    assert history.overdue_at(119) is None
    found = history.overdue_at(121)
    assert found is not None
    assert found.overdue_since == day(120).isoformat()


def test_a_hold_after_the_deadline_keeps_the_moment_it_passed() -> None:
    history = History().hold(95)
    found = history.overdue_at(300)
    assert found is not None
    assert found.overdue_since == day(90).isoformat()


def test_an_initiative_held_before_its_deadline_is_not_overdue_while_on_hold() -> None:
    assert History().hold(50).overdue_at(500) is None


def test_each_visit_has_its_own_deadline() -> None:
    history = History().move(80, "start_co_creation", "initiation", "co_creation")
    assert history.overdue_at(199) is None  # 119 days of co-creation's 120
    found = history.overdue_at(201)
    assert found == RecordOverdue("co_creation", 1, 120, day(200).isoformat())


def test_ended_initiatives_and_phases_without_max_days_are_never_overdue() -> None:
    archived = History().move(5, "archive", "initiation", "archived")
    assert archived.overdue_at(1000) is None
    unlimited = guard_workflow()
    created = InitiativeCreated(unlimited.id, 1, unlimited.content_hash, "T", unlimited.initial)
    records = [Recorded(1, "p-coord", T0, created)]
    assert overdue_command(fold(unlimited, "i-2", records), records, day(1000)) is None


def _recorded(history: History, n: float) -> InitiativeState:
    """The state after the sweep's command at day ``n`` is decided and applied."""
    state = history.state
    command = history.overdue_at(n)
    assert command is not None
    outcome = decide(state, command, SYSTEM)
    assert not isinstance(outcome, Refused), outcome
    assert outcome == [PhaseOverdue("initiation", 1, 90, day(90).isoformat())]
    for event in outcome:
        history.add(n, event, SYSTEM.id)
    return history.state


def test_the_overdue_visit_is_recorded_once() -> None:
    history = History()
    state = _recorded(history, 100)
    assert state.overdue_since == day(90)
    assert history.overdue_at(200) is None  # the sweep leaves it alone
    again = decide(state, RecordOverdue("initiation", 1, 90, day(90).isoformat()), SYSTEM)
    assert isinstance(again, Refused)
    assert [b.code for b in again.blockers] == ["overdue_recorded"]


def test_only_the_system_records_a_deadline() -> None:
    command = History().overdue_at(100)
    assert command is not None
    refused = decide(History().state, command, COORD)
    assert isinstance(refused, Refused)
    assert [b.code for b in refused.blockers] == ["system_only"]
    assert refused.blockers[0].message("de").startswith("Nur kosiflow selbst")


def test_a_command_for_a_visit_that_is_over_is_refused() -> None:
    history = History()
    command = history.overdue_at(100)
    assert command is not None
    history.move(100, "start_co_creation", "initiation", "co_creation")
    refused = decide(history.state, command, SYSTEM)
    assert isinstance(refused, Refused)
    assert [b.code for b in refused.blockers] == ["visit_over"]


def test_an_initiative_on_hold_past_its_deadline_is_recorded() -> None:
    history = History().hold(95)
    command = history.overdue_at(120)
    assert command is not None
    assert not isinstance(decide(history.state, command, SYSTEM), Refused)


def test_a_new_visit_clears_the_overdue_mark() -> None:
    history = History()
    _recorded(history, 100)
    history.move(101, "start_co_creation", "initiation", "co_creation")
    assert history.state.overdue_since is None


def test_the_overdue_mark_survives_the_projection() -> None:
    history = History()
    state = _recorded(history, 100)
    data = state_to_json(state)
    assert data["overdue_since"] == day(90).isoformat()
    assert state_to_json(state_from_json(KOSI_LAB, "i-1", state.version, data)) == data


def test_a_projection_without_an_overdue_mark_is_as_it_was_before_deadlines() -> None:
    data = state_to_json(History().state)
    assert "overdue_since" not in data
    assert state_from_json(KOSI_LAB, "i-1", 1, data).overdue_since is None
