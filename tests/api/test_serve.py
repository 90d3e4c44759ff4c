"""``kosiflow serve`` as a real process: the demo on first start, printed tokens that work."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.api.real_server import RealServer


def _printed_tokens(server: RealServer) -> dict[str, str]:
    return dict(re.findall(r"sign-in token of (.+?) \(.*?\): (\S+)", server.log.read_text()))


def test_serve_loads_the_demo_once_and_prints_working_tokens(tmp_path: Path) -> None:
    server = RealServer(tmp_path)
    server.start(demo=True)
    try:
        tokens = _printed_tokens(server)
        assert set(tokens) == {"Jana Becker", "Renate Albers"}
        printed = server.log.read_text()
        assert f"serving on http://127.0.0.1:{server.port}/ " in printed
        assert f"http://127.0.0.1:{server.port}/api/v1/docs" in printed
        page = httpx.get(f"http://127.0.0.1:{server.port}/", timeout=10)
        assert (page.status_code, page.headers["location"].startswith("/login")) == (303, True)
        with server.client(tokens["Jana Becker"]) as coordinator:
            listed = coordinator.get("/initiatives")
            assert listed.status_code == 200
            assert len(listed.json()["items"]) == 6
        with server.client(tokens["Renate Albers"]) as auditor:
            body = {"title": "Neue Idee", "workflow": "light-track"}
            assert auditor.post("/initiatives", json=body).status_code == 403
        with server.client("not-a-token") as stranger:
            assert stranger.get("/initiatives").status_code == 401
    finally:
        server.stop()

    server.log.write_text("")
    server.start(demo=True)
    try:
        assert _printed_tokens(server) == {}
        assert "kosiflow users token NAME" in server.log.read_text()
        with server.client(tokens["Jana Becker"]) as coordinator:
            assert coordinator.get("/initiatives").status_code == 200
    finally:
        server.stop()


def test_serve_with_two_workers_shares_one_database(tmp_path: Path) -> None:
    server = RealServer(tmp_path)
    token = server.add_user("Jana Becker", "coordinator")
    server.start(workers=2)
    try:
        with server.client(token) as client:
            created = [
                client.post("/initiatives", json={"title": f"Idee {n}", "workflow": "light-track"})
                for n in range(20)
            ]
            assert {r.status_code for r in created} == {201}
            assert client.get("/initiatives").json()["total"] == 20
    finally:
        server.stop()
