"""Racing writers: 8 processes x 200 commands on one initiative, on SQLite and PostgreSQL.

Every command either lands or is refused with a conflict; none fails with a lock error; the
history stays contiguous, its chain verifies and the projection equals the fold.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from kosiflow.catalog import WorkflowCatalog
from kosiflow.engine import Actor, state_to_json
from kosiflow.errors import CommandRefused, ConcurrencyConflict
from kosiflow.services import Services
from kosiflow.store import open_database

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
PROCESSES = 8
COMMANDS = 200

pytestmark = pytest.mark.slow


def _services(url: str) -> Services:
    catalog = WorkflowCatalog.from_folder(WORKFLOWS)
    return Services(open_database(url), catalog)


def _writer(url: str, initiative_id: str, actor: Actor, worker: int) -> tuple[int, int]:
    """Send COMMANDS notes, each against the version last seen; count landed and conflicts."""
    services = _services(url)
    landed = conflicts = 0
    try:
        for n in range(COMMANDS):
            seen = services.state(initiative_id).version
            try:
                services.note(
                    initiative_id, f"worker {worker} note {n}", actor, expected_version=seen
                )
            except ConcurrencyConflict:
                conflicts += 1
            else:
                landed += 1
    finally:
        services.database.close()
    return landed, conflicts


def test_racing_writers_never_lose_or_duplicate_an_event(database_url: str) -> None:
    services = _services(database_url)
    try:
        services.catalog.register(services.database)
        user, _ = services.database.add_user("Racing coordinator", ["coordinator"])
        actor = Actor(user.person_id, frozenset(user.roles))
        initiative_id = services.create("kosi-lab", "Race", actor).initiative_id

        context = multiprocessing.get_context("spawn")
        with context.Pool(PROCESSES) as pool:
            results = pool.starmap(
                _writer,
                [(database_url, initiative_id, actor, w) for w in range(PROCESSES)],
            )

        landed = sum(r[0] for r in results)
        assert landed + sum(r[1] for r in results) == PROCESSES * COMMANDS
        assert landed >= COMMANDS  # progress was made despite the races
        history = list(services.history(initiative_id))
        assert [r.seq for r in history] == list(range(1, landed + 2))
        assert services.verify(initiative_id).ok
        stored = services.state(initiative_id)
        assert stored.version == landed + 1
        assert state_to_json(services.fold(initiative_id)) == state_to_json(stored)
    finally:
        services.database.close()


def _racer(
    url: str,
    initiative_id: str,
    actor: Actor,
    seen: int,
    start: Barrier,
    results: Queue,  # type: ignore[type-arg]
) -> None:
    services = _services(url)
    try:
        start.wait(timeout=60)
        try:
            services.fire(initiative_id, "start_co_creation", actor, expected_version=seen)
        except ConcurrencyConflict:
            results.put("conflict")
        except CommandRefused as refused:
            results.put("refused: " + ",".join(b.code for b in refused.blockers))
        else:
            results.put("fired")
    finally:
        services.database.close()


def test_coordinators_racing_on_one_transition_exactly_one_wins(database_url: str) -> None:
    services = _services(database_url)
    try:
        services.catalog.register(services.database)
        user, _ = services.database.add_user(
            "Coordinators", list(services.catalog.newest("kosi-lab").roles)
        )
        actor = Actor(user.person_id, frozenset(user.roles))
        initiative_id = services.create("kosi-lab", "Race", actor).initiative_id
        state = services.state(initiative_id)
        for item in state.definition.phase("initiation").checklist:
            services.tick(initiative_id, item.id, actor, evidence="Protokoll")
        for sector in ("administration", "civil_society", "science"):
            services.add_participant(initiative_id, sector, sector, actor)
        services.approve(initiative_id, "start_co_creation", actor, role="administration")
        seen = services.state(initiative_id).version

        context = multiprocessing.get_context("spawn")
        start, results = context.Barrier(PROCESSES), context.Queue()
        racers = [
            context.Process(
                target=_racer, args=(database_url, initiative_id, actor, seen, start, results)
            )
            for _ in range(PROCESSES)
        ]
        for racer in racers:
            racer.start()
        outcomes = sorted(results.get(timeout=120) for _ in racers)
        for racer in racers:
            racer.join(timeout=60)

        assert outcomes == ["conflict"] * (PROCESSES - 1) + ["fired"]
        history = list(services.history(initiative_id))
        assert [r.seq for r in history] == list(range(1, seen + 2))
        assert history[-1].type == "PhaseChanged"
        assert services.verify(initiative_id).ok
    finally:
        services.database.close()
