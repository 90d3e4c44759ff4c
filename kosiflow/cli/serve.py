"""``kosiflow serve``: the HTTP API on the configured database, with the demo on first start.

Stopping: on SIGTERM (or Ctrl-C) the server stops accepting connections, lets the requests in
flight finish (at most ``--graceful-timeout`` seconds; then they are cancelled), closes the
database connections and exits 0. With ``--workers N`` the parent process stops every worker
the same way (each closes its own listening socket first, see :class:`_BalancedSupervisor`;
elsewhere than on Linux the parent closes the shared one first). It exits 3 when the server
could not start: the port in use, or (on Linux) no worker could get its socket or start one.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, NoReturn

import typer
import uvicorn
from rich.text import Text
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess
from uvicorn.supervisors.multiprocess import Process

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

_log = logging.getLogger("uvicorn.error")
"""Where the supervisor says what happened to its workers (uvicorn's own log)."""

GRACEFUL_TIMEOUT = 30
"""Default of ``--graceful-timeout``: long enough for an export, short of an orchestrator's
patience (Kubernetes sends SIGKILL 30 s after SIGTERM by default: set it a little lower there)."""


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


class _BalancedSupervisor(Multiprocess):
    """uvicorn's supervisor of worker processes, each with a listening socket of its own on
    the same port (``SO_REUSEPORT``, Linux): the kernel spreads new connections evenly over
    them. With one shared socket whichever worker woke first took most of a burst of new
    connections (32 kept-alive connections split 29/3, 27/5, 26/6; bench/README.md), and kept
    them, while the other worker idled.

    A worker's socket is its alone (the supervisor closes its copy once the worker has it): a
    worker that dies takes its socket with it, so new connections go to the others until it is
    replaced. The price: connections the kernel had queued for a worker that stops (it dies,
    SIGHUP replaces it, SIGTTOU retires it) but that it had not yet accepted are reset, unless
    the kernel moves them to another socket (``sysctl net.ipv4.tcp_migrate_req=1``). On SIGTERM
    each worker stops listening first, so new connections are refused once every worker has.
    The methods below are uvicorn's, with each worker started by :meth:`_spawn`. A worker that
    cannot be started at first, or exits as uvicorn's workers do when they cannot start, stops
    the server (:attr:`failed`: exit 3); later, while others serve, it is logged and tried again
    at the next check (a replacement) or given up (SIGTTIN, SIGHUP).
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config, sockets=[])
        self.failed = False

    def _spawn(self) -> Process | None:
        """A started worker with a socket of its own; None (logged) when it cannot be."""
        try:
            sock = _worker_socket(self.config.host, self.config.port)
        except OSError as exc:
            _log.error("cannot listen on %s:%d: %s", self.config.host, self.config.port, exc)
            return None
        try:
            process = Process(self.config, [sock])
            process.start()
        except OSError as exc:
            _log.error("cannot start a worker: %s", exc)
            return None
        finally:
            sock.close()  # the worker has its own copy
        return process

    def _fail(self) -> None:
        self.failed = True
        self.should_exit.set()

    def init_processes(self) -> None:
        for _ in range(self.processes_num):
            process = self._spawn()
            if process is None:
                self._fail()
                return
            self.processes.append(process)

    def restart_all(self) -> None:
        for index, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self._spawn()
            if new is None:
                return
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                _log.error("a new worker was not ready in time; the restart is aborted")
                return
            old.terminate()
            old.join()
            self.processes[index] = new

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for index, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # hung: kill it
            process.join()
            if process.exitcode == STARTUP_FAILURE:  # would fail the same way again
                _log.error("worker [%s] failed to start: stopping", process.pid)
                self._fail()
                return
            if self.should_exit.is_set():
                return
            _log.info("worker [%s] died: starting another", process.pid)
            replacement = self._spawn()
            if replacement is not None:  # else the dead one stays listed: tried again next time
                self.processes[index] = replacement

    def handle_ttin(self) -> None:
        process = self._spawn()
        if process is not None:
            self.processes_num += 1
            self.processes.append(process)


def _worker_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` that shares it with the other workers' (``SO_REUSEPORT``:
    the kernel balances new connections over the sockets that listen)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _port_free(host: str, port: int) -> bool:
    """Whether nothing listens on ``host:port`` (a plain bind, as uvicorn's own: it fails as
    well where another server's workers share the port with ``SO_REUSEPORT``). Two servers
    started at the same moment by the same user could both pass it and share the port."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            out.print(f"cannot listen on {host}:{port}: {exc.strerror}", style="red")
            return False
    return True


def _balances_by_socket(port: int) -> bool:
    """Whether each worker gets a socket of its own: where the kernel balances connections
    over ``SO_REUSEPORT`` sockets (Linux), and on a given port (port 0 would give each worker
    another)."""
    return sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT") and port != 0


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
        if workers > 1 and _balances_by_socket(port):
            if not _port_free(host, port):
                raise typer.Exit(STARTUP_FAILURE)
            supervisor = _BalancedSupervisor(config)
            supervisor.run()
            if supervisor.failed:
                raise typer.Exit(STARTUP_FAILURE)
            return
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
        from api.asgi import frozen, metrics_token

        return frozen(create_app(settings.services(), metrics_token=metrics_token()))
    settings.services()  # fail here, with a message, on bad settings
    os.environ.update(_environment(settings))
    settings.close()
    return APP_FACTORY
