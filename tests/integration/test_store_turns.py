"""SQLite writers take turns: an open write unit holds the turn of every process on the file."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from kosiflow.store import Database, open_database


@pytest.fixture
def database(sqlite_url: str) -> Iterator[Database]:
    database = open_database(sqlite_url)
    yield database
    database.close()


def _turn_is_free(sqlite_url: str) -> bool:
    """Whether another process could take a turn to write now (tried without waiting)."""
    path = f"{make_url(sqlite_url).database}-writers"
    file = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(file)  # closing the file gives a turn taken here back
    return True


def test_a_write_unit_holds_the_turn_until_it_has_committed(
    database: Database, sqlite_url: str
) -> None:
    with database.write() as unit:
        unit.add_person("Jana Becker")
        assert not _turn_is_free(sqlite_url)
    assert _turn_is_free(sqlite_url)
    assert Path(f"{make_url(sqlite_url).database}-writers").exists()


def test_a_write_unit_that_fails_gives_its_turn_back_and_writes_nothing(
    database: Database, sqlite_url: str
) -> None:
    added: list[str] = []

    def add_and_change_mind() -> None:
        with database.write() as unit:
            added.append(unit.add_person("Jana Becker"))
            raise ValueError("changed my mind")

    with pytest.raises(ValueError, match="changed my mind"):
        add_and_change_mind()
    assert _turn_is_free(sqlite_url)
    with database.read() as unit:
        assert unit.person_names(added) == {}
    with database.write() as unit:
        unit.add_person("Thomas Krüger")  # the next writer gets its turn


def test_reading_takes_no_turn(database: Database, sqlite_url: str) -> None:
    with database.read() as unit:
        assert unit.person_names(["p-unknown"]) == {}
        assert _turn_is_free(sqlite_url)
