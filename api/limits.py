"""The request body limit: a pure ASGI middleware answering 413 before a body is read whole; and
the longest text each field of the API's bodies and the pages' forms takes.

A ``Content-Length`` above the limit is refused at once, without reading a byte of the body. A
body without one (``Transfer-Encoding: chunked``) is counted while the application streams it
in; the moment it passes the limit, reading stops and whatever the application was about to
answer is replaced by the 413. Either way the application has not acted on the request, so
nothing is recorded. The 413 is problem details like every other error.
"""

from collections.abc import Mapping
from types import MappingProxyType

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import language_of
from api.problems import ProblemDetailOut, problem

MAX_BODY_BYTES = 1024 * 1024
"""1 MiB: far above any JSON body or form the API and pages accept."""

MAX_LENGTHS: Mapping[str, int] = MappingProxyType(
    {
        "title": 200,
        "description": 5000,
        "workflow": 100,
        "trigger": 100,
        "role": 100,
        "evidence": 2000,
        "note": 5000,
        "reason": 2000,
        "text": 10000,
        "name": 200,
        "contact": 200,
    }
)
"""Characters a text field may have, by field name: the same for a JSON body and a page form."""

_MESSAGES = {
    "en": "The request body is larger than {limit} bytes (1 MiB); nothing was recorded.",
    "de": "Der Inhalt der Anfrage ist größer als {limit} Bytes (1 MiB); nichts wurde gespeichert.",
}


class _BodyTooLarge(Exception):
    """Raised into the application when the streamed body passes the limit."""


class _Guard:
    """One request's body, counted while the application reads it; once it passes the limit,
    the application's answer is held back (the 413 replaces it)."""

    def __init__(self, receive: Receive, send: Send, max_bytes: int) -> None:
        self._receive = receive
        self._send = send
        self._max_bytes = max_bytes
        self._received = 0
        self._exceeded = False
        self._started = False

    @property
    def is_cut_off(self) -> bool:
        """The body passed the limit before the answer began."""
        return self._exceeded and not self._started

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            if self._received > self._max_bytes:
                self._exceeded = True
                raise _BodyTooLarge
        return message

    async def send(self, message: Message) -> None:
        if self.is_cut_off:
            return
        if message["type"] == "http.response.start":
            self._started = True
        await self._send(message)


def _declared_length(headers: Headers) -> int | None:
    """The ``Content-Length``, if the request names a valid one."""
    value = headers.get("content-length", "")
    return int(value) if value.isdigit() else None


class BodyLimit:
    """Answer 413 to requests whose body is larger than ``max_bytes``."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = _declared_length(headers)
        if declared is not None and declared > self.max_bytes:
            await self._too_large(scope, receive, send, headers)
            return
        guard = _Guard(receive, send, self.max_bytes)
        try:
            await self.app(scope, guard.receive, guard.send)
        except _BodyTooLarge:
            if not guard.is_cut_off:
                raise
        if guard.is_cut_off:
            await self._too_large(scope, receive, send, headers)

    async def _too_large(
        self, scope: Scope, receive: Receive, send: Send, headers: Headers
    ) -> None:
        message = _MESSAGES[language_of(headers.get("accept-language"))].format(
            limit=self.max_bytes
        )
        error = ProblemDetailOut(
            code="body_too_large", message=message, params={"limit": self.max_bytes}
        )
        # The unread rest of the body makes the connection unusable for a next request.
        response = problem(413, "body-too-large", message, [error], headers={"Connection": "close"})
        await response(scope, receive, send)
