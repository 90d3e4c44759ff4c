"""A real ``kosiflow serve`` process on a free port of 127.0.0.1, serving a SQLite file.

Users are added with the CLI *before* the server starts (``add_user`` returns the printed token);
the server runs in ``folder`` and serves ``folder/kosiflow.db``, without the demo unless asked.
``start`` waits for ``/health``; ``stop`` sends SIGTERM, ``kill`` SIGKILL.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 90
"""How long a start may take before the test fails (a cold start takes about 2 s; two workers
on a loaded 2-core machine have taken 35 s)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RealServer:
    """``python -m kosiflow serve`` on ``folder/kosiflow.db``; at most one process at a time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.log = folder / "serve.log"
        self.env = {**os.environ, "KOSIFLOW_WORKFLOWS": str(ROOT / "workflows")}
        self.env.pop("KOSIFLOW_DATABASE_URL", None)
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.launcher = ["-m", "kosiflow"]
        """What the Python interpreter is given before ``serve`` and its options."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def add_user(self, name: str, *roles: str) -> str:
        """Add a user with the CLI (the server must not run); its token."""
        assert self.process is None, "add users before the server starts"
        args = [part for role in roles for part in ("--role", role)]
        done = subprocess.run(
            [sys.executable, "-m", "kosiflow", "users", "add", name, *args],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout.strip().splitlines()[-1]

    def start(self, *, demo: bool = False, workers: int = 1, options: Sequence[str] = ()) -> None:
        """Start on a new free port and wait until ``/health`` answers 200; ``options`` are
        more options of ``serve``."""
        assert self.process is None, "the server already runs"
        self.port = free_port()
        serve = ["serve", "--port", str(self.port), "--demo" if demo else "--no-demo"]
        serve += ["--workers", str(workers), *options]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, *self.launcher, *serve],
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with httpx.Client(timeout=1) as client:
                    if client.get(f"{self.url}/health").status_code == 200:
                        return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"the server did not start:\n{self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, nothing the process could still do."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            self.process = None

    def stop(self) -> None:
        """SIGTERM and wait; SIGKILL if it does not end within 5 s (uvicorn waits for requests
        still running, and a stuck one would hold the test up). Safe to call twice."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self.process = None

    def client(self, token: str, timeout: float = 10) -> httpx.Client:
        """A new client with ``token``; the caller closes it (``with``)."""
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(timeout),
        )


def history(client: httpx.Client, initiative_id: str) -> list[dict[str, Any]]:
    """Every event of the initiative, page by page (the API gives at most 100 per page)."""
    events: list[dict[str, Any]] = []
    while True:
        response = client.get(
            f"/initiatives/{initiative_id}/history", params={"limit": 100, "offset": len(events)}
        )
        assert response.status_code == 200, response.text
        page: list[dict[str, Any]] = response.json()["items"]
        events.extend(page)
        if len(page) < 100:
            return events


def assert_sound(client: httpx.Client, initiative_id: str) -> tuple[dict[str, Any], list[Any]]:
    """History contiguous (seq 1..n, no gap, no double), chain verified, projection version n.

    Returns the progress and the events.
    """
    events = history(client, initiative_id)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    verified = client.get(f"/initiatives/{initiative_id}/history/verify")
    assert verified.status_code == 200, verified.text
    assert verified.json() == {"ok": True, "events": len(events)}
    progress = client.get(f"/initiatives/{initiative_id}")
    assert progress.status_code == 200, progress.text
    assert progress.json()["version"] == len(events)
    assert progress.headers["etag"] == f'"{len(events)}"'
    return progress.json(), events
