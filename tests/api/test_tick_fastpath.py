"""The tick's fast path (``api/tick_fastpath.py``) answers exactly as the route does.

Two apps over the same services (whose clock stands still): one with the fast path, one
without. Two initiatives in the same state, one per app, get the same requests; every answer —
status, headers, body — is the same but for the initiative's id. Requests the fast path leaves
to the route (no or a bad token, an auditor, a body or header the route refuses) still get the
route's answer through the app with the fast path.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import api.tick_fastpath
from api import create_app
from api.tick_fastpath import TickFastPath
from kosiflow.catalog import WorkflowCatalog
from kosiflow.services import Services
from kosiflow.store import open_database
from tests.api.helpers import USERS, WORKFLOWS, TestClient

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    catalog = WorkflowCatalog.from_folder(WORKFLOWS)
    database = open_database(f"sqlite:///{tmp_path / 'api.db'}")
    catalog.register(database)
    yield Services(database, catalog, clock=lambda: NOW)
    database.close()


@pytest.fixture
def tokens(services: Services) -> dict[str, str]:
    return {key: services.database.add_user(name, roles)[1] for key, (name, roles) in USERS.items()}


@pytest.fixture
def clients(services: Services) -> Iterator[tuple[TestClient, TestClient]]:
    fast = create_app(services)
    route = create_app(services)
    route.user_middleware = [m for m in route.user_middleware if m.cls is not TickFastPath]
    with TestClient(fast) as fast_client, TestClient(route) as route_client:
        yield fast_client, route_client


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Per request through the fast path's app: whether the fast path ran the tick itself."""
    seen: list[bool] = []
    read = TickFastPath._write

    async def write(self: TickFastPath, scope: Any, body: bytes) -> Any:
        found = await read(self, scope, body)
        seen.append(found is not None)
        return found

    monkeypatch.setattr(api.tick_fastpath.TickFastPath, "_write", write)
    return seen


def _same(fast: httpx.Response, route: httpx.Response, fast_id: str, route_id: str) -> None:
    assert fast.status_code == route.status_code, (fast.text, route.text)
    assert fast.text.replace(fast_id, route_id).replace("k-1f", "k-1r") == route.text
    assert sorted(fast.headers.multi_items()) == sorted(route.headers.multi_items())


def _side(sent: dict[str, Any], side: str = "f") -> dict[str, Any]:
    """``sent`` with an idempotency key of one side's own (keys are per user, not per
    initiative: each app's initiative gets its own, of the same length)."""
    headers = dict(sent["headers"])
    if "Idempotency-Key" in headers and len(headers["Idempotency-Key"]) < 200:
        headers["Idempotency-Key"] += side
    return {**sent, "headers": headers}


CASES: list[tuple[str, dict[str, Any] | str, dict[str, str], bool]] = [
    # item, body, headers (who: the user), whether the fast path runs it
    ("core_team_named", {}, {"who": "jana"}, True),
    ("challenge_defined", {"evidence": "Protokoll", "note": "<b>"}, {"who": "jana"}, True),
    ("actor_mapping", {"evidence": "Karte"}, {"who": "jana", "Accept-Language": "de"}, True),
    ("core_team_named", {}, {"who": "jana"}, True),  # done already: 409
    ("no_such_item", {}, {"who": "jana", "Accept-Language": "de"}, True),  # 404
    ("mandate_secured", {"evidence": "x"}, {"who": "jana"}, True),  # not their role: 403
    ("resources_clarified", {}, {"who": "jana", "If-Match": '"1"'}, True),  # stale: 412
    ("resources_clarified", {}, {"who": "jana", "If-Match": 'W/"4"'}, True),
    ("kickoff_dialogue", {"evidence": "Foto"}, {"who": "jana", "Idempotency-Key": "k-1"}, True),
    ("kickoff_dialogue", {"evidence": "Foto"}, {"who": "jana", "Idempotency-Key": "k-1"}, True),
    ("mandate_secured", {"evidence": "x"}, {"who": "jana", "Idempotency-Key": "k-1"}, True),
    ("mandate_secured", {"evidence": "Beschluss"}, {"who": "thomas"}, True),
    # left to the route
    ("mandate_secured", {}, {}, False),  # no token: 401
    ("mandate_secured", {}, {"who": "renate"}, False),  # an auditor: 403
    ("mandate_secured", {"evidence": 7}, {"who": "jana"}, False),  # 422
    ("mandate_secured", {"unknown": "x"}, {"who": "jana"}, False),  # 422
    ("mandate_secured", "not json", {"who": "jana"}, False),  # 422
    ("mandate_secured", {}, {"who": "jana", "If-Match": "seven"}, False),  # 422
    ("mandate_secured", {}, {"who": "jana", "Idempotency-Key": "k" * 201}, False),  # 422
]


def test_the_fast_path_answers_as_the_route(
    services: Services,
    tokens: dict[str, str],
    clients: tuple[TestClient, TestClient],
    taken: list[bool],
) -> None:
    fast_client, route_client = clients
    jana = {"Authorization": f"Bearer {tokens['jana']}"}
    fast_id, route_id = (
        client.post(
            "/api/v1/initiatives",
            json={"title": "Fahrradgaragen", "workflow": "kosi-lab"},
            headers=jana,
        ).json()["id"]
        for client in clients
    )
    for item, body, given, fast_path in CASES:
        headers = {k: v for k, v in given.items() if k != "who"}
        if "who" in given:
            headers["Authorization"] = f"Bearer {tokens[given['who']]}"
        content = body if isinstance(body, str) else None
        data = None if isinstance(body, str) else body
        sent = {
            "headers": {"Content-Type": "application/json", **headers},
            "content": content,
            "json": data,
        }
        taken.clear()
        fast = fast_client.post(f"/api/v1/initiatives/{fast_id}/checklist/{item}", **_side(sent))
        assert taken == [fast_path], (item, given)
        route = route_client.post(
            f"/api/v1/initiatives/{route_id}/checklist/{item}", **_side(sent, "r")
        )
        _same(fast, route, fast_id, route_id)
    assert len(list(services.history(fast_id))) == len(list(services.history(route_id))) > 5
    assert services.verify(fast_id).ok


def test_an_unknown_initiative_is_404_on_both(
    tokens: dict[str, str], clients: tuple[TestClient, TestClient], taken: list[bool]
) -> None:
    headers = {"Authorization": f"Bearer {tokens['jana']}"}
    fast, route = (
        client.post("/api/v1/initiatives/nowhere/checklist/x", json={}, headers=headers)
        for client in clients
    )
    assert taken == [True]
    assert fast.status_code == 404
    _same(fast, route, "", "")
