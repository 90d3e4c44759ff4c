"""The progress read's fast path: answers of ``GET /api/v1/initiatives/{id}`` kept per process
and sent again after one database check, without FastAPI's routing and dependencies.

:class:`ProgressFastPath` is a pure ASGI layer in front of the app. A request of exactly that
shape (``GET``, no query string, no body, a bearer token) whose initiative has answers kept
costs one statement (:class:`AnswerCache`): the token's user (not erased) with its roles, the
initiative's version, and the names of the people the kept answers name. When the version and
the names are those the answers were made from and an answer for the user's roles in the
language of ``Accept-Language`` is kept, its bytes and headers are sent as they are. Anything
else goes to the route unchanged — no answer kept, another version or names, an unknown token
or initiative (the route answers 401 or 404), any failure of the check — and when the route
answers 200 it leaves behind what its answer was made from (:func:`note_answer`), so that the
layer keeps the bytes it passed on.

Why a kept answer is the route's answer: the route's answer is a function of the initiative's
state (named by its version: every change is an event, the removal of texts under the
retention policy too, in the same transaction), the names of the people it shows
(erasure changes a name without an event, hence the names in the check), the caller's roles
(which steps they may take) and the language. Nothing in it depends on the moment of the
request; a field that did (an "overdue" flag, a duration until now) would need a validity bound
here. ``tests/api/test_progress_cache.py`` compares kept answers with the route's across every
kind of command, erasures, roles, languages and a deadline crossing.

Each worker process keeps its own answers (at most ``max_bytes``; the initiative used least
recently is dropped first). The check reads the database on every request, so a token renewed
or erased by another process is refused at once. On SQLite it runs inline on the event loop on
a connection of its own (a read takes a few µs and never waits for writers under WAL); on
PostgreSQL on the event loop too, on a few autocommit connections of its own (psycopg's async
connections): one round trip, and no thread hop, which would cost more CPU than the round trip.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from psycopg import AsyncConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import language_of
from kosiflow.engine import Actor
from kosiflow.services import Progress, Services
from kosiflow.services.base import people_in
from kosiflow.store.people import token_hash

_log = logging.getLogger(__name__)

PATH = re.compile(r"/api/v1/initiatives/([0-9A-Za-z_-]{1,64})")
"""The progress read, for the ids kosiflow makes (uuids); any other path goes to the app."""

SLOT = "kosiflow.progress_cache"
"""Where in a request's scope the route notes what its answer was made from."""

MAX_BYTES = 16 * 1024 * 1024
"""Default bound of the answers one process keeps (bodies and headers)."""

POSTGRES_CONNECTIONS = 4
"""Connections of a process for the check on PostgreSQL (a check holds one for a round trip)."""
POSTGRES_WAIT_SECONDS = 1.0
"""How long a check waits for one of them before the route answers instead."""

_UNIT, _RECORD = "\x1f", "\x1e"
"""Separators of the names fingerprint: id UNIT length UNIT name RECORD id UNIT ... (with each
name's length, no name can pass for a separator)."""

SQLITE_CHECK = """
SELECT u.roles, i.version, coalesce((
    SELECT group_concat(n.id || char(31) || length(n.name) || char(31) || n.name, char(30))
    FROM (SELECT id, name FROM people
          WHERE id IN (SELECT value FROM json_each(:people)) ORDER BY id) AS n
), '')
FROM users AS u JOIN people AS p ON p.id = u.person_id, initiatives AS i
WHERE u.token_hash = :token AND p.erased_at IS NULL AND i.id = :id
"""
POSTGRES_CHECK = """
SELECT u.roles, i.version, coalesce((
    SELECT string_agg(
        n.id || chr(31) || length(n.name) || chr(31) || n.name, chr(30) ORDER BY n.id COLLATE "C"
    )
    FROM people AS n WHERE n.id IN (SELECT json_array_elements_text(%(people)s::json))
), '')
FROM users AS u JOIN people AS p ON p.id = u.person_id, initiatives AS i
WHERE u.token_hash = %(token)s AND p.erased_at IS NULL AND i.id = %(id)s
"""
"""The check: the user of a token as ``Database.user_by_token`` finds it, the initiative's
version, and the names fingerprint of the given people (ids in byte order, as Python sorts)."""


def names_fingerprint(ids: Iterable[str], names: Mapping[str, str]) -> str:
    """The names of ``ids`` (those that exist) as the check reads them; ``ids`` sorted."""
    return _RECORD.join(
        f"{pid}{_UNIT}{len(names[pid])}{_UNIT}{names[pid]}" for pid in ids if pid in names
    )


def roles_key(roles: Iterable[str]) -> str:
    return ",".join(sorted(roles))


@dataclass(frozen=True, slots=True)
class Made:
    """What one answer of the route was made from (noted by :func:`note_answer`)."""

    initiative_id: str
    version: int
    people: tuple[str, ...]
    """Everyone the answer may name, sorted."""
    names: str
    """:func:`names_fingerprint` of ``people`` when the answer was made."""
    roles: str
    lang: str


@dataclass(slots=True)
class _Slot:
    """Put into a request's scope by the fast path; the route fills it."""

    made: Made | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers)


@dataclass(slots=True)
class _Entry:
    """The kept answers of one initiative at one version, by (roles, language)."""

    version: int
    names: str
    people: str
    """The people as the check's parameter: a JSON list (text: the cheapest to pass)."""
    answers: dict[tuple[str, str], Answer] = field(default_factory=dict)
    size: int = 0


@dataclass(frozen=True, slots=True)
class Checked:
    """What the check found: the user's roles, the initiative's version, the names."""

    roles: str
    version: int
    names: str


class _PostgresConnections:
    """At most :data:`POSTGRES_CONNECTIONS` autocommit async connections, on the event loop
    that uses them (connections of another loop, such as a finished test's, are dropped)."""

    def __init__(self, services: Services) -> None:
        engine = services.database.engine
        self._args, self._kwargs = engine.dialect.create_connect_args(engine.url)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: asyncio.Queue[AsyncConnection[Any]] = asyncio.Queue()
        self._open: list[AsyncConnection[Any]] = []
        self._opening = 0
        """Connections being opened (they count against the limit already)."""

    async def one(self, sql: str, params: dict[str, Any]) -> Any:
        """The first row of ``sql``; a connection that fails is closed and replaced later."""
        connection = await self._take()
        try:
            row = await (await connection.execute(sql, params)).fetchone()
        except BaseException:
            self._drop(connection)
            raise
        self._idle.put_nowait(connection)
        return row

    async def _take(self) -> AsyncConnection[Any]:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self.close()
            self._loop, self._idle = loop, asyncio.Queue()
        if not self._idle.empty():
            return self._idle.get_nowait()
        if len(self._open) + self._opening < POSTGRES_CONNECTIONS:
            self._opening += 1
            try:
                connection = await AsyncConnection.connect(
                    *self._args, **self._kwargs, autocommit=True
                )
            finally:
                self._opening -= 1
            self._open.append(connection)
            return connection
        return await asyncio.wait_for(self._idle.get(), POSTGRES_WAIT_SECONDS)

    def _drop(self, connection: AsyncConnection[Any]) -> None:
        if connection in self._open:  # not closed with the others meanwhile
            self._open.remove(connection)
        connection.pgconn.finish()

    def close(self) -> None:
        """Close every connection (from any thread or loop: no round trip)."""
        for connection in self._open:
            connection.pgconn.finish()
        self._open = []
        self._idle = asyncio.Queue()


class AnswerCache:
    """The answers one process keeps, and the check that decides whether one may be sent.

    Used on the event loop only (no locks).
    """

    def __init__(self, services: Services, *, max_bytes: int = MAX_BYTES) -> None:
        self._services = services
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._size = 0
        self.hits = 0
        """Answers sent from the cache (for metrics and tests)."""
        self._sqlite_connection: Any = None
        sqlite = services.database.backend == "sqlite"
        self._postgres = None if sqlite else _PostgresConnections(services)

    @property
    def size(self) -> int:
        """Bytes kept."""
        return self._size

    def clear(self) -> None:
        self._entries.clear()
        self._size = 0

    # -- the check -------------------------------------------------------------------------------

    async def check(self, token: str, initiative_id: str, people: str) -> Checked | None:
        """The user of ``token`` and the initiative's version and names; None when either the
        user or the initiative is unknown."""
        params = {"token": token_hash(token), "id": initiative_id, "people": people}
        if self._postgres is None:
            row = self._check_sqlite(params)
        else:
            row = await self._postgres.one(POSTGRES_CHECK, params)
        if row is None:
            return None
        return Checked(roles_key(json.loads(row[0])), row[1], row[2])

    def _check_sqlite(self, params: dict[str, Any]) -> Any:
        if self._sqlite_connection is None:
            self._sqlite_connection = self._services.database.engine.raw_connection()
        try:
            # fetchall: the statement ends (a pending one would hold its snapshot open)
            rows = self._sqlite_connection.driver_connection.execute(SQLITE_CHECK, params)
            return next(iter(rows.fetchall()), None)
        except Exception:
            self._sqlite_connection.invalidate()
            self._sqlite_connection = None
            raise

    def close(self) -> None:
        """Close the check's connections."""
        if self._sqlite_connection is not None:
            self._sqlite_connection.close()
            self._sqlite_connection = None
        if self._postgres is not None:
            self._postgres.close()

    # -- the answers -----------------------------------------------------------------------------

    def entry(self, initiative_id: str) -> _Entry | None:
        found = self._entries.get(initiative_id)
        if found is not None:
            self._entries.move_to_end(initiative_id)
        return found

    def answer(self, entry: _Entry, checked: Checked, lang: str) -> Answer | None:
        """The kept answer for what the check found, if it is still the route's answer."""
        if checked.version != entry.version or checked.names != entry.names:
            return None
        return entry.answers.get((checked.roles, lang))

    def keep(self, made: Made, answer: Answer) -> None:
        """Keep ``answer``, made from ``made``; an answer of an older version is not kept."""
        entry = self._entries.get(made.initiative_id)
        if entry is not None and entry.version > made.version:
            return
        if entry is None or entry.version != made.version or entry.names != made.names:
            if entry is not None:
                self._size -= entry.size
            people = json.dumps(made.people)
            entry = self._entries[made.initiative_id] = _Entry(made.version, made.names, people)
        key = (made.roles, made.lang)
        replaced = entry.answers.get(key)
        if replaced is not None:
            entry.size -= replaced.size
            self._size -= replaced.size
        entry.answers[key] = answer
        entry.size += answer.size
        self._size += answer.size
        self._entries.move_to_end(made.initiative_id)
        while self._size > self.max_bytes and self._entries:
            _, dropped = self._entries.popitem(last=False)
            self._size -= dropped.size


def note_answer(request: Request, progress: Progress, actor: Actor, lang: str) -> None:
    """For the route: the answer it is about to send for ``progress`` may be kept (when the
    fast path passed the request on; otherwise nothing happens)."""
    slot = request.scope.get(SLOT)
    if not isinstance(slot, _Slot):
        return
    people = tuple(sorted(people_in(progress.state)))
    slot.made = Made(
        progress.state.initiative_id,
        progress.state.version,
        people,
        names_fingerprint(people, progress.names),
        roles_key(actor.roles),
        lang,
    )


@dataclass(frozen=True, slots=True)
class _Request:
    """What the fast path reads of a request of the right shape."""

    initiative_id: str
    token: str
    lang: str


def _headers(scope: Scope) -> tuple[bytes, bytes | None] | None:
    """The first ``Authorization`` and ``Accept-Language`` (as Starlette reads a header); None
    without a token or with a body (the body limit and the route decide about those)."""
    authorization = accept_language = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorization = value if authorization is None else authorization
        elif name == b"accept-language":
            accept_language = value if accept_language is None else accept_language
        elif name in (b"content-length", b"transfer-encoding"):
            return None
    return None if authorization is None else (authorization, accept_language)


def _hot(scope: Scope) -> _Request | None:
    """The request, when it is a plain progress read with a bearer token (as FastAPI's
    ``HTTPBearer`` reads it); None for anything else."""
    if scope["method"] != "GET" or scope["query_string"] or scope.get("root_path"):
        return None
    match = PATH.fullmatch(scope["path"])
    headers = None if match is None else _headers(scope)
    if match is None or headers is None:
        return None
    authorization, accept_language = headers
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    lang = language_of(None if accept_language is None else accept_language.decode("latin-1"))
    return _Request(match.group(1), token, lang)


class ProgressFastPath:
    """The ASGI layer sending kept progress answers (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, cache: AnswerCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._closing(receive), send)
            return
        request = _hot(scope) if scope["type"] == "http" else None
        if request is None:
            await self.app(scope, receive, send)
            return
        answer = await self._kept(request)
        if answer is not None:
            self.cache.hits += 1
            await send({"type": "http.response.start", "status": 200, "headers": answer.headers})
            await send({"type": "http.response.body", "body": answer.body})
            return
        await self._pass_on(scope, receive, send)

    async def _kept(self, request: _Request) -> Answer | None:
        """The kept answer the check allows, if any; a failing check is a miss."""
        entry = self.cache.entry(request.initiative_id)
        if entry is None:
            return None
        try:
            checked = await self.cache.check(request.token, request.initiative_id, entry.people)
        except Exception as exc:  # the route answers instead (and reports a real failure)
            _log.debug("progress cache: check failed: %r", exc)
            return None
        if checked is None:
            return None
        return self.cache.answer(entry, checked, request.lang)

    async def _pass_on(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app answers; its 200 is kept when the route noted what it was made from."""
        slot = _Slot()
        scope = {**scope, SLOT: slot}
        start: Message | None = None
        body: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        if slot.made is not None and start is not None and start["status"] == 200:
            headers = tuple((bytes(k), bytes(v)) for k, v in start.get("headers", ()))
            self.cache.keep(slot.made, Answer(headers, b"".join(body)))

    def _closing(self, receive: Receive) -> Receive:
        """``receive`` of the lifespan: closes the check's connections at shutdown."""

        async def closing() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                self.cache.close()
            return message

        return closing
