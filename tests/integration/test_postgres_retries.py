"""Commands on PostgreSQL survive passing database failures: run again whole, applied once.

Each failure is a real one of the server (a serialization failure or deadlock raised inside
the command's transaction, a real deadlock between two transactions, connections terminated by
``pg_terminate_backend``), except the two commits whose answer is lost, which a wrapper of the
connection makes happen exactly at ``COMMIT``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from api import create_app
from kosiflow.catalog import WorkflowCatalog
from kosiflow.engine import Actor
from kosiflow.errors import StoreUnavailable
from kosiflow.services import Services
from kosiflow.store import Database, open_database
from tests.api.helpers import TestClient, assert_problem

pytestmark = pytest.mark.postgres

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
JANA = Actor("p-jana", frozenset({"coordinator"}))
WAIT_SECONDS = 30.0
"""How long a poll for the server's state may take before the test fails."""


def conninfo(url: str) -> str:
    """The libpq form of a SQLAlchemy URL, for plain psycopg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def app_name() -> str:
    """The ``application_name`` of this test's connections: only they are ever terminated."""
    return f"kosiflow_retries_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def url(postgres_url: str, app_name: str) -> str:
    with_name = make_url(postgres_url).update_query_dict({"application_name": app_name})
    return with_name.render_as_string(hide_password=False)


@pytest.fixture
def services(url: str) -> Iterator[Services]:
    catalog = WorkflowCatalog.from_folder(WORKFLOWS)
    database = open_database(url)
    catalog.register(database)
    yield Services(database, catalog)
    database.close()


@pytest.fixture
def sql(postgres_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection of the test itself (not named ``app_name``), in the test's schema,
    autocommitting."""
    with psycopg.connect(conninfo(postgres_url), autocommit=True) as connection:
        yield connection


def new_initiative(services: Services) -> str:
    return services.create("light-track", "Bank am Spielplatz", JANA).initiative_id


def notes(services: Services, initiative_id: str) -> int:
    """How many notes the initiative's history records."""
    return [e.type for e in services.history(initiative_id)].count("NoteAdded")


def fail_inserts_of_events(sql: psycopg.Connection[Any], times: int, sqlstate: str) -> None:
    """The next ``times`` inserts into ``events`` fail with ``sqlstate`` (a sequence counts
    them: it does not roll back with the failed transaction)."""
    sql.execute("CREATE SEQUENCE event_failures")
    sql.execute(f"""
        CREATE FUNCTION fail_event_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF nextval('event_failures') <= {times} THEN
                RAISE EXCEPTION 'provoked by the test' USING ERRCODE = '{sqlstate}';
            END IF;
            RETURN NEW;
        END $$""")
    sql.execute(
        "CREATE TRIGGER fail_event_insert BEFORE INSERT ON events "
        "FOR EACH ROW EXECUTE FUNCTION fail_event_insert()"
    )


def insert_attempts(sql: psycopg.Connection[Any]) -> int:
    row = sql.execute("SELECT last_value FROM event_failures").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("sqlstate", ["40001", "40P01"])
def test_a_serialization_failure_or_deadlock_is_run_again_and_applied_once(
    services: Services, sql: psycopg.Connection[Any], sqlstate: str
) -> None:
    initiative = new_initiative(services)
    fail_inserts_of_events(sql, 2, sqlstate)

    result = services.note(initiative, "Ortstermin am Montag", JANA, idempotency_key="k-1")

    assert insert_attempts(sql) == 3  # two failed tries, the third went through
    assert result.version == 2
    assert notes(services, initiative) == 1
    assert services.verify(initiative).ok
    again = services.note(initiative, "Ortstermin am Montag", JANA, idempotency_key="k-1")
    assert again.replayed
    assert again.version == 2


def test_after_the_last_try_the_api_answers_503_and_nothing_is_written(
    services: Services, sql: psycopg.Connection[Any]
) -> None:
    initiative = new_initiative(services)
    token = services.database.add_user("Jana Becker", ["coordinator"])[1]
    fail_inserts_of_events(sql, 1000, "40001")

    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        response = client.post(
            f"/api/v1/initiatives/{initiative}/notes",
            json={"text": "Ortstermin"},
            headers={"Authorization": f"Bearer {token}"},
        )

    body = assert_problem(response, 503)
    assert body["type"] == "urn:kosiflow:problem:store-unavailable"
    assert "try again" in body["detail"]
    assert "SQL" not in response.text
    assert "serializ" not in response.text
    assert response.headers["retry-after"] == "1"
    assert insert_attempts(sql) == 3
    assert services.progress(initiative).state.version == 1
    assert notes(services, initiative) == 0


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"waited {WAIT_SECONDS} s for {what}"
        time.sleep(0.01)


def test_a_real_deadlock_with_another_transaction_is_run_again(
    services: Services, sql: psycopg.Connection[Any], url: str, app_name: str
) -> None:
    """The command holds the initiative's row and waits for an advisory lock (taken by a
    trigger on ``events``) that another transaction holds, which then asks for the row."""
    initiative = new_initiative(services)
    sql.execute("""
        CREATE FUNCTION wait_for_advisory() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_advisory_xact_lock(4711); RETURN NEW; END $$""")
    sql.execute(
        "CREATE TRIGGER wait_for_advisory BEFORE INSERT ON events "
        "FOR EACH ROW EXECUTE FUNCTION wait_for_advisory()"
    )
    with psycopg.connect(conninfo(url)) as other, ThreadPoolExecutor(1) as pool:
        other.execute("SET deadlock_timeout = '60s'")  # the command's backend detects it first
        other.execute("SELECT pg_advisory_xact_lock(4711)")
        command = pool.submit(services.note, initiative, "Ratsbeschluss liegt vor", JANA)

        def command_waits() -> bool:
            row = sql.execute(
                "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid) "
                "WHERE locktype = 'advisory' AND NOT granted AND application_name = %s",
                [app_name],
            ).fetchone()
            return row is not None and row[0] > 0

        wait_for(command_waits, "the command to wait for the advisory lock")
        other.execute("SELECT 1 FROM initiatives WHERE id = %s FOR UPDATE", [initiative])
        other.commit()  # the command's first try was the deadlock's victim
        result = command.result(timeout=WAIT_SECONDS)

    assert result.version == 2
    assert notes(services, initiative) == 1


def terminate_connections(sql: psycopg.Connection[Any], app_name: str) -> int:
    rows = sql.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
        [app_name],
    ).fetchall()
    return len(rows)


def test_terminated_connections_are_replaced_and_the_command_goes_through(
    services: Services, sql: psycopg.Connection[Any], app_name: str
) -> None:
    initiative = new_initiative(services)
    services.note(initiative, "vorher", JANA)
    assert terminate_connections(sql, app_name) >= 1  # the pooled, idle connection

    result = services.note(initiative, "nachher", JANA)

    assert result.version == 3
    assert notes(services, initiative) == 2
    assert services.progress(initiative).state.version == 3  # reads go on, too


class _CommitLost:
    """A DBAPI connection whose ``COMMIT`` loses its answer: the connection closes right after
    committing (``committed=True``) or instead of committing, and the commit raises."""

    def __init__(self, connection: Any, *, committed: bool) -> None:
        self._connection = connection
        self._committed = committed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def commit(self) -> None:
        if self._committed:
            self._connection.commit()
        self._connection.close()
        raise psycopg.OperationalError("the connection was lost (injected at commit)")


def lose_next_commit(
    monkeypatch: pytest.MonkeyPatch, database: Database, *, committed: bool, times: int = 1
) -> None:
    borrow = database._borrow
    left = [times]

    def borrow_and_wrap() -> Any:
        lease = borrow()
        if left[0] > 0:
            left[0] -= 1
            lease.executor.dbapi = _CommitLost(lease.executor.dbapi, committed=committed)
        return lease

    monkeypatch.setattr(database, "_borrow", borrow_and_wrap)


@pytest.mark.parametrize("committed", [True, False], ids=["committed", "not-committed"])
@pytest.mark.parametrize("key", [None, "k-lost"], ids=["no-key", "key"])
def test_a_commit_whose_answer_is_lost_is_looked_up_and_applied_once(
    services: Services, monkeypatch: pytest.MonkeyPatch, committed: bool, key: str | None
) -> None:
    initiative = new_initiative(services)
    lose_next_commit(monkeypatch, services.database, committed=committed)

    result = services.note(initiative, "Protokoll verschickt", JANA, idempotency_key=key)

    assert result.version == 2
    assert notes(services, initiative) == 1
    assert services.verify(initiative).ok
    assert services.note(initiative, "danach", JANA).version == 3


def test_a_create_whose_commit_answer_is_lost_creates_one_initiative(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    lose_next_commit(monkeypatch, services.database, committed=True)

    result = services.create("light-track", "Sitzbank", JANA)

    assert [p.initiative_id for p in services.list_initiatives()] == [result.initiative_id]
    assert services.progress(result.initiative_id).state.version == 1


def test_a_commit_lost_on_every_try_is_reported_as_of_unknown_outcome(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    initiative = new_initiative(services)
    lose_next_commit(monkeypatch, services.database, committed=False, times=3)

    with pytest.raises(StoreUnavailable) as raised:
        services.note(initiative, "Protokoll", JANA, idempotency_key="k-unknown")

    assert raised.value.outcome_unknown
    assert notes(services, initiative) == 0
    result = services.note(initiative, "Protokoll", JANA, idempotency_key="k-unknown")
    assert result.version == 2
    assert not result.replayed
