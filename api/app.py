"""The FastAPI application: ``create_app(services)`` (no globals; tests build one per database)."""

from fastapi import FastAPI

from api import docs, live_stream, metrics, pages, problems
from api.deps import StrictQuery
from api.limits import BodyLimit
from api.progress_cache import AnswerCache, ProgressFastPath
from api.routes import actions, audit, health, initiatives, stream, subscriptions, workflows
from api.tick_fastpath import TickFastPath
from kosiflow.services import Services

PREFIX = "/api/v1"


def create_app(services: Services, *, metrics_token: str | None = None) -> FastAPI:
    """The JSON API over ``services`` (kept on ``app.state``), documented at
    ``/api/v1/openapi.json``; ``/metrics`` asks for ``metrics_token`` when one is given."""
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
    # The tick's fast path (api/tick_fastpath.py) sits inside the body limit.
    app.add_middleware(TickFastPath, services=services)
    app.add_middleware(BodyLimit)
    # The progress read's kept answers (api/progress_cache.py) skip everything added before
    # this line and replay what it sent: a middleware that counts requests or sets headers of
    # its own per request (metrics, request ids) must be added after it, outside.
    app.state.progress_cache = AnswerCache(services)
    app.add_middleware(ProgressFastPath, cache=app.state.progress_cache)
    metrics.install(app, services, token=metrics_token, version=health.service_version())
    app.state.services = services
    problems.install(app)
    docs.install(app, PREFIX)
    live_stream.install(app, services)  # the live pages' change feed; streams end on SIGTERM
    for module in (health, workflows, initiatives, actions, audit, subscriptions, stream):
        app.include_router(module.router, prefix=PREFIX, dependencies=[StrictQuery])
    pages.install(app)
    return app
