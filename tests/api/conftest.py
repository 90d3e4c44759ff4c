"""Fixtures of the API tests: an app over a fresh SQLite file and the repository's workflows.

``api`` is a :class:`tests.api.helpers.Api`: a TestClient, a token per test user and shortcuts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api import create_app
from kosiflow.catalog import WorkflowCatalog
from kosiflow.services import Services
from kosiflow.store import open_database
from tests.api.helpers import USERS, WORKFLOWS, Api, TestClient


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    catalog = WorkflowCatalog.from_folder(WORKFLOWS)
    database = open_database(f"sqlite:///{tmp_path / 'api.db'}")
    catalog.register(database)
    yield Services(database, catalog)
    database.close()


@pytest.fixture
def api(services: Services) -> Iterator[Api]:
    tokens = {
        key: services.database.add_user(name, roles)[1] for key, (name, roles) in USERS.items()
    }
    with TestClient(create_app(services)) as client:
        yield Api(client, services, tokens)
