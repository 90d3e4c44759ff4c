"""The outbox and the subscriptions' deliveries in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from kosiflow.errors import BadInput, NotFound, StoreError
from kosiflow.services import Dispatcher, DispatchRound, Services
from kosiflow.services.dispatch import backoff
from kosiflow.store import Database, open_database
from tests.integration.outbox_helpers import (
    COORDINATOR,
    QUICK,
    SECRET,
    deliveries,
    services_on,
)
from tests.integration.store_helpers import define, event, projection
from tests.integration.webhook_receiver import Receiver

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    with services_on(database_url) as services:
        yield services


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    define(database)
    try:
        yield database
    finally:
        database.close()


def _fan_out(database: Database) -> int | None:
    with database.write() as unit:
        return unit.outbox.fan_out(limit=1000, now=NOW)


def _append_then_fail(database: Database) -> None:
    with database.write() as unit:
        unit.append(projection("i-1", 3), 2, [event(3)])
        raise RuntimeError("the command fails after appending")


def test_every_appended_event_lands_in_the_outbox_with_its_transaction(db: Database) -> None:
    with db.write() as unit:
        unit.append(projection("i-1", 2), 0, [event(1), event(2)])
    with pytest.raises(RuntimeError):
        _append_then_fail(db)
    assert _fan_out(db) == 2
    assert _fan_out(db) == 0  # taken once


def test_a_subscription_gets_the_events_its_filters_match(services: Services) -> None:
    every = services.add_subscription("https://lab.example/every")
    ticks = services.add_subscription("https://lab.example/ticks", event_types=["ItemTicked"])
    later = services.add_subscription("https://lab.example/later", phases=["co_creation"])
    other = services.add_subscription("https://lab.example/other", workflows=["light-track"])
    garages = services.create("kosi-lab", "Fahrradgaragen", COORDINATOR).initiative_id
    services.tick(garages, "challenge_defined", COORDINATOR, evidence="Protokoll")
    assert _fan_out(services.database) == 2
    got = {s.id: [] for s in (every, ticks, later, other)}
    for d in deliveries(services):
        got[d.subscription_id].append((d.seq, d.type, d.workflow_id, d.phase, d.status))
    assert got == {
        every.id: [
            (1, "InitiativeCreated", "kosi-lab", "initiation", "pending"),
            (2, "ItemTicked", "kosi-lab", "initiation", "pending"),
        ],
        ticks.id: [(2, "ItemTicked", "kosi-lab", "initiation", "pending")],
        later.id: [],
        other.id: [],
    }


def test_removing_a_subscription_removes_its_deliveries(services: Services) -> None:
    kept = services.add_subscription("https://lab.example/kept")
    gone = services.add_subscription("https://lab.example/gone", secret=SECRET)
    services.create("kosi-lab", "Fahrradgaragen", COORDINATOR)
    _fan_out(services.database)
    services.remove_subscription(gone.id)
    assert [s.id for s in services.list_subscriptions()] == [kept.id]
    assert [d.subscription_id for d in deliveries(services)] == [kept.id]
    with pytest.raises(NotFound):
        services.remove_subscription(gone.id)


@pytest.mark.parametrize(
    ("field", "call"),
    [
        ("url", {"url": "ftp://lab.example/hook"}),
        ("url", {"url": "http:///no-host"}),
        ("secret", {"secret": "zu-kurz"}),
        ("workflows", {"workflows": ["kosi-labor"]}),
        ("event_types", {"event_types": ["ItemTicket"]}),
        ("phases", {"workflows": ["light-track"], "phases": ["co_creation"]}),
    ],
)
def test_a_bad_url_a_short_secret_or_an_unknown_filter_is_refused(
    services: Services, field: str, call: dict[str, object]
) -> None:
    arguments: dict[str, object] = {"url": "https://lab.example/hook", **call}
    with pytest.raises(BadInput) as refused:
        services.add_subscription(**arguments)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert services.list_subscriptions() == []


def test_a_crashed_dispatchers_claims_are_taken_up_once_their_lease_ends(
    services: Services,
) -> None:
    now = datetime.now(UTC)
    with Receiver() as receiver:
        receiver.up()
        services.add_subscription(receiver.url(), secret=SECRET)
        services.create("kosi-lab", "Fahrradgaragen", COORDINATOR)
        with services.database.write() as unit:  # a dispatcher that claims, then dies
            unit.outbox.fan_out(limit=10, now=now)
            unit.outbox.claim(limit=10, now=now, until=now + QUICK.lease, claim="crashed")
        with Dispatcher(services.database, QUICK, clock=lambda: now) as meanwhile:
            assert meanwhile.run_once().sent == 0
        lease_over = now + QUICK.lease + timedelta(seconds=1)
        with Dispatcher(services.database, QUICK, clock=lambda: lease_over) as after:
            assert after.run_once().delivered == 1
    assert len(receiver.acknowledged()) == len(receiver.received) == 1


@pytest.mark.postgres
def test_concurrent_claims_pass_over_each_others_rows_and_keep_the_order(
    postgres_url: str,
) -> None:
    with services_on(postgres_url) as services:
        services.add_subscription("https://lab.example/hook", secret=SECRET)
        first = services.create("kosi-lab", "Fahrradgaragen", COORDINATOR).initiative_id
        services.note(first, "zweites Ereignis", COORDINATOR)
        second = services.create("kosi-lab", "Kältebus", COORDINATOR).initiative_id
        with services.database.write() as unit:
            unit.outbox.fan_out(limit=10, now=NOW)
        claimed_by_other: list[tuple[str, int]] = []

        def other_dispatcher() -> None:
            with services.database.write() as unit:
                got = unit.outbox.claim(limit=10, now=NOW, until=NOW, claim="other")
                claimed_by_other.extend((c.initiative_id, c.seq) for c in got)

        with services.database.write() as unit:
            mine = unit.outbox.claim(limit=1, now=NOW, until=NOW, claim="mine")
            assert [(c.initiative_id, c.seq) for c in mine] == [(first, 1)]
            thread = threading.Thread(target=other_dispatcher)
            thread.start()
            thread.join(timeout=10)  # SKIP LOCKED: it does not wait for this transaction
            assert not thread.is_alive()
    # Not the row held here, and not (first, 2) before (first, 1) is delivered.
    assert claimed_by_other == [(second, 1)]


def test_the_backoff_doubles_up_to_its_cap_with_up_to_half_waived() -> None:
    rng = random.Random(7)
    for attempts, full in [(1, 1.0), (2, 2.0), (3, 4.0), (9, 256.0), (10, 300.0), (500, 300.0)]:
        waits = [backoff(attempts, base=1.0, cap=300.0, rng=rng) for _ in range(200)]
        assert full / 2 <= min(waits) < max(waits) <= full


def test_a_database_error_ends_a_round_not_the_dispatcher(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    outage = StoreError("database error: server closed the connection")
    reported: list[DispatchRound | StoreError] = []
    stop = threading.Event()

    def report(done: DispatchRound | StoreError) -> None:
        reported.append(done)
        if len(reported) == 2:
            stop.set()

    with Dispatcher(services.database, QUICK) as dispatcher:
        rounds: list[int] = []
        real_round = dispatcher.run_once

        def first_round_fails() -> DispatchRound:
            rounds.append(len(rounds))
            if rounds == [0]:
                raise outage
            return real_round()

        monkeypatch.setattr(dispatcher, "run_once", first_round_fails)
        with pytest.raises(StoreError):
            dispatcher.run(stop, once=True)  # a single run (a cron job) fails instead
        rounds.clear()
        dispatcher.run(stop, report=report)
    assert reported == [outage, DispatchRound(0, 0, 0, 0)]
