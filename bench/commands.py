"""Persisted commands per second against the raw limit of the database, and decide() alone.

Run: ``make bench`` (or ``.venv/bin/python bench/commands.py [--seconds N] [--postgres URL]``).
Each figure is the best of three rounds of ``--seconds`` each. The raw limit is one event row
inserted and one state row updated per transaction, with the same durability settings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from kosiflow.catalog import WorkflowCatalog
from kosiflow.definition import load_definition
from kosiflow.engine import (
    Actor,
    CreateInitiative,
    InitiativeState,
    Recorded,
    TickItem,
    apply,
    decide,
)
from kosiflow.services import Services
from kosiflow.store import open_database
from kosiflow.store.statements import statements_for

HERE = Path(__file__).resolve().parent
LOOP = HERE / "workflows" / "loop.yaml"
ACTOR_ROLES = ["coordinator"]


def _rate(work: Callable[[], None], seconds: float) -> float:
    """Best operations per second over three rounds of about ``seconds`` each."""
    best = 0.0
    for _ in range(3):
        count = 0
        start = time.perf_counter()
        deadline = start + seconds
        while time.perf_counter() < deadline:
            work()
            count += 1
        best = max(best, count / (time.perf_counter() - start))
    return best


def bench_decide(seconds: float) -> float:
    """µs per decide() of a tick that is accepted."""
    definition = load_definition(LOOP)
    actor = Actor("p-1", frozenset(ACTOR_ROLES))
    state = InitiativeState("i-1", definition)
    created = decide(state, CreateInitiative("bench"), actor)
    assert isinstance(created, list)
    state = apply(state, Recorded(1, actor.id, datetime.now(UTC), created[0]))
    command = TickItem("planned")
    return 1e6 / _rate(lambda: decide(state, command, actor), seconds)


def raw_sqlite(path: Path, synchronous: str, seconds: float) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={synchronous}")
    connection.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, initiative_id TEXT, seq INTEGER, "
        "type TEXT, payload TEXT, hash TEXT, UNIQUE (initiative_id, seq))"
    )
    connection.execute("CREATE TABLE state (id TEXT PRIMARY KEY, version INTEGER, state TEXT)")
    connection.execute("INSERT INTO state VALUES ('i-1', 0, '{}')")
    seq = 0
    payload = json.dumps({"phase": "plan", "visit": 1, "item": "planned", "evidence": None})

    def one() -> None:
        nonlocal seq
        seq += 1
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            "INSERT INTO events (initiative_id, seq, type, payload, hash) VALUES (?, ?, ?, ?, ?)",
            ("i-1", seq, "ItemTicked", payload, "0" * 64),
        )
        connection.execute(
            "UPDATE state SET version = ?, state = ? WHERE id = 'i-1'", (seq, payload)
        )
        connection.execute("COMMIT")

    try:
        return _rate(one, seconds)
    finally:
        connection.close()


def floor_sqlite(folder: Path, synchronous: str, seconds: float) -> float:
    """kosiflow's own schema, statements and row sizes, run by stdlib sqlite3 without kosiflow:
    what the database alone costs per command (the floor under any Python on top)."""
    url = f"sqlite:///{folder / f'floor-{synchronous}.db'}"
    catalog = WorkflowCatalog([load_definition(LOOP)])
    services = Services(open_database(url, sqlite_synchronous=synchronous), catalog)
    catalog.register(services.database)
    user, _ = services.database.add_user("floor", ACTOR_ROLES)
    actor = Actor(user.person_id, frozenset(user.roles))
    initiative = services.create("bench-loop", "bench", actor).initiative_id
    services.tick(initiative, "planned", actor)
    with services.database.read() as unit:
        projection = unit.load_projection(initiative)
        event = list(unit.events(initiative))[-1]
    assert projection is not None
    sql = statements_for(services.database.engine.dialect)
    services.database.close()
    connection = sqlite3.connect(folder / f"floor-{synchronous}.db", isolation_level=None)
    connection.execute(f"PRAGMA synchronous={synchronous}")
    state = json.dumps(projection.state)
    payload = json.dumps(dict(event.payload))
    version = projection.version
    head = projection.head_hash

    def one() -> None:
        nonlocal version, head
        connection.execute("BEGIN IMMEDIATE")
        moving = {
            "title": "bench", "on_hold": 0, "ended": 0, "version": version + 1, "state": state,
            "head_hash": "a" * 64, "updated_at": "2026-01-01T00:00:00.000000+00:00",
            "b_id": initiative, "b_expected": version, "b_head": head,
        }  # fmt: skip
        cursor = connection.execute(sql.update_projection.sql, sql.update_projection.params(moving))
        assert cursor.rowcount == 1
        row = {
            "initiative_id": initiative, "seq": version + 1, "type": event.type,
            "schema_version": 1, "actor": actor.id, "at": "2026-01-01T00:00:00.000000+00:00",
            "payload": payload, "prev_hash": "b" * 64, "hash": "c" * 64,
        }  # fmt: skip
        connection.execute(sql.insert_event.sql, sql.insert_event.params(row))
        published = {**row, "workflow_id": "bench-loop", "phase": "plan"}
        connection.execute(sql.outbox.insert.sql, sql.outbox.insert.params(published))
        connection.execute("COMMIT")
        version += 1
        head = "a" * 64

    try:
        return _rate(one, seconds)
    finally:
        connection.close()


def raw_postgres(url: str, seconds: float) -> float:
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as connection:
        connection.execute("DROP TABLE IF EXISTS bench_events, bench_state")
        connection.execute(
            "CREATE TABLE bench_events (id BIGSERIAL PRIMARY KEY, initiative_id TEXT, seq INT, "
            "type TEXT, payload TEXT, hash TEXT, UNIQUE (initiative_id, seq))"
        )
        connection.execute(
            "CREATE TABLE bench_state (id TEXT PRIMARY KEY, version INT, state TEXT)"
        )
        connection.execute("INSERT INTO bench_state VALUES ('i-1', 0, '{}')")
        connection.commit()
        seq = 0
        payload = json.dumps({"phase": "plan", "visit": 1, "item": "planned", "evidence": None})

        def one() -> None:
            nonlocal seq
            seq += 1
            with connection.transaction():
                connection.execute(
                    "INSERT INTO bench_events (initiative_id, seq, type, payload, hash) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    ("i-1", seq, "ItemTicked", payload, "0" * 64),
                )
                connection.execute(
                    "UPDATE bench_state SET version = %s, state = %s WHERE id = 'i-1'",
                    (seq, payload),
                )

        try:
            return _rate(one, seconds)
        finally:
            connection.execute("DROP TABLE bench_events, bench_state")
            connection.commit()


def kosiflow_commands(url: str, seconds: float, **options: str) -> float:
    """Persisted commands per second: tick, fire, tick, fire back, … on one initiative."""
    catalog = WorkflowCatalog([load_definition(LOOP)])
    services = Services(open_database(url, **options), catalog)
    try:
        catalog.register(services.database)
        user, _ = services.database.add_user(f"bench-{time.time_ns()}", ACTOR_ROLES)
        actor = Actor(user.person_id, frozenset(user.roles))
        initiative = services.create("bench-loop", "bench", actor).initiative_id
        cycle = [
            lambda: services.tick(initiative, "planned", actor),
            lambda: services.fire(initiative, "start", actor),
            lambda: services.tick(initiative, "acted", actor),
            lambda: services.fire(initiative, "again", actor),
        ]
        step = 0

        def one() -> None:
            nonlocal step
            cycle[step % 4]()
            step += 1

        return _rate(one, seconds)
    finally:
        services.database.close()


def _postgres_schema_url(url: str) -> tuple[str, Callable[[], None]]:
    """A fresh schema for the benchmark, and how to drop it."""
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    schema = f"bench_{os.getpid()}"
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")

    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "KOSIFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"decide(): {bench_decide(args.seconds):.1f} µs per accepted tick (target < 50 µs)")
    with tempfile.TemporaryDirectory() as folder:
        for synchronous in ("FULL", "NORMAL"):
            raw = raw_sqlite(Path(folder) / f"raw-{synchronous}.db", synchronous, args.seconds)
            url = f"sqlite:///{Path(folder) / f'kosiflow-{synchronous}.db'}"
            ours = kosiflow_commands(url, args.seconds, sqlite_synchronous=synchronous)
            floor = floor_sqlite(Path(folder), synchronous, args.seconds)
            print(
                f"SQLite synchronous={synchronous}: kosiflow {ours:,.0f} commands/s, "
                f"raw sqlite3 {raw:,.0f} tx/s → {100 * ours / raw:.0f} % (target ≥ 50 %); "
                f"kosiflow's own rows by raw sqlite3 {floor:,.0f} tx/s"
            )
    raw = raw_postgres(args.postgres, args.seconds)
    url, drop = _postgres_schema_url(args.postgres)
    try:
        ours = kosiflow_commands(url, args.seconds)
    finally:
        drop()
    print(
        f"PostgreSQL: kosiflow {ours:,.0f} commands/s, raw psycopg {raw:,.0f} tx/s "
        f"→ {100 * ours / raw:.0f} % (target ≥ 60 %)"
    )


if __name__ == "__main__":
    main()
