"""Server CPU per progress read in-process, with and without the kept answers, and the ceiling.

Run: ``.venv/bin/python bench/progress_read.py [--requests N] [--rounds N] [--postgres URL]``.

The ASGI apps are driven directly (no sockets, no uvicorn), one request at
a time, as a coordinator reading the demo's running initiatives in turn; CPU time
(``time.process_time``: this process, all its threads) per request, the median of the rounds:

- ``ceiling``: ``ceiling.py``'s bare FastAPI endpoint returning a constant;
- ``progress, kept answer``: ``GET /api/v1/initiatives/{id}`` answered by the fast path
  (``api/progress_cache.py``: one database check, the kept bytes);
- ``progress, by the route``: the same with the cache kept empty (every request goes through
  FastAPI's routing, dependencies and the view, as before the fast path).

On SQLite (a fresh file), and on PostgreSQL with ``--postgres URL`` (a schema of its own,
dropped afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ceiling import app as ceiling_app
from schemas import postgres_schema

from kosiflow.catalog import WorkflowCatalog
from kosiflow.definition import load_workflows
from kosiflow.demo import load_demo
from kosiflow.services import Services
from kosiflow.store import open_database

HERE = Path(__file__).resolve().parent
App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class Client:
    """Calls an ASGI app directly with a GET and a bearer token; returns the status."""

    def __init__(self, app: App, token: str) -> None:
        self._app = app
        self._headers = [(b"authorization", f"Bearer {token}".encode()), (b"host", b"bench")]

    async def get(self, path: str) -> int:
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
            "headers": self._headers,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
            "state": {},
        }
        status = 0

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await self._app(scope, receive, send)
        return status


async def _cpu_per_request(client: Client, paths: list[str], count: int) -> float:
    statuses: dict[int, int] = {}
    start = time.process_time()
    for n in range(count):
        status = await client.get(paths[n % len(paths)])
        statuses[status] = statuses.get(status, 0) + 1
    spent = time.process_time() - start
    if set(statuses) != {200}:
        raise SystemExit(f"unexpected statuses: {statuses}")
    return 1e6 * spent / count


async def _figures(url: str, requests: int, rounds: int) -> dict[str, float]:
    sys.path.insert(0, str(HERE.parent))  # the api package, not bench/api.py
    from api.app import create_app

    database = open_database(url)
    try:
        catalog = WorkflowCatalog(load_workflows(HERE.parent / "workflows"))
        catalog.register(database)
        services = Services(database, catalog)
        load_demo(services)
        _, token = database.add_user("bench", ["coordinator"])
        paths = [
            f"/api/v1/initiatives/{p.initiative_id}"
            for p in services.list_initiatives(limit=100)
            if not p.ended
        ]
        app = create_app(services)
        cache = app.state.progress_cache
        kinds: dict[str, tuple[App, list[str], int]] = {
            "ceiling": (ceiling_app, ["/"], cache.max_bytes),
            "progress, kept answer": (app, paths, cache.max_bytes),
            "progress, by the route": (app, paths, 0),
        }
        figures: dict[str, list[float]] = {}
        for _ in range(rounds):
            for kind, (asgi, kind_paths, max_bytes) in kinds.items():
                cache.max_bytes = max_bytes
                cache.clear()
                client = Client(asgi, token)
                await _cpu_per_request(client, kind_paths, len(kind_paths))  # warm, fill
                figures.setdefault(kind, []).append(
                    await _cpu_per_request(client, kind_paths, requests)
                )
        cache.close()
        return {kind: statistics.median(values) for kind, values in figures.items()}
    finally:
        database.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000, help="per figure and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", help="also measure on this PostgreSQL server")
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        results["sqlite"] = asyncio.run(_figures(url, args.requests, args.rounds))
    if args.postgres:
        with postgres_schema(args.postgres) as url:
            results["postgresql"] = asyncio.run(_figures(url, args.requests, args.rounds))
    for backend, figures in results.items():
        for kind, value in figures.items():
            print(f"{backend}: {kind}: {value:,.0f} µs CPU per request")


if __name__ == "__main__":
    main()
