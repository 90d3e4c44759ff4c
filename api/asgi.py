"""The API as an ASGI app factory whose settings come from the environment.

uvicorn starts each worker process of ``kosiflow serve --workers N`` by importing
``api.asgi:app_from_environment``; the CLI puts its settings into the environment first, under the
names its own options read (``KOSIFLOW_DATABASE_URL``, ``KOSIFLOW_WORKFLOWS``,
``KOSIFLOW_SQLITE_SYNCHRONOUS``). ``KOSIFLOW_METRICS_TOKEN``, when set, is the bearer token
``/metrics`` asks for. Any ASGI server can run the factory the same way, e.g.
``uvicorn --factory --workers 4 api.asgi:app_from_environment``.

The app closes its database connections when the server shuts it down (ASGI lifespan), after
the requests in flight have finished.
"""

import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api.app import create_app
from kosiflow.catalog import WorkflowCatalog
from kosiflow.services import Services
from kosiflow.store import Database, open_database

DATABASE_URL = "KOSIFLOW_DATABASE_URL"
WORKFLOWS = "KOSIFLOW_WORKFLOWS"
SQLITE_SYNCHRONOUS = "KOSIFLOW_SQLITE_SYNCHRONOUS"
METRICS_TOKEN = "KOSIFLOW_METRICS_TOKEN"  # noqa: S105 -- the variable, not a token


def app_from_environment() -> FastAPI:
    """The API over the database and workflow folder the environment names.

    Raises:
        KeyError: ``KOSIFLOW_DATABASE_URL`` or ``KOSIFLOW_WORKFLOWS`` is not set.
    """
    catalog = WorkflowCatalog.from_folder(os.environ[WORKFLOWS])
    database = open_database(
        os.environ[DATABASE_URL],
        sqlite_synchronous=os.environ.get(SQLITE_SYNCHRONOUS, "FULL"),
    )
    catalog.register(database)
    app = create_app(Services(database, catalog), metrics_token=metrics_token())
    _close_at_shutdown(app, database)
    return frozen(app)


def metrics_token() -> str | None:
    """The bearer token ``/metrics`` asks for: ``KOSIFLOW_METRICS_TOKEN``, or None (open)."""
    return os.environ.get(METRICS_TOKEN) or None


def frozen(app: FastAPI) -> FastAPI:
    """``app``, with every object made so far (the app, its routes and models, the workflows)
    moved out of the garbage collector's sight (``gc.freeze``). A full collection otherwise
    walks all of them: 50 to 200 ms of a stalled event loop, a few times a minute under load
    (p99 of the tick 103 ms → 27 ms, bench/README.md). Call it once, when the app is ready to
    serve, in the serving process."""
    gc.freeze()
    return app


def _close_at_shutdown(app: FastAPI, database: Database) -> None:
    """Close ``database`` once the app's own lifespan has ended."""
    lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def closing(application: Any) -> AsyncIterator[Any]:
        try:
            async with lifespan(application) as state:
                yield state
        finally:
            database.close()

    app.router.lifespan_context = closing
