"""On PostgreSQL the reads that combine event texts and events see one snapshot of the store.

A read unit runs each statement on its own there (autocommit, READ COMMITTED), and the texts
(kept outside the hashed payloads) come from one statement, the events from another. A tick
with evidence committed by another process between the two must show in both or in neither:
not as an event whose text is missing (a false finding of verify, a text lost to an export).
Each test commits that tick at the worst moment, just before the read's events start to stream.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kosiflow.catalog import WorkflowCatalog
from kosiflow.engine import Actor
from kosiflow.services import Services
from kosiflow.store import EventRecord, ReadUnit, VerifyResult, open_database
from kosiflow.store.executor import STREAM_BATCH, Executor, Row
from kosiflow.store.statements import Compiled
from kosiflow.store.texts import Texts, commitments, verify_history

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
CATALOG = WorkflowCatalog.from_folder(WORKFLOWS)
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
EVIDENCE = "https://example.org/antrag"


def _services(url: str) -> Services:
    services = Services(open_database(url), CATALOG)
    CATALOG.register(services.database)
    return services


@pytest.fixture
def reader(postgres_url: str) -> Iterator[Services]:
    services = _services(postgres_url)
    yield services
    services.database.close()


@pytest.fixture
def writer(postgres_url: str) -> Iterator[Services]:
    """Another process writing to the same database, on connections of its own."""
    services = _services(postgres_url)
    yield services
    services.database.close()


@pytest.fixture
def coord(reader: Services) -> Actor:
    user, _ = reader.database.add_user("Jana", ["coordinator"])
    return Actor(user.person_id, frozenset(user.roles))


@pytest.fixture
def bench(reader: Services, coord: Actor) -> str:
    """An initiative with a note (a text of its own) and its first item still to tick."""
    bench = reader.create("light-track", "Sitzbank", coord, at=T0).initiative_id
    reader.note(bench, "Telefonat mit Frau M.", coord, at=T0 + timedelta(days=1))
    return bench


def _tick_before(
    monkeypatch: pytest.MonkeyPatch, where: str, writer: Services, bench: str, coord: Actor
) -> None:
    """From now on, ``writer`` commits a tick with evidence on ``bench`` once, just before the
    read reaches ``where``: ``texts`` (an initiative's texts are read) or ``stream N`` (the Nth
    stream of rows, counted as they begin to read)."""
    ticked = False

    def tick() -> None:
        nonlocal ticked
        if not ticked:
            ticked = True  # first: the writer's own reads go through the patched methods too
            writer.tick(
                bench, "request_described", coord, evidence=EVIDENCE, at=T0 + timedelta(days=2)
            )

    if where == "texts":
        event_texts = ReadUnit.event_texts

        def texts_after_tick(self: ReadUnit, initiative_id: str) -> Texts:
            tick()
            return event_texts(self, initiative_id)

        monkeypatch.setattr(ReadUnit, "event_texts", texts_after_tick)
        return
    stream = Executor.stream
    nth = int(where.removeprefix("stream "))
    begun = itertools.count(1)

    def stream_after_tick(
        self: Executor, compiled: Compiled, values: Mapping[str, Any], *, batch: int = STREAM_BATCH
    ) -> Iterator[Row]:
        if next(begun) == nth:
            tick()
        yield from stream(self, compiled, values, batch=batch)

    monkeypatch.setattr(Executor, "stream", stream_after_tick)


def _the_tick_whole_or_absent(records: list[EventRecord]) -> None:
    """Every event's commitments have their texts; the tick, if read, carries its evidence."""
    for record in records:
        assert commitments(record.payload).keys() <= record.texts.keys(), record
    ticks = [r for r in records if r.type == "ItemTicked"]
    assert [t.texts["evidence"].text for t in ticks] in ([], [EVIDENCE])


def _timeline(services: Services, bench: str) -> list[VerifyResult]:
    return [services.timeline(bench).chain]


def _verify(services: Services, bench: str) -> list[VerifyResult]:
    return [services.verify(bench)]


def _verify_all(services: Services, _bench: str) -> list[VerifyResult]:
    return [result for _, result in services.verify_all()]


def _check_heads(services: Services, bench: str) -> list[VerifyResult]:
    problems = [f.problem for f in services.check_heads(services.chain_heads())]
    return [VerifyResult(not problems, 0, None, "; ".join(problems) or None)]


@pytest.mark.parametrize(
    ("read", "where"),
    [
        (_timeline, "texts"),  # after the projection, before the texts
        (_timeline, "stream 1"),  # after the texts, before the events
        (_verify, "texts"),
        (_verify, "stream 1"),
        (_verify_all, "stream 2"),  # the texts stream first, then every history
        (_check_heads, "texts"),
    ],
)
def test_verify_finds_nothing_wrong_when_a_tick_commits_during_the_read(
    monkeypatch: pytest.MonkeyPatch,
    reader: Services,
    writer: Services,
    bench: str,
    coord: Actor,
    read: Callable[[Services, str], list[VerifyResult]],
    where: str,
) -> None:
    _tick_before(monkeypatch, where, writer, bench, coord)
    results = read(reader, bench)
    assert [(r.ok, r.problem) for r in results] == [(True, None)]
    assert [r.type for r in reader.history(bench)][-1] == "ItemTicked"  # it did commit meanwhile


def test_an_export_keeps_the_text_of_a_tick_committed_during_the_read(
    monkeypatch: pytest.MonkeyPatch, reader: Services, writer: Services, bench: str, coord: Actor
) -> None:
    _tick_before(monkeypatch, "stream 2", writer, bench, coord)
    exported = list(reader.export())
    assert verify_history(exported).ok
    _the_tick_whole_or_absent(exported)
    assert [r.type for r in reader.history(bench)][-1] == "ItemTicked"


def test_the_events_of_one_initiative_come_with_their_texts(
    monkeypatch: pytest.MonkeyPatch, reader: Services, writer: Services, bench: str, coord: Actor
) -> None:
    _tick_before(monkeypatch, "stream 1", writer, bench, coord)
    with reader.database.read() as unit:
        records = list(unit.events(bench))
    assert verify_history(records).ok
    _the_tick_whole_or_absent(records)
