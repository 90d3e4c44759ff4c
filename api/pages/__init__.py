"""The HTML pages (server-rendered, no JavaScript): sign-in, dashboard, one initiative with its
forms, its history and audit report, a workflow described, phase statistics. ``install(app)``
adds them and their stylesheet to the application."""

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.pages import (
    actions,
    dashboard,
    history,
    initiative,
    login,
    report,
    statistics,
    workflow,
)
from api.pages.rendering import STATIC

__all__ = ["install"]


def install(app: FastAPI) -> None:
    """Serve the pages under ``/`` and their static files under ``/static``."""
    for module in (login, dashboard, initiative, history, actions, workflow, statistics, report):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
