"""Requests per second and p50/p99 latency of the HTTP API, against a bare FastAPI endpoint.

Run: ``make bench-api`` (or ``.venv/bin/python bench/api.py [--quick] [--seconds N]
[--json FILE] [--postgres URL]``); needs wrk (``apt-get install -y wrk``).

Measured, each at 16 and 64 connections, with 1 and 2 uvicorn worker processes:

- ``GET /api/v1/initiatives/{id}`` (the progress of the demo's running initiatives, in turn;
  after the first round from each worker's kept answers, ``api/progress_cache.py``)
  and a tick (``POST …/checklist/{item}``: every request a new item of initiatives prepared
  beforehand, so each records an event) on ``kosiflow serve --workers N``, on SQLite and on
  PostgreSQL (a schema of its own, dropped afterwards);
- the ceiling: ``ceiling.py``, a bare FastAPI endpoint returning a constant, served with the
  same uvicorn settings, in the same run.

The load comes from wrk in a separate process (``wrk.py``). Statuses are counted separately:
only a 2xx is a success, and after each tick run the events recorded are counted too.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import servers
import wrk
from schemas import postgres_schema

from kosiflow.catalog import WorkflowCatalog
from kosiflow.definition import load_definition, load_workflows
from kosiflow.demo import load_demo
from kosiflow.engine import Actor
from kosiflow.services import Services
from kosiflow.store import open_database

HERE = Path(__file__).resolve().parent
CHECKLIST = load_definition(HERE / "workflows" / "checklist.yaml")
ITEMS = [item.id for item in CHECKLIST.phase("work").checklist]
CONNECTIONS = (16, 64)
WORKERS = (1, 2)
TICK_POOL_RATE = 3000
"""Ticks prepared per second of a tick run: more than any run has reached (else it says so)."""
MOST_RATE = 50_000
"""The count bound of a looping run: at most this many responses per second of it."""
PROGRESS_SHARE, PROGRESS_P99_MS = 0.5, 25.0
TICK_RATE, TICK_P99_MS = 1000.0, 50.0


@dataclass(frozen=True)
class Result:
    endpoint: str
    backend: str
    workers: int
    connections: int
    load: wrk.Load
    cpu_us: float
    """Server CPU time (all its processes) per answered request."""
    recorded: int | None = None
    """Events the run recorded (ticks only): should equal its 2xx responses."""


@dataclass(frozen=True)
class Prepared:
    """A database ready for a backend's runs: a coordinator's token, what to read, what to
    tick (one list per tick run, each item of each of its initiatives once)."""

    url: str
    token: str
    reads: list[str]
    ticks: list[list[str]]
    initiatives: list[list[str]]


@dataclass(frozen=True)
class Options:
    seconds: int
    folder: Path
    synchronous: str
    warm_up: bool
    """Send requests for a second, unmeasured, after each server start (not in --quick)."""


def _prepare(url: str, tick_runs: int, options: Options) -> Prepared:
    """The demo, a coordinator, and initiatives of ``checklist.yaml`` for the tick runs."""
    catalog = WorkflowCatalog([*load_workflows(servers.ROOT / "workflows"), CHECKLIST])
    services = Services(open_database(url, sqlite_synchronous=options.synchronous), catalog)
    try:
        catalog.register(services.database)
        load_demo(services)
        user, token = services.database.add_user("bench", ["coordinator"])
        actor = Actor(user.person_id, frozenset(user.roles))
        reads = [
            f"GET /api/v1/initiatives/{p.initiative_id}"
            for p in services.list_initiatives(limit=100)
            if not p.ended
        ]
        per_run = math.ceil(options.seconds * TICK_POOL_RATE / len(ITEMS))
        ticks, initiatives = [], []
        for _ in range(tick_runs):
            ids = [
                services.create(CHECKLIST.id, f"bench {n}", actor).initiative_id
                for n in range(per_run)
            ]
            initiatives.append(ids)
            # item by item across the initiatives: requests in flight touch different ones
            path = "POST /api/v1/initiatives/{}/checklist/{} {{}}"
            ticks.append([path.format(i, item) for item in ITEMS for i in ids])
        return Prepared(url, token, reads, ticks, initiatives)
    finally:
        services.database.close()


def _recorded(url: str, initiatives: list[str]) -> int:
    """Events recorded on ``initiatives`` since their creation."""
    with open_database(url, auto_upgrade=False) as database, database.read() as unit:
        total = 0
        for initiative_id in initiatives:
            projection = unit.load_projection(initiative_id)
            assert projection is not None
            total += projection.version - 1
        return total


def _measure(
    server: servers.Server,
    lines: list[str],
    connections: int,
    token: str,
    options: Options,
    *,
    once: bool = False,
) -> tuple[wrk.Load, float]:
    """One wrk run against ``server`` (``lines`` in a loop, or each ``once``), and the server's
    CPU time per answered request in µs."""
    cpu = server.cpu_seconds()
    load = wrk.run(
        f"http://127.0.0.1:{server.port}",
        lines,
        connections=connections,
        seconds=options.seconds,
        token=token,
        once=once,
        folder=options.folder,
        most=len(lines) if once else options.seconds * MOST_RATE,
    )
    return load, 1e6 * (server.cpu_seconds() - cpu) / max(load.requests, 1)


def _ceiling(options: Options) -> Iterator[Result]:
    for workers in WORKERS:
        with servers.ceiling(workers, options.folder / "ceiling.log") as server:
            if options.warm_up:
                _measure(server, ["GET /"], 16, "-", replace(options, seconds=1))
            for connections in CONNECTIONS:
                load, cpu = _measure(server, ["GET /"], connections, "-", options)
                yield Result("ceiling", "-", workers, connections, load, cpu)


def _kosiflow(backend: str, url: str, options: Options) -> Iterator[Result]:
    prepared = _prepare(url, len(WORKERS) * len(CONNECTIONS), options)
    tick_runs = iter(zip(prepared.ticks, prepared.initiatives, strict=True))
    for workers in WORKERS:
        with servers.kosiflow(url, workers, options.folder / f"{backend}.log") as server:
            if options.warm_up:
                _measure(server, prepared.reads, 16, prepared.token, replace(options, seconds=1))
            for connections in CONNECTIONS:
                load, cpu = _measure(server, prepared.reads, connections, prepared.token, options)
                yield Result("progress", backend, workers, connections, load, cpu)
            for connections in CONNECTIONS:
                ticks, initiatives = next(tick_runs)
                load, cpu = _measure(server, ticks, connections, prepared.token, options, once=True)
                recorded = _recorded(url, initiatives)
                yield Result("tick", backend, workers, connections, load, cpu, recorded)


def _statuses(load: wrk.Load) -> str:
    counted = ", ".join(f"{status}: {n:,}" for status, n in sorted(load.statuses.items()))
    extra = [f"socket errors: {load.socket_errors}"] if load.socket_errors else []
    extra += [f"timeouts: {load.timeouts}"] if load.timeouts else []
    extra += ["prepared ticks ran out: rate too low"] if load.exhausted else []
    return "; ".join([counted, *extra])


def table(results: list[Result]) -> str:
    """The results as a markdown table; each row's share of the ceiling at its workers and
    connections."""
    ceiling = {(r.workers, r.connections): r.load.rate for r in results if r.endpoint == "ceiling"}
    rows = [
        "| endpoint | database | workers | connections | requests/s | share of ceiling "
        "| p50 ms | p99 ms | server CPU µs/request | statuses | events recorded |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        top = ceiling.get((r.workers, r.connections))
        share = f"{100 * r.load.rate / top:.0f} %" if top and r.endpoint != "ceiling" else ""
        recorded = "" if r.recorded is None else f"{r.recorded:,}"
        rows.append(
            f"| {r.endpoint} | {r.backend} | {r.workers} | {r.connections} "
            f"| {r.load.rate:,.0f} | {share} | {r.load.p50_ms:.1f} | {r.load.p99_ms:.1f} "
            f"| {r.cpu_us:,.0f} | {_statuses(r.load)} | {recorded} |"
        )
    return "\n".join(rows)


def verdicts(results: list[Result]) -> list[str]:
    """Each target, per database and number of workers: met or not, with the figures."""
    ceiling = {(r.workers, r.connections): r.load.rate for r in results if r.endpoint == "ceiling"}
    lines = []
    for r in results:
        load = r.load
        if r.endpoint == "progress" and r.connections == 64:
            share = load.rate / ceiling[(r.workers, 64)]
            met = share >= PROGRESS_SHARE and load.p99_ms < PROGRESS_P99_MS
            lines.append(
                f"{'✓' if met else '✗'} progress read, {r.backend}, {r.workers} worker(s), 64 "
                f"connections: {100 * share:.0f} % of the ceiling (≥ 50 %), p99 "
                f"{load.p99_ms:.1f} ms (< 25 ms)"
            )
        if r.endpoint == "tick" and r.connections == 16:
            server_errors = load.count(500, 599)
            good = load.count(200, 299) / load.seconds
            met = (
                good >= TICK_RATE
                and load.p99_ms <= TICK_P99_MS
                and server_errors == 0
                and not load.exhausted
            )
            lines.append(
                f"{'✓' if met else '✗'} tick, {r.backend}, {r.workers} worker(s), 16 connections: "
                f"{good:,.0f} successful/s (≥ 1,000), p99 {load.p99_ms:.1f} ms (≤ 50 ms), "
                f"{server_errors} 5xx (none)"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 s per figure")
    parser.add_argument("--seconds", type=int, default=10, help="per figure (default 10)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "KOSIFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated")
    parser.add_argument("--sqlite-synchronous", default="FULL", choices=["FULL", "NORMAL"])
    args = parser.parse_args()
    wrk.require_wrk()
    seconds = 1 if args.quick else args.seconds
    backends = args.backends.split(",")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {seconds} s per figure, SQLite "
        f"synchronous={args.sqlite_synchronous}; load average {os.getloadavg()[0]:.1f} before"
    )
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as folder:
        options = Options(seconds, Path(folder), args.sqlite_synchronous, not args.quick)
        results.extend(_ceiling(options))
        if "sqlite" in backends:
            results.extend(_kosiflow("sqlite", f"sqlite:///{Path(folder) / 'bench.db'}", options))
        if "postgresql" in backends:
            with postgres_schema(args.postgres) as url:
                results.extend(_kosiflow("postgresql", url, options))
    print(table(results))
    print()
    print("\n".join(verdicts(results)))
    print(f"load average {os.getloadavg()[0]:.1f} after (other processes skew the figures)")
    if args.json:
        figures = [{**asdict(r), "rate": r.load.rate} for r in results]
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"seconds": seconds, "results": figures}, indent=2))


if __name__ == "__main__":
    main()
