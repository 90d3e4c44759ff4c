"""``kosiflow serve``: the HTTP API on the configured database, with the demo on first start."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
import uvicorn
from rich.text import Text

from kosiflow.cli.app import Settings, app, out, run, settings_of
from kosiflow.demo import DEMO_AUDITOR, DEMO_COORDINATOR, load_demo

SERVER_OPTIONS: dict[str, Any] = {"log_level": "warning", "access_log": False}
"""uvicorn's settings besides host, port and workers (its defaults take uvloop and httptools
when they are installed). ``bench/api.py`` serves its ceiling app with the same."""

APP_FACTORY = "api.asgi:app_from_environment"
"""What each worker process imports when there are several (see :mod:`api.asgi`)."""


def _first_start(settings: Settings) -> dict[str, str]:
    """Load the demo into an empty database; then the sign-in tokens of two demo users."""
    services = settings.services()
    if services.list_initiatives(limit=1) or not load_demo(services):
        return {}
    tokens: dict[str, str] = {}
    for name in (DEMO_COORDINATOR, DEMO_AUDITOR):
        user = services.database.user_by_name(name)
        if user is not None:
            tokens[f"{name} ({', '.join(user.roles)})"] = services.database.renew_token(user)
    return tokens


def _environment(settings: Settings) -> dict[str, str]:
    """The settings as the environment :mod:`api.asgi` builds each worker's app from."""
    return {
        "KOSIFLOW_DATABASE_URL": settings.database_url,
        "KOSIFLOW_WORKFLOWS": str(settings.workflows.resolve()),
        "KOSIFLOW_SQLITE_SYNCHRONOUS": settings.sqlite_synchronous,
    }


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Load the demo into an empty database.")
    ] = True,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (each with its own connections).")
    ] = 1,
) -> None:
    """Serve the HTTP API. On an empty database the demo initiatives are loaded first and the
    API tokens of a demo coordinator and a demo auditor are printed."""
    from api.app import create_app  # the API is a front of its own; load it only to serve

    tokens = run(ctx, _first_start) if demo else {}
    if workers == 1:
        application: Any = run(ctx, lambda s: create_app(s.services()))
    else:
        run(ctx, lambda s: s.services())  # fail here, with a message, on bad settings
        settings = settings_of(ctx)
        os.environ.update(_environment(settings))
        settings.close()  # the workers open their own connections
        application = APP_FACTORY
    address = f"http://{host}:{port}"
    out.print(Text.assemble(("kosiflow", "bold"), f" serving on {address}/ — open it and sign in"))
    out.print(f"  the API: {address}/api/v1 (reference: {address}/api/v1/docs)")
    for who, token in tokens.items():
        out.print(f"  sign-in token of {who}: {token}")
    if not tokens:
        out.print("  a new token for a user: kosiflow users token NAME")
    uvicorn.run(
        application, host=host, port=port, workers=workers, factory=workers > 1, **SERVER_OPTIONS
    )
