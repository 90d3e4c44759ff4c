"""Who may call what: every route of the real app, for every kind of caller.

``API`` maps each (method, path) under /api/v1 to the status each caller gets. ``ELSEWHERE``
lists the routes outside /api/v1, tested elsewhere. A route in neither table fails
``test_every_route_is_in_exactly_one_table``, naming it: adding a route means deciding here
who may call it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from kosiflow.engine import Actor
from kosiflow.services import Services
from tests.api.apps import CALLERS, DemoApi, demo_api
from tests.api.sse_client import first_answer

Prepare = Callable[[Services, str, Actor], None]
Ids = Callable[[Services, str], dict[str, str]]


@dataclass(frozen=True)
class Case:
    """What each caller gets from one route, and the request that shows it."""

    expected: Mapping[str, int]
    body: dict[str, Any] | None = None
    fresh: bool = False
    """Act on a new initiative (a write) instead of the demo's bicycle garages (a read)."""
    prepare: Prepare | None = None
    """What happens to the new initiative before the request (as the coordinator)."""
    below: str = ""
    """For a mount: the file requested below it."""
    item: str = "challenge_defined"
    """The checklist item a path names."""
    ids: Ids | None = None
    """The path's other parameters, made for the request (given the initiative's id)."""
    stream: bool = False
    """A server-sent-events stream: read until its first message, then disconnect."""


OPEN = dict.fromkeys(CALLERS, 200)


def signed_in(coordinator: int, administration: int, auditor: int, admin: int) -> dict[str, int]:
    return {
        "anonymous": 401,
        "bad_token": 401,
        "coordinator": coordinator,
        "administration": administration,
        "auditor": auditor,
        "admin": admin,
    }


READ = signed_in(200, 200, 200, 200)


def write(coordinator: int, administration: int) -> dict[str, int]:
    """Auditors and admins read everything and change nothing."""
    return signed_in(coordinator, administration, 403, 403)


ADMIN = signed_in(403, 403, 403, 200)


def new_subscription(services: Services, _initiative: str) -> dict[str, str]:
    return {"subscription_id": services.add_subscription("https://lab.example/hook").id}


def new_delivery(services: Services, initiative: str) -> dict[str, str]:
    """A delivery of the initiative's first event, to a new subscription."""
    subscription = new_subscription(services, initiative)["subscription_id"]
    with services.database.write() as unit:
        unit.outbox.fan_out(limit=1_000_000, now=datetime.now(UTC))
    (delivery,) = [
        d
        for d in services.list_deliveries(subscription_id=subscription, limit=1_000_000).items
        if d.initiative_id == initiative
    ]
    return {"delivery_id": str(delivery.id)}


def tick_challenge(services: Services, initiative: str, actor: Actor) -> None:
    services.tick(initiative, "challenge_defined", actor, evidence="Protokoll")


def hold(services: Services, initiative: str, actor: Actor) -> None:
    services.hold(initiative, "Haushaltssperre", actor)


V1 = "/api/v1"
ONE = f"{V1}/initiatives/{{initiative_id}}"
API: dict[tuple[str, str], Case] = {
    ("GET", f"{V1}/openapi.json"): Case(OPEN),
    ("GET", f"{V1}/docs"): Case(OPEN),
    ("GET", f"{V1}/docs/static"): Case(OPEN, below="/swagger-ui.css"),
    ("GET", f"{V1}/health"): Case(OPEN),
    ("GET", f"{V1}/workflows"): Case(READ),
    ("GET", f"{V1}/workflows/{{workflow_id}}"): Case(READ),
    ("GET", f"{V1}/workflows/{{workflow_id}}/diagram"): Case(READ),
    ("POST", f"{V1}/initiatives"): Case(
        write(201, 403), body={"title": "Matrix", "workflow": "kosi-lab"}
    ),
    ("GET", f"{V1}/initiatives"): Case(READ),
    ("GET", ONE): Case(READ),
    ("GET", f"{ONE}/history"): Case(READ),
    ("GET", f"{ONE}/history/verify"): Case(READ),
    ("GET", f"{ONE}/diff"): Case(READ, below="?from=2000-01-01T00:00:00Z"),
    ("POST", f"{ONE}/checklist/{{item}}"): Case(
        write(200, 200), body={"evidence": "Protokoll"}, fresh=True
    ),
    ("DELETE", f"{ONE}/checklist/{{item}}"): Case(
        write(200, 200), body={"reason": "Neu verhandelt"}, fresh=True, prepare=tick_challenge
    ),
    # Only the administration signs off the start of co-creation, not the coordinator.
    ("POST", f"{ONE}/approvals"): Case(
        write(403, 200), body={"trigger": "start_co_creation"}, fresh=True
    ),
    ("POST", f"{ONE}/participants"): Case(
        write(201, 403), body={"name": "Ayla", "role": "science"}, fresh=True
    ),
    ("POST", f"{ONE}/transitions"): Case(
        write(200, 403), body={"trigger": "archive", "reason": "Matrix"}, fresh=True
    ),
    # Only the administration may waive the clarified resources.
    ("POST", f"{ONE}/checklist/{{item}}/waiver"): Case(
        write(403, 200), body={"reason": "Räume vorhanden"}, fresh=True, item="resources_clarified"
    ),
    ("POST", f"{ONE}/hold"): Case(write(200, 403), body={"reason": "Pause"}, fresh=True),
    ("POST", f"{ONE}/resume"): Case(write(200, 403), body={}, fresh=True, prepare=hold),
    ("POST", f"{ONE}/notes"): Case(write(200, 200), body={"text": "Notiz"}, fresh=True),
    ("GET", f"{V1}/audit/export"): Case(signed_in(403, 403, 200, 200)),
    ("GET", f"{V1}/reports/phase-durations"): Case(READ),
    ("GET", f"{V1}/stream"): Case(READ, stream=True),
    ("GET", f"{ONE}/stream"): Case(READ, stream=True),
    ("GET", f"{V1}/subscriptions"): Case(ADMIN),
    ("POST", f"{V1}/subscriptions"): Case(
        signed_in(403, 403, 403, 201), body={"url": "https://lab.example/hook"}
    ),
    ("GET", f"{V1}/subscriptions/{{subscription_id}}"): Case(ADMIN, ids=new_subscription),
    ("DELETE", f"{V1}/subscriptions/{{subscription_id}}"): Case(
        signed_in(403, 403, 403, 204), ids=new_subscription
    ),
    ("GET", f"{V1}/deliveries"): Case(ADMIN),
    ("POST", f"{V1}/deliveries/{{delivery_id}}/redeliver"): Case(
        ADMIN, fresh=True, ids=new_delivery
    ),
    ("POST", f"{V1}/deliveries/{{delivery_id}}/skip"): Case(ADMIN, fresh=True, ids=new_delivery),
}

ELSEWHERE = {
    # The HTML pages, their sign-in (session cookie and CSRF) and their static files: who may
    # see and do what is tested in tests/pages/ (roles, CSRF, sign-in) and tests/browser/.
    ("GET", "/"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/initiatives"),
    ("GET", "/initiatives/{initiative_id}"),
    ("GET", "/initiatives/{initiative_id}/history"),
    ("GET", "/initiatives/{initiative_id}/history.{format}"),
    ("POST", "/initiatives/{initiative_id}/tick/{item}"),
    ("POST", "/initiatives/{initiative_id}/reopen/{item}"),
    ("POST", "/initiatives/{initiative_id}/waive/{item}"),
    ("POST", "/initiatives/{initiative_id}/approve/{trigger}"),
    ("POST", "/initiatives/{initiative_id}/fire/{trigger}"),
    ("POST", "/initiatives/{initiative_id}/hold"),
    ("POST", "/initiatives/{initiative_id}/resume"),
    ("POST", "/initiatives/{initiative_id}/notes"),
    ("POST", "/initiatives/{initiative_id}/participants"),
    ("GET", "/static"),
    # The workflow page, the statistics page and its downloads (any signed-in user) and the
    # audit report with its PDF (auditors and coordinators): tests/pages/test_workflow_page.py,
    # test_statistics_page.py, test_report_page.py and tests/browser/test_report_pdf.py.
    ("GET", "/workflows/{workflow_id}"),
    ("GET", "/statistics"),
    ("GET", "/statistics.{format}"),
    ("GET", "/initiatives/{initiative_id}/report"),
    ("GET", "/initiatives/{initiative_id}/report.pdf"),
    # The pages' streams of changes (any signed-in session; 401 without): tests/api/test_stream.py.
    ("GET", "/live"),
    ("GET", "/initiatives/{initiative_id}/live"),
    # Prometheus metrics: open, or only with the scraping token when KOSIFLOW_METRICS_TOKEN is
    # set (tests/api/test_metrics.py).
    ("GET", "/metrics"),
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApi]:
    with demo_api(tmp_path_factory.mktemp("authorization") / "demo.db") as served:
        yield served


def routes_of_the_app(demo: DemoApi) -> set[tuple[str, str]]:
    """Every (method, path) the app answers; a mount counts as GET, HEAD goes with GET."""
    found = set()
    for route in iter_route_contexts(demo.app.routes):
        for method in (route.methods or {"GET"}) - {"HEAD"}:
            found.add((method, route.path))
    return found


def test_every_route_is_in_exactly_one_table(demo: DemoApi) -> None:
    routes = routes_of_the_app(demo)
    unlisted = sorted(routes - API.keys() - ELSEWHERE)
    assert not unlisted, (
        f"routes without an authorization row (add them to API or ELSEWHERE): {unlisted}"
    )
    gone = sorted((API.keys() | ELSEWHERE) - routes)
    assert not gone, f"rows for routes the app no longer has: {gone}"
    assert not API.keys() & ELSEWHERE
    assert all(path.startswith(f"{V1}/") for _, path in API)
    assert not any(path.startswith(f"{V1}/") for _, path in ELSEWHERE)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "path"), sorted(API))
def test_each_caller_gets_the_status_of_the_table(
    demo: DemoApi, method: str, path: str, caller: str
) -> None:
    case = API[(method, path)]
    initiative = demo.garages
    if case.fresh:
        initiative = demo.services.create("kosi-lab", "Matrix", demo.coordinator).initiative_id
        if case.prepare is not None:
            case.prepare(demo.services, initiative, demo.coordinator)
    ids = {} if case.ids is None else case.ids(demo.services, initiative)
    url = path.format(initiative_id=initiative, item=case.item, workflow_id="kosi-lab", **ids)
    before = len(list(demo.services.history(initiative)))
    if case.stream:
        status, headers, body = asyncio.run(first_answer(demo.app, url, demo.headers[caller]))
        response = httpx.Response(status, headers=headers, content=body)
    else:
        response = demo.client.request(
            method, url + case.below, json=case.body, headers=demo.headers[caller]
        )
    expected = case.expected[caller]
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert len(list(demo.services.history(initiative))) == before
    if expected == 401:
        assert response.headers["www-authenticate"] == "Bearer"
