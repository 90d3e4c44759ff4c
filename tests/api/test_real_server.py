"""The API as a real server process (uvicorn via ``kosiflow serve``, SQLite) under pressure.

* 16 clients fire the same transition at the same moment: it happens exactly once, every other
  client is refused cleanly (409 or 412), the history stays contiguous and verifies.
* The server is SIGKILLed in the middle of a stream of writes: after a restart on the same file
  every acknowledged write is there exactly once, nothing is half-applied, and re-sending the
  writes that got no answer (same ``Idempotency-Key``) records each at most once.
* Sixteen writes queued behind SQLite's write lock (held for 2 s by another connection) are all
  answered soon after it is free: the race above, made deterministic for its worst case.

Each test starts its own server on a free port of 127.0.0.1 and stops it in ``finally``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.real_server import RealServer, assert_sound

pytestmark = pytest.mark.slow

RACERS = 16
WRITERS = 4
KILL_AFTER_SECONDS = 1.0
"""The stream runs at least this long, and until each writer has a few acknowledged writes."""
ACKS_BEFORE_KILL = 3
"""Every writer has at least this many acknowledged writes when the server is killed."""
STREAM_LIMIT_SECONDS = 15.0
MAX_WRITES = 2000
"""Bounds of one writer's stream (never reached: the kill, at half of each, ends it before)."""


def create(client: httpx.Client, workflow: str, title: str) -> str:
    created = client.post("/initiatives", json={"title": title, "workflow": workflow})
    assert created.status_code == 201, created.text
    initiative_id: str = created.json()["id"]
    return initiative_id


def ready_to_start_implementation(client: httpx.Client, title: str) -> tuple[str, int]:
    """A light-track initiative whose ``start_implementation`` may fire; its id and version."""
    initiative = create(client, "light-track", title)
    for item in ("request_described", "responsible_named"):
        ticked = client.post(f"/initiatives/{initiative}/checklist/{item}", json={})
        assert ticked.status_code == 200, ticked.text
    progress = client.get(f"/initiatives/{initiative}")
    assert progress.status_code == 200, progress.text
    body = progress.json()
    assert body["phase"]["id"] == "agree"
    assert {t["trigger"]: t["may_fire"] for t in body["triggers"]}["start_implementation"]
    assert progress.headers["etag"] == f'"{body["version"]}"'
    version: int = body["version"]
    return initiative, version


NO_ANSWER = 0
"""The status recorded for a request without an answer within ANSWER_SECONDS."""
ANSWER_SECONDS = 10.0
"""Every request of the race is answered within this (it takes well under 2 s)."""


def race(
    server: RealServer, tokens: list[str], path: str, body: dict[str, Any], headers: dict[str, str]
) -> list[tuple[int, str, dict[str, Any]]]:
    """RACERS clients, connected beforehand, send the same POST at the same moment.

    Each outcome is (status, content type, body); (NO_ANSWER, "", {}) when none came in time.
    """
    barrier = threading.Barrier(RACERS, timeout=30)

    def fire(n: int) -> tuple[int, str, dict[str, Any]]:
        with server.client(tokens[n % len(tokens)], timeout=ANSWER_SECONDS) as client:
            warm = client.get("/health")  # the connection is open before the race
            assert warm.status_code == 200
            barrier.wait()
            try:
                response = client.post(path, json=body, headers=headers)
            except httpx.TimeoutException:
                return NO_ANSWER, "", {}
            return response.status_code, response.headers["content-type"], response.json()

    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(fire, range(RACERS)))


def assert_one_winner(outcomes: list[tuple[int, str, dict[str, Any]]], losers: set[int]) -> None:
    """Exactly one 200; every other answer a problem with a status out of ``losers``.

    Never a 5xx, never NO_ANSWER (the status counts are in the message).
    """
    statuses = Counter(status for status, _, _ in outcomes)
    assert set(statuses) <= {200} | losers, statuses
    assert statuses[200] == 1, statuses
    for status, content_type, body in outcomes:
        if status != 200:
            assert content_type == "application/problem+json"
            assert body["status"] == status


def phase_changes(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == "PhaseChanged"]


def test_sixteen_clients_racing_the_same_transition_move_the_phase_exactly_once(
    tmp_path: Path,
) -> None:
    server = RealServer(tmp_path)
    tokens = [
        server.add_user("Jana Becker", "coordinator"),
        server.add_user("Thomas Krüger", "administration"),
    ]
    server.start()
    try:
        with server.client(tokens[0]) as jana:
            guarded, version = ready_to_start_implementation(jana, "Bank am Weiher")
            unguarded, _ = ready_to_start_implementation(jana, "Bank am Markt")

            # All with the If-Match of the version they read: one wins, the rest are stale.
            outcomes = race(
                server,
                tokens,
                f"/initiatives/{guarded}/transitions",
                {"trigger": "start_implementation"},
                {"If-Match": f'"{version}"'},
            )
            assert_one_winner(outcomes, {409, 412})
            progress, events = assert_sound(jana, guarded)
            assert progress["phase"]["id"] == "implement"
            assert len(events) == version + 1
            assert len(phase_changes(events)) == 1
            changed = phase_changes(events)[0]
            assert changed["seq"] == version + 1
            assert (changed["payload"]["source"], changed["payload"]["target"]) == (
                "agree",
                "implement",
            )

            # Without If-Match: one wins, the rest find the step no longer allowed.
            outcomes = race(
                server,
                tokens,
                f"/initiatives/{unguarded}/transitions",
                {"trigger": "start_implementation"},
                {},
            )
            assert_one_winner(outcomes, {409})
            progress, events = assert_sound(jana, unguarded)
            assert progress["phase"]["id"] == "implement"
            assert len(phase_changes(events)) == 1
    finally:
        server.stop()


@dataclass
class Stream:
    """What one writer sent, by Idempotency-Key → note text."""

    acknowledged: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    uncertain: dict[str, str] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)


def write_notes(
    server: RealServer, token: str, initiative: str, writer: int, stream: Stream
) -> None:
    """Notes in a loop until the first request without an answer (the server was killed)."""
    until = time.monotonic() + STREAM_LIMIT_SECONDS
    with server.client(token, timeout=10) as client:
        for n in range(MAX_WRITES):
            if time.monotonic() > until:
                return
            key = f"writer-{writer}-note-{n}"
            text = f"Notiz {n} von Schreiber {writer}"
            try:
                response = client.post(
                    f"/initiatives/{initiative}/notes",
                    json={"text": text},
                    headers={"Idempotency-Key": key},
                )
            except httpx.TransportError:
                stream.uncertain[key] = text
                return
            stream.statuses[response.status_code] += 1
            if response.is_success:
                stream.acknowledged[key] = text
            else:
                stream.refused[key] = text


def note_texts(events: list[dict[str, Any]]) -> Counter[str]:
    return Counter(e["payload"]["text"] for e in events if e["type"] == "NoteAdded")


def kill_during_the_stream(
    server: RealServer, token: str, initiative: str
) -> tuple[list[Stream], float]:
    """WRITERS streams of notes; SIGKILL once each has some acknowledged; the streams, kill time."""
    streams = [Stream() for _ in range(WRITERS)]
    with ThreadPoolExecutor(WRITERS) as pool:
        futures = [
            pool.submit(write_notes, server, token, initiative, writer, stream)
            for writer, stream in enumerate(streams)
        ]
        started = time.monotonic()
        while time.monotonic() - started < STREAM_LIMIT_SECONDS / 2:
            time.sleep(0.02)
            acknowledged = [len(stream.acknowledged) for stream in streams]
            if min(acknowledged) >= ACKS_BEFORE_KILL and (
                time.monotonic() - started >= KILL_AFTER_SECONDS
                or max(acknowledged) >= MAX_WRITES // 2
            ):
                break
        server.kill()
        killed_at = time.monotonic() - started
        for future in futures:
            future.result(timeout=STREAM_LIMIT_SECONDS + 10)
    return streams, killed_at


def test_a_sigkill_during_a_stream_of_writes_loses_and_doubles_nothing(tmp_path: Path) -> None:
    server = RealServer(tmp_path)
    token = server.add_user("Jana Becker", "coordinator")
    server.start()
    try:
        with server.client(token) as jana:
            initiative = create(jana, "kosi-lab", "Reparaturcafé")
        streams, killed_at = kill_during_the_stream(server, token, initiative)
        assert killed_at < STREAM_LIMIT_SECONDS / 2 + 1
        acknowledged = {k: t for s in streams for k, t in s.acknowledged.items()}
        refused = {k: t for s in streams for k, t in s.refused.items()}
        uncertain = {k: t for s in streams for k, t in s.uncertain.items()}
        statuses = sum((s.statuses for s in streams), Counter[int]())
        assert all(status < 500 for status in statuses), statuses
        assert set(statuses) <= {200, 409}, statuses  # 409: a concurrent change, nothing written
        assert all(len(s.uncertain) == 1 for s in streams), "each writer ends at the kill"
        assert len(acknowledged) >= WRITERS * ACKS_BEFORE_KILL

        server.start()  # the same database file, a new process and port
        with server.client(token) as jana:
            _, events = assert_sound(jana, initiative)
            notes = notes_before = note_texts(events)
            assert [text for text in acknowledged.values() if notes[text] != 1] == []
            assert not any(notes[text] for text in refused.values())
            assert all(notes[text] <= 1 for text in uncertain.values())
            assert sum(notes.values()) == len(acknowledged) + sum(
                notes[text] for text in uncertain.values()
            )

            # An acknowledged key survived the kill: a repeat is answered, not applied again.
            for stream in streams:
                key, text = list(stream.acknowledged.items())[-1]
                again = jana.post(
                    f"/initiatives/{initiative}/notes",
                    json={"text": text},
                    headers={"Idempotency-Key": key},
                )
                assert again.status_code == 200, again.text
                assert again.headers["idempotent-replayed"] == "true"

            # The writes that got no answer, re-sent with the same key: each lands at most once.
            for key, text in uncertain.items():
                resent = jana.post(
                    f"/initiatives/{initiative}/notes",
                    json={"text": text},
                    headers={"Idempotency-Key": key},
                )
                assert resent.status_code == 200, resent.text
                replayed = resent.headers.get("idempotent-replayed") == "true"
                assert replayed == (text in notes_before), (key, replayed)
            _, after = assert_sound(jana, initiative)
            notes = note_texts(after)
            assert all(notes[text] == 1 for text in uncertain.values())
            lost_at_the_kill = [text for text in uncertain.values() if text not in notes_before]
            assert len(after) == len(events) + len(lost_at_the_kill)
    finally:
        server.stop()


LOCK_SECONDS = 2.0
"""How long the test holds SQLite's write lock while the writers queue up behind it."""


def test_sixteen_writers_queued_behind_a_held_write_lock_are_all_answered_once_it_is_free(
    tmp_path: Path,
) -> None:
    """Sixteen concurrent writes that wait for SQLite's write lock (another process holds it
    for 2 s, well within the busy timeout) all land soon after it is free.

    The worst case of the race above, made deterministic: each waiting request holds a pooled
    connection, so the sixteenth asks the pool (5 + 10 overflow) for one while fifteen are out.
    """
    server = RealServer(tmp_path)
    token = server.add_user("Jana Becker", "coordinator")
    server.start()
    try:
        with server.client(token) as jana:
            initiative = create(jana, "kosi-lab", "Gemeinschaftsgarten")
        barrier = threading.Barrier(RACERS + 1, timeout=30)

        def note(n: int) -> tuple[int, float]:
            with server.client(token, timeout=LOCK_SECONDS + ANSWER_SECONDS) as client:
                warm = client.get("/health")
                assert warm.status_code == 200
                barrier.wait()
                started = time.monotonic()
                try:
                    response = client.post(
                        f"/initiatives/{initiative}/notes", json={"text": f"Notiz {n}"}
                    )
                except httpx.TimeoutException:
                    return NO_ANSWER, round(time.monotonic() - started, 1)
                return response.status_code, round(time.monotonic() - started, 1)

        lock = sqlite3.connect(tmp_path / "kosiflow.db", isolation_level=None)
        try:
            lock.execute("BEGIN IMMEDIATE")
            with ThreadPoolExecutor(RACERS) as pool:
                futures = [pool.submit(note, n) for n in range(RACERS)]
                barrier.wait()
                time.sleep(LOCK_SECONDS)
                lock.rollback()
                answers = [future.result() for future in futures]
        finally:
            lock.close()
        # (status, seconds) of each write; NO_ANSWER = none within LOCK_SECONDS + ANSWER_SECONDS
        assert [status for status, _ in answers] == [200] * RACERS, answers
        with server.client(token) as jana:
            _, events = assert_sound(jana, initiative)
        assert len(events) == 1 + RACERS
    finally:
        server.stop()
