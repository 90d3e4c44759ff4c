"""Reading a server-sent-events stream from the ASGI app in-process, as a browser would.

Starlette's TestClient and httpx's ASGITransport both wait for a response to end, and a stream
never ends by itself. :class:`AsgiStream` calls the app directly, hands over what it sends as
it comes, and disconnects when the test is done; :func:`parse` reads SSE text into messages.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI

WAIT_SECONDS = 10.0
"""How long a test waits for a message before it fails (a change arrives within ~0.3 s)."""


@dataclass(frozen=True)
class SseMessage:
    """One message (a block ending in a blank line): its fields, comments apart."""

    event: str = "message"
    id: str | None = None
    data: str = ""
    retry: int | None = None
    comments: tuple[str, ...] = ()

    def json(self) -> Any:
        return json.loads(self.data)


def parse(text: str) -> tuple[list[SseMessage], str]:
    """The complete messages in ``text`` and the incomplete rest (to be continued)."""
    *blocks, rest = text.replace("\r\n", "\n").split("\n\n")
    messages = []
    for block in blocks:
        fields: dict[str, Any] = {}
        data: list[str] = []
        comments: list[str] = []
        for line in block.split("\n"):
            if line.startswith(":"):
                comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            elif name == "retry":
                fields["retry"] = int(value)
            elif name in ("event", "id"):
                fields[name] = value
        messages.append(SseMessage(data="\n".join(data), comments=tuple(comments), **fields))
    return messages, rest


@dataclass
class AsgiStream:
    """``GET path`` on ``app`` with ``headers``; ``async with`` it to read the answer."""

    app: FastAPI
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    """What arrived so far."""
    _read: int = 0
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _disconnect: asyncio.Event = field(default_factory=asyncio.Event)
    _ended: bool = False
    _requested: bool = False
    _task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> AsgiStream:
        parts = urlsplit(self.path)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": parts.path,
            "raw_path": parts.path.encode(),
            "query_string": parts.query.encode(),
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in self.headers.items()],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "state": {},
        }
        self._task = asyncio.create_task(self.app(scope, self._receive, self._send))
        self._task.add_done_callback(lambda _: self._end())
        await self._wait_for(lambda: self.status != 0)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self._disconnect.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, WAIT_SECONDS)

    def _end(self) -> None:
        self._ended = True
        self._arrived.set()

    async def _receive(self) -> dict[str, Any]:
        if not self._requested:
            self._requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._disconnect.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: Mapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.response_headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")
        self._arrived.set()

    async def _wait_for(self, condition: Any) -> None:
        async def waiting() -> None:
            while not condition():
                if self._ended:
                    if self._task is not None and self._task.exception() is not None:
                        raise self._task.exception()  # type: ignore[misc]
                    raise AssertionError(f"the response ended: {self.body!r}")
                self._arrived.clear()
                await self._arrived.wait()

        await asyncio.wait_for(waiting(), WAIT_SECONDS)

    @property
    def ended(self) -> bool:
        return self._ended

    def json(self) -> Any:
        return json.loads(self.body)

    async def next_message(self, event: str | None = None) -> SseMessage:
        """The next message not read yet (the next of type ``event``, skipping others)."""
        found: list[SseMessage] = []

        def ready() -> bool:
            messages, _ = parse(self.body.decode())
            while self._read < len(messages):
                message = messages[self._read]
                self._read += 1
                if event is None or message.event == event:
                    found.append(message)
                    return True
            return False

        await self._wait_for(ready)
        return found[0]

    async def until_ended(self) -> None:
        """Wait until the app has finished its answer."""
        await self._wait_for(lambda: self._ended)


async def first_answer(
    app: FastAPI, path: str, headers: Mapping[str, str]
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of ``GET path``: a stream's first message, or a whole answer."""
    async with AsgiStream(app, path, headers) as stream:
        if stream.status == 200:
            await stream.next_message()
        else:
            await stream.until_ended()
        return stream.status, stream.response_headers, stream.body
