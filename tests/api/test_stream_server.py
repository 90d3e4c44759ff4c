"""The live streams of a real ``kosiflow serve`` process: a change recorded by another process
(the command line, on the same database file) arrives on an open stream; SIGTERM ends the open
streams at once, so that the server shuts down instead of waiting for them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.real_server import RealServer

COORDINATOR = "Jana Becker"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[RealServer, str]]:
    served = RealServer(tmp_path)
    token = served.add_user(COORDINATOR, "coordinator")
    served.start()
    try:
        yield served, token
    finally:
        served.stop()


def messages(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    """The stream's messages as their fields (comments left out)."""
    fields: dict[str, str] = {}
    for line in lines:
        if not line:
            if fields:
                yield fields
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


def next_of(stream: Iterator[dict[str, str]], event: str) -> dict[str, str]:
    return next(m for m in stream if m.get("event") == event)


def test_a_change_recorded_by_another_process_arrives(server: tuple[RealServer, str]) -> None:
    served, token = server
    with served.client(token) as client:
        created = client.post("/initiatives", json={"title": "Bänke", "workflow": "kosi-lab"})
        initiative = created.json()["id"]
        with client.stream("GET", f"/initiatives/{initiative}/stream") as response:
            assert response.status_code == 200
            stream = messages(response.iter_lines())
            assert next_of(stream, "ready")["id"] == "1"
            tick = [sys.executable, "-m", "kosiflow", "--as", COORDINATOR, "tick", initiative]
            subprocess.run(
                [*tick, "challenge_defined", "--evidence", "Protokoll"],
                cwd=served.folder,
                env=served.env,
                check=True,
                capture_output=True,
                timeout=60,
            )
            change = next_of(stream, "change")

    assert change["id"] == "2"
    data = json.loads(change["data"])
    assert (data["initiative"], data["version"], data["type"]) == (initiative, 2, "ItemTicked")


def test_sigterm_ends_open_streams_and_the_server_exits(server: tuple[RealServer, str]) -> None:
    served, token = server
    process = served.process
    assert process is not None
    with served.client(token) as client, client.stream("GET", "/stream") as response:
        stream = messages(response.iter_lines())
        next_of(stream, "ready")
        process.terminate()
        with pytest.raises(StopIteration):  # the server ended the stream
            next(stream)
    assert process.wait(timeout=20) == 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{served.url}/health", timeout=2)
