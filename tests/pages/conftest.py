"""Fixtures of the page tests: an app over a fresh SQLite file, and browsers signed in as users.

``site`` is a :class:`Site`: the app's services and a :meth:`Site.visitor` per user — a client
with its own cookies that signs in through the login form like a person would.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from api import create_app
from kosiflow.catalog import WorkflowCatalog
from kosiflow.engine import Actor
from kosiflow.services import Services
from kosiflow.store import open_database
from tests.api.helpers import USERS, WORKFLOWS, TestClient
from tests.pages.visitor import Visitor


class Clock:
    """A clock the test moves by hand (sessions expire, phases become overdue)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, span: timedelta) -> None:
        self.now += span


class Site:
    """The app under test, its services and the tokens of the test users."""

    def __init__(self, services: Services, tokens: dict[str, str]) -> None:
        self.services = services
        self.tokens = tokens
        self.app = create_app(services)
        self._clients: list[TestClient] = []

    def client(self, base_url: str = "http://testserver") -> TestClient:
        client = TestClient(self.app, base_url=base_url, follow_redirects=False)
        self._clients.append(client)
        return client

    def visitor(self, who: str | None = None, base_url: str = "http://testserver") -> Visitor:
        """A browser of its own, signed in as ``who`` (a key of ``USERS``) unless None."""
        visitor = Visitor(self.client(base_url))
        if who is not None:
            visitor.sign_in(self.tokens[who])
        return visitor

    def create(self, title: str = "Fahrradgaragen", workflow: str = "kosi-lab") -> str:
        actor = self.actor("jana")
        return self.services.create(workflow, title, actor).initiative_id

    def actor(self, who: str) -> Actor:
        user = self.services.database.user_by_token(self.tokens[who])
        assert user is not None
        return Actor(user.person_id, frozenset(user.roles))

    def events(self, initiative_id: str) -> list[str]:
        return [r.type for r in self.services.history(initiative_id)]

    def sessions(self) -> list[tuple[str, ...]]:
        with self.services.database.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text("SELECT * FROM sessions"))]

    def close(self) -> None:
        for client in self._clients:
            client.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def site(tmp_path: Path, clock: Clock) -> Iterator[Site]:
    catalog = WorkflowCatalog.from_folder(WORKFLOWS)
    database = open_database(f"sqlite:///{tmp_path / 'pages.db'}")
    catalog.register(database)
    services = Services(database, catalog, clock=clock)
    tokens = {key: database.add_user(name, roles)[1] for key, (name, roles) in USERS.items()}
    site = Site(services, tokens)
    yield site
    site.close()
    database.close()
