"""``kosiflow serve`` as a real server process: demo on first start, printed tokens that work."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    def __init__(self, folder: Path) -> None:
        self.port = _free_port()
        self.output = folder / "serve.log"
        with self.output.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "kosiflow", "serve", "--port", str(self.port)],
                cwd=folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "KOSIFLOW_WORKFLOWS": str(ROOT / "workflows")},
            )
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        pytest.fail(f"server did not start:\n{self.output.read_text()}")

    def tokens(self) -> dict[str, str]:
        found = re.findall(r"sign-in token of (.+?) \(.*?\): (\S+)", self.output.read_text())
        return dict(found)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def test_serve_loads_the_demo_once_and_prints_working_tokens(tmp_path: Path) -> None:
    folder = tmp_path
    server = Server(folder)
    try:
        tokens = server.tokens()
        assert set(tokens) == {"Jana Becker", "Renate Albers"}
        coordinator = {"Authorization": f"Bearer {tokens['Jana Becker']}"}
        auditor = {"Authorization": f"Bearer {tokens['Renate Albers']}"}
        listed = httpx.get(f"{server.url}/initiatives", headers=coordinator, timeout=10)
        assert listed.status_code == 200
        assert len(listed.json()["items"]) == 6
        created = httpx.post(
            f"{server.url}/initiatives",
            json={"title": "Neue Idee", "workflow": "light-track"},
            headers=auditor,
            timeout=10,
        )
        assert created.status_code == 403
        assert httpx.get(f"{server.url}/initiatives", timeout=10).status_code == 401
    finally:
        server.stop()
    assert (folder / "kosiflow.db").exists()

    again = Server(folder)
    try:
        assert again.tokens() == {}
        assert "kosiflow users token NAME" in again.output.read_text()
        old = {"Authorization": f"Bearer {tokens['Jana Becker']}"}
        assert httpx.get(f"{again.url}/initiatives", headers=old, timeout=10).status_code == 200
    finally:
        again.stop()
