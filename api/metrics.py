"""``GET /metrics`` in Prometheus' text format, and the ASGI layer that times every request.

Built on ``prometheus_client``, the Prometheus project's own Python client: it writes the
exposition formats exactly (text and OpenMetrics, chosen by the scraper's ``Accept``), and its
multiprocess mode sums the worker processes of ``kosiflow serve --workers N`` (or of gunicorn)
in one scrape — each worker writes its values to memory-mapped files in the directory named by
``PROMETHEUS_MULTIPROC_DIR``, and the worker answering the scrape reads them all. Without that
variable the values live in this process only (``--workers 1``, tests). The mode is fixed when
``prometheus_client`` is first imported, so ``kosiflow serve`` sets the variable before it
imports the API.

What a scrape shows:

==============================================  ==================================================
``kosiflow_http_request_duration_seconds``      histogram by ``method``, ``route`` (the route's
                                                template, ``unmatched`` for none: the label set
                                                stays bounded) and ``status``; its ``_count`` is
                                                the request counter
``kosiflow_commands_total``                     by ``kind`` (``TickItem``, …) and ``outcome``
                                                (:mod:`kosiflow.services.outcomes`)
``kosiflow_worker_starts_total``                worker processes started (a restart counts again)
``kosiflow_database_up``                        1 when the database answered this scrape
``kosiflow_schema_current``                     1 when its schema is at this version's revision
``kosiflow_outbox_waiting_events``              events not yet matched to the subscriptions
``kosiflow_webhook_deliveries``                 deliveries by ``status`` (pending, dead)
``kosiflow_outbox_oldest_pending_age_seconds``  how long the oldest undelivered event has waited
``kosiflow_build_info``                         1, with ``version`` and ``backend``
``process_*``                                   CPU, memory, file descriptors, start time; with a
                                                ``pid`` label per live worker in multiprocess mode
==============================================  ==================================================

The request timing is on every request's path, so it costs one dictionary lookup of a cached
histogram child per request and one ``observe`` (bench/README.md has the measured µs).
``/metrics`` is open like ``/api/v1/health`` unless ``KOSIFLOW_METRICS_TOKEN`` is set; then it
needs ``Authorization: Bearer <that token>`` — a credential for scraping only, worth nothing
elsewhere (the figures name no person and no initiative).
"""

from __future__ import annotations

import hmac
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from fastapi import FastAPI, Request, Response
from fastapi.routing import iter_route_contexts
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import quick_read
from api.problems import problem
from api.progress_cache import PATH as PROGRESS_PATH
from kosiflow.errors import StoreError
from kosiflow.services import Services
from kosiflow.services.outcomes import Outcome
from kosiflow.store.health import StoreHealth, check_store

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
"""The environment variable switching ``prometheus_client`` to its multiprocess mode."""

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
"""Seconds: from a kept progress answer (well under 1 ms) to a long export."""

UNMATCHED = "unmatched"
PROGRESS_ROUTE = "/api/v1/initiatives/{initiative_id}"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods labelled as they are; any other is ``OTHER`` (a label value per made-up method
would let clients grow the label set without bound)."""

# No ``_created`` series: the multiprocess mode has none either.
disable_created_metrics()  # type: ignore[no-untyped-call]

_REGISTRY = CollectorRegistry()
"""This process's metrics (in multiprocess mode their values are in the shared files)."""

REQUEST_SECONDS = Histogram(
    "kosiflow_http_request_duration_seconds",
    "Time from a request's arrival until its answer was handed to the server; _count counts "
    "the requests.",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
    registry=_REGISTRY,
)
COMMANDS = Counter(
    "kosiflow_commands",
    "Commands by kind and outcome (accepted, replayed, refused, conflict, invalid, error).",
    ["kind", "outcome"],
    registry=_REGISTRY,
)
WORKER_STARTS = Counter(
    "kosiflow_worker_starts",
    "Worker processes that started serving (a restarted worker counts again).",
    registry=_REGISTRY,
)


def count_command(kind: str, outcome: Outcome) -> None:
    """The services' command observer (``Services.command_observer``)."""
    COMMANDS.labels(kind, outcome).inc()


class RequestMetrics:
    """A pure ASGI layer timing each HTTP request by method, route template and status.

    The route is the one the router matched (``scope["route"]``, there once routing is done);
    its template is looked up once per route, method and status, when their histogram child is
    made (FastAPI keeps the routes of an included router without their prefix: the app's route
    contexts have the whole path). The progress read's fast path (:mod:`api.progress_cache`)
    answers, or passes on a copy of the scope, before any routing: a ``GET`` of its path is that
    route. No route: ``unmatched``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._children: dict[tuple[str, int, int], Callable[[float], None]] = {}
        self._templates: dict[int, str] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app fails before it answers

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            method = scope["method"]
            if method not in _METHODS:
                method = "OTHER"
            route = scope.get("route")
            if route is None:
                fast = method == "GET" and PROGRESS_PATH.fullmatch(scope["path"]) is not None
                route = PROGRESS_ROUTE if fast else UNMATCHED
            key = (method, id(route), status)  # routes are not hashable; they live on
            observe = self._children.get(key)
            if observe is None:
                template = route if isinstance(route, str) else self._template(scope, route)
                observe = REQUEST_SECONDS.labels(method, template, str(status)).observe
                self._children[key] = observe
            observe(time.perf_counter() - started)

    def _template(self, scope: Scope, route: object) -> str:
        """The whole path template of a route the router matched."""
        if self._templates is None:
            self._templates = {
                id(context.original_route): context.path
                for context in iter_route_contexts(getattr(scope.get("app"), "routes", ()))
                if context.path is not None
            }
        found = self._templates.get(id(route))
        return found if found is not None else str(getattr(route, "path", UNMATCHED))


class _StoreCollector(Collector):
    """What the database tells at scrape time (asked once, before the scrape is collected)."""

    def __init__(self, health: StoreHealth | None, backend: str, version: str) -> None:
        self._health = health
        self._backend = backend
        self._version = version

    def collect(self) -> Iterator[Metric]:
        health = self._health
        info = GaugeMetricFamily(
            "kosiflow_build_info",
            "kosiflow's version and database backend.",
            labels=["version", "backend"],
        )
        info.add_metric([self._version, self._backend], 1)
        yield info
        yield GaugeMetricFamily(
            "kosiflow_database_up",
            "1 when the database answered this scrape, else 0.",
            value=0 if health is None else 1,
        )
        if health is None:
            return
        yield GaugeMetricFamily(
            "kosiflow_schema_current",
            "1 when the database schema is at the revision of this kosiflow version.",
            value=int(health.schema_current),
        )
        backlog = health.backlog
        yield GaugeMetricFamily(
            "kosiflow_outbox_waiting_events",
            "Events in the outbox not yet matched to the webhook subscriptions.",
            value=backlog.waiting,
        )
        deliveries = GaugeMetricFamily(
            "kosiflow_webhook_deliveries", "Webhook deliveries by status.", labels=["status"]
        )
        deliveries.add_metric(["pending"], backlog.pending)
        deliveries.add_metric(["dead"], backlog.dead)
        yield deliveries
        age = backlog.oldest_pending_age(datetime.now(UTC))
        yield GaugeMetricFamily(
            "kosiflow_outbox_oldest_pending_age_seconds",
            "Seconds since the oldest event not yet delivered was recorded (0: none waits).",
            value=0.0 if age is None else age,
        )


class _WorkerProcesses(Collector):
    """``process_*`` of every live worker process, each with its ``pid``: the workers are the
    processes that wrote values into the multiprocess directory (each one counts its start)."""

    def __init__(self, directory: str) -> None:
        self._directory = directory

    def collect(self) -> Iterator[Metric]:
        merged: dict[str, Metric] = {}
        for pid in sorted(_live(_writers(self._directory))):
            for family in ProcessCollector(pid=_constant(pid), registry=None).collect():
                into = merged.setdefault(
                    family.name, Metric(family.name, family.documentation, family.type)
                )
                for sample in family.samples:
                    into.add_sample(sample.name, {**sample.labels, "pid": str(pid)}, sample.value)
        yield from merged.values()


def _constant(pid: int) -> Callable[[], int]:
    return lambda: pid


_WRITER = re.compile(r"\w+_(\d+)\.db")


def _writers(directory: str) -> set[int]:
    """The pids of the processes with value files in ``directory`` (``counter_123.db``)."""
    found = set()
    for name in os.listdir(directory):
        match = _WRITER.fullmatch(name)
        if match is not None:
            found.add(int(match.group(1)))
    return found


def _live(pids: Iterable[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        except PermissionError:  # alive, another user's
            pass
        alive.add(pid)
    return alive


def exposition(health: StoreHealth | None, backend: str, version: str) -> Iterable[Collector]:
    """The collectors of one scrape: requests, commands and processes (of every worker in
    multiprocess mode), and what the store told."""
    directory = os.environ.get(MULTIPROCESS_DIRECTORY)
    store = _StoreCollector(health, backend, version)
    if directory:
        registry = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
        return (registry, _WorkerProcesses(directory), store)
    return (_REGISTRY, ProcessCollector(registry=None), store)


def _authorized(request: Request, token: str | None) -> bool:
    if token is None:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def install(app: FastAPI, services: Services, *, token: str | None, version: str) -> None:
    """Time every request, count the services' commands and serve ``GET /metrics``."""
    services.command_observer = count_command
    WORKER_STARTS.inc()
    app.add_middleware(RequestMetrics)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        if not _authorized(request, token):
            return problem(
                401,
                "metrics-token",
                "/metrics needs the scraping token (Authorization: Bearer <token>).",
                headers={"WWW-Authenticate": "Bearer"},
            )
        try:
            health: StoreHealth | None = await quick_read(
                services, lambda: check_store(services.database)
            )
        except StoreError:
            health = None
        registry = CollectorRegistry(auto_describe=False)
        for collector in exposition(health, services.database.backend, version):
            registry.register(collector)
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encoder(registry), media_type=content_type)
