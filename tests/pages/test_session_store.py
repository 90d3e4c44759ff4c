"""Sessions in the store, on SQLite and PostgreSQL: found while valid, gone when ended."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from kosiflow.store import Database, User, open_database

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    yield database
    database.close()


@pytest.fixture
def user(db: Database) -> User:
    return db.add_user("Jana Becker", ["coordinator"])[0]


def test_a_session_is_found_by_its_id_until_it_expires(db: Database, user: User) -> None:
    with db.write() as unit:
        session_id, session = unit.add_session(user, now=NOW, expires_at=NOW + timedelta(hours=1))

    with db.read() as unit:
        found = unit.find_session(session_id, now=NOW + timedelta(minutes=59))
        expired = unit.find_session(session_id, now=NOW + timedelta(hours=1))
        unknown = unit.find_session("another id", now=NOW)
    assert found == session
    assert found.user.name == "Jana Becker"
    assert found.user.roles == ("coordinator",)
    assert expired is None
    assert unknown is None


def test_ended_and_expired_sessions_are_deleted(db: Database, user: User) -> None:
    with db.write() as unit:
        ended, _ = unit.add_session(user, now=NOW, expires_at=NOW + timedelta(hours=12))
        old, _ = unit.add_session(user, now=NOW, expires_at=NOW + timedelta(hours=1))
        kept, _ = unit.add_session(user, now=NOW, expires_at=NOW + timedelta(hours=12))

    with db.write() as unit:
        assert unit.delete_session(ended)
        assert not unit.delete_session(ended)
        assert unit.delete_expired_sessions(now=NOW + timedelta(hours=2)) == 1

    with db.read() as unit:
        assert unit.find_session(kept, now=NOW) is not None
        assert unit.find_session(old, now=NOW) is None
