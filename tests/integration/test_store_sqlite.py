"""What only the SQLite backend promises: its pragmas, and several processes on one file."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from kosiflow.errors import BadInput, ConcurrencyConflict, StoreError
from kosiflow.store import GENESIS_HASH, compute_hash, open_database, verify_chain
from kosiflow.store.chain import canonical_json
from tests.integration.store_helpers import T0, define, event, grow, projection

PROCESSES = 4
APPENDS = 50


@pytest.mark.parametrize(("synchronous", "level"), [("FULL", 2), ("NORMAL", 1), ("normal", 1)])
def test_every_connection_runs_with_kosiflows_pragmas(
    sqlite_url: str, synchronous: str, level: int
) -> None:
    database = open_database(sqlite_url, sqlite_synchronous=synchronous)
    try:
        with database.engine.connect() as connection:

            def pragma(name: str) -> object:
                return connection.execute(text(f"PRAGMA {name}")).scalar()

            assert pragma("journal_mode") == "wal"
            assert pragma("synchronous") == level
            assert pragma("foreign_keys") == 1
            assert pragma("busy_timeout") == 30_000
    finally:
        database.close()


@pytest.mark.parametrize(
    "url",
    [
        "mysql://db/kosi",
        "postgresql+psycopg2://u@h/db",
        "sqlite://",
        "sqlite:///:memory:",
        "not a url",
    ],
)
def test_unsupported_database_urls_are_bad_input(url: str) -> None:
    with pytest.raises(BadInput) as caught:
        open_database(url)
    assert caught.value.field == "database"


def test_an_unreachable_server_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="cannot open"):
        open_database("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2")


def test_an_unknown_synchronous_mode_is_bad_input(sqlite_url: str) -> None:
    with pytest.raises(BadInput, match="OFF"):
        open_database(sqlite_url, sqlite_synchronous="OFF")


def test_the_hash_is_sha256_over_the_documented_canonical_encoding() -> None:
    payload = {"z": 1, "a": ["ü", None, 1.5]}
    at = T0
    expected = json.dumps(
        ["i-1", 1, "NoteAdded", 1, "p-1", "2024-05-01T09:30:00.123456+00:00", payload, "0" * 64],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )

    assert canonical_json(payload) == '{"a":["ü",null,1.5],"z":1}'
    assert (
        compute_hash(
            initiative_id="i-1",
            seq=1,
            type="NoteAdded",
            schema_version=1,
            actor="p-1",
            at=at,
            payload=payload,
            prev_hash=GENESIS_HASH,
        )
        == hashlib.sha256(expected.encode()).hexdigest()
    )


def test_an_empty_history_verifies_and_a_cut_tail_is_caught_by_the_projection(
    sqlite_url: str,
) -> None:
    assert verify_chain([]).ok
    database = open_database(sqlite_url)
    try:
        define(database)
        iid = str(uuid.uuid4())
        grow(database, iid, 3)
        with database.engine.begin() as connection:
            connection.execute(text("DELETE FROM events WHERE seq = 3"))
        with database.read() as unit:
            stored = unit.load_projection(iid)
            assert stored is not None
            history = list(unit.events(iid))
        assert verify_chain(history).ok
        cut = verify_chain(history, head_hash=stored.head_hash, version=stored.version)
        assert (cut.ok, cut.first_bad_seq) == (False, 3)
    finally:
        database.close()


def _append_with_retries(url: str, initiative_id: str) -> int:
    """APPENDS appends, each against the version read before the write; returns conflicts."""
    database = open_database(url)
    conflicts = 0
    try:
        for _ in range(APPENDS):
            while True:
                with database.read() as unit:
                    current = unit.load_projection(initiative_id)
                assert current is not None
                try:
                    with database.write() as unit:
                        unit.append(
                            projection(initiative_id, current.version + 1),
                            current.version,
                            [event(current.version + 1)],
                        )
                except ConcurrencyConflict:
                    conflicts += 1
                else:
                    break
    finally:
        database.close()
    return conflicts


@pytest.mark.slow
def test_processes_writing_one_file_never_see_a_lock_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    database = open_database(url)
    try:
        define(database)
        iid = str(uuid.uuid4())
        grow(database, iid, 1)
        context = multiprocessing.get_context("spawn")
        with context.Pool(PROCESSES) as pool:
            conflicts = pool.starmap(_append_with_retries, [(url, iid)] * PROCESSES)
        with database.read() as unit:
            history = list(unit.events(iid))
            stored = unit.load_projection(iid)
        total = 1 + PROCESSES * APPENDS
        assert [r.seq for r in history] == list(range(1, total + 1))
        assert stored is not None
        assert stored.version == total
        assert verify_chain(history, head_hash=stored.head_hash, version=total).ok
        assert sum(conflicts) >= 0
    finally:
        database.close()
