"""Apps for the API tests over a database of their choosing.

``api_on(url)`` is the ``api`` fixture's app over any database (to run a test on SQLite and
PostgreSQL alike); ``demo_api(path)`` is the app over a demo database (``kosiflow.demo``) with a
token for each kind of caller, for tests that need the demo's initiatives to exist.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from api import create_app
from kosiflow.catalog import WorkflowCatalog
from kosiflow.demo import MARKER, load_demo
from kosiflow.engine import Actor
from kosiflow.services import Services
from kosiflow.store import open_database
from tests.api.helpers import USERS, WORKFLOWS, Api, TestClient

CALLERS = ("anonymous", "bad_token", "coordinator", "administration", "auditor", "admin")
"""No token, an unknown token, and users holding one role each (``administration`` is the
workflow role "Verwaltung": it acts on some items and gates but does not coordinate)."""

DEMO_USERS = {
    "coordinator": "Jana Becker",
    "administration": "Thomas Krüger",
    "auditor": "Renate Albers",
}
"""The demo users acting for each role (an admin is added: the demo has none)."""


@contextmanager
def api_on(url: str) -> Iterator[Api]:
    """The app over the fresh database at ``url``, with the test users of ``helpers.USERS``."""
    catalog = WorkflowCatalog.from_folder(WORKFLOWS)
    database = open_database(url)
    try:
        catalog.register(database)
        services = Services(database, catalog)
        tokens = {key: database.add_user(name, roles)[1] for key, (name, roles) in USERS.items()}
        with TestClient(create_app(services)) as client:
            yield Api(client, services, tokens)
    finally:
        database.close()


@dataclass(frozen=True)
class DemoApi:
    """The app over the demo database and what its callers send."""

    app: FastAPI
    client: TestClient
    services: Services
    headers: Mapping[str, Mapping[str, str]]
    """Per caller (see ``CALLERS``), the headers that identify them."""
    coordinator: Actor
    garages: str
    """The id of the demo's bicycle garages ("Fahrradgaragen im Quartier")."""


@contextmanager
def demo_api(path: Path) -> Iterator[DemoApi]:
    """The API over a new demo database in the SQLite file ``path``."""
    catalog = WorkflowCatalog.from_folder(WORKFLOWS)
    database = open_database(f"sqlite:///{path}")
    try:
        catalog.register(database)
        services = Services(database, catalog)
        load_demo(services)
        headers: dict[str, dict[str, str]] = {
            "anonymous": {},
            "bad_token": {"Authorization": "Bearer not-a-token"},
            "admin": {"Authorization": f"Bearer {database.add_user('Root', ['admin'])[1]}"},
        }
        for role, name in DEMO_USERS.items():
            user = database.user_by_name(name)
            assert user is not None
            headers[role] = {"Authorization": f"Bearer {database.renew_token(user)}"}
        jana = database.user_by_name(DEMO_USERS["coordinator"])
        assert jana is not None
        (garages,) = [p.initiative_id for p in services.list_initiatives() if p.title == MARKER]
        app = create_app(services)
        with TestClient(app) as client:
            yield DemoApi(
                app,
                client,
                services,
                headers,
                Actor(jana.person_id, frozenset(jana.roles)),
                garages,
            )
    finally:
        database.close()
