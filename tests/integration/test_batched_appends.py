"""PostgreSQL: commands on cached states committing at the same time share one statement.

Each test watches the statements of ``kosiflow.store.batched_appends`` (how many appends each
carried) and checks what the store holds afterwards: every command recorded once, chains
intact, outbox rows in seq order, texts beside their events.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest

from kosiflow.catalog import WorkflowCatalog
from kosiflow.engine import Actor
from kosiflow.errors import StoreError
from kosiflow.services import CommandResult, Services
from kosiflow.services.state_cache import StaleShare
from kosiflow.store import Database, open_database, people
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
            seen.moved.append({row[1] for row in rows if row[0]})  # the rest: names
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
    for initiative_id in initiatives:
        assert note_texts(services, initiative_id) == [f"Notiz {n}" for n in range(rounds)]
        assert outbox_seqs(sql, initiative_id) == list(range(1, rounds + 2))
        assert services.verify(initiative_id).ok
        assert services.progress(initiative_id).state.version == rounds + 1


def test_postgresql_keeps_one_plan_for_batches_of_every_size(
    services: Services, sql: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch is not planned anew each time: the planner cannot count its arrays, so a plan
    made for a batch of one costs what one for four costs (and what the kept, generic, plan
    costs), and PostgreSQL keeps the generic plan after its five trial plans. (Counting them,
    small batches looked cheaper to plan for each time: it planned them anew, one after
    another, for as much of its CPU as running them; bench/README.md.)"""
    given: list[Mapping[str, Any]] = []
    run_sql = Executor.run_sql

    def watched(self: Executor, sql_: str, values: Mapping[str, Any]) -> list[Row]:
        if sql_ is BATCH_APPEND:
            given.append(values)
        return run_sql(self, sql_, values)

    monkeypatch.setattr(Executor, "run_sql", watched)
    initiatives = [new_initiative(services) for _ in range(4)]
    for initiative_id in initiatives[:2]:
        services.note(initiative_id, "Notiz", JANA)  # with a text
    for initiative_id in initiatives[2:]:
        services.tick(initiative_id, "request_described", JANA)  # without
    assert [len(values["id"]) for values in given] == [1, 1, 1, 1]

    def batch_of(appends: list[Mapping[str, Any]]) -> dict[str, list[Any]]:
        return {key: [v for values in appends for v in values[key]] for key in given[0]}

    def planned_cost(values: Mapping[str, Any]) -> float:  # a plan made for these values
        found = sql.execute("EXPLAIN (FORMAT JSON) " + BATCH_APPEND, values).fetchone()
        assert found is not None
        return float(found[0][0]["Plan"]["Total Cost"])

    with_texts = [batch_of(given[:size]) for size in (1, 2, 3, 4)]  # each with a note's text
    without = [batch_of(given[2:3]), batch_of(given[2:4])]  # ticks only: empty text arrays
    assert planned_cost(with_texts[0]) == planned_cost(with_texts[3])
    assert planned_cost(without[0]) == planned_cost(without[1])
    # Their heads have moved on: nothing moves, nothing is written. psycopg prepares one
    # statement per set of parameter types (an empty array has none), so two here.
    for values in with_texts * 3 + without * 6:
        assert sql.execute(BATCH_APPEND, values, prepare=True).fetchall() == []  # no names
    plans = sql.execute(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
        ["%FOR NO KEY UPDATE SKIP LOCKED%"],  # only the batch's on this connection
    ).fetchall()
    assert plans == [(7, 5), (7, 5)]
    assert [len(list(services.history(i))) for i in initiatives] == [2, 2, 2, 2]


def test_a_batched_command_reads_the_names_its_answer_shows_with_its_append(
    services: Services, batches: Batches, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer of a command whose append went in a batch reads nothing more: the batch's
    statement read the names of everybody its state names, as a read of their own would (an
    erased person has the name "", so is shown as erased). Without a batch (an idempotency
    key), the answer reads them itself."""
    user, _token = services.database.add_user("Jana Beispiel", ["coordinator"])
    jana = Actor(user.person_id, frozenset(user.roles))
    initiative_id = services.create("light-track", "Bank am Spielplatz", jana).initiative_id
    services.add_participant(initiative_id, "Ute Amt", "administration", jana)
    services.add_participant(initiative_id, "Cem Verein", "civil_society", jana)
    services.erase_people("Cem Verein")
    reads: list[list[str]] = []
    person_names = people.person_names

    def counted(db: Executor, ids: Iterable[str]) -> dict[str, str]:
        reads.append(list(ids))
        return person_names(db, ids)

    monkeypatch.setattr(people, "person_names", counted)

    result = services.tick(initiative_id, "request_described", jana)
    progress = services.progress_after(result, jana)

    assert batches.moved[-1] == {initiative_id}
    assert reads == []
    assert result.names == progress.names
    ute, cem = (p for p in progress.state.participants if p != jana.id)
    expected = services.person_names(sorted({jana.id, ute, cem}))
    assert progress.names == expected
    assert sorted(expected.values()) == ["", "Jana Beispiel", "Ute Amt"]

    keyed = services.note(initiative_id, "Notiz", jana, idempotency_key="k-1")
    reads.clear()
    assert keyed.names is None
    assert services.progress_after(keyed, jana).names == expected
    assert len(reads) == 1


def test_the_state_a_command_reads_first_comes_with_the_writers_token(
    services: Services, postgres_url: str, batches: Batches, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that has not cached an initiative (or whose cached states are often stale)
    reads the writer's token and the stored state in one statement; the command sent with
    ``read_ahead`` then reads nothing before its batched append. Nothing is read ahead for a
    command with a key, an unknown token or a cached state, and ``read_ahead`` serves only a
    command on the initiative it names."""
    user, token = services.database.add_user("Jana Beispiel", ["coordinator"])
    jana = Actor(user.person_id, frozenset(user.roles))
    first, second, third = (new_initiative(services) for _ in range(3))
    other = open_services(postgres_url)  # has cached nothing yet
    reads: list[str] = []
    ahead: list[str] = []
    cache_stored = Services._cache_stored
    user_and_projection = Database.user_and_projection

    def read(self: Services, initiative_id: str) -> None:
        reads.append(initiative_id)
        cache_stored(self, initiative_id)

    def read_ahead(self: Database, token_: str, initiative_id: str) -> tuple[Any, Any]:
        ahead.append(initiative_id)
        return user_and_projection(self, token_, initiative_id)

    monkeypatch.setattr(Services, "_cache_stored", read)
    monkeypatch.setattr(Database, "user_and_projection", read_ahead)
    try:
        assert other.user_reading_ahead(token, second, idempotency_key="k-1") == (user, False)
        assert ahead == []  # a command with a key is not batched: it reads its locked row
        assert other.user_reading_ahead("no-such-token", second) == (None, False)
        assert other.user_reading_ahead(token, first) == (user, True)
        assert other.note(first, "eins", jana, read_ahead=first).version == 2
        assert reads == []
        assert (batches.carried[-1], batches.moved[-1]) == ([first], {first})
        assert other.note(second, "eins", jana).version == 2
        assert reads == [second]  # nothing kept for an unknown token
        assert other.user_reading_ahead(token, first) == (user, False)  # cached: the token only
        assert ahead == [second, first]

        for turn in range(40):  # two processes on one initiative: cached states often stale
            (services if turn % 2 else other).note(third, f"Zug {turn}", jana)
        reads.clear()
        ahead.clear()
        assert other.user_reading_ahead(token, first) == (user, True)
        assert other.note(first, "zwei", jana, read_ahead=first).version == 3
        assert reads == []
        assert other.note(first, "drei", jana).version == 4
        assert other.note(second, "zwei", jana, read_ahead=first).version == 3
        assert reads == [first, second]  # read first again: no read ahead for these
        assert ahead == [first]
    finally:
        other.database.close()
    for initiative_id in (first, second, third):
        assert services.verify(initiative_id).ok


def test_a_cache_another_process_made_stale_writes_nothing_and_the_command_runs_again(
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
    assert batches.carried[-1] == [initiative_id]
    assert batches.moved[-1] == set()  # the cached head was stale: nothing written by it
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


def notes_in_one_batch(
    services: Services,
    sql: psycopg.Connection[Any],
    postgres_url: str,
    notes: list[tuple[str, str]],
) -> list[Future[CommandResult]]:
    """Send the notes ``(initiative, text)`` so that all but the first go in one batch: the
    first batch waits (at its event insert) until the rest have queued up behind it."""
    hold_event_inserts(sql)
    pool = ThreadPoolExecutor(len(notes))
    with psycopg.connect(conninfo(postgres_url)) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(4711)")
        first = pool.submit(services.note, *notes[0], JANA)
        wait_for(lambda: _waiting_for_advisory(sql) == 1, "the first batch to wait")
        rest = [pool.submit(services.note, *note, JANA) for note in notes[1:]]
        wait_for(lambda: _queued(services) == len(rest), "the others to queue up")
    pool.shutdown(wait=False)
    return [first, *rest]


@pytest.mark.parametrize("refused_by", ["psycopg", "server"])
def test_a_batch_failing_as_a_whole_runs_each_command_again_on_its_own(
    services: Services,
    sql: psycopg.Connection[Any],
    postgres_url: str,
    batches: Batches,
    refused_by: str,
) -> None:
    """Three commands go in one batch; one of them carries a text that is refused — by psycopg
    (a NUL character, before anything is sent) or by the server (a check in a trigger) — which
    fails the whole statement. The other two are then written on their own; the refused one
    fails as it would have alone."""
    initiatives = [new_initiative(services) for _ in range(4)]
    for initiative_id in initiatives:
        services.note(initiative_id, "warm", JANA)  # cached: the next notes go in batches
    bad = "schlecht\x00" if refused_by == "psycopg" else "schlecht"
    sql.execute("""
        CREATE FUNCTION refuse_text() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.text = 'schlecht' THEN
                RAISE EXCEPTION 'refused by the test' USING ERRCODE = '23514';
            END IF;
            RETURN NEW;
        END $$""")
    sql.execute(
        "CREATE TRIGGER refuse_text BEFORE INSERT ON event_texts "
        "FOR EACH ROW EXECUTE FUNCTION refuse_text()"
    )
    texts = ["erste", "gut", bad, "auch gut"]

    futures = notes_in_one_batch(
        services, sql, postgres_url, list(zip(initiatives, texts, strict=True))
    )

    assert futures[0].result(timeout=WAIT_SECONDS).version == 3
    assert futures[1].result(timeout=WAIT_SECONDS).version == 3
    with pytest.raises(StoreError):
        futures[2].result(timeout=WAIT_SECONDS)
    assert futures[3].result(timeout=WAIT_SECONDS).version == 3
    assert sorted(initiatives[1:]) in (sorted(carried) for carried in batches.carried)
    for initiative_id, text in zip(initiatives, texts, strict=True):
        expected = ["warm"] if text == bad else ["warm", text]
        assert note_texts(services, initiative_id) == expected
        assert services.verify(initiative_id).ok


def test_commands_on_one_initiative_from_many_threads_are_each_recorded_once(
    services: Services, sql: psycopg.Connection[Any], batches: Batches
) -> None:
    """Threads share one cache: all but one of the appends on a cached state lose, and the
    losers are decided again on the locked row."""
    initiative_id = new_initiative(services)
    services.note(initiative_id, "warm", JANA)
    threads, rounds = 8, 5

    def notes(thread: int) -> list[int]:
        return [services.note(initiative_id, f"{thread}-{n}", JANA).version for n in range(rounds)]

    with ThreadPoolExecutor(threads) as pool:
        versions = sorted(v for found in pool.map(notes, range(threads)) for v in found)

    assert versions == list(range(3, 3 + threads * rounds))
    assert any(not moved for moved in batches.moved)  # some lost the race to another thread
    assert all(len(set(carried)) == len(carried) for carried in batches.carried)
    texts = note_texts(services, initiative_id)
    assert sorted(texts[1:]) == sorted(f"{t}-{n}" for t in range(threads) for n in range(rounds))
    assert outbox_seqs(sql, initiative_id) == list(range(1, 3 + threads * rounds))
    assert services.verify(initiative_id).ok


def test_an_initiative_locked_elsewhere_does_not_hold_up_the_others(
    services: Services, postgres_url: str, batches: Batches
) -> None:
    """The batch skips a row another transaction holds instead of waiting for it: the other
    commands go through at once, and the one on the held row waits for it on its own."""
    held, free = new_initiative(services), new_initiative(services)
    for initiative_id in (held, free):
        services.note(initiative_id, "warm", JANA)
    pool = ThreadPoolExecutor(2)
    with psycopg.connect(conninfo(postgres_url)) as holder:
        holder.execute("SELECT 1 FROM initiatives WHERE id = %s FOR UPDATE", [held])
        try:
            waiting = pool.submit(services.note, held, "wartet", JANA)
            wait_for(lambda: any(held in carried for carried in batches.carried), "its batch")
            through = pool.submit(services.note, free, "geht durch", JANA)
            assert through.result(timeout=10).version == 3
            assert not waiting.done()
        finally:
            holder.commit()
            pool.shutdown()
    assert waiting.result(timeout=WAIT_SECONDS).version == 3

    assert note_texts(services, held) == ["warm", "wartet"]
    assert note_texts(services, free) == ["warm", "geht durch"]
    assert services.verify(held).ok


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


def test_each_command_of_a_batch_gets_the_names_of_its_own_people(
    services: Services, sql: psycopg.Connection[Any], postgres_url: str, batches: Batches
) -> None:
    """One statement reads the names for every answer of its batch; each answer names the
    people of its own initiative only."""
    participants = ["Ute Amt", "Cem Verein", "Ida Uni"]
    initiatives = [new_initiative(services) for _ in participants]
    for initiative_id, name in zip(initiatives, participants, strict=True):
        services.add_participant(initiative_id, name, "administration", JANA)
        services.note(initiative_id, "warm", JANA)  # cached: the next notes go in batches

    futures = notes_in_one_batch(services, sql, postgres_url, [(i, "Notiz") for i in initiatives])

    names = [f.result(timeout=WAIT_SECONDS).names for f in futures]
    assert sorted(initiatives[1:]) in (sorted(carried) for carried in batches.carried)
    assert [list(found.values()) if found else None for found in names] == [
        [p] for p in participants
    ]


@pytest.mark.parametrize("committed", [True, False], ids=["committed", "not-committed"])
def test_a_batch_whose_answer_is_lost_is_looked_up_and_applied_once(
    services: Services,
    sql: psycopg.Connection[Any],
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    committed: bool,
) -> None:
    """The connection of a batch of three is lost as its statement runs (after it committed,
    or before): each of the three commands finds out which, and is recorded once."""
    initiatives = [new_initiative(services) for _ in range(4)]
    for initiative_id in initiatives:
        services.note(initiative_id, "vorher", JANA)
    run_sql = Executor.run_sql
    lost: list[int] = []

    def lose_answer(self: Executor, sql_: str, values: Mapping[str, Any]) -> list[Row]:
        if sql_ is BATCH_APPEND and len(values["id"]) == 3 and not lost:
            lost.append(3)
            if committed:
                run_sql(self, sql_, values)
            self.dbapi.close()
            raise psycopg.OperationalError("the connection was lost (injected)")
        return run_sql(self, sql_, values)

    monkeypatch.setattr(Executor, "run_sql", lose_answer)

    futures = notes_in_one_batch(
        services, sql, postgres_url, [(i, "Protokoll verschickt") for i in initiatives]
    )

    assert [f.result(timeout=WAIT_SECONDS).version for f in futures] == [3, 3, 3, 3]
    assert lost == [3]
    for initiative_id in initiatives:
        assert note_texts(services, initiative_id) == ["vorher", "Protokoll verschickt"]
        assert services.verify(initiative_id).ok
        assert services.note(initiative_id, "danach", JANA).version == 4


def test_processes_writing_the_same_initiatives_read_first_until_one_writes_alone(
    services: Services, postgres_url: str, batches: Batches, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two "processes" taking turns on one initiative make each other's caches stale; once
    that is common, each command reads the stored state before deciding, so its append is still
    batched and no longer found stale (every command recorded once); when one writes alone
    again, it trusts its cache again: no more reads."""
    other = open_services(postgres_url)
    reads: list[Services] = []
    cache_stored = Services._cache_stored

    def counted(self: Services, initiative_id: str) -> None:
        reads.append(self)
        cache_stored(self, initiative_id)

    monkeypatch.setattr(Services, "_cache_stored", counted)
    try:
        initiative_id = new_initiative(services)
        for turn in range(40):
            (services if turn % 2 else other).note(initiative_id, f"Zug {turn}", JANA)
        reads.clear()
        carried = len(batches.carried)
        for turn in range(10):
            (services if turn % 2 else other).note(initiative_id, f"später {turn}", JANA)
        assert reads == [other, services] * 5  # each read first
        assert batches.carried[carried:] == [[initiative_id]] * 10  # and batched
        assert batches.moved[carried:] == [{initiative_id}] * 10  # none found stale
        reads.clear()
        solo_reads = []
        for n in range(60):
            services.note(initiative_id, f"allein {n}", JANA)
            solo_reads.append(len(reads))
    finally:
        other.database.close()

    # Each of its 25 turns found its cache behind, counted once (by the append, then by the
    # read): the share falls below HIGH after as many reads as in this replay.
    replay = StaleShare()
    for _ in range(25):
        replay.note(stale=True)
    falling = 0
    while replay.high:
        replay.note(stale=False)
        falling += 1
    assert solo_reads[-1] == falling
    assert solo_reads[-5:] == [solo_reads[-1]] * 5  # no more reads
    assert batches.moved[-1] == {initiative_id}
    assert services.progress(initiative_id).state.version == 1 + 40 + 10 + 60
    assert len(note_texts(services, initiative_id)) == 110
    assert services.verify(initiative_id).ok


def test_an_unexpected_error_after_the_statement_leaves_its_outcome_to_be_looked_up(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a database error, raised once the batch's statement has committed: the command
    must not take it for "nothing written" (that would record it twice)."""
    initiative_id = new_initiative(services)
    services.note(initiative_id, "vorher", JANA)
    run_sql = Executor.run_sql
    raised: list[str] = []

    def fail_after(self: Executor, sql_: str, values: Mapping[str, Any]) -> list[Row]:
        rows = run_sql(self, sql_, values)
        if sql_ is BATCH_APPEND and not raised:
            raised.append("after the commit")
            raise RuntimeError("injected after the statement")
        return rows

    monkeypatch.setattr(Executor, "run_sql", fail_after)

    result = services.note(initiative_id, "einmal", JANA)

    assert raised == ["after the commit"]
    assert result.version == 3
    assert note_texts(services, initiative_id) == ["vorher", "einmal"]
    assert services.verify(initiative_id).ok
