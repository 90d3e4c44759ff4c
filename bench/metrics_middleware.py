"""CPU per request of the metrics layer (``api.metrics.RequestMetrics``), in-process.

Run: ``.venv/bin/python bench/metrics_middleware.py [--requests N] [--rounds N]``.

Two figures, each the median over the rounds of ``time.process_time`` per request, the ASGI app
driven directly (no sockets, no server):

- **the layer alone**: a bare ASGI app answering 200 (and naming its route, as the router does)
  with and without ``RequestMetrics`` in front; the difference is the layer's cost. Once in
  this process (values in memory: ``serve --workers 1``) and once in a child process with
  ``PROMETHEUS_MULTIPROC_DIR`` set (values in memory-mapped files: ``--workers N``).
- **the progress read**: ``GET /api/v1/initiatives/{id}`` of the real app on a fresh SQLite
  file, with the layer and with it taken out of the app's middleware.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0]).resolve() == HERE:
    del sys.path[0]  # bench/api.py would hide the package api (the app measured here)

App = Callable[..., Awaitable[None]]


class _Route:
    path = "/api/v1/initiatives/{initiative_id}"


_ROUTE = _Route()


async def _bare(scope: dict[str, Any], _receive: Any, send: Any) -> None:
    """An app that routes (``scope["route"]``) and answers a constant."""
    scope["route"] = _ROUTE
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _drive(app: App, requests: int, path: str, headers: list[tuple[bytes, bytes]]) -> float:
    """CPU seconds per request of ``requests`` GETs of ``path``."""
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.process_time()
    for _ in range(requests):
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        await app(scope, receive, send)
    elapsed = time.process_time() - started
    assert set(statuses) == {200}, set(statuses)
    return elapsed / requests


def _median_us(rounds: list[float]) -> float:
    return round(statistics.median(rounds) * 1e6, 2)


def layer_alone(requests: int, rounds: int) -> dict[str, float]:
    """µs per request of the bare app, and of it behind the layer."""
    from api.metrics import RequestMetrics

    wrapped = RequestMetrics(_bare)
    bare: list[float] = []
    metered: list[float] = []
    for _ in range(rounds):
        bare.append(asyncio.run(_drive(_bare, requests, "/x", [])))
        metered.append(asyncio.run(_drive(wrapped, requests, "/x", [])))
    without, with_layer = _median_us(bare), _median_us(metered)
    return {"without": without, "with": with_layer, "layer": round(with_layer - without, 2)}


def progress_read(requests: int, rounds: int) -> dict[str, float]:
    """µs per progress read of the real app with and without the layer."""
    from api import create_app
    from api.metrics import RequestMetrics
    from kosiflow.catalog import WorkflowCatalog
    from kosiflow.engine import Actor
    from kosiflow.services import Services
    from kosiflow.store import open_database

    with tempfile.TemporaryDirectory() as folder:
        database = open_database(f"sqlite:///{folder}/bench.db")
        catalog = WorkflowCatalog.from_folder(HERE.parent / "workflows")
        catalog.register(database)
        services = Services(database, catalog)
        user, token = database.add_user("Bench", ["coordinator"])
        actor = Actor(user.person_id, frozenset(user.roles))
        initiative = services.create("kosi-lab", "Bench", actor).initiative_id
        apps = {}
        for name in ("with", "without"):
            app = create_app(services)
            if name == "without":
                app.user_middleware = [
                    m for m in app.user_middleware if m.cls is not RequestMetrics
                ]
            apps[name] = app
        headers = [(b"authorization", f"Bearer {token}".encode()), (b"host", b"bench")]
        path = f"/api/v1/initiatives/{initiative}"
        times: dict[str, list[float]] = {"with": [], "without": []}
        for _ in range(rounds):
            for name, app in apps.items():
                times[name].append(asyncio.run(_drive(app, requests, path, headers)))
        database.close()
    without, with_layer = _median_us(times["without"]), _median_us(times["with"])
    return {"without": without, "with": with_layer, "layer": round(with_layer - without, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only-layer", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.only_layer:  # the child process of the multiprocess figure
        print(json.dumps(layer_alone(options.requests, options.rounds)))
        return
    results = {"layer, values in memory": layer_alone(options.requests, options.rounds)}
    with tempfile.TemporaryDirectory() as directory:
        child = subprocess.run(
            [sys.executable, __file__, "--only-layer", "--requests", str(options.requests)],
            env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": directory},
            capture_output=True,
            text=True,
            check=True,
        )
    results["layer, multiprocess files"] = json.loads(child.stdout)
    reads = max(1, options.requests // 10)
    results["progress read, SQLite"] = progress_read(reads, options.rounds)
    print(f"{'µs CPU per request':32} {'without':>8} {'with':>8} {'layer':>8}")
    for name, figures in results.items():
        print(f"{name:32} {figures['without']:8} {figures['with']:8} {figures['layer']:8}")


if __name__ == "__main__":
    main()
