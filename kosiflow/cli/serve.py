"""``kosiflow serve``: the HTTP API on the configured database, with the demo on first start.

Stopping: on SIGTERM (or Ctrl-C) the server stops accepting connections, lets the requests in
flight finish (at most ``--graceful-timeout`` seconds; then they are cancelled), closes the
database connections and exits 0. With ``--workers N`` the parent process closes its listening
socket first and then stops every worker the same way.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, NoReturn

import typer
import uvicorn
from rich.text import Text
from uvicorn.supervisors import Multiprocess

from kosiflow.cli.app import Settings, app, out, run
from kosiflow.demo import DEMO_AUDITOR, DEMO_COORDINATOR, load_demo

SERVER_OPTIONS: dict[str, Any] = {"log_level": "warning", "access_log": False}
"""uvicorn's settings besides host, port, workers and the graceful timeout (its defaults take
uvloop and httptools when they are installed). ``bench/api.py`` serves its ceiling app with the
same."""

APP_FACTORY = "api.asgi:app_from_environment"
"""What each worker process imports when there are several (see :mod:`api.asgi`)."""

METRICS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
"""Where the workers of ``--workers N`` keep their metrics for ``/metrics`` (see api/metrics.py);
``serve`` makes a temporary one unless the environment names one."""

METRICS_TOKEN = "KOSIFLOW_METRICS_TOKEN"  # noqa: S105 -- the variable, not a token
"""The bearer token ``/metrics`` asks for, when set (see api/metrics.py)."""

GRACEFUL_TIMEOUT = 30
"""Default of ``--graceful-timeout``: long enough for an export, short of an orchestrator's
patience (Kubernetes sends SIGKILL 30 s after SIGTERM by default: set it a little lower there)."""

STARTUP_FAILURE = 3
"""Exit code when the server could not start (uvicorn's)."""


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


@contextmanager
def _metrics_directory(*, needed: bool) -> Iterator[None]:
    """A clean directory for the workers' metrics, named in the environment they inherit.

    One the environment names already is emptied of metric files (``*.db``) at start, so that
    the counters of an earlier run are not summed in. Otherwise, when ``needed`` (several
    workers), a temporary directory serves, removed at the end. Before the API is imported:
    ``prometheus_client`` takes its mode, and its first files, then.
    """
    named = os.environ.get(METRICS_DIRECTORY)
    if named:
        directory = Path(named)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        yield
        return
    if not needed:
        yield
        return
    made = tempfile.mkdtemp(prefix="kosiflow-metrics-")
    os.environ[METRICS_DIRECTORY] = made
    try:
        yield
    finally:
        del os.environ[METRICS_DIRECTORY]
        shutil.rmtree(made, ignore_errors=True)


class _Supervisor(Multiprocess):
    """uvicorn's supervisor of worker processes, closing its copy of the listening socket
    before it stops the workers: uvicorn's own keeps it open until every worker has ended, so
    that new connections would wait in the kernel's queue of a server that is going away
    instead of being refused (and be reset when it is gone)."""

    def terminate_all(self) -> None:
        for sock in self.sockets:
            sock.close()
        super().terminate_all()


def _exit_quietly(_signal: int, _frame: FrameType | None) -> NoReturn:
    """SIGTERM or SIGINT outside uvicorn's own handling: before it serves, or re-raised by
    uvicorn once its graceful shutdown is done. Either way there is nothing left to finish."""
    raise SystemExit(0)


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
    graceful_timeout: Annotated[
        int,
        typer.Option(
            min=0,
            help="On SIGTERM, seconds to let requests in flight finish before they are cancelled.",
        ),
    ] = GRACEFUL_TIMEOUT,
) -> None:
    """Serve the HTTP API. On an empty database the demo initiatives are loaded first and the
    API tokens of a demo coordinator and a demo auditor are printed. SIGTERM stops it
    gracefully (see the module docstring)."""
    with _metrics_directory(needed=workers > 1):
        tokens = run(ctx, _first_start) if demo else {}
        application = run(ctx, lambda s: _application(s, workers))
        address = f"http://{host}:{port}"
        out.print(
            Text.assemble(("kosiflow", "bold"), f" serving on {address}/ — open it and sign in")
        )
        out.print(f"  the API: {address}/api/v1 (reference: {address}/api/v1/docs)")
        for who, token in tokens.items():
            out.print(f"  sign-in token of {who}: {token}")
        if not tokens:
            out.print("  a new token for a user: kosiflow users token NAME")
        config = uvicorn.Config(
            application,
            host=host,
            port=port,
            workers=workers,
            factory=workers > 1,
            timeout_graceful_shutdown=graceful_timeout,
            **SERVER_OPTIONS,
        )
        for stop in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop, _exit_quietly)
        if workers > 1:
            _Supervisor(config, sockets=[config.bind_socket()]).run()
            return
        server = uvicorn.Server(config)
        server.run()
        if not server.started:  # uvicorn said why (the port taken, say)
            raise typer.Exit(STARTUP_FAILURE)


def _application(settings: Settings, workers: int) -> Any:
    """The app itself for one worker; for several, what each worker imports (the settings go
    into the environment they inherit, each opens its own connections)."""
    if workers == 1:
        from api.app import create_app  # the API is a front of its own; load it only to serve
        from api.asgi import frozen

        metrics_token = os.environ.get(METRICS_TOKEN) or None
        return frozen(create_app(settings.services(), metrics_token=metrics_token))
    settings.services()  # fail here, with a message, on bad settings
    os.environ.update(_environment(settings))
    settings.close()
    return APP_FACTORY
