"""Mixed commands per second over HTTP with 1, 2 and 4 worker processes (PostgreSQL; SQLite: 1).

Run: ``make bench-scale`` (or ``.venv/bin/python bench/scale.py [--quick] [--seconds N]
[--connections N] [--json FILE] [--postgres URL]``); needs wrk (``apt-get install -y wrk``).

The load: wrk in a separate process (``wrk.py``), 32 connections, each request sent once from a
prepared list. The list walks initiatives of the plan/act loop (``workflows/loop.yaml``) one
step at a time, all initiatives per step: tick ``planned``, a note, fire ``start``, tick
``acted``, a note, fire ``again`` (back to plan), and again — every request a command that
records one event (a tick, a note or a phase change), each initiative's next step far behind in
the list (requests in flight touch different initiatives). ``kosiflow serve --workers N`` on a
fresh PostgreSQL schema (or SQLite file) with fresh initiatives per run.

Per run: commands/s (2xx only), p50/p99, the statuses, and CPU per command — of the server's
processes, of PostgreSQL's processes (all of them, other users' included), of wrk, and the whole
machine's busy share (other processes' load shows there). After each run the events recorded
are counted: at least the 2xx answers, at most that plus the connections (requests in flight
when wrk stops are recorded unanswered). Target: 2 workers give ≥ 1.6 times the commands/s of 1.

The CPU ceiling of a round: with 1 worker the machine is busy for a share *B* of its time (the
worker's own core, and PostgreSQL and wrk on the other); at the single worker's CPU per command
the whole machine serves at most 1/*B* times its commands/s, however many workers share it.
Before each run every worker must be up, and the server answers a warm-up of health reads.

The speed of this machine's cores drifts by up to half from one minute to the next (the same
Python loop took 0.9 to 1.5 s of CPU time in one minute), so the PostgreSQL runs are repeated in
``--rounds`` rounds of 1, 2 and 4 workers one after the other; the verdict is the median over
the rounds of 2 workers' commands/s divided by 1 worker's of the same round.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import servers
import wrk
from schemas import postgres_schema

from kosiflow.catalog import WorkflowCatalog
from kosiflow.definition import load_definition, load_workflows
from kosiflow.engine import Actor
from kosiflow.services import Services
from kosiflow.store import open_database

HERE = Path(__file__).resolve().parent
LOOP = load_definition(HERE / "workflows" / "loop.yaml")
INITIATIVES = 500
"""Initiatives per run: far more than requests in flight, so a step never overtakes the last."""
POOL_RATE = 2500
"""Commands prepared per second of a run: more than any run has reached (else it says so)."""
POSTGRES_WORKERS = (1, 2, 4)
SCALE_TARGET = 1.6
_TICKS = os.sysconf("SC_CLK_TCK")
_STEPS = (
    "POST /api/v1/initiatives/{}/checklist/planned {{}}",
    'POST /api/v1/initiatives/{}/notes {{"text": "planned"}}',
    'POST /api/v1/initiatives/{}/transitions {{"trigger": "start"}}',
    "POST /api/v1/initiatives/{}/checklist/acted {{}}",
    'POST /api/v1/initiatives/{}/notes {{"text": "acted"}}',
    'POST /api/v1/initiatives/{}/transitions {{"trigger": "again"}}',
)


@dataclass(frozen=True)
class Run:
    backend: str
    round: int
    workers: int
    connections: int
    load: wrk.Load
    server_us: float
    """CPU time of the server's processes per successful command."""
    postgres_us: float
    """CPU time of every PostgreSQL process per successful command (others' work included)."""
    wrk_us: float
    machine_busy: float
    """Share of the machine's CPU time busy during the run (everything on it)."""
    recorded: int
    """Events the run recorded: should equal its 2xx answers."""

    @property
    def commands(self) -> float:
        """Successful commands per second."""
        return self.load.count(200, 299) / self.load.seconds


def _prepare(url: str, seconds: int) -> tuple[str, list[str], list[str]]:
    """A coordinator's token, fresh initiatives of the loop, and the commands to send."""
    catalog = WorkflowCatalog([*load_workflows(servers.ROOT / "workflows"), LOOP])
    services = Services(open_database(url), catalog)
    try:
        catalog.register(services.database)
        user, token = services.database.add_user("bench", ["coordinator"])
        actor = Actor(user.person_id, frozenset(user.roles))
        ids = [
            services.create(LOOP.id, f"loop {n}", actor).initiative_id for n in range(INITIATIVES)
        ]
        steps = math.ceil(seconds * POOL_RATE / INITIATIVES)
        lines = [_STEPS[step % len(_STEPS)].format(i) for step in range(steps) for i in ids]
        return token, ids, lines
    finally:
        services.database.close()


def _recorded(url: str, initiatives: list[str]) -> int:
    with open_database(url, auto_upgrade=False) as database, database.read() as unit:
        total = 0
        for initiative_id in initiatives:
            projection = unit.load_projection(initiative_id)
            assert projection is not None
            total += projection.version - 1
        return total


def _postgres_seconds() -> float:
    """CPU time used so far by every process named ``postgres`` (Linux)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    fields = (entry / "stat").read_text().rpartition(")")[2].split()
                    total += (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
            except (OSError, IndexError, ValueError):
                continue
    return total


def _machine() -> tuple[float, float]:
    """(busy, all) jiffies of the whole machine so far."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def _wrk_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _children(pid: int) -> int:
    tasks = Path(f"/proc/{pid}/task").iterdir()
    return sum(len((task / "children").read_text().split()) for task in tasks)


def _warm_up(server: servers.Server, workers: int, token: str, folder: Path) -> None:
    """Wait until uvicorn has started every worker process, then a second of health reads."""
    deadline = time.monotonic() + servers.STARTUP_SECONDS
    while workers > 1 and _children(server.pid) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{workers} workers did not start")
        time.sleep(0.1)
    wrk.run(
        f"http://127.0.0.1:{server.port}",
        ["GET /api/v1/health"],
        connections=8,
        seconds=1,
        token=token,
        once=False,
        folder=folder,
        most=100_000,
    )


def _run(
    backend: str, url: str, workers: int, args: argparse.Namespace, folder: Path, round_: int
) -> Run:
    token, initiatives, lines = _prepare(url, args.seconds)
    with servers.kosiflow(url, workers, folder / f"{backend}-{workers}.log") as server:
        _warm_up(server, workers, token, folder)
        server_cpu, pg_cpu, wrk_cpu = server.cpu_seconds(), _postgres_seconds(), _wrk_seconds()
        busy, every = _machine()
        load = wrk.run(
            f"http://127.0.0.1:{server.port}",
            lines,
            connections=args.connections,
            seconds=args.seconds,
            token=token,
            once=True,
            folder=folder,
            most=len(lines),
        )
        done = max(load.count(200, 299), 1)
        server_us = 1e6 * (server.cpu_seconds() - server_cpu) / done
        postgres_us = 1e6 * (_postgres_seconds() - pg_cpu) / done
        wrk_us = 1e6 * (_wrk_seconds() - wrk_cpu) / done
        busy_after, every_after = _machine()
    machine_busy = (busy_after - busy) / max(every_after - every, 1)
    recorded = _recorded(url, initiatives)
    return Run(
        backend, round_, workers, args.connections, load, server_us,
        postgres_us if backend == "postgresql" else 0.0, wrk_us, machine_busy, recorded,
    )  # fmt: skip


def _runs(args: argparse.Namespace, folder: Path) -> Iterator[Run]:
    backends = args.backends.split(",")
    if "sqlite" in backends:
        yield _run("sqlite", f"sqlite:///{folder / 'scale.db'}", 1, args, folder, 1)
    if "postgresql" in backends:
        for round_ in range(1, args.rounds + 1):
            for workers in POSTGRES_WORKERS:
                with postgres_schema(args.postgres, prefix="bench_scale") as url:
                    yield _run("postgresql", url, workers, args, folder, round_)


def _statuses(load: wrk.Load) -> str:
    counted = ", ".join(f"{status}: {n:,}" for status, n in sorted(load.statuses.items()))
    extra = [f"socket errors: {load.socket_errors}"] if load.socket_errors else []
    extra += [f"timeouts: {load.timeouts}"] if load.timeouts else []
    extra += ["prepared commands ran out: rate too low"] if load.exhausted else []
    return "; ".join([counted, *extra])


def table(runs: list[Run]) -> str:
    rows = [
        "| database | round | workers | commands/s | p50 ms | p99 ms | server CPU µs/command "
        "| PostgreSQL CPU µs/command | wrk CPU µs/command | machine busy | statuses "
        "| events recorded |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        postgres = f"{r.postgres_us:,.0f}" if r.backend == "postgresql" else "-"
        rows.append(
            f"| {r.backend} | {r.round} | {r.workers} | {r.commands:,.0f} | {r.load.p50_ms:.1f} "
            f"| {r.load.p99_ms:.1f} | {r.server_us:,.0f} | {postgres} | {r.wrk_us:,.0f} "
            f"| {100 * r.machine_busy:.0f} % | {_statuses(r.load)} | {r.recorded:,} |"
        )
    return "\n".join(rows)


def verdict(runs: list[Run]) -> str | None:
    """The median over the rounds of 2 workers' commands/s over 1 worker's (PostgreSQL)."""
    rounds: dict[int, dict[int, Run]] = {}
    for r in runs:
        if r.backend == "postgresql":
            rounds.setdefault(r.round, {})[r.workers] = r
    factors = sorted(
        by[2].commands / by[1].commands for by in rounds.values() if 1 in by and 2 in by
    )
    if not factors:
        return None
    factor = statistics.median(factors)
    met = "✓" if factor >= SCALE_TARGET else "✗"
    each = ", ".join(f"{f:.2f}" for f in factors)
    ceilings = ", ".join(f"{1 / by[1].machine_busy:.2f}" for by in rounds.values() if 1 in by)
    medians = ", ".join(
        f"{workers} worker{'s' if workers > 1 else ''} "
        f"{statistics.median(by[workers].commands for by in rounds.values() if workers in by):,.0f}"
        for workers in POSTGRES_WORKERS
    )
    return (
        f"{met} PostgreSQL, 2 workers: {factor:.2f} times the commands/s of 1 (≥ {SCALE_TARGET}; "
        f"median of {len(factors)} rounds: {each}). Median commands/s: {medians}.\n"
        f"CPU ceiling by round (1 / the machine's busy share with 1 worker: what any number of "
        f"workers could reach at the single worker's CPU per command): {ceilings}."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 s per figure")
    parser.add_argument("--seconds", type=int, default=10, help="per figure (default 10)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of the PostgreSQL runs (default 3)"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "KOSIFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated")
    args = parser.parse_args()
    wrk.require_wrk()
    if args.quick:
        args.seconds = 2
        args.rounds = 1
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {args.seconds} s per figure, {args.connections} "
        f"connections; load average {os.getloadavg()[0]:.1f} before"
    )
    with tempfile.TemporaryDirectory() as folder:
        runs = list(_runs(args, Path(folder)))
    print(table(runs))
    found = verdict(runs)
    if found:
        print(found)
    print(f"load average {os.getloadavg()[0]:.1f} after (other processes skew the figures)")
    if args.json:
        figures = [{**asdict(r), "commands": r.commands} for r in runs]
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"seconds": args.seconds, "runs": figures}, indent=2))


if __name__ == "__main__":
    main()
