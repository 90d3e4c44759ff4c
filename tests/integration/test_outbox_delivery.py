"""Webhooks against a real local HTTP receiver that is down for a while, answers 500, and
answers slowly: every event arrives at least once, in order per initiative, signed; a delivery
dies after its attempts and goes again when redelivered; two dispatcher processes never send
one attempt twice at the same time."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from kosiflow.services import Dispatcher, Services
from kosiflow.store import Delivery
from tests.integration.outbox_helpers import (
    COORDINATOR,
    QUICK,
    SECRET,
    WORKFLOWS,
    count,
    deliveries,
    dispatching,
    services_on,
    wait_until,
)
from tests.integration.webhook_receiver import (
    Receiver,
    always_ok,
    first_acknowledged,
    order_violations,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    with services_on(database_url) as services:
        yield services


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def _initiatives(services: Services, number: int, notes: int) -> list[str]:
    """New initiatives, each with ``notes`` notes after its creation."""
    ids = [
        services.create("kosi-lab", f"Initiative {n}", COORDINATOR).initiative_id
        for n in range(number)
    ]
    for initiative in ids:
        for n in range(notes):
            services.note(initiative, f"Notiz {n}", COORDINATOR)
    return ids


def _outage_errors_and_slow_answers(number: int) -> tuple[int, float]:
    """Four 500s, four slow answers, one slower than the dispatcher waits, then quick 200s."""
    if number < 4:
        return 500, 0.0
    if number < 8:
        return 200, 0.1
    if number == 8:
        return 200, QUICK.timeout * 2
    return 200, 0.0


def test_every_event_arrives_in_order_and_signed_through_an_outage_errors_and_slow_answers(
    services: Services, receiver: Receiver
) -> None:
    services.add_subscription(receiver.url(), secret=SECRET)
    initiatives = _initiatives(services, 3, notes=2)
    with dispatching(services):
        wait_until(
            lambda: any("ConnectError" in (d.last_error or "") for d in deliveries(services)),
            "an attempt to meet the closed port",
        )
        receiver.up(_outage_errors_and_slow_answers)
        for initiative in initiatives:  # events recorded while it runs
            services.note(initiative, "Nachtrag", COORDINATOR)
        wait_until(lambda: count(services, "delivered") == 12, "every event delivered")
    receiver.down()
    acknowledged = [(i, seq) for i, seq, _ in first_acknowledged(receiver.received)]
    assert sorted(acknowledged) == sorted((i, seq) for i in initiatives for seq in range(1, 5))
    assert order_violations(receiver.received) == []
    assert all(r.is_signed_with(SECRET) for r in receiver.received)
    for request in receiver.received:
        event = request.event
        assert request.event_id == event["id"] == f"{event['initiative_id']}:{event['seq']}"
    statuses = Counter(r.status for r in receiver.received)
    assert statuses[500] == 4  # the errors were retried
    assert len(receiver.received) >= 4 + 12 + 1  # and the answer given too late was sent again


def _dispatch_until(dispatcher: Dispatcher, what: str, condition: Callable[[], object]) -> None:
    """Run the dispatcher's rounds until ``condition()`` holds."""

    def done() -> bool:
        dispatcher.run_once()
        return bool(condition())

    wait_until(done, what)


def _by_seq(services: Services) -> dict[int, Delivery]:
    return {d.seq: d for d in deliveries(services)}


def _a_dead_first_event(services: Services, receiver: Receiver, dispatcher: Dispatcher) -> None:
    """An initiative with two events whose first dies after three attempts answered 500."""
    services.add_subscription(receiver.url(), secret=SECRET)
    receiver.up(lambda _: (500, 0.0))
    _initiatives(services, 1, notes=1)
    _dispatch_until(
        dispatcher, "the first event dead", lambda: _by_seq(services)[1].status == "dead"
    )


def test_a_delivery_dies_after_its_attempts_holds_back_the_later_ones_until_redelivered(
    services: Services, receiver: Receiver
) -> None:
    with Dispatcher(services.database, replace(QUICK, max_attempts=3)) as dispatcher:
        _a_dead_first_event(services, receiver, dispatcher)
        dead, held_back = _by_seq(services)[1], _by_seq(services)[2]
        assert (dead.attempts, dead.last_error) == (3, "HTTP 500")
        assert (held_back.status, held_back.attempts) == ("pending", 0)
        assert [r.event["seq"] for r in receiver.received] == [1, 1, 1]
        assert [d.id for d in services.list_deliveries(status="dead").items] == [dead.id]

        receiver.script = always_ok
        again = services.redeliver(dead.id)
        assert (again.status, again.attempts) == ("pending", 0)
        _dispatch_until(dispatcher, "both delivered", lambda: count(services, "delivered") == 2)
    assert [seq for _, seq, _ in first_acknowledged(receiver.received)] == [1, 2]
    assert services.list_deliveries(status="dead").total == 0


def test_skipping_a_dead_delivery_lets_the_later_ones_go(
    services: Services, receiver: Receiver
) -> None:
    with Dispatcher(services.database, replace(QUICK, max_attempts=3)) as dispatcher:
        _a_dead_first_event(services, receiver, dispatcher)
        receiver.script = always_ok
        skipped = services.skip_delivery(_by_seq(services)[1].id)
        assert skipped.status == "skipped"
        _dispatch_until(dispatcher, "the second delivered", lambda: count(services, "delivered"))
    assert [seq for _, seq, _ in first_acknowledged(receiver.received)] == [2]
    assert services.redeliver(skipped.id).status == "pending"  # an admin may still send it


def _with_name(url: str, name: str) -> str:
    """``url`` whose connections call themselves ``name`` (``pg_stat_activity``)."""
    return make_url(url).update_query_dict({"application_name": name}).render_as_string(False)


def _connected(url: str, names: set[str]) -> bool:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(conninfo) as connection:
        rows = connection.execute("SELECT application_name FROM pg_stat_activity").fetchall()
    return names <= {row[0] for row in rows}


@pytest.mark.postgres
@pytest.mark.slow
def test_two_dispatcher_processes_never_send_one_attempt_twice_at_once(
    postgres_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    receiver.up(lambda n: (500, 0.02) if n % 5 == 4 else (200, 0.02))
    names = {"kosiflow-dispatch-1", "kosiflow-dispatch-2"}
    options = ["--poll", "0.02", "--backoff-base", "0.01", "--backoff-cap", "0.05"]
    processes, logs = [], []
    with services_on(postgres_url) as services:
        for path in ("/a", "/b"):
            services.add_subscription(receiver.url(path), secret=SECRET)
        for name in sorted(names):
            env = {
                **os.environ,
                "KOSIFLOW_DATABASE_URL": _with_name(postgres_url, name),
                "KOSIFLOW_WORKFLOWS": str(WORKFLOWS),
            }
            log = (tmp_path / f"{name}.log").open("w")
            logs.append(log)
            command = [sys.executable, "-m", "kosiflow", "dispatch", *options, "--batch", "5"]
            processes.append(
                subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            )
        try:
            wait_until(lambda: _connected(postgres_url, names), "both dispatchers connected")
            _initiatives(services, 4, notes=4)
            wait_until(lambda: count(services, "delivered") == 2 * 4 * 5, "every event delivered")
        finally:
            for process in processes:
                process.terminate()
            codes = [process.wait(timeout=30) for process in processes]
            for log in logs:
                log.close()
    printed = [(tmp_path / f"{name}.log").read_text() for name in sorted(names)]
    assert codes == [0, 0], printed
    assert receiver.overlaps == []
    for path in ("/a", "/b"):
        acknowledged = Counter(r.event_id for r in receiver.acknowledged(path))
        assert len(acknowledged) == 4 * 5
        assert set(acknowledged.values()) == {1}  # never sent again once acknowledged
        assert order_violations(receiver.received, path) == []
    assert all(re.search(r"delivered [1-9]", text) for text in printed), printed  # both worked
