"""The browsable docs work offline, and the OpenAPI document is complete."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pydantic import BaseModel

from tests.api.helpers import Api

METHODS = ("get", "put", "post", "delete", "patch")


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every (method, path, operation) of the document."""
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


@pytest.fixture
def document(api: Api) -> dict[str, Any]:
    response = api.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def resolved(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with a top-level ``$ref`` followed into the components."""
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = document["components"]["schemas"][name]
    return schema


def has_examples(document: dict[str, Any], media: dict[str, Any]) -> bool:
    """The media type, or the schema it names (for a list: its items), carries an example."""
    if "example" in media or "examples" in media:
        return True
    schema = resolved(document, media.get("schema", {}))
    if schema.get("type") == "array":
        schema = resolved(document, schema["items"])
    return bool(schema.get("examples"))


def test_the_docs_page_loads_swagger_ui_from_our_own_assets(api: Api) -> None:
    page = api.client.get("/api/v1/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "SwaggerUIBundle" in html
    assert "'/api/v1/openapi.json'" in html
    assert "http://" not in html
    assert "https://" not in html
    assets = re.findall(r'(?:href|src)="([^"]+)"', html)
    assert sorted(assets) == [
        "/api/v1/docs/static/favicon.png",
        "/api/v1/docs/static/swagger-ui-bundle.js",
        "/api/v1/docs/static/swagger-ui.css",
    ]
    for asset in assets:
        response = api.client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.content) > 1000, asset


def test_swagger_ui_asks_no_online_validator(api: Api) -> None:
    assert '"validatorUrl": null' in api.client.get("/api/v1/docs").text


def test_the_openapi_document_needs_no_token(api: Api) -> None:
    response = api.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "kosiflow"


def test_every_operation_has_a_summary_and_a_description(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        assert operation.get("summary"), f"{method} {path} has no summary"
        assert operation.get("description"), f"{method} {path} has no description"


def test_every_request_body_and_success_answer_has_an_example(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        body = operation.get("requestBody", {}).get("content", {})
        for media_type, media in body.items():
            assert has_examples(document, media), f"{method} {path}: no {media_type} example"
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                for media_type, media in response.get("content", {}).items():
                    assert has_examples(document, media), (
                        f"{method} {path} {status}: no {media_type} example"
                    )


def models_with_examples() -> list[type[BaseModel]]:
    """Every model of the API (``api.*``) that carries examples for the docs."""
    found, seen = [], [BaseModel]
    while seen:
        for model in seen.pop().__subclasses__():
            seen.append(model)
            extra = model.model_config.get("json_schema_extra")
            if model.__module__.startswith("api.") and isinstance(extra, dict):
                found.append(model)
    return found


def test_every_example_is_valid_for_its_model(document: dict[str, Any]) -> None:
    checked = set()
    for model in models_with_examples():
        extra = model.model_config.get("json_schema_extra")
        assert isinstance(extra, dict)
        examples = extra["examples"]
        assert isinstance(examples, list)
        for example in examples:
            model.model_validate_json(json.dumps(example))
        checked.add(model.__name__)
    assert checked <= set(document["components"]["schemas"])
    assert {"CreateIn", "TickIn", "ProgressOut", "ProblemOut", "HistoryPageOut"} <= checked


def expected_statuses(method: str, operation: dict[str, Any]) -> set[str]:
    """What an operation of this shape may answer besides its success, whatever its route."""
    names = {p["name"] for p in operation.get("parameters", [])}
    where = {p["in"] for p in operation.get("parameters", [])}
    statuses = {"413", "500", "503"}  # a body over the limit, a failure, the database away
    if operation.get("security"):
        statuses.add("401")
    if "requestBody" in operation:
        statuses |= {"400", "422"}  # a body that is not text, or not valid
    if "query" in where:
        statuses.add("422")
    if {"initiative_id", "workflow_id"} & names:
        statuses.add("404")
    if method in {"POST", "DELETE"}:
        statuses |= {"403", "409", "422"}  # wrong role, refused by the rules, bad header
    if "If-Match" in names:
        statuses.add("412")
    return statuses


def test_every_operation_documents_each_status_it_can_return(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        documented = set(operation["responses"])
        missing = expected_statuses(method, operation) - documented
        assert not missing, f"{method} {path} does not document {sorted(missing)}"
        successes = [s for s in documented if s.startswith("2")]
        assert len(successes) == 1, f"{method} {path} documents successes {successes}"


def test_every_error_answer_is_documented_as_problem_details(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                content = response.get("content", {})
                assert list(content) == ["application/problem+json"], f"{method} {path} {status}"
                schema = content["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ProblemOut"}


def test_the_write_headers_are_documented(document: dict[str, Any]) -> None:
    tick = document["paths"]["/api/v1/initiatives/{initiative_id}/checklist/{item}"]["post"]
    headers = {p["name"]: p for p in tick["parameters"] if p["in"] == "header"}
    assert {"if-match", "idempotency-key", "accept-language"} <= set(headers)
    assert "422" in headers["idempotency-key"]["description"]
