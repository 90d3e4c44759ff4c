"""The API as an ASGI app factory whose settings come from the environment.

uvicorn starts each worker process of ``kosiflow serve --workers N`` by importing
``api.asgi:app_from_environment``; the CLI puts its settings into the environment first, under the
names its own options read (``KOSIFLOW_DATABASE_URL``, ``KOSIFLOW_WORKFLOWS``,
``KOSIFLOW_SQLITE_SYNCHRONOUS``).
"""

import os

from fastapi import FastAPI

from api.app import create_app
from kosiflow.catalog import WorkflowCatalog
from kosiflow.services import Services
from kosiflow.store import open_database

DATABASE_URL = "KOSIFLOW_DATABASE_URL"
WORKFLOWS = "KOSIFLOW_WORKFLOWS"
SQLITE_SYNCHRONOUS = "KOSIFLOW_SQLITE_SYNCHRONOUS"


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
    return create_app(Services(database, catalog))
