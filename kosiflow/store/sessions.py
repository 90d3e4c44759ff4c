"""Browser sessions of the pages: a random id in a cookie, of which only the hash is stored.

A session belongs to a user and carries a CSRF secret that every form of it must send back. It
ends at its expiry, when it is deleted (sign-out), or when its user's person is erased.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from kosiflow.store.columns import from_db_time
from kosiflow.store.executor import Executor
from kosiflow.store.people import USER_COLUMNS, user_of
from kosiflow.store.records import User


@dataclass(frozen=True, slots=True)
class WebSession:
    """A signed-in browser: whose it is, the secret its forms carry, and when it ends."""

    user: User
    csrf_secret: str
    expires_at: datetime


def session_hash(session_id: str) -> str:
    """The stored form of a session id (the cookie's value)."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def add_session(
    db: Executor, user: User, *, now: datetime, expires_at: datetime
) -> tuple[str, WebSession]:
    """Start a session for ``user``; returns its id (for the cookie, never stored) and itself."""
    session_id = secrets.token_urlsafe(32)
    session = WebSession(user, secrets.token_urlsafe(32), expires_at)
    params = {
        "id_hash": session_hash(session_id),
        "user_id": user.id,
        "csrf_secret": session.csrf_secret,
        "created_at": db.db_time(now),
        "expires_at": db.db_time(expires_at),
    }
    db.run(db.sql.insert_session, params)
    return session_id, session


def find_session(db: Executor, session_id: str, *, now: datetime) -> WebSession | None:
    """The session ``session_id`` names, unless it is unknown or has expired."""
    params = {"id_hash": session_hash(session_id), "now": db.db_time(now)}
    row = db.one(db.sql.select_session, params)
    if row is None:
        return None
    return WebSession(
        user_of(row[:USER_COLUMNS]), row[USER_COLUMNS], from_db_time(row[USER_COLUMNS + 1])
    )


def delete_session(db: Executor, session_id: str) -> bool:
    """End a session; False when there was none."""
    return db.count(db.sql.delete_session, {"id_hash": session_hash(session_id)}) == 1


def delete_expired_sessions(db: Executor, *, now: datetime) -> int:
    """Delete every session that has expired by ``now``; returns how many."""
    return db.count(db.sql.delete_expired_sessions, {"now": db.db_time(now)})
