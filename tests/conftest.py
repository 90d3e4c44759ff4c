"""Shared fixtures: fresh databases for tests, on SQLite and on PostgreSQL.

Fixtures (reuse them in any test that touches the store):

``sqlite_url``
    ``sqlite:///…`` of a new file in the test's ``tmp_path``.
``postgres_url``
    ``postgresql+psycopg://…`` whose ``search_path`` is a schema created for this test alone
    (``t_<random hex>``) and dropped, with everything in it, afterwards. The server comes from
    ``KOSIFLOW_TEST_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).
    Unreachable server: the test fails when the ``CI`` environment variable is set, and is
    skipped with the reason otherwise.
``database_url``
    Parametrised over both: ``[sqlite]`` and ``[postgres]`` (the latter marked ``postgres``), so
    a test taking ``database_url`` runs once per backend. Pass it to
    ``kosiflow.store.open_database`` and close the database at the end of the test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

pytest.register_assert_rewrite("tests.api.helpers", "tests.api.real_server")
"""Helper modules of the tests assert too: show what differed when they fail."""

POSTGRES_URL = os.environ.get(
    "KOSIFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _conninfo(url: str) -> str:
    """The libpq form of a SQLAlchemy URL (for plain psycopg)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL server URL, checked once per session to be reachable."""
    try:
        psycopg.connect(_conninfo(POSTGRES_URL), connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL at {make_url(POSTGRES_URL)!r} is unreachable: {exc}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must run the PostgreSQL tests)")
        pytest.skip(f"{reason} (set KOSIFLOW_TEST_POSTGRES_URL or start the server)")
    return POSTGRES_URL


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kosiflow.db'}"


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = _conninfo(postgres_server)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    url = make_url(postgres_server).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """A fresh database URL, once per backend (see the module docstring)."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url
