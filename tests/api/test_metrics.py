"""``GET /metrics``: requests by route template, commands by outcome, the outbox backlog and the
processes, in Prometheus' text format; with several workers, one scrape sums them all.

The request and command metrics count for the whole test process, so the tests compare the
values before and after what they do.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from api import create_app
from kosiflow.catalog import WorkflowCatalog
from kosiflow.services import Services
from kosiflow.store import open_database
from tests.api.helpers import WORKFLOWS, Api, TestClient, assert_problem
from tests.api.real_server import RealServer, free_port

DURATION = "kosiflow_http_request_duration_seconds"
PROGRESS = "/api/v1/initiatives/{initiative_id}"


def scrape(client: TestClient | httpx.Client, **headers: str) -> list[Sample]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return [s for family in text_string_to_metric_families(response.text) for s in family.samples]


def value(samples: list[Sample], name: str, **labels: str) -> float:
    """The sample's value (0 when there is none yet)."""
    found = [s.value for s in samples if s.name == name and s.labels == labels]
    assert len(found) <= 1
    return found[0] if found else 0.0


def requests(samples: list[Sample], method: str, route: str, status: int) -> float:
    return value(samples, f"{DURATION}_count", method=method, route=route, status=str(status))


def test_requests_are_counted_and_timed_by_method_route_template_and_status(api: Api) -> None:
    initiative = api.create()
    before = scrape(api.client)
    for _ in range(3):
        assert api.call("GET", f"/initiatives/{initiative}").status_code == 200
    assert api.call("GET", "/initiatives/nicht-da").status_code == 404
    assert api.call("POST", f"/initiatives/{initiative}/notes", json={"text": "x"}).status_code == (
        200
    )
    assert api.client.get("/api/v1/workflows").status_code == 401
    after = scrape(api.client)

    def more(method: str, route: str, status: int) -> float:
        return requests(after, method, route, status) - requests(before, method, route, status)

    assert more("GET", PROGRESS, 200) == 3
    assert more("GET", PROGRESS, 404) == 1
    assert more("POST", f"{PROGRESS}/notes", 200) == 1
    assert more("GET", "/api/v1/workflows", 401) == 1
    assert more("GET", "/metrics", 200) == 1  # the first scrape, timed once it was answered
    buckets = [
        s
        for s in after
        if s.name == f"{DURATION}_bucket"
        and s.labels["route"] == PROGRESS
        and s.labels["status"] == "200"
    ]
    assert buckets[-1].labels["le"] == "+Inf"
    assert buckets[-1].value == requests(after, "GET", PROGRESS, 200)
    assert value(after, f"{DURATION}_sum", method="GET", route=PROGRESS, status="200") > 0


def test_the_label_set_stays_bounded_whatever_the_clients_send(api: Api) -> None:
    ids = [str(uuid.uuid4()) for _ in range(20)]
    before = scrape(api.client)
    for made_up in ids:
        api.client.get(f"/{made_up}")
        api.call("GET", f"/initiatives/{made_up}/history")
        api.client.request(f"X{made_up[:8].upper()}", "/api/v1/health")
    after = scrape(api.client)
    routes = {s.labels["route"] for s in after if s.name == f"{DURATION}_count"}
    assert not any(made_up in route for made_up in ids for route in routes)
    assert (
        requests(after, "GET", "unmatched", 404) - requests(before, "GET", "unmatched", 404) == 20
    )
    history = f"{PROGRESS}/history"
    assert requests(after, "GET", history, 404) - requests(before, "GET", history, 404) == 20
    methods = {s.labels["method"] for s in after if s.name == f"{DURATION}_count"}
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"}
    others = [s for s in after if s.name == f"{DURATION}_count" and s.labels["method"] == "OTHER"]
    assert sum(s.value for s in others) >= 20


def test_commands_are_counted_by_kind_and_outcome(api: Api) -> None:
    def commands(samples: list[Sample], kind: str, outcome: str) -> float:
        return value(samples, "kosiflow_commands_total", kind=kind, outcome=outcome)

    before = scrape(api.client)
    initiative = api.create()
    item = f"/initiatives/{initiative}/checklist/challenge_defined"
    assert api.call("POST", item, json={"evidence": "Protokoll"}, Idempotency_Key="k1").is_success
    assert api.call("POST", item, json={"evidence": "Protokoll"}, Idempotency_Key="k1").is_success
    fire = {"trigger": "start_co_creation"}
    assert api.call("POST", f"/initiatives/{initiative}/transitions", json=fire).status_code == 409
    stale = api.call("POST", item + "/waiver", json={"reason": "r"}, If_Match='"1"')
    assert stale.status_code == 412
    assert api.call("POST", "/initiatives/nicht-da/notes", json={"text": "x"}).status_code == 404
    after = scrape(api.client)

    def more(kind: str, outcome: str) -> float:
        return commands(after, kind, outcome) - commands(before, kind, outcome)

    assert more("CreateInitiative", "accepted") == 1
    assert more("TickItem", "accepted") == 1
    assert more("TickItem", "replayed") == 1
    assert more("FireTrigger", "refused") == 1
    assert more("WaiveItem", "conflict") == 1
    assert more("AddNote", "invalid") == 1


def test_a_scrape_tells_the_database_and_the_outbox_backlog(api: Api) -> None:
    events = len(list(api.services.history(api.create())))
    samples = scrape(api.client)
    assert value(samples, "kosiflow_database_up") == 1
    assert value(samples, "kosiflow_schema_current") == 1
    assert value(samples, "kosiflow_outbox_waiting_events") == events
    assert value(samples, "kosiflow_webhook_deliveries", status="pending") == 0
    assert value(samples, "kosiflow_webhook_deliveries", status="dead") == 0
    assert value(samples, "kosiflow_outbox_oldest_pending_age_seconds") >= 0
    (info,) = [s for s in samples if s.name == "kosiflow_build_info"]
    assert info.labels["backend"] == "sqlite"
    assert value(samples, "process_resident_memory_bytes") > 0
    assert value(samples, "process_cpu_seconds_total") > 0


@pytest.fixture
def unreachable() -> Iterator[TestClient]:
    database = open_database(
        f"postgresql+psycopg://lab@127.0.0.1:{free_port()}/lab", auto_upgrade=False
    )
    try:
        services = Services(database, WorkflowCatalog.from_folder(WORKFLOWS))
        with TestClient(create_app(services)) as client:
            yield client
    finally:
        database.close()


def test_a_scrape_without_the_database_says_so_and_still_answers(unreachable: TestClient) -> None:
    samples = scrape(unreachable)
    assert value(samples, "kosiflow_database_up") == 0
    assert not [s for s in samples if s.name.startswith("kosiflow_outbox")]
    assert value(samples, "process_resident_memory_bytes") > 0


def test_with_a_metrics_token_only_its_bearer_may_scrape(api: Api) -> None:
    token = "scrape-only"  # noqa: S105
    with TestClient(create_app(api.services, metrics_token=token)) as client:
        wrong = ({"Authorization": "Bearer falsch"}, {"Authorization": "Bearer größer".encode()})
        for headers in ({}, *wrong, api.headers("root")):
            response = client.get("/metrics", headers=headers)
            assert_problem(response, 401)
            assert response.headers["www-authenticate"] == "Bearer"
        samples = scrape(client, Authorization=f"Bearer {token}")
    assert value(samples, "kosiflow_database_up") == 1


@pytest.mark.slow
def test_one_scrape_sums_every_worker_of_serve(tmp_path: Path) -> None:
    """``serve --workers 2`` with ``PROMETHEUS_MULTIPROC_DIR`` set: the directory is emptied at
    start; requests are sent on new connections until both workers have answered some; the
    scrape (answered by one of them) counts every one, and shows the processes of both."""
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_999999.db").write_bytes(b"left over from an earlier run")
    server = RealServer(tmp_path)
    server.env["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    server.start(workers=2)
    try:
        assert not (directory / "counter_999999.db").exists()
        sent = 0
        while len(list(directory.glob("histogram_*.db"))) < 2:
            assert sent < 1000, "one worker took every connection"
            assert httpx.get(f"{server.url}/workflows", timeout=10).status_code == 401
            sent += 1
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as client:
            samples = scrape(client)
        assert requests(samples, "GET", "/api/v1/workflows", 401) == sent
        assert value(samples, "kosiflow_worker_starts_total") == 2
        pids = {s.labels["pid"] for s in samples if s.name == "process_cpu_seconds_total"}
        assert len(pids) == 2
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=60) == 0
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_serve_takes_the_metrics_token_from_the_environment(tmp_path: Path, workers: int) -> None:
    """``KOSIFLOW_METRICS_TOKEN`` guards ``/metrics`` of ``serve``: with one worker (the app
    built in the serving process) and with several (each worker builds it from the
    environment, :mod:`api.asgi`)."""
    token = "scrape-from-env"  # noqa: S105
    server = RealServer(tmp_path)
    server.env["KOSIFLOW_METRICS_TOKEN"] = token
    server.start(workers=workers)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as client:
            for _ in range(8):  # on new connections: with two workers, both are likely asked
                assert_problem(client.get("/metrics", headers={"Connection": "close"}), 401)
            samples = scrape(client, Authorization=f"Bearer {token}")
        assert value(samples, "kosiflow_database_up") == 1
    finally:
        server.stop()
