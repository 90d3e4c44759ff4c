"""Auditors' reads on a large history: verification, export, statistics, one initiative's history.

Run: ``.venv/bin/python bench/audit.py [--events N] [--per-initiative K] [--postgres URL]``.
The database is built once per size and backend and kept in ``bench/.data/`` (SQLite) or a
schema ``bench_audit_<N>`` (PostgreSQL): initiatives of the benchmark loop workflow with
``--per-initiative`` events each, written through the store like any command's events. Each
measurement runs in a fresh process, so that its peak memory (max RSS) is its own.

Targets: verification and export ≥ 100,000 events/s with flat memory; any single-initiative
query under 10 ms.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from kosiflow.catalog import WorkflowCatalog
from kosiflow.engine import (
    Actor,
    CreateInitiative,
    FireTrigger,
    InitiativeState,
    Recorded,
    TickItem,
    apply,
    decide,
)
from kosiflow.services import Services
from kosiflow.services.base import projection_of
from kosiflow.services.commands import CommandServices
from kosiflow.services.exports import export_lines
from kosiflow.store import NewEvent, open_database

HERE = Path(__file__).resolve().parent
WORKFLOWS = HERE / "workflows"
DATA = HERE / ".data"
START = datetime(2020, 1, 6, 8, 0, tzinfo=UTC)
LOOP = [TickItem("planned"), FireTrigger("start"), TickItem("acted"), FireTrigger("again")]
"""The commands of one round of the benchmark loop (four events)."""


def _services(url: str) -> Services:
    catalog = WorkflowCatalog.from_folder(WORKFLOWS)
    database = open_database(url, sqlite_synchronous="NORMAL")
    catalog.register(database)
    return Services(database, catalog)


def _history(
    services: Services, number: int, events: int, actor: Actor
) -> tuple[InitiativeState, list[NewEvent]]:
    """Initiative ``number``'s events (created, then rounds of the loop, an hour apart) and the
    state they fold to."""
    definition = services.catalog.newest("bench-loop")
    state = InitiativeState(f"bench-{number:07d}", definition)
    at = START + timedelta(minutes=number)
    new: list[NewEvent] = []
    commands = [CreateInitiative(f"Initiative {number}"), *(LOOP * (events // len(LOOP) + 1))]
    for command in commands[:events]:
        outcome = decide(state, command, actor)
        assert isinstance(outcome, list), outcome
        for event in outcome:
            state = apply(state, Recorded(state.version + 1, actor.id, at, event))
            new.append(CommandServices._new_event(event, actor, at))
        at += timedelta(hours=1)
    return state, new


def build(url: str, total: int, per_initiative: int) -> None:
    """Fill an empty database with ``total`` events; print progress to stderr."""
    services = _services(url)
    try:
        if services.initiative_ids():
            return
        user, _ = services.database.add_user("Bench", ["coordinator"])
        actor = Actor(user.person_id, frozenset(user.roles))
        initiatives = total // per_initiative
        started = time.perf_counter()
        for first in range(0, initiatives, 100):
            with services.database.write() as unit:
                for number in range(first, min(first + 100, initiatives)):
                    state, new = _history(services, number, per_initiative, actor)
                    unit.append(projection_of(state, ""), 0, new)
            done = min(first + 100, initiatives) * per_initiative
            rate = done / (time.perf_counter() - started)
            print(f"\rbuilding: {done:,} events ({rate:,.0f}/s)", end="", file=sys.stderr)
        print(file=sys.stderr)
    finally:
        services.database.close()


def _timed(work: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    count = work()
    return time.perf_counter() - started, count


def measure(url: str, what: str) -> dict[str, float]:
    """One measurement in this process: seconds, count and the process's peak RSS (MiB)."""
    services = _services(url)
    try:
        ids = services.initiative_ids()
        started = resource.getrusage(resource.RUSAGE_SELF)
        cpu_before = started.ru_utime + started.ru_stime
        if what == "verify":
            seconds, count = _timed(
                lambda: sum(result.events_checked for _, result in services.verify_all())
            )
        elif what == "export":
            with open("/dev/null", "wb") as sink:
                seconds, count = _timed(
                    lambda: sum(
                        sink.write(line) > 0
                        for line in export_lines(services.export_stored(), "jsonl")
                    )
                )
        elif what == "statistics":
            seconds, count = _timed(lambda: len(services.phase_statistics()))
        else:
            middle = ids[len(ids) // 2]
            query = {
                "history": lambda: len(list(services.history(middle))),
                "progress": lambda: services.progress(middle).state.version,
                "state_at": lambda: services.state_at(middle, START + timedelta(days=30)).version,
            }[what]
            query()  # warm: definitions loaded, connection open
            runs = [_timed(query)[0] for _ in range(20)]
            seconds, count = sorted(runs)[len(runs) // 2], 1
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu = usage.ru_utime + usage.ru_stime - cpu_before
        return {"seconds": seconds, "count": count, "peak_mib": usage.ru_maxrss / 1024, "cpu": cpu}
    finally:
        services.database.close()


def _in_child(url: str, what: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--url", url, "--measure", what],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def _postgres_url(server: str, total: int) -> str:
    schema = f"bench_audit_{total}"
    with psycopg.connect(
        make_url(server).set(drivername="postgresql").render_as_string(False)
    ) as c:
        c.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def report(url: str, label: str, only: set[str]) -> list[str]:
    rows = []
    for what in ("verify", "export"):
        if what not in only:
            continue
        r = _in_child(url, what)
        rows.append(
            f"| {label} | {what} | {r['count']:,.0f} events in {r['seconds']:.1f} s "
            f"(CPU {r['cpu']:.1f} s) | {r['count'] / r['seconds']:,.0f} events/s | "
            f"{r['peak_mib']:.0f} MiB |"
        )
    if "statistics" not in only:
        return rows
    r = _in_child(url, "statistics")
    rows.append(
        f"| {label} | statistics | {r['count']:.0f} rows | {r['seconds']:.2f} s | "
        f"{r['peak_mib']:.0f} MiB |"
    )
    for what in ("history", "progress", "state_at"):
        r = _in_child(url, what)
        rows.append(
            f"| {label} | one initiative: {what} | median of 20 | "
            f"{r['seconds'] * 1000:.2f} ms | {r['peak_mib']:.0f} MiB |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--per-initiative", type=int, default=100)
    parser.add_argument("--postgres", help="also on this PostgreSQL server (SQLAlchemy URL)")
    parser.add_argument(
        "--no-sqlite", action="store_true", help="only on PostgreSQL (with --postgres)"
    )
    parser.add_argument(
        "--only",
        default="verify,export,statistics",
        help="comma-separated: verify, export, statistics (with the single-initiative queries)",
    )
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.url, args.measure)))
        return
    DATA.mkdir(exist_ok=True)
    targets = (
        [] if args.no_sqlite else [("SQLite", f"sqlite:///{DATA / f'audit-{args.events}.db'}")]
    )
    if args.postgres:
        targets.append(("PostgreSQL", _postgres_url(args.postgres, args.events)))
    lines = ["| backend | what | amount | rate or time | peak memory |", "|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    for label, url in targets:
        build(url, args.events, args.per_initiative)
        for line in report(url, label, set(args.only.split(","))):
            print(line, flush=True)


if __name__ == "__main__":
    main()
