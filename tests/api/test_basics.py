"""OpenAPI, authentication, languages, workflows and the catch-all errors (health:
test_health.py)."""

from __future__ import annotations

import pytest

from api import create_app
from api.deps import language_of
from tests.api.helpers import Api, TestClient, assert_problem


def test_an_unexpected_error_is_a_500_problem_without_a_traceback(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("Traceback: secret internals")

    monkeypatch.setattr(api.services, "progress", broken)
    with TestClient(create_app(api.services), raise_server_exceptions=False) as client:
        response = client.get("/api/v1/initiatives/x", headers=api.headers("jana"))
    body = assert_problem(response, 500)
    assert "secret" not in response.text
    assert body["detail"] == "Something went wrong on our side."


def test_openapi_documents_every_route_with_its_problems(api: Api) -> None:
    document = api.client.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    assert set(paths) >= {
        "/api/v1/health",
        "/api/v1/workflows",
        "/api/v1/workflows/{workflow_id}",
        "/api/v1/initiatives",
        "/api/v1/initiatives/{initiative_id}",
        "/api/v1/initiatives/{initiative_id}/checklist/{item}",
        "/api/v1/initiatives/{initiative_id}/approvals",
        "/api/v1/initiatives/{initiative_id}/participants",
        "/api/v1/initiatives/{initiative_id}/transitions",
        "/api/v1/initiatives/{initiative_id}/hold",
        "/api/v1/initiatives/{initiative_id}/resume",
        "/api/v1/initiatives/{initiative_id}/notes",
        "/api/v1/initiatives/{initiative_id}/history",
        "/api/v1/initiatives/{initiative_id}/history/verify",
    }
    fire = paths["/api/v1/initiatives/{initiative_id}/transitions"]["post"]["responses"]
    assert set(fire) >= {"200", "401", "403", "404", "409", "412", "422"}
    assert "application/problem+json" in fire["409"]["content"]
    assert "HTTPBearer" in document["components"]["securitySchemes"]


@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Basic abc"])
def test_a_missing_or_unknown_token_is_401(api: Api, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = api.client.get("/api/v1/initiatives", headers=headers)
    body = assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"
    assert "token" in body["detail"]


def test_an_unknown_route_is_a_404_problem(api: Api) -> None:
    assert_problem(api.call("GET", "/nowhere"), 404)


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "en"),
        ("de", "de"),
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("en;q=0.5, de;q=0.9", "de"),
        ("fr, de;q=0.1", "de"),
        ("fr", "en"),
        ("de;q=0, en", "en"),
        ("de;q=x", "en"),
    ],
)
def test_the_language_follows_accept_language(header: str | None, lang: str) -> None:
    assert language_of(header) == lang


def test_workflows_are_listed_in_the_requested_language(api: Api) -> None:
    response = api.call("GET", "/workflows", Accept_Language="de")
    assert response.status_code == 200
    by_id = {w["id"]: w for w in response.json()}
    assert by_id["kosi-lab"]["title"] == "Kommunales Labor sozialer Innovation"
    assert by_id["kosi-lab"]["phases"][0] == "initiation"
    assert by_id["kosi-lab"]["version"] == 1


def test_one_workflow_has_its_checklists_and_steps(api: Api) -> None:
    response = api.call("GET", "/workflows/kosi-lab", "renate")
    assert response.status_code == 200
    body = response.json()
    initiation = body["phases"][0]
    assert initiation["id"] == "initiation"
    assert initiation["checklist"][1] == {
        "id": "mandate_secured",
        "title": "Mandate or sponsor secured",
        "roles": ["administration"],
        "evidence": "required",
        "optional": False,
        "waivable_by": [],
    }
    start = next(t for t in body["transitions"] if t["trigger"] == "start_co_creation")
    assert start["approvals"] == ["administration"]
    assert start["sectors"] == 3


def test_an_unknown_workflow_is_404(api: Api) -> None:
    body = assert_problem(api.call("GET", "/workflows/nope"), 404)
    assert body["type"] == "urn:kosiflow:problem:workflow-not-found"


def test_workflows_need_a_token(api: Api) -> None:
    assert_problem(api.client.get("/api/v1/workflows"), 401)
