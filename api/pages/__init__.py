"""The HTML pages (server-rendered, working without JavaScript; ``static/live.js`` keeps the
dashboard and an initiative's page up to date where it runs): sign-in, dashboard, one initiative
with its forms, its history and audit report, a workflow described, phase statistics.
``install(app)`` adds them and their static files to the application."""

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.pages import (
    actions,
    dashboard,
    history,
    initiative,
    live,
    login,
    report,
    statistics,
    workflow,
)
from api.pages.rendering import STATIC

__all__ = ["install"]


def install(app: FastAPI) -> None:
    """Serve the pages under ``/`` and their static files under ``/static``."""
    modules = (login, dashboard, initiative, history, actions, workflow, statistics, report, live)
    for module in modules:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
