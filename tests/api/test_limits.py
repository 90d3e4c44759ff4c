"""Bodies over 1 MiB get a 413 problem before they are read whole, and record nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api import create_app
from api.limits import MAX_BODY_BYTES
from tests.api.helpers import Api, assert_problem

CHUNK = 64 * 1024
CHUNKS = 64
"""A streamed body of 4 MiB in 64 KiB chunks."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def client(api: Api) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(api.services))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def assert_too_large(response: httpx.Response) -> dict[str, Any]:
    body = assert_problem(response, 413)
    assert body["type"] == "urn:kosiflow:problem:body-too-large"
    assert body["title"] == "Content too large"
    assert [(e["code"], e["params"]) for e in body["errors"]] == [
        ("body_too_large", {"limit": MAX_BODY_BYTES})
    ]
    assert response.headers["connection"] == "close"
    return body


@pytest.mark.anyio
async def test_a_declared_length_over_the_limit_is_413_without_reading_the_body(
    api: Api,
) -> None:
    app = create_app(api.services)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/initiatives",
        "raw_path": b"/api/v1/initiatives",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", f"Bearer {api.tokens['jana']}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(MAX_BODY_BYTES + 1).encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    reads = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert reads == 0
    start, body = sent
    assert start["status"] == 413
    assert (b"content-type", b"application/problem+json") in start["headers"]
    assert json.loads(body["body"])["status"] == 413
    assert api.services.list_initiatives() == []


@pytest.mark.anyio
async def test_a_large_body_with_its_length_is_413_and_records_nothing(api: Api) -> None:
    initiative = api.create()
    text = "x" * MAX_BODY_BYTES
    async with client(api) as http:
        response = await http.post(
            f"/api/v1/initiatives/{initiative}/notes",
            json={"text": text},
            headers=api.headers("jana"),
        )
    assert_too_large(response)
    assert api.events(initiative) == 1


@pytest.mark.anyio
async def test_a_streamed_body_is_cut_off_with_413_once_it_passes_the_limit(api: Api) -> None:
    initiative = api.create()
    pulled = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal pulled
        yield b'{"text": "'
        for _ in range(CHUNKS):
            pulled += 1
            yield b"x" * CHUNK
        yield b'"}'

    async with client(api) as http:
        response = await http.post(
            f"/api/v1/initiatives/{initiative}/notes",
            content=chunks(),
            headers=api.headers("jana", **{"Content-Type": "application/json"}),
        )
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_too_large(response)
    assert pulled == MAX_BODY_BYTES // CHUNK < CHUNKS  # the 16th chunk passes 1 MiB: no more
    assert api.events(initiative) == 1


@pytest.mark.anyio
async def test_a_streamed_create_over_the_limit_records_no_initiative(api: Api) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"workflow": "kosi-lab", "title": "'
        for _ in range(CHUNKS):
            yield b"x" * CHUNK
        yield b'"}'

    async with client(api) as http:
        response = await http.post(
            "/api/v1/initiatives",
            content=chunks(),
            headers=api.headers("jana", **{"Content-Type": "application/json"}),
        )
    assert_too_large(response)
    assert api.services.list_initiatives() == []


def test_a_body_of_exactly_the_limit_passes_on_to_validation(api: Api) -> None:
    initiative = api.create()
    envelope = b'{"text": ""}'
    body = b'{"text": "' + b"x" * (MAX_BODY_BYTES - len(envelope)) + b'"}'
    assert len(body) == MAX_BODY_BYTES
    response = api.client.post(
        f"/api/v1/initiatives/{initiative}/notes",
        content=body,
        headers=api.headers("jana", **{"Content-Type": "application/json"}),
    )
    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["body.text"]


def test_the_413_speaks_german_when_asked(api: Api) -> None:
    response = api.client.post(
        "/api/v1/initiatives",
        content=b"x" * (MAX_BODY_BYTES + 1),
        headers=api.headers("jana", **{"Accept-Language": "de"}),
    )
    body = assert_too_large(response)
    assert body["detail"].startswith("Der Inhalt der Anfrage ist größer als 1048576 Bytes")
