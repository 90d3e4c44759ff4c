"""Server-sent events for the live pages and the API: framing, resuming, heartbeats, limits.

A stream (``text/event-stream``) starts with a ``retry:`` hint and a ``ready`` message, then
sends one ``change`` message per recorded event, each with an ``id:`` to resume after
(``Last-Event-ID``, or ``?after=`` for the first connection) and JSON ``data:``. A ``reset``
message means the client missed too much to be told each change: it should read afresh. A
comment line every :data:`HEARTBEAT_SECONDS` keeps proxies from closing a quiet stream; at the
same moments the caller's token or session is checked again, and a stream whose caller may no
longer read ends. The streams of one process share one change feed
(:mod:`kosiflow.services.live`); at most ``KOSIFLOW_LIVE_STREAMS`` are open at once (503 with
``Retry-After`` beyond). On SIGTERM or SIGINT every stream ends at once, so that a graceful
shutdown is not held up by them; browsers reconnect to whichever server answers next.
"""

import asyncio
import json
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from types import FrameType
from typing import Annotated, Any

import anyio
from fastapi import FastAPI, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from api.problems import problem
from kosiflow.errors import BadInput
from kosiflow.services import Services
from kosiflow.services.live import (
    DEFAULT_MAX_STREAMS,
    ChangeFeed,
    LiveUnavailable,
    Message,
    Stream,
    close_all,
)

MEDIA_TYPE = "text/event-stream"
HEARTBEAT_SECONDS = 15.0
RETRY_MILLISECONDS = 3000
"""How long a browser waits before it reconnects a stream that ended."""
MAX_STREAMS_VARIABLE = "KOSIFLOW_LIVE_STREAMS"
POSITION = r"^[0-9]{1,18}$"
"""A position or version, as ``Last-Event-ID`` and ``?after=`` give it (a 64-bit integer)."""

LastEventId = Annotated[
    str | None,
    Header(
        alias="Last-Event-ID",
        pattern=POSITION,
        description="The id of the last message received: the stream resumes after it "
        "(browsers send it when they reconnect). Takes precedence over `after`.",
    ),
]

STREAM_HEADERS = {
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",  # nginx: pass each message on at once
    "X-Content-Type-Options": "nosniff",
}

StillAllowed = Callable[[], Awaitable[bool]]
"""Whether the stream's caller may still read (token or session still valid)."""


def encode(message: Message) -> bytes:
    """One message as SSE lines: ``event:``, ``id:``, one ``data:`` line of JSON."""
    data = json.dumps(message.data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {message.event}\nid: {message.id}\ndata: {data}\n\n".encode()


def resume_from(last_event_id: str | None, after: str | None) -> int | None:
    """Where the client resumes: after ``Last-Event-ID`` (a browser reconnecting) before
    ``?after=`` (a page's first connection, or an API client's); None: from now. Both are
    checked against :data:`POSITION` by their parameters (422 otherwise)."""
    chosen = last_event_id or after
    return None if chosen is None else int(chosen)


def feed_of(request: Request) -> ChangeFeed:
    feed: ChangeFeed = request.app.state.live
    return feed


def live_position(request: Request) -> int:
    """The position a page read from now on resumes its stream after (may read the
    database: for a page handler in the thread pool)."""
    return feed_of(request).position()


class EventStreamResponse(StreamingResponse):
    """A stream that ends as soon as its client goes away.

    Starlette leaves noticing that to a failing send under ASGI 2.4 (uvicorn's): a quiet stream
    would hold its place among the open ones until its next heartbeat. This one listens for the
    disconnect all along, whatever the server's ASGI version.
    """

    media_type = MEDIA_TYPE

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as group:

            async def stream() -> None:
                with suppress(OSError):  # the client went away while a message was sent
                    await self.stream_response(send)
                group.cancel_scope.cancel()

            group.start_soon(stream)
            await self.listen_for_disconnect(receive)
            group.cancel_scope.cancel()


async def _frames(stream: Stream, still_allowed: StillAllowed) -> AsyncIterator[bytes]:
    checked = time.monotonic()
    try:
        yield f"retry: {RETRY_MILLISECONDS}\n\n".encode() + b"".join(map(encode, stream.opening))
        while True:
            messages = await stream.next(HEARTBEAT_SECONDS)
            if stream.ended:
                return
            if time.monotonic() - checked >= HEARTBEAT_SECONDS:
                if not await still_allowed():
                    return
                checked = time.monotonic()
            yield b"".join(map(encode, messages)) if messages else b": keep-alive\n\n"
    finally:
        stream.close()


async def open_stream(
    request: Request,
    services: Services,
    still_allowed: StillAllowed,
    *,
    initiative_id: str | None,
    after: int | None,
) -> Response:
    """The stream's response: every change (``initiative_id`` None) or one initiative's.

    Raises:
        NotFound: there is no such initiative (404).
    """
    feed = feed_of(request)
    loop = asyncio.get_running_loop()
    try:
        # Opening catches up on what was missed (reads, under the feed's lock): off the loop.
        stream = await run_in_threadpool(
            lambda: feed.open(loop, initiative_id=initiative_id, after=after)
        )
    except LiveUnavailable as exc:
        headers = {"Retry-After": str(exc.retry_after)}
        return problem(503, "live-unavailable", f"No live stream now: {exc}.", headers=headers)
    return EventStreamResponse(
        _frames(stream, still_allowed),
        media_type=MEDIA_TYPE,
        headers=STREAM_HEADERS,
    )


def stream_documentation(example: str) -> Mapping[int | str, dict[str, Any]]:
    """The OpenAPI description of a stream's 200 answer."""
    return {
        200: {
            "description": "A server-sent-events stream (never ends by itself).",
            "content": {MEDIA_TYPE: {"schema": {"type": "string"}, "example": example}},
        }
    }


def max_streams_from(environment: Mapping[str, str]) -> int:
    """``KOSIFLOW_LIVE_STREAMS`` (default 100).

    Raises:
        BadInput: it is not a whole number of at least 1.
    """
    text = environment.get(MAX_STREAMS_VARIABLE)
    if text is None:
        return DEFAULT_MAX_STREAMS
    if not text.strip().isdigit() or int(text) < 1:
        raise BadInput(MAX_STREAMS_VARIABLE, f"expected a whole number of at least 1, not {text!r}")
    return int(text)


_HOOKED = (signal.SIGTERM, signal.SIGINT)


def _on_signal(number: int, frame: FrameType | None) -> None:
    """End every stream, then let the server's own handler begin its shutdown."""
    close_all()
    previous = _PREVIOUS.get(number)
    if callable(previous):
        previous(number, frame)


_PREVIOUS: dict[int, Any] = {}


def _hook_signals() -> None:
    """Put :func:`_on_signal` in front of the server's handlers of SIGTERM and SIGINT.

    uvicorn waits for open connections before it shuts the application down, and a stream
    stays open until it is ended: so streams must end when the signal comes, not at shutdown.
    Only where a server has installed handlers (a callable one) and only in the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for number in _HOOKED:
        current = signal.getsignal(number)
        if current is _on_signal or not callable(current):
            continue
        _PREVIOUS[number] = current
        signal.signal(number, _on_signal)


def install(app: FastAPI, services: Services) -> None:
    """Give ``app`` its change feed: streams end when the server is told to stop, the feed
    when the application shuts down.

    Raises:
        BadInput: ``KOSIFLOW_LIVE_STREAMS`` is not a whole number of at least 1.
    """
    feed = ChangeFeed(services.database, max_streams=max_streams_from(os.environ))
    app.state.live = feed
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with inner(application) as state:
            _hook_signals()
            try:
                yield state
            finally:
                feed.close()
                await anyio.to_thread.run_sync(feed.join, 2.0)

    app.router.lifespan_context = lifespan
