"""Signing in to the pages: an API token opens a server-side session of limited lifetime."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from kosiflow.services.base import ServiceBase
from kosiflow.store import WebSession

SESSION_LIFETIME = timedelta(hours=12)
"""How long a sign-in lasts (from the moment of signing in; activity does not extend it)."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: its id goes into the browser's cookie and is stored only hashed."""

    session_id: str
    session: WebSession


class SessionServices(ServiceBase):
    """Sign in with an API token, find the session a cookie names, sign out."""

    def sign_in(self, token: str) -> SignedIn | None:
        """A new session for the user ``token`` belongs to; None (and nothing stored) for an
        unknown token. Sessions that have expired are cleared on the way."""
        user = self.database.user_by_token(token)
        if user is None:
            return None
        now = self._clock()
        with self.database.write() as unit:
            unit.delete_expired_sessions(now=now)
            session_id, session = unit.add_session(user, now=now, expires_at=now + SESSION_LIFETIME)
        return SignedIn(session_id, session)

    def signed_in(self, session_id: str) -> WebSession | None:
        """The session ``session_id`` names, unless it is unknown, expired or its user erased."""
        with self.database.read() as unit:
            return unit.find_session(session_id, now=self._clock())

    def sign_out(self, session_id: str) -> None:
        """End the session ``session_id`` (nothing happens when there is none)."""
        with self.database.write() as unit:
            unit.delete_session(session_id)
