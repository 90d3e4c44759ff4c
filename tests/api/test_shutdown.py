"""Graceful shutdown of a real ``kosiflow serve`` (1 and 2 workers): on SIGTERM it stops
accepting connections, finishes the request in flight, and exits 0.

The request in flight is a real write kept waiting: the test holds SQLite's write lock (as any
other writer of the file could), so the server's write waits in SQLite's busy handler until the
test lets go. The request is sent with ``Expect: 100-continue``: the server answers ``100
Continue`` only once the app reads the body, which tells the test, without guessing at timing,
that the request is in the app when SIGTERM is sent.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from kosiflow.catalog import WorkflowCatalog
from kosiflow.services import Services
from kosiflow.store import open_database
from tests.api.real_server import ROOT, STARTUP_SECONDS, RealServer

pytestmark = pytest.mark.slow

DEADLINE_SECONDS = 30
"""How long any step may take before the test fails (each takes well under a second)."""


def _send_until_in_the_app(port: int, token: str, title: str) -> socket.socket:
    """A ``POST /api/v1/initiatives`` whose body is sent once the app asked for it."""
    body = json.dumps({"title": title, "workflow": "light-track"}).encode()
    head = (
        "POST /api/v1/initiatives HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Expect: 100-continue\r\n\r\n"
    )
    client = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_SECONDS)
    client.sendall(head.encode())
    interim = b""
    while b"\r\n\r\n" not in interim:
        chunk = client.recv(1024)
        assert chunk, "the server closed the connection before it read the body"
        interim += chunk
    assert interim.startswith(b"HTTP/1.1 100 Continue"), interim
    client.sendall(body)
    return client


def _answer(client: socket.socket) -> tuple[int, dict[str, Any]]:
    """The status and JSON body of the answer (the server closes the connection after it)."""
    received = b""
    while chunk := client.recv(65536):
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def _wait_until_refused(port: int) -> None:
    """Poll until a new connection is refused (the listening socket is closed)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            return
        time.sleep(0.05)
    pytest.fail(f"port {port} still accepts connections {DEADLINE_SECONDS} s after SIGTERM")


def _wait_for_workers(server: RealServer, workers: int) -> None:
    """Poll ``/metrics`` until every worker has made its app: one still starting would wait for
    the write lock the test is about to hold (it records the workflows) while it keeps the
    listening socket open."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        scraped = httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=10).text
        started = re.search(r"^kosiflow_worker_starts_total (\S+)$", scraped, re.MULTILINE)
        if started is not None and float(started.group(1)) >= workers:
            return
        time.sleep(0.1)
    pytest.fail(f"not every one of {workers} workers started within {STARTUP_SECONDS} s")


def _titles(folder: Path) -> list[str]:
    database = open_database(f"sqlite:///{folder / 'kosiflow.db'}")
    try:
        services = Services(database, WorkflowCatalog.from_folder(ROOT / "workflows"))
        return [p.title for p in services.list_initiatives(limit=100)]
    finally:
        database.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_finishes_the_request_in_flight_refuses_new_connections_and_exits_0(
    tmp_path: Path, workers: int
) -> None:
    server = RealServer(tmp_path)
    token = server.add_user("Jana Becker", "coordinator")
    server.start(workers=workers)
    _wait_for_workers(server, workers)
    process = server.process
    assert process is not None
    lock = sqlite3.connect(tmp_path / "kosiflow.db", isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")  # every write of the server now waits
        with _send_until_in_the_app(server.port, token, "Angefangen vor dem Ende") as in_flight:
            process.send_signal(signal.SIGTERM)
            _wait_until_refused(server.port)
            assert process.poll() is None, "the server ended with a request in flight"
            lock.rollback()  # the write may go on
            status, body = _answer(in_flight)
        assert status == 201, body
        assert process.wait(timeout=DEADLINE_SECONDS) == 0, server.log.read_text()
    finally:
        lock.close()
        server.stop()
    assert _titles(tmp_path) == ["Angefangen vor dem Ende"]


def test_a_request_longer_than_the_graceful_timeout_is_cut_off(tmp_path: Path) -> None:
    """``--graceful-timeout 1``: the waiting request gets no answer after about a second; the
    process ends (exit 0) once its thread is free (a thread cannot be interrupted)."""
    server = RealServer(tmp_path)
    token = server.add_user("Jana Becker", "coordinator")
    server.start(options=["--graceful-timeout", "1"])
    process = server.process
    assert process is not None
    lock = sqlite3.connect(tmp_path / "kosiflow.db", isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")
        with _send_until_in_the_app(server.port, token, "Zu spät") as in_flight:
            process.send_signal(signal.SIGTERM)
            cut_off = in_flight.recv(65536)  # waits for the server to give up on the request
        assert not cut_off.startswith(b"HTTP/1.1 201"), cut_off
        lock.rollback()
        assert process.wait(timeout=DEADLINE_SECONDS) == 0, server.log.read_text()
    finally:
        lock.close()
        server.stop()
