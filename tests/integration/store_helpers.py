"""Builders shared by the store's integration tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from kosiflow.store import Database, NewEvent, Projection, StoredDefinition

DEFINITION = StoredDefinition("kosi-lab", 1, "a" * 64, "id: kosi-lab\nversion: 1\n", "kosi.yaml")
T0 = datetime(2024, 5, 1, 9, 30, 0, 123456, tzinfo=UTC)
BERLIN = timezone(timedelta(hours=2))


def define(database: Database) -> None:
    with database.write() as unit:
        unit.save_definition(DEFINITION)


def projection(
    initiative_id: str,
    version: int,
    *,
    phase: str = "initiation",
    state: Mapping[str, Any] | None = None,
    parent_id: str | None = None,
    title: str = "Fahrradgaragen",
) -> Projection:
    return Projection(
        initiative_id=initiative_id,
        workflow_id=DEFINITION.workflow_id,
        workflow_version=DEFINITION.version,
        parent_id=parent_id,
        title=title,
        phase=phase,
        on_hold=False,
        ended=False,
        version=version,
        state=state if state is not None else {"version": version, "phase": phase},
        head_hash="",
        created_at=T0,
        updated_at=T0 + timedelta(minutes=version),
    )


def event(n: int, *, at: datetime | None = None, type_: str = "NoteAdded") -> NewEvent:
    return NewEvent(
        type=type_,
        schema_version=1,
        actor="p-0123",
        at=at or T0 + timedelta(seconds=n, microseconds=n),
        payload={"text": f"Notiz {n}: grüße €", "n": n, "nested": {"b": [1, 2], "a": None}},
    )


def grow(database: Database, initiative_id: str, events: int, **options: Any) -> None:
    """Create the initiative (if new) and append ``events`` events one unit each."""
    for _ in range(events):
        with database.write() as unit:
            current = unit.load_projection(initiative_id)
            version = 0 if current is None else current.version
            unit.append(
                projection(initiative_id, version + 1, **options), version, [event(version + 1)]
            )
