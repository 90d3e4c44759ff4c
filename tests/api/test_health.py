"""``GET /api/v1/health``: 200 with what an operator needs when the database answers, 503
naming the database when it does not; never a secret, a URL or SQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from api import create_app
from kosiflow.catalog import WorkflowCatalog
from kosiflow.services import Services
from kosiflow.store import head_revision, open_database
from tests.api.apps import api_on
from tests.api.helpers import WORKFLOWS, Api, TestClient, assert_problem
from tests.api.real_server import free_port


@pytest.fixture
def unreachable() -> Iterator[TestClient]:
    """The app over a PostgreSQL server that is not there (a port nobody listens on)."""
    url = f"postgresql+psycopg://labuser:geheim@127.0.0.1:{free_port()}/lab"
    database = open_database(url, auto_upgrade=False)  # connects only when asked
    try:
        services = Services(database, WorkflowCatalog.from_folder(WORKFLOWS))
        with TestClient(create_app(services)) as client:
            yield client
    finally:
        database.close()


def test_health_needs_no_token_and_tells_backend_schema_and_backlog(api: Api) -> None:
    response = api.client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "backend": "sqlite",
        "version": response.json()["version"],
        "migrations": {
            "revision": head_revision(),
            "expected": head_revision(),
            "up_to_date": True,
        },
        "outbox": {"waiting": 0, "pending": 0, "dead": 0, "oldest_pending_age_seconds": None},
    }
    assert response.json()["version"]
    assert "api.db" not in response.text  # no path, no URL


def test_health_counts_the_outbox_backlog_and_the_age_of_its_oldest_event(api: Api) -> None:
    before = datetime.now(UTC)
    initiative = api.create()
    created = len(list(api.services.history(initiative)))
    api.services.add_subscription("https://lab.example/hook")
    with api.services.database.write() as unit:  # one dispatcher round: outbox → deliveries
        unit.outbox.fan_out(limit=1_000_000, now=datetime.now(UTC))
    api.call("POST", f"/initiatives/{initiative}/notes", json={"text": "danach"})
    with api.services.database.engine.begin() as connection:
        connection.execute(text("UPDATE deliveries SET status = 'dead' WHERE seq = 1"))
    outbox = api.client.get("/api/v1/health").json()["outbox"]
    waited = (datetime.now(UTC) - before).total_seconds()
    assert outbox["waiting"] == 1  # the note's event, not yet matched
    assert (outbox["pending"], outbox["dead"]) == (created - 1, 1)  # the first one died
    assert 0 <= outbox["oldest_pending_age_seconds"] <= waited


def test_health_is_degraded_but_200_when_the_schema_is_not_this_versions(api: Api) -> None:
    with api.services.database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    response = api.client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["migrations"] == {
        "revision": "0001",
        "expected": head_revision(),
        "up_to_date": False,
    }


@pytest.mark.postgres
def test_health_on_postgresql_names_the_backend_and_nothing_of_the_url(postgres_url: str) -> None:
    with api_on(postgres_url) as api:
        response = api.client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["backend"] == "postgresql"
    assert response.json()["migrations"]["up_to_date"] is True
    assert "127.0.0.1" not in response.text
    assert "search_path" not in response.text


def test_health_is_503_naming_the_database_when_it_is_unreachable(
    unreachable: TestClient,
) -> None:
    response = unreachable.get("/api/v1/health")
    body = assert_problem(response, 503)
    assert body["type"] == "urn:kosiflow:problem:database-unreachable"
    assert body["detail"] == "The database (postgresql) is unreachable."
    (error,) = body["errors"]
    assert (error["code"], error["field"], error["params"]) == (
        "database_unreachable",
        "database",
        {"backend": "postgresql"},
    )
    for secret in ("geheim", "labuser", "127.0.0.1", "psycopg", "connection", "SELECT"):
        assert secret not in response.text


def test_the_api_reference_documents_the_health_answer_and_its_503(api: Api) -> None:
    document = api.client.get("/api/v1/openapi.json").json()
    answers = document["paths"]["/api/v1/health"]["get"]["responses"]
    assert "security" not in document["paths"]["/api/v1/health"]["get"]
    example = answers["503"]["content"]["application/problem+json"]["example"]
    assert example["errors"][0]["code"] == "database_unreachable"
    schema = document["components"]["schemas"]["HealthOut"]
    assert {"status", "database", "backend", "migrations", "outbox"} <= set(schema["required"])
    assert schema["examples"][0]["outbox"]["pending"] == 2
