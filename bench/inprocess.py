"""Server CPU per request of the API called in-process: the ASGI app driven directly, no sockets.

Run: ``.venv/bin/python bench/inprocess.py [--requests N] [--rounds N] [--concurrency N]
[--sqlite-synchronous FULL|NORMAL]``.

Measures, on a fresh SQLite file, the CPU time (``time.process_time``: this process, all its
threads) per answered request of the progress read and of a tick (each tick a new item of an
initiative of ``workflows/checklist.yaml``), first one request at a time and then with
``--concurrency`` requests in flight (as many connections would keep in flight; SQLite's group
commit then takes several ticks per commit). Unlike requests per second under wrk, CPU time per
request hardly moves when other processes share the machine. Prints the median of the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from kosiflow.catalog import WorkflowCatalog
from kosiflow.definition import load_definition, load_workflows
from kosiflow.engine import Actor
from kosiflow.services import Services
from kosiflow.store import open_database

HERE = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0]).resolve() == HERE:
    del sys.path[0]  # bench/api.py would hide the package api (the app measured here)
CHECKLIST = load_definition(HERE / "workflows" / "checklist.yaml")
ITEMS = [item.id for item in CHECKLIST.phase("work").checklist]

Message = dict[str, Any]


class Client:
    """Calls an ASGI app directly with one request and collects its status."""

    def __init__(self, app: Callable[..., Awaitable[None]], token: str) -> None:
        self._app = app
        self._auth = f"Bearer {token}".encode()

    async def send(self, method: str, path: str, body: bytes = b"") -> int:
        headers = [(b"authorization", self._auth), (b"host", b"bench")]
        if body:
            headers += [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
            "state": {},
        }
        sent = False
        status = 0

        async def receive() -> Message:
            nonlocal sent
            if sent:
                await asyncio.Event().wait()  # a disconnect never comes
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await self._app(scope, receive, send)
        return status


async def _cpu_per_request(
    client: Client, requests: list[tuple[str, str, bytes]], concurrency: int
) -> float:
    """µs of CPU per request, sending ``requests`` with ``concurrency`` in flight."""
    queue = iter(requests)
    statuses: dict[int, int] = {}

    async def worker() -> None:
        for method, path, body in queue:
            status = await client.send(method, path, body)
            statuses[status] = statuses.get(status, 0) + 1

    start = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    spent = time.process_time() - start
    if set(statuses) != {200}:
        raise SystemExit(f"unexpected statuses: {statuses}")
    return 1e6 * spent / len(requests)


async def _run(args: argparse.Namespace, folder: Path) -> dict[str, float]:
    from api.app import create_app  # once sys.path no longer starts with bench/

    catalog = WorkflowCatalog([*load_workflows(HERE.parent / "workflows"), CHECKLIST])
    database = open_database(
        f"sqlite:///{folder / 'bench.db'}", sqlite_synchronous=args.sqlite_synchronous
    )
    services = Services(database, catalog)
    try:
        catalog.register(database)
        user, token = database.add_user("bench", ["coordinator"])
        actor = Actor(user.person_id, frozenset(user.roles))
        client = Client(create_app(services), token)
        figures: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            count = args.requests
            ids = [
                services.create(CHECKLIST.id, f"bench {n}", actor).initiative_id
                for n in range(count // len(ITEMS) + 1)
            ]
            reads = [("GET", f"/api/v1/initiatives/{i}", b"") for i in ids]
            reads = (reads * (count // len(reads) + 1))[:count]
            ticks = [
                ("POST", f"/api/v1/initiatives/{i}/checklist/{item}", b"{}")
                for item in ITEMS
                for i in ids
            ]
            for concurrency in (1, args.concurrency):
                read = await _cpu_per_request(client, reads, concurrency)
                figures.setdefault(f"progress, {concurrency} in flight", []).append(read)
                half = len(ticks) // 2
                part = ticks[:half] if concurrency == 1 else ticks[half:]
                tick = await _cpu_per_request(client, part[: count // 2], concurrency)
                figures.setdefault(f"tick, {concurrency} in flight", []).append(tick)
        return {name: statistics.median(values) for name, values in figures.items()}
    finally:
        database.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="per figure and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--sqlite-synchronous", default="FULL", choices=["FULL", "NORMAL"])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        figures = asyncio.run(_run(args, Path(folder)))
    for name, value in figures.items():
        print(f"{name}: {value:,.0f} µs CPU per request")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
