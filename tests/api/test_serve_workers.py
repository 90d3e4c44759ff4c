"""``kosiflow serve --workers 2`` (Linux): each worker listens on a socket of its own, so new
connections spread over both; a killed worker is replaced; a port in use is refused before any
worker starts. Where nothing balances, the workers share one socket (the fallback, forced here).

Which worker holds a connection is read from ``/proc``: a worker's socket inodes
(``/proc/PID/fd``) against the TCP table (``/proc/net/tcp``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.api.real_server import ROOT, STARTUP_SECONDS, RealServer, free_port

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="SO_REUSEPORT balances on Linux")

LISTEN, ESTABLISHED = "0A", "01"
BURST = 64
"""Connections opened at once, as a load balancer's pool or a load generator opens them."""


def _tcp(port: int, state: str) -> set[int]:
    """The inodes of the TCP sockets in ``state`` whose local port is ``port``."""
    inodes: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                inodes.add(int(fields[9]))
    return inodes


def _sockets(pid: int) -> set[int]:
    inodes: set[int] = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _children(pid: int) -> list[int]:
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


def _listening_workers(server: RealServer, workers: int) -> list[int]:
    """The worker processes, once ``workers`` of them listen on the server's port."""
    assert server.process is not None
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        listening = _tcp(server.port, LISTEN)
        found = [p for p in _children(server.process.pid) if _sockets(p) & listening]
        if len(found) == workers:
            return found
        time.sleep(0.1)
    pytest.fail(f"{workers} workers did not listen within {STARTUP_SECONDS} s")


def _held(workers: list[int], port: int) -> dict[int, int]:
    """How many of the server's established connections each worker holds."""
    established = _tcp(port, ESTABLISHED)
    return {pid: len(_sockets(pid) & established) for pid in workers}


def _burst(port: int) -> list[socket.socket]:
    """``BURST`` connections opened at once, each answered once (so accepted) and kept open."""
    connections = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(BURST)]
    for connection in connections:
        connection.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: kosiflow\r\n\r\n")
    for connection in connections:
        assert connection.recv(65536).startswith(b"HTTP/1.1 "), "no answer"
    return connections


def test_new_connections_spread_over_both_workers(tmp_path: Path) -> None:
    """With one socket shared by the workers, whichever woke first took most of a burst (29
    of 32 seen) and kept them: the other worker idled."""
    server = RealServer(tmp_path)
    server.start(workers=2)
    try:
        workers = _listening_workers(server, 2)
        connections = _burst(server.port)
        try:
            held = _held(workers, server.port)
            assert sum(held.values()) == BURST
            assert min(held.values()) >= BURST // 4, held  # by chance: less than 1 in 10,000
        finally:
            for connection in connections:
                connection.close()
    finally:
        server.stop()


def test_each_worker_listens_alone_and_a_killed_one_is_replaced(tmp_path: Path) -> None:
    """Each worker has a listening socket of its own and the supervisor none (its copy would
    keep a dead worker's socket taking connections): the burst right after a kill is answered
    in full by the other worker (or the replacement), which then listens beside it."""
    server = RealServer(tmp_path)
    server.start(workers=2)
    assert server.process is not None
    try:
        workers = _listening_workers(server, 2)
        listening = _tcp(server.port, LISTEN)
        first, second = (_sockets(pid) & listening for pid in workers)
        assert (len(first), len(second), first & second) == (1, 1, set())
        assert not _sockets(server.process.pid) & listening

        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + STARTUP_SECONDS
        while workers[0] in _children(server.process.pid):  # until the supervisor reaps it
            assert time.monotonic() < deadline, "the killed worker was not reaped"
            time.sleep(0.01)
        for connection in _burst(server.port):
            connection.close()
        replaced = _listening_workers(server, 2)
        assert workers[0] not in replaced
        assert workers[1] in replaced
    finally:
        server.stop()


def test_sigttin_adds_a_worker_listening_on_a_socket_of_its_own(tmp_path: Path) -> None:
    server = RealServer(tmp_path)
    server.start(workers=2)
    assert server.process is not None
    try:
        before = _listening_workers(server, 2)
        server.process.send_signal(signal.SIGTTIN)
        added = _listening_workers(server, 3)
        assert set(before) < set(added)
        listening = _tcp(server.port, LISTEN)
        assert all(len(_sockets(pid) & listening) == 1 for pid in added)
        for connection in _burst(server.port):
            connection.close()
    finally:
        server.stop()


SHARED_SOCKET_ONLY = """
import kosiflow.cli.serve
from kosiflow.cli import main

kosiflow.cli.serve._balances_by_socket = lambda port: False
main()
"""
"""``python -c`` this, then ``serve`` and its options: ``kosiflow serve`` as it runs where the
kernel does not balance connections over sockets (outside Linux, or on port 0)."""


def test_where_nothing_balances_the_workers_share_the_supervisors_socket(tmp_path: Path) -> None:
    """The fallback: every worker accepts from the one socket the supervisor bound; a killed
    worker is replaced while the other answers; SIGTERM stops them all, exit 0."""
    server = RealServer(tmp_path)
    server.launcher = ["-c", SHARED_SOCKET_ONLY]
    server.start(workers=2)
    assert server.process is not None
    try:
        workers = _listening_workers(server, 2)
        listening = _tcp(server.port, LISTEN)
        assert len(listening) == 1
        assert all(_sockets(pid) & listening == listening for pid in [*workers, server.process.pid])

        os.kill(workers[0], signal.SIGKILL)
        for connection in _burst(server.port):
            connection.close()
        replaced = _listening_workers(server, 2)
        assert workers[0] not in replaced
        assert workers[1] in replaced

        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=60) == 0
    finally:
        server.stop()


@pytest.mark.parametrize("shared", [False, True], ids=["plain", "reuseport"])
def test_a_port_in_use_is_refused_before_any_worker_starts(tmp_path: Path, shared: bool) -> None:
    """Also when the listener there shares its port (``SO_REUSEPORT``, as another kosiflow's
    workers do): the workers' own sockets would join it."""
    port = free_port()
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, int(shared))
        taken.bind(("127.0.0.1", port))
        taken.listen()
        done = subprocess.run(
            [sys.executable, "-m", "kosiflow", "serve", "--no-demo", "--workers", "2",
             "--port", str(port)],
            cwd=tmp_path, env={**os.environ, "KOSIFLOW_WORKFLOWS": str(ROOT / "workflows")},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stdout
