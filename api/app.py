"""The FastAPI application: ``create_app(services)`` (no globals; tests build one per database)."""

from fastapi import FastAPI

from api import docs, pages, problems
from api.deps import StrictQuery
from api.limits import BodyLimit
from api.routes import actions, audit, health, initiatives, subscriptions, workflows
from kosiflow.services import Services

PREFIX = "/api/v1"


def create_app(services: Services) -> FastAPI:
    """The JSON API over ``services`` (kept on ``app.state``), documented at
    ``/api/v1/openapi.json``."""
    app = FastAPI(
        title="kosiflow",
        summary="Workflow engine for municipal social-innovation labs (KoSI-Labs).",
        version="1",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,  # FastAPI's docs page loads Swagger UI from a CDN; api/docs.py serves ours
        redoc_url=None,
        # Any request may meet these, whatever its route: a body over the limit, a failure.
        responses=problems.problem_responses(413, 500, 503),
    )
    app.add_middleware(BodyLimit)
    app.state.services = services
    problems.install(app)
    docs.install(app, PREFIX)
    for module in (health, workflows, initiatives, actions, audit, subscriptions):
        app.include_router(module.router, prefix=PREFIX, dependencies=[StrictQuery])
    pages.install(app)
    return app
