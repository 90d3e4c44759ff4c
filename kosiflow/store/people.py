"""People and users: the only personal data, kept out of the event history.

Events name people by a pseudonymous id (``p-`` + 32 hex digits). Users act through the API or
CLI with a random token of which only the SHA-256 hash is stored.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from kosiflow.errors import BadInput
from kosiflow.store.columns import from_db_time
from kosiflow.store.executor import Executor, Row
from kosiflow.store.records import Person, User


def token_hash(token: str) -> str:
    """The stored form of an API token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


USER_COLUMNS = 5
"""The columns of a user row (``statements._USERS``), first in the rows that join a user."""


def user_of(row: Row) -> User:
    """The user the first :data:`USER_COLUMNS` columns of ``row`` describe."""
    return User(
        id=row[0],
        person_id=row[1],
        name=row[2],
        roles=tuple(json.loads(row[3])),
        created_at=from_db_time(row[4]),
    )


def add_person(db: Executor, name: str, contact: str | None = None) -> str:
    """Insert a person; returns their new pseudonymous id."""
    person_id = f"p-{uuid.uuid4().hex}"
    params = {
        "id": person_id,
        "name": name,
        "contact": contact,
        "created_at": db.db_time(datetime.now(UTC)),
        "erased_at": None,
    }
    db.run(db.sql.insert_person, params)
    return person_id


def erase_person(db: Executor, person_id: str) -> bool:
    """Blank a person's name and contact; False when unknown or already erased."""
    params = {
        "b_id": person_id,
        "name": "",
        "contact": None,
        "erased_at": db.db_time(datetime.now(UTC)),
    }
    return db.count(db.sql.erase_person, params) == 1


def find_people(db: Executor, key: str) -> list[Person]:
    """The people whose pseudonymous id or name is ``key``, the earliest first."""
    return [
        Person(row[0], row[1], None if row[2] is None else from_db_time(row[2]))
        for row in db.all(db.sql.select_people, {"key": key})
    ]


def person_names(db: Executor, ids: Iterable[str]) -> dict[str, str]:
    """Person id → name for those of ``ids`` that exist (erased people have the name "")."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    rows = db.all(db.sql.select_person_names, {"ids": json.dumps(wanted)})
    found: dict[str, str] = {row[0]: row[1] for row in rows}
    return {person_id: found[person_id] for person_id in wanted if person_id in found}


def add_user(db: Executor, name: str, roles: Sequence[str]) -> tuple[User, str]:
    """Insert a user and their person; returns the user and the token (only its hash is kept).

    Raises:
        BadInput: the name is empty or another user already has it.
    """
    name = name.strip()
    if not name:
        raise BadInput("name", "a user needs a name")
    if user_by_name(db, name) is not None:
        raise BadInput("name", f"a user named {name!r} already exists")
    token = secrets.token_urlsafe(32)
    user = User(
        id=f"u-{uuid.uuid4().hex}",
        person_id=add_person(db, name),
        name=name,
        roles=tuple(roles),
        created_at=datetime.now(UTC),
    )
    params = {
        "id": user.id,
        "person_id": user.person_id,
        "roles": json.dumps(list(user.roles)),
        "token_hash": token_hash(token),
        "created_at": db.db_time(user.created_at),
    }
    db.run(db.sql.insert_user, params)
    return user, token


def renew_token(db: Executor, user: User) -> str:
    """A new API token for ``user``; the old one stops working. Only the hash is kept."""
    token = secrets.token_urlsafe(32)
    db.run(db.sql.renew_token, {"b_id": user.id, "token_hash": token_hash(token)})
    return token


def user_by_token(db: Executor, token: str) -> User | None:
    row = db.one(db.sql.select_user_by_token, {"token_hash": token_hash(token)})
    return None if row is None else user_of(row)


def user_by_name(db: Executor, name: str) -> User | None:
    row = db.one(db.sql.select_user_by_name, {"name": name})
    return None if row is None else user_of(row)


def list_users(db: Executor) -> list[User]:
    return [user_of(row) for row in db.all(db.sql.list_users)]
