"""``kosiflow serve``: the HTTP API on the configured database, with the demo on first start."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn
from rich.text import Text

from kosiflow.cli.app import Settings, app, out, run
from kosiflow.demo import DEMO_AUDITOR, DEMO_COORDINATOR, load_demo


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


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Load the demo into an empty database.")
    ] = True,
) -> None:
    """Serve the HTTP API. On an empty database the demo initiatives are loaded first and the
    API tokens of a demo coordinator and a demo auditor are printed."""
    from api.app import create_app  # the API is a front of its own; load it only to serve

    tokens = run(ctx, _first_start) if demo else {}
    application = run(ctx, lambda s: create_app(s.services()))
    out.print(Text.assemble(("kosiflow", "bold"), f" serving on http://{host}:{port}/api/v1"))
    for who, token in tokens.items():
        out.print(f"  sign-in token of {who}: {token}")
    if not tokens:
        out.print("  a new token for a user: kosiflow users token NAME")
    uvicorn.run(application, host=host, port=port, log_level="warning")
