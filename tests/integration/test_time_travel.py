"""Time travel: at the moment of every event of the demo histories, the state the services show
equals a replay of the history up to that event, applied one event at a time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kosiflow.catalog import WorkflowCatalog
from kosiflow.demo import load_demo
from kosiflow.engine import InitiativeState, apply, state_to_json
from kosiflow.services import Services
from kosiflow.services.base import recorded
from kosiflow.store import open_database

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    catalog = WorkflowCatalog.from_folder(WORKFLOWS)
    database = open_database(database_url)
    catalog.register(database)
    services = Services(database, catalog)
    load_demo(services)
    yield services
    database.close()


def test_the_state_at_every_event_equals_a_replay_up_to_it(services: Services) -> None:
    checked = 0
    for initiative_id in services.initiative_ids():
        history = list(services.history(initiative_id))
        definition = services.state(initiative_id).definition
        replayed = InitiativeState(initiative_id, definition)
        for position, record in enumerate(history):
            replayed = apply(replayed, recorded(record))
            later = history[position + 1] if position + 1 < len(history) else None
            if later is not None and later.at == record.at:
                continue  # events of one command share their moment: compare after the last
            then = services.state_at(initiative_id, record.at)
            assert state_to_json(then) == state_to_json(replayed), (initiative_id, record.seq)
            assert then.version == record.seq
            checked += 1
        assert state_to_json(replayed) == state_to_json(services.state(initiative_id))
    assert checked >= 50  # the demo histories hold well over fifty moments
