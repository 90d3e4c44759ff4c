"""Shared by the outbox tests: services over a database, quick dispatch settings, waiting."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kosiflow.catalog import WorkflowCatalog
from kosiflow.engine import Actor
from kosiflow.services import Dispatcher, DispatchSettings, Services
from kosiflow.store import Delivery, DeliveryStatus, open_database

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
CATALOG = WorkflowCatalog.from_folder(WORKFLOWS)
COORDINATOR = Actor("p-coordinator", frozenset({"coordinator"}))
SECRET = "ein-langes-geheimnis-0123456789"  # noqa: S105 -- the tests' signing secret
QUICK = DispatchSettings(
    batch=20,
    poll=0.02,
    max_attempts=50,
    timeout=0.5,
    backoff_base=0.02,
    backoff_cap=0.1,
    concurrency=8,
)
"""Short waits, so that outages and retries take a fraction of a second."""
DEADLINE = 20.0
"""How long a test waits for what must happen before it fails (it never takes that long)."""


@contextmanager
def services_on(url: str) -> Iterator[Services]:
    services = Services(open_database(url), CATALOG)
    CATALOG.register(services.database)
    try:
        yield services
    finally:
        services.database.close()


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Return once ``condition()`` holds; fail naming ``what`` after :data:`DEADLINE`."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.01)


@contextmanager
def dispatching(services: Services, settings: DispatchSettings = QUICK) -> Iterator[Dispatcher]:
    """A dispatcher running in a thread until the block ends."""
    stop = threading.Event()
    with Dispatcher(services.database, settings) as dispatcher:
        thread = threading.Thread(target=dispatcher.run, args=(stop,))
        thread.start()
        try:
            yield dispatcher
        finally:
            stop.set()
            thread.join()


def deliveries(services: Services, status: DeliveryStatus | None = None) -> list[Delivery]:
    return list(services.list_deliveries(status=status, limit=1000).items)


def count(services: Services, status: DeliveryStatus) -> int:
    return services.list_deliveries(status=status, limit=1).total
