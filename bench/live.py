"""Live streams: the latency from a command to its message on open streams, and what quiet
streams cost the server.

Run: ``.venv/bin/python bench/live.py [--streams N …] [--rate N] [--seconds N] [--idle N]
[--postgres URL]``.

A real ``kosiflow serve`` (one worker; SQLite file with ``synchronous=FULL`` as shipped, or a
PostgreSQL schema of its own, dropped afterwards) serves ``N`` open streams of every
initiative (``GET /api/v1/stream``), read by one asyncio client process (this one). Then:

- **idle cost**: for ``--idle`` seconds nothing happens; the server's CPU time over that
  window (its poller's ticks and the streams' heartbeats), as a share of one core;
- **latency**: one tick per command at ``--rate`` commands per second for ``--seconds``,
  through the API; the time from just before each command to its message on each stream:
  p50, p99 and the maximum over every (command, stream) pair.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.api.real_server import RealServer  # noqa: E402

ITEMS = ("challenge_defined", "actor_mapping", "core_team_named")
"""What the coordinator may tick in the first phase (one initiative per three commands)."""


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def follow(client: httpx.AsyncClient, seen: dict[tuple[str, int], list[float]]) -> None:
    """Read one stream until cancelled: the receipt time of every change."""
    async with client.stream("GET", "/stream") as response:
        assert response.status_code == 200, await response.aread()
        async for line in response.aiter_lines():
            if line.startswith("data: ") and '"version"' in line:
                data = json.loads(line[6:])
                seen.setdefault((data["initiative"], data["version"]), []).append(
                    time.perf_counter()
                )


async def measure(server: RealServer, token: str, args: argparse.Namespace, streams: int) -> str:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=streams + 4)
    timeout = httpx.Timeout(60)
    async with httpx.AsyncClient(
        base_url=server.url, headers=headers, limits=limits, timeout=timeout
    ) as client:
        seen: dict[tuple[str, int], list[float]] = {}
        readers = [asyncio.create_task(follow(client, seen)) for _ in range(streams)]
        await asyncio.sleep(2)  # every stream open and ready
        assert server.process is not None
        before = cpu_seconds(server.process.pid)
        await asyncio.sleep(args.idle)
        idle = (cpu_seconds(server.process.pid) - before) / args.idle

        sent: dict[tuple[str, int], float] = {}
        initiative = ""
        for n in range(int(args.rate * args.seconds)):
            if n % len(ITEMS) == 0:
                created = await client.post(
                    "/initiatives", json={"title": f"Bench {n}", "workflow": "kosi-lab"}
                )
                initiative = created.json()["id"]
            started = time.perf_counter()
            ticked = await client.post(
                f"/initiatives/{initiative}/checklist/{ITEMS[n % len(ITEMS)]}",
                json={"evidence": "bench"},
            )
            assert ticked.status_code == 200, ticked.text
            sent[(initiative, ticked.json()["version"])] = started
            await asyncio.sleep(max(0.0, started + 1 / args.rate - time.perf_counter()))
        await asyncio.sleep(2)
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)

    latencies = sorted(
        (receipt - started) * 1000 for key, started in sent.items() for receipt in seen.get(key, [])
    )
    missing = len(sent) * streams - len(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return (
        f"| {streams} | {idle * 100:.1f} % | {statistics.median(latencies):.0f} ms | "
        f"{p99:.0f} ms | {latencies[-1]:.0f} ms | {len(sent)} x {streams} | {missing} |"
    )


def run(url: str | None, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = RealServer(Path(folder))
        if url is not None:
            server.env["KOSIFLOW_DATABASE_URL"] = url
        token = server.add_user("Bench", "coordinator")
        server.env["KOSIFLOW_LIVE_STREAMS"] = str(max(args.streams) + 10)
        server.start()
        try:
            for streams in args.streams:
                print(asyncio.run(measure(server, token, args, streams)), flush=True)
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 100])
    parser.add_argument("--rate", type=float, default=10.0, help="commands per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--postgres", help="a PostgreSQL URL (postgresql+psycopg://…)")
    args = parser.parse_args()
    print("| streams | idle CPU | p50 | p99 | max | messages | missing |")
    print("|---|---|---|---|---|---|---|")
    print("SQLite:", flush=True)
    run(None, args)
    if args.postgres:
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        admin = make_url(args.postgres).set(drivername="postgresql")
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as c:
            c.execute(f"CREATE SCHEMA {schema}")
        try:
            url = make_url(args.postgres).update_query_dict({"options": f"-csearch_path={schema}"})
            print("PostgreSQL:", flush=True)
            run(url.render_as_string(hide_password=False), args)
        finally:
            with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as c:
                c.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
