"""PostgreSQL: commands on cached states committing at the same time share one statement.

Each test watches the statements of ``kosiflow.store.batched_appends`` (how many appends each
carried) and checks what the store holds afterwards: every command recorded once, chains
intact, outbox rows in seq order, texts beside their events.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest

from kosiflow.catalog import WorkflowCatalog
from kosiflow.engine import Actor
from kosiflow.errors import StoreError
from kosiflow.services import Services
from kosiflow.store import open_database
from kosiflow.store.batched_appends import BATCH_APPEND
from kosiflow.store.executor import Executor, Row
from tests.integration.test_postgres_retries import conninfo, wait_for

pytestmark = pytest.mark.postgres

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
JANA = Actor("p-jana", frozenset({"coordinator"}))
WAIT_SECONDS = 30.0


def open_services(url: str) -> Services:
    catalog = WorkflowCatalog.from_folder(WORKFLOWS)
    database = open_database(url)
    catalog.register(database)
    return Services(database, catalog)


@pytest.fixture
def services(postgres_url: str) -> Iterator[Services]:
    services = open_services(postgres_url)
    yield services
    services.database.close()


@pytest.fixture
def sql(postgres_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(conninfo(postgres_url), autocommit=True) as connection:
        yield connection


class Batches:
    """The statements of ``batched_appends`` run: the initiatives each carried, and which of
    them moved on."""

    def __init__(self) -> None:
        self.carried: list[list[str]] = []
        self.moved: list[set[str]] = []
        """Of the statements that did not fail, in the order they ended."""
        self.lock = threading.Lock()


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> Batches:
    seen = Batches()
    run_sql = Executor.run_sql

    def watched(self: Executor, sql: str, values: Mapping[str, Any]) -> list[Row]:
        if sql is not BATCH_APPEND:
            return run_sql(self, sql, values)
        with seen.lock:
            seen.carried.append(list(values["id"]))
        rows = run_sql(self, sql, values)  # a failed statement is carried, never moved
        with seen.lock:
            seen.moved.append({row[0] for row in rows if row[1]})
        return rows

    monkeypatch.setattr(Executor, "run_sql", watched)
    return seen


def new_initiative(services: Services) -> str:
    return services.create("light-track", "Bank am Spielplatz", JANA).initiative_id


def note_texts(services: Services, initiative_id: str) -> list[str | None]:
    """The texts of the initiative's notes, as kept beside their events."""
    return [e.texts["text"].text for e in services.history(initiative_id) if e.type == "NoteAdded"]


def outbox_seqs(sql: psycopg.Connection[Any], initiative_id: str) -> list[int]:
    rows = sql.execute(
        "SELECT seq FROM outbox WHERE initiative_id = %s ORDER BY id", [initiative_id]
    ).fetchall()
    return [row[0] for row in rows]


def test_commands_committing_together_share_a_statement_and_each_is_recorded_once(
    services: Services, sql: psycopg.Connection[Any], batches: Batches
) -> None:
    initiatives = [new_initiative(services) for _ in range(12)]
    rounds = 8

    def notes_on(initiative_id: str) -> list[int]:
        return [services.note(initiative_id, f"Notiz {n}", JANA).version for n in range(rounds)]

    with ThreadPoolExecutor(len(initiatives)) as pool:
        versions = list(pool.map(notes_on, initiatives))

    assert versions == [list(range(2, rounds + 2))] * len(initiatives)
    assert sum(len(carried) for carried in batches.carried) >= len(initiatives) * rounds
    assert max(len(carried) for carried in batches.carried) > 1  # some went together
    assert all(len(set(carried)) == len(carried) for carried in batches.carried)
    for initiative_id in initiatives:
        assert note_texts(services, initiative_id) == [f"Notiz {n}" for n in range(rounds)]
        assert outbox_seqs(sql, initiative_id) == list(range(1, rounds + 2))
        assert services.verify(initiative_id).ok
        assert services.progress(initiative_id).state.version == rounds + 1


def test_a_cache_another_process_made_stale_writes_nothing_and_the_command_is_decided_again(
    services: Services, postgres_url: str, batches: Batches
) -> None:
    other = open_services(postgres_url)
    try:
        initiative_id = new_initiative(services)
        assert services.note(initiative_id, "eins", JANA).version == 2  # cached here at v2
        assert other.note(initiative_id, "zwei", JANA).version == 3

        result = services.note(initiative_id, "drei", JANA)
    finally:
        other.database.close()

    assert result.version == 4
    assert batches.carried[-2:] == [[initiative_id], [initiative_id]]
    assert batches.moved[-2] == set()  # the cached head was stale: nothing written by it
    assert batches.moved[-1] == {initiative_id}  # decided again on the state it found
    assert note_texts(services, initiative_id) == ["eins", "zwei", "drei"]
    assert services.verify(initiative_id).ok
    assert services.note(initiative_id, "vier", JANA).version == 5
    assert batches.moved[-1] == {initiative_id}


def hold_event_inserts(sql: psycopg.Connection[Any]) -> None:
    """Inserts into ``events`` wait for advisory lock 4711 while somebody holds it."""
    sql.execute("""
        CREATE FUNCTION wait_for_advisory() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_advisory_xact_lock(4711); RETURN NEW; END $$""")
    sql.execute(
        "CREATE TRIGGER wait_for_advisory BEFORE INSERT ON events "
        "FOR EACH ROW EXECUTE FUNCTION wait_for_advisory()"
    )


def test_a_batch_failing_as_a_whole_runs_each_command_again_on_its_own(
    services: Services, sql: psycopg.Connection[Any], postgres_url: str, batches: Batches
) -> None:
    """While a first batch waits, three commands queue up for the next; one of them carries a
    text PostgreSQL refuses (a NUL character), which fails the whole statement. The other two
    are then written on their own; the refused one fails as it would have alone."""
    initiatives = [new_initiative(services) for _ in range(4)]
    for initiative_id in initiatives:
        services.note(initiative_id, "warm", JANA)  # cached: the next notes go in batches
    hold_event_inserts(sql)
    texts = ["erste", "gut", "schlecht\x00", "auch gut"]
    with psycopg.connect(conninfo(postgres_url)) as holder, ThreadPoolExecutor(4) as pool:
        holder.execute("SELECT pg_advisory_xact_lock(4711)")
        first = pool.submit(services.note, initiatives[0], texts[0], JANA)
        wait_for(lambda: _waiting_for_advisory(sql) == 1, "the first batch to wait")
        rest = [
            pool.submit(services.note, i, t, JANA)
            for i, t in zip(initiatives[1:], texts[1:], strict=True)
        ]
        wait_for(lambda: _queued(services) == 3, "three appends to queue up")
        holder.commit()
        assert first.result(timeout=WAIT_SECONDS).version == 3
        assert rest[0].result(timeout=WAIT_SECONDS).version == 3
        with pytest.raises(StoreError):
            rest[1].result(timeout=WAIT_SECONDS)
        assert rest[2].result(timeout=WAIT_SECONDS).version == 3

    assert any(sorted(c) == sorted(initiatives[1:]) for c in batches.carried)
    for initiative_id, text in zip(initiatives, texts, strict=True):
        expected = ["warm"] if "\x00" in text else ["warm", text]
        assert note_texts(services, initiative_id) == expected
        assert services.verify(initiative_id).ok


def _waiting_for_advisory(sql: psycopg.Connection[Any]) -> int:
    row = sql.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    ).fetchone()
    return 0 if row is None else int(row[0])


def _queued(services: Services) -> int:
    batcher = services.database._batcher
    assert batcher is not None
    with batcher._changed:
        return len(batcher._waiting)


@pytest.mark.parametrize("committed", [True, False], ids=["committed", "not-committed"])
def test_a_batch_whose_answer_is_lost_is_looked_up_and_applied_once(
    services: Services, monkeypatch: pytest.MonkeyPatch, committed: bool
) -> None:
    initiative_id = new_initiative(services)
    services.note(initiative_id, "vorher", JANA)
    run_sql = Executor.run_sql
    left = [1]

    def lose_answer(self: Executor, sql: str, values: Mapping[str, Any]) -> list[Row]:
        if sql is BATCH_APPEND and left[0]:
            left[0] -= 1
            if committed:
                run_sql(self, sql, values)
            self.dbapi.close()
            raise psycopg.OperationalError("the connection was lost (injected)")
        return run_sql(self, sql, values)

    monkeypatch.setattr(Executor, "run_sql", lose_answer)

    result = services.note(initiative_id, "Protokoll verschickt", JANA)

    assert left == [0]
    assert result.version == 3
    assert note_texts(services, initiative_id) == ["vorher", "Protokoll verschickt"]
    assert services.verify(initiative_id).ok
    assert services.note(initiative_id, "danach", JANA).version == 4
