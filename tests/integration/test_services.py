"""The use cases over a real store, on SQLite and PostgreSQL: one transaction per command."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

from kosiflow.catalog import WorkflowCatalog
from kosiflow.definition import load_definition_text
from kosiflow.engine import SYSTEM_ACTOR, Actor, state_to_json
from kosiflow.errors import (
    BadInput,
    CommandRefused,
    ConcurrencyConflict,
    DefinitionChanged,
    IdempotencyMismatch,
    NotFound,
)
from kosiflow.services import Services
from kosiflow.store import open_database

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
CATALOG = WorkflowCatalog.from_folder(WORKFLOWS)


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    services = Services(open_database(database_url), CATALOG)
    CATALOG.register(services.database)
    yield services
    services.database.close()


def _actor(services: Services, name: str, *roles: str) -> Actor:
    user, _ = services.database.add_user(name, list(roles))
    return Actor(user.person_id, frozenset(user.roles))


def test_an_automatic_transition_is_stored_with_the_command_that_opened_it(
    services: Services,
) -> None:
    coord = _actor(services, "Jana", "coordinator")
    admin = _actor(services, "Thomas", "administration")
    bench = services.create("light-track", "Sitzbank", coord).initiative_id
    services.tick(bench, "request_described", coord)
    services.tick(bench, "responsible_named", coord)
    services.fire(bench, "start_implementation", coord)
    services.tick(bench, "measure_done", admin)
    result = services.tick(bench, "feedback_given", coord)
    assert result.events == ("ItemTicked", "PhaseChanged")
    last_two = list(services.history(bench))[-2:]
    assert [r.actor for r in last_two] == [coord.id, SYSTEM_ACTOR]
    assert last_two[1].payload["cause_seq"] == last_two[0].seq
    assert last_two[1].payload["automatic"] is True
    assert services.state(bench).phase == "done"


def test_a_refused_command_writes_nothing(services: Services) -> None:
    coord = _actor(services, "Jana", "coordinator")
    initiative = services.create("kosi-lab", "Fahrradgaragen", coord).initiative_id
    with pytest.raises(CommandRefused) as refused:
        services.fire(initiative, "start_co_creation", coord)
    assert "sectors_missing" in [b.code for b in refused.value.blockers]
    with pytest.raises(CommandRefused):
        services.add_participant(initiative, "Unknown Sector", "politics", coord)
    assert [r.seq for r in services.history(initiative)] == [1]
    with services.database.read() as unit:
        assert unit.person_names(["p-anything"]) == {}


def test_a_failure_after_the_events_rolls_back_the_whole_command(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    coord = _actor(services, "Jana", "coordinator")
    initiative = services.create("kosi-lab", "Fahrradgaragen", coord).initiative_id

    def fail(*_args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("kosiflow.store.units.WriteUnit.remember_idempotent", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        services.note(initiative, "lost", coord, idempotency_key="k")
    monkeypatch.undo()
    assert services.state(initiative).version == 1
    assert [r.type for r in services.history(initiative)] == ["InitiativeCreated"]
    assert services.note(initiative, "kept", coord).version == 2


def test_an_idempotency_key_answers_a_retry_and_refuses_another_command(
    services: Services,
) -> None:
    coord = _actor(services, "Jana", "coordinator")
    initiative = services.create("kosi-lab", "Fahrradgaragen", coord).initiative_id
    first = services.note(initiative, "hello", coord, idempotency_key="k1")
    again = services.note(initiative, "hello", coord, idempotency_key="k1")
    assert (again.version, again.replayed) == (first.version, True)
    with pytest.raises(IdempotencyMismatch):
        services.note(initiative, "something else", coord, idempotency_key="k1")
    assert services.state(initiative).version == 2


def test_a_stale_cache_in_another_process_never_overwrites(database_url: str) -> None:
    """Two service instances (two processes' worth of caches) take turns on one initiative."""
    first = Services(open_database(database_url), CATALOG)
    second = Services(open_database(database_url), CATALOG)
    try:
        CATALOG.register(first.database)
        coord = _actor(first, "Jana", "coordinator")
        initiative = first.create("kosi-lab", "Race", coord).initiative_id
        second.note(initiative, "warms the second cache", coord)
        first.note(initiative, "first cache is now stale", coord)  # first's cache was at v1
        second.note(initiative, "second cache is stale too", coord)
        with pytest.raises(ConcurrencyConflict):
            first.note(initiative, "late", coord, expected_version=3)
        history = list(first.history(initiative))
        assert [r.seq for r in history] == [1, 2, 3, 4]
        assert first.verify(initiative).ok
        assert state_to_json(first.fold(initiative)) == state_to_json(second.state(initiative))
    finally:
        first.database.close()
        second.database.close()


def test_rebuild_restores_a_projection_that_differs_from_its_history(
    services: Services,
) -> None:
    coord = _actor(services, "Jana", "coordinator")
    admin = _actor(services, "Thomas", "administration")
    initiative = services.create("kosi-lab", "Fahrradgaragen", coord).initiative_id
    services.tick(initiative, "mandate_secured", admin, evidence="Ratsbeschluss")
    assert services.rebuild().differing == ()
    exact = state_to_json(services.state(initiative))
    with services.database.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE initiatives SET state = '{\"x\": 1}', phase = 'nowhere'")
    report = services.rebuild()
    assert report.differing == (initiative,)
    assert state_to_json(services.state(initiative)) == exact
    assert services.rebuild().differing == ()


def test_a_changed_workflow_file_must_bump_its_version(services: Services) -> None:
    text = (WORKFLOWS / "light-track.yaml").read_text(encoding="utf-8")
    changed = load_definition_text(text.replace("max_days: 30", "max_days: 31"), "light.yaml")
    with pytest.raises(DefinitionChanged):
        WorkflowCatalog([changed]).register(services.database)
    bumped = load_definition_text(
        text.replace("max_days: 30", "max_days: 31").replace("version: 1", "version: 2", 1),
        "light.yaml",
    )
    WorkflowCatalog([bumped]).register(services.database)


def test_initiatives_keep_the_definition_they_started_under(services: Services) -> None:
    coord = _actor(services, "Jana", "coordinator")
    old = services.create("light-track", "Sitzbank", coord).initiative_id
    text = (WORKFLOWS / "light-track.yaml").read_text(encoding="utf-8")
    newer = load_definition_text(text.replace("version: 1", "version: 2", 1), "light.yaml")
    catalog = WorkflowCatalog([newer])
    catalog.register(services.database)
    later = Services(services.database, catalog)
    assert later.state(old).definition.version == 1
    assert later.create("light-track", "Bank 2", coord).initiative_id != old
    new = later.list_initiatives(workflow_id="light-track")
    assert sorted(p.workflow_version for p in new) == [1, 2]


def test_a_child_initiative_names_an_existing_parent(services: Services) -> None:
    coord = _actor(services, "Jana", "coordinator")
    lab = services.create("kosi-lab", "KoSI-Lab Wuppertal", coord).initiative_id
    child = services.create("light-track", "Sitzbank", coord, parent_id=lab).initiative_id
    assert [p.initiative_id for p in services.list_initiatives(parent_id=lab)] == [child]
    with pytest.raises(NotFound):
        services.create("light-track", "Orphan", coord, parent_id="no-such-initiative")


def test_progress_names_people_and_what_blocks_each_step(services: Services) -> None:
    coord = _actor(services, "Jana", "coordinator")
    admin = _actor(services, "Thomas", "administration")
    initiative = services.create("kosi-lab", "Fahrradgaragen", coord).initiative_id
    services.tick(initiative, "mandate_secured", admin, evidence="Ratsbeschluss")
    services.add_participant(initiative, "Aylin Demir", "civil_society", coord)
    progress = services.progress(initiative, admin)
    assert progress.names[admin.id] == "Thomas"
    assert "Aylin Demir" in progress.names.values()
    assert progress.percent_done == 17  # 1 of the 6 required items of initiation
    start = next(s for s in progress.triggers if s.transition.trigger == "start_co_creation")
    assert "role_missing" in [b.code for b in start.blockers]
    assert not start.may_fire


def test_times_are_recorded_in_utc_and_rebuild_stays_exact(services: Services) -> None:
    coord = _actor(services, "Jana", "coordinator")
    berlin = datetime(2018, 6, 5, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    initiative = services.create("kosi-lab", "Fahrradgaragen", coord, at=berlin).initiative_id
    services.note(initiative, "in summer time", coord, at=berlin + timedelta(hours=1))
    assert services.state(initiative).created_at == datetime(2018, 6, 5, 8, 0, tzinfo=UTC)
    assert services.rebuild().differing == ()
    with pytest.raises(BadInput, match="time zone"):
        services.note(initiative, "naive", coord, at=datetime(2018, 6, 5, 10, 0))


def test_verify_and_rebuild_find_a_deleted_last_event(services: Services) -> None:
    coord = _actor(services, "Jana", "coordinator")
    initiative = services.create("kosi-lab", "Fahrradgaragen", coord).initiative_id
    services.note(initiative, "first", coord)
    services.note(initiative, "second", coord)
    assert services.verify(initiative).ok
    with services.database.engine.begin() as connection:
        connection.execute(
            text("DELETE FROM events WHERE seq = 3 AND initiative_id = :id"), {"id": initiative}
        )
    result = services.verify(initiative)
    assert (result.ok, result.first_bad_seq) == (False, 3)
    report = services.rebuild()
    assert [c.initiative_id for c in report.corrupted] == [initiative]
    assert report.differing == ()


def test_an_idempotency_key_covers_the_description_of_a_new_initiative(
    services: Services,
) -> None:
    coord = _actor(services, "Jana", "coordinator")
    services.create("kosi-lab", "Lab", coord, description="one", idempotency_key="c1")
    with pytest.raises(IdempotencyMismatch):
        services.create("kosi-lab", "Lab", coord, description="two", idempotency_key="c1")


def test_a_participant_needs_a_name(services: Services) -> None:
    coord = _actor(services, "Jana", "coordinator")
    initiative = services.create("kosi-lab", "Lab", coord).initiative_id
    with pytest.raises(BadInput, match="name"):
        services.add_participant(initiative, "   ", "science", coord)
    assert services.state(initiative).version == 1


def test_a_history_always_runs_forward_in_time(database_url: str) -> None:
    now = [datetime(2026, 5, 4, 12, 0, tzinfo=UTC)]
    services = Services(open_database(database_url), CATALOG, clock=lambda: now[0])
    CATALOG.register(services.database)
    try:
        coord = _actor(services, "Jana", "coordinator")
        initiative_id = services.create("kosi-lab", "Fahrradgaragen", coord).initiative_id
        earlier = datetime(2026, 5, 1, tzinfo=UTC)
        with pytest.raises(BadInput, match="before the initiative's last event"):
            services.note(initiative_id, "nachgetragen", coord, at=earlier)
        now[0] -= timedelta(seconds=3)  # another machine's clock, a little behind
        services.note(initiative_id, "Auftakt", coord)
        times = [r.at for r in services.history(initiative_id)]
        assert times == sorted(times)
        assert times[1] == datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    finally:
        services.database.close()
