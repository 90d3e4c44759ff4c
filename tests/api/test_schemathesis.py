"""Property-based tests from the OpenAPI document (schemathesis), through the ASGI app.

For each caller (coordinator, auditor, admin, anonymous), every operation gets requests
generated from the document: its examples, then valid and invalid requests. Every answer must
carry a documented status and match the documented schema, content type and headers, and none
may be a server error. Path parameters name the demo's real initiative and workflow, so the
requests reach the rules instead of stopping at a 404. Generation is derandomized and bounded
(``EXAMPLES_PER_STRATEGY`` valid and as many invalid requests per operation): the same requests
on every run, about half a minute for all callers.

schemathesis' own pytest integration for fixtures (``schemathesis.pytest.from_fixture``) does
not run under pytest 9, so the operations' strategies drive plain Hypothesis tests here.

The second half pins what those requests found, one test per defect that was fixed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import suppress

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from kosiflow.store import ReadUnit
from tests.api.apps import DemoApi, demo_api
from tests.api.helpers import TestClient, assert_problem

CALLERS = ("coordinator", "auditor", "admin", "anonymous")
EXAMPLES_PER_STRATEGY = 10

CONFIG = {
    "checks": {
        # A valid request may still be refused by the workflow (403, 409), meet a stale If-Match
        # (412) or break a rule the document cannot state (422: a role the workflow lacks, a
        # moment before the initiative existed, an Idempotency-Key used for another request).
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "401", "403", "404", "409", "412", "422"]
        },
    }
}


@pytest.fixture
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApi]:
    with demo_api(tmp_path_factory.mktemp("schemathesis") / "demo.db") as served:
        yield served


def streams_of(demo: DemoApi) -> set[tuple[str, str]]:
    """The operations answering with a server-sent-events stream."""
    return {
        (method.upper(), path)
        for path, methods in demo.app.openapi()["paths"].items()
        for method, operation in methods.items()
        if "text/event-stream" in operation["responses"].get("200", {}).get("content", {})
    }


def check_operation(
    strategy: st.SearchStrategy[schemathesis.Case], headers: Mapping[str, str]
) -> None:
    """Send what ``strategy`` generates; every answer must keep the documented contract."""

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES_PER_STRATEGY,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def sent(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=dict(headers))

    sent()


@pytest.mark.parametrize("caller", CALLERS)
def test_every_answer_keeps_the_documented_contract(
    demo: DemoApi, caller: str, subtests: pytest.Subtests
) -> None:
    config = schemathesis.Config.from_dict(CONFIG)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", demo.app, config=config)
    known = {"initiative_id": demo.garages, "workflow_id": "kosi-lab"}
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = sum(len(methods) for methods in demo.app.openapi()["paths"].values())
    assert len(operations) == documented  # every operation of the document
    for operation in operations:
        if (operation.method.upper(), operation.path) in streams_of(demo):
            continue  # never ends by itself: tests/api/test_stream.py reads it as a client does
        path_parameters = {
            name: value for name, value in known.items() if f"{{{name}}}" in operation.path
        }
        valid = [
            *schema.get_strategies_from_examples(operation),
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=path_parameters),
        ]
        invalid = operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=path_parameters)
        with subtests.test(operation.label):
            for strategy in valid:
                check_operation(strategy, demo.headers[caller])
            with suppress(Unsatisfiable):  # no input of the operation can be made invalid
                check_operation(invalid, demo.headers[caller])


# -- what the generated requests found, pinned (each answered 500 or undocumented before) -------


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize("path", ["/initiatives", "/initiatives/{id}/history"])
def test_an_offset_beyond_any_list_is_422_not_a_database_overflow(demo: DemoApi, path: str) -> None:
    url = f"/api/v1{path.format(id=demo.garages)}?offset=9223372036854775808"
    response = demo.client.get(url, headers=demo.headers["auditor"])
    (error,) = assert_problem(response, 422)["errors"]
    assert (error["field"], error["params"]) == ("query.offset", {"le": 2**31 - 1})


@pytest.mark.anyio
@pytest.mark.parametrize("version", [b"\xb2", b'"\xb9"', b"W/\xb3"])
async def test_an_if_match_of_digits_beyond_ascii_is_422(demo: DemoApi, version: bytes) -> None:
    transport = httpx.ASGITransport(app=demo.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post(
            f"/api/v1/initiatives/{demo.garages}/notes",
            json={"text": "x"},
            headers={**demo.headers["coordinator"], "If-Match": version},
        )
    assert assert_problem(response, 422)["errors"][0]["field"] == "If-Match"


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("workflw=kosi-lab", ("query.workflw", "extra_forbidden")),
        ("phase=initiation&phase=prototyping", ("query.phase", "repeated")),
    ],
)
def test_an_unknown_or_repeated_query_parameter_is_422_naming_it(
    demo: DemoApi, query: str, problem: tuple[str, str]
) -> None:
    response = demo.client.get(f"/api/v1/initiatives?{query}", headers=demo.headers["auditor"])
    errors = assert_problem(response, 422)["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [problem]


@pytest.mark.parametrize("moment", ["1700000000", "3.5e-281"])
def test_a_number_is_not_taken_for_a_moment(demo: DemoApi, moment: str) -> None:
    at = demo.client.get(
        f"/api/v1/initiatives/{demo.garages}?at={moment}", headers=demo.headers["auditor"]
    )
    assert assert_problem(at, 422)["errors"][0]["field"] == "query.at"
    export = demo.client.get(
        f"/api/v1/audit/export?since={moment}", headers=demo.headers["auditor"]
    )
    assert assert_problem(export, 422)["errors"][0]["field"] == "query.since"


def test_a_body_that_is_not_text_is_a_documented_400(demo: DemoApi) -> None:
    response = demo.client.post(
        "/api/v1/initiatives",
        content=b"\xff\xfe\x00",
        headers={**demo.headers["coordinator"], "Content-Type": "application/json"},
    )
    assert_problem(response, 400)
    document = demo.client.get("/api/v1/openapi.json").json()
    assert "400" in document["paths"]["/api/v1/initiatives"]["post"]["responses"]


# -- what no answer may carry ---------------------------------------------------------------


def test_an_unexpected_error_answers_500_without_traceback_or_sql(
    demo: DemoApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise ZeroDivisionError("SELECT secret FROM users -- Traceback (most recent call last)")

    monkeypatch.setattr(ReadUnit, "events_page", broken)
    with TestClient(demo.app, raise_server_exceptions=False) as client:
        response = client.get(
            f"/api/v1/initiatives/{demo.garages}/history", headers=demo.headers["auditor"]
        )
    body = assert_problem(response, 500)
    assert body["detail"] == "Something went wrong on our side."
    for leak in ("SELECT", "secret", "Traceback", "ZeroDivisionError", "events_page"):
        assert leak not in response.text


def test_a_database_error_answers_503_without_sql(
    demo: DemoApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise sqlite3.OperationalError("no such table: events [SQL: SELECT count(*) FROM events]")

    monkeypatch.setattr(ReadUnit, "count_events", broken)
    response = demo.client.get(
        f"/api/v1/initiatives/{demo.garages}/history", headers=demo.headers["auditor"]
    )
    body = assert_problem(response, 503)
    assert body["detail"] == "The database is not available right now."
    for leak in ("SQL", "SELECT", "events", "OperationalError"):
        assert leak not in response.text
