"""Webhooks: the outbox's delivery rate, and the latency from a command to its webhook's receipt.

Run: ``.venv/bin/python bench/webhooks.py [--events N] [--seconds N] [--rate N]
[--postgres URL | --no-postgres]``.

For SQLite (a file, ``synchronous=FULL`` as shipped) and PostgreSQL (a schema of its own,
dropped afterwards), with one subscription and a receiver on 127.0.0.1 (``http.server``,
answering 200 at once) in this process, and ``kosiflow dispatch`` with its default settings
(poll 0.25 s, batch 100, 16 requests at a time) in a process of its own:

- **delivery rate**: ``--events`` events recorded beforehand, spread over 100 initiatives (as
  many chains that may go in parallel), and ``--events / 4`` on one initiative (one chain:
  each event waits for the one before it); events per second from the first receipt to the last;
- **latency**: then, with the dispatcher idle, one note per command at ``--rate`` commands per
  second for ``--seconds``; the time from just before each command to its webhook's receipt:
  p50, p99 and the maximum (target: p99 under 1 s).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg

from kosiflow.catalog import WorkflowCatalog
from kosiflow.engine import Actor
from kosiflow.services import Services
from kosiflow.store import open_database

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / "workflows"
ACTOR = Actor("p-bench", frozenset({"coordinator"}))
CHAINS = 100
DEADLINE = 300.0


class Receiver:
    """Records when each event id first arrived (``time.monotonic``)."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                now = time.monotonic()
                with receiver._lock:
                    receiver.arrived.setdefault(self.headers["X-Kosiflow-Event-Id"], now)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def count(self) -> int:
        with self._lock:
            return len(self.arrived)

    def wait_for(self, total: int) -> None:
        deadline = time.monotonic() + DEADLINE
        while self.count() < total:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {self.count()} of {total} events arrived")
            time.sleep(0.005)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def dispatcher(url: str, log: Path) -> Iterator[None]:
    """``kosiflow dispatch`` on ``url``, with its default settings, until the block ends."""
    env = {**os.environ, "KOSIFLOW_DATABASE_URL": url, "KOSIFLOW_WORKFLOWS": str(WORKFLOWS)}
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "kosiflow", "dispatch"], env=env, stdout=out, stderr=out
        )
        try:
            yield
        finally:
            process.terminate()
            process.wait(timeout=60)


def _notes(services: Services, initiatives: list[str], per_initiative: int) -> int:
    for initiative in initiatives:
        for n in range(per_initiative):
            services.note(initiative, f"Notiz {n}", ACTOR)
    return len(initiatives) * per_initiative


def _rate(receiver: Receiver, before: int, events: int) -> float:
    """Events per second from the first receipt after ``before`` to the last."""
    receiver.wait_for(before + events)
    times = sorted(receiver.arrived.values())[before:]
    return (len(times) - 1) / (times[-1] - times[0])


def _percentile(values: list[float], share: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def bench(url: str, args: argparse.Namespace, folder: Path) -> dict[str, float]:
    catalog = WorkflowCatalog.from_folder(WORKFLOWS)
    services = Services(open_database(url), catalog)
    receiver = Receiver()
    try:
        catalog.register(services.database)
        services.add_subscription(receiver.url)

        def create(n: int) -> str:
            return services.create("kosi-lab", f"Bench {n}", ACTOR).initiative_id

        many = [create(n) for n in range(CHAINS)]
        parallel = _notes(services, many, max(1, args.events // CHAINS - 1)) + CHAINS
        with dispatcher(url, folder / "dispatch-parallel.log"):
            found: dict[str, float] = {"parallel": _rate(receiver, 0, parallel)}
        chained = _notes(services, [create(CHAINS)], args.events // 4) + 1
        with dispatcher(url, folder / "dispatch-chained.log"):
            found["chained"] = _rate(receiver, parallel, chained)
            found.update(_latency(services, receiver, many, args))
        return found
    finally:
        receiver.close()
        services.database.close()


def _latency(
    services: Services, receiver: Receiver, initiatives: list[str], args: argparse.Namespace
) -> dict[str, float]:
    sent: dict[str, float] = {}
    interval = 1 / args.rate
    start = time.monotonic()
    for n in range(int(args.seconds * args.rate)):
        time.sleep(max(0.0, start + n * interval - time.monotonic()))
        initiative = initiatives[n % len(initiatives)]
        before = time.monotonic()
        result = services.note(initiative, "Messung", ACTOR)
        sent[f"{initiative}:{result.version}"] = before
    deadline = time.monotonic() + DEADLINE
    while not sent.keys() <= receiver.arrived.keys():
        if time.monotonic() > deadline:
            raise SystemExit("not every command's webhook arrived")
        time.sleep(0.01)
    waits = [receiver.arrived[event] - at for event, at in sent.items()]
    return {
        "p50": _percentile(waits, 0.50),
        "p99": _percentile(waits, 0.99),
        "max": max(waits),
        "samples": len(waits),
    }


def _postgres_schema(url: str) -> tuple[str, Callable[[], None]]:
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    schema = f"bench_webhooks_{os.getpid()}"
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")

    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}", drop


def _report(name: str, found: dict[str, float]) -> None:
    print(
        f"{name}: delivery {found['parallel']:,.0f} events/s over {CHAINS} initiatives, "
        f"{found['chained']:,.0f} events/s on one; command → webhook p50 "
        f"{1000 * found['p50']:.0f} ms, p99 {1000 * found['p99']:.0f} ms, max "
        f"{1000 * found['max']:.0f} ms over {found['samples']:.0f} commands "
        f"({'✓' if found['p99'] < 1 else '✗'} p99 < 1 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rate", type=float, default=20.0, help="commands per second")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "KOSIFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        results["sqlite"] = bench(f"sqlite:///{Path(folder) / 'bench.db'}", args, Path(folder))
        _report("SQLite", results["sqlite"])
        if not args.no_postgres:
            url, drop = _postgres_schema(args.postgres)
            try:
                results["postgresql"] = bench(url, args, Path(folder))
            finally:
                drop()
            _report("PostgreSQL", results["postgresql"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
