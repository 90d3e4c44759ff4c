"""A real webhook receiver for the tests: ``http.server`` in a thread on 127.0.0.1.

It can be down (its port closed), and while up it answers each request as its ``script`` says
(a status and how long to take first, by the request's number). It records every request and
notices when two requests for the same event to the same path are under way at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Script = Callable[[int], tuple[int, float]]
"""Request number (from 0) → (status to answer, seconds to wait before answering)."""


def always_ok(_: int) -> tuple[int, float]:
    return 200, 0.0


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it (times from ``time.monotonic``)."""

    path: str
    event_id: str
    body: bytes
    signature: str
    timestamp: str
    status: int
    started: float
    ended: float

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    def is_signed_with(self, secret: str) -> bool:
        expected = hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(self.signature, f"sha256={expected}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Receiver:
    """Down until :meth:`up`; ``url(path)`` is where it listens (or will)."""

    def __init__(self, script: Script = always_ok) -> None:
        self.port = _free_port()
        self.script = script
        self.received: list[Received] = []
        self.overlaps: list[tuple[str, str]] = []
        """(path, event id) of each request that came while another for them was under way."""
        self._lock = threading.Lock()
        self._under_way: set[tuple[str, str]] = set()
        self._started = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def up(self, script: Script | None = None) -> None:
        if script is not None:
            self.script = script
        server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        server.daemon_threads = False  # closing waits for the requests under way
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()

    def down(self) -> None:
        """Close the port, once every request under way is answered (and recorded)."""
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
        self._server = self._thread = None

    def acknowledged(self, path: str = "/hook") -> list[Received]:
        """The requests to ``path`` answered 2xx, in the order they ended."""
        with self._lock:
            found = [r for r in self.received if r.path == path and 200 <= r.status < 300]
        return sorted(found, key=lambda r: r.ended)

    def _record(self, request: Received) -> None:
        with self._lock:
            self.received.append(request)

    def _begin(self, key: tuple[str, str]) -> int:
        """Note a request under way; returns its number."""
        with self._lock:
            if key in self._under_way:
                self.overlaps.append(key)
            self._under_way.add(key)
            self._started += 1
            return self._started - 1

    def _end(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._under_way.discard(key)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 2  # an idle kept-alive connection ends after this many seconds

            def do_POST(self) -> None:
                started = time.monotonic()
                body = self.rfile.read(int(self.headers["Content-Length"]))
                event_id = self.headers.get("X-Kosiflow-Event-Id", "")
                key = (self.path, event_id)
                number = receiver._begin(key)
                status, delay = receiver.script(number)
                time.sleep(delay)
                receiver._end(key)
                receiver._record(
                    Received(
                        path=self.path,
                        event_id=event_id,
                        body=body,
                        signature=self.headers.get("X-Kosiflow-Signature", ""),
                        timestamp=self.headers.get("X-Kosiflow-Timestamp", ""),
                        status=status,
                        started=started,
                        ended=time.monotonic(),
                    )
                )
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the dispatcher gave up waiting (a timeout) and closed the connection

            def log_message(self, *_: object) -> None:
                pass

        return Handler

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *_: object) -> None:
        self.down()


def order_violations(received: list[Received], path: str = "/hook") -> list[str]:
    """Events first sent to ``path`` before the one before them (of their initiative) was
    acknowledged there: empty when every initiative's events went in order."""
    first_sent: dict[tuple[str, int], float] = {}
    acknowledged: dict[tuple[str, int], float] = {}
    for request in received:
        if request.path != path:
            continue
        key = (request.event["initiative_id"], request.event["seq"])
        first_sent[key] = min(first_sent.get(key, math.inf), request.started)
        if 200 <= request.status < 300:
            acknowledged[key] = min(acknowledged.get(key, math.inf), request.ended)
    return [
        f"{initiative}:{seq} sent before {initiative}:{seq - 1} was acknowledged"
        for (initiative, seq), started in sorted(first_sent.items())
        if seq > 1 and acknowledged.get((initiative, seq - 1), math.inf) > started
    ]


def first_acknowledged(received: list[Received]) -> list[tuple[str, int, Received]]:
    """(initiative id, seq, request) of each event's first 2xx answer, in the order they ended."""
    seen: set[tuple[str, int]] = set()
    found = []
    for request in sorted(received, key=lambda r: r.ended):
        key = (request.event["initiative_id"], request.event["seq"])
        if 200 <= request.status < 300 and key not in seen:
            seen.add(key)
            found.append((*key, request))
    return found
