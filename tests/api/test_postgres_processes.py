"""Two ``kosiflow serve`` processes on one PostgreSQL schema: racing clients, load, crashes.

* 50 clients, spread over both processes, fire the same transition at once, 100 rounds: exactly
  one succeeds per round, every other gets 409 or 412, never a 5xx; every history contiguous
  and verified.
* A mixed load (``KOSIFLOW_LOAD_SECONDS``, 60 by default) of 20 clients over 5 initiatives, each
  command with its own ``Idempotency-Key`` and a token of its own in its text; one server
  process is SIGKILLed (and started again) after a third of it, PostgreSQL is restarted after
  two thirds. Clients log what was acknowledged (2xx), refused (4xx) and uncertain (no answer
  or 503); the uncertain ones are sent again with their key afterwards. Then every acknowledged
  command is in the history exactly once (its token in one event, at or before the version it
  answered), no refused one is, nothing else is; never a 500 and no 503 before the first fault.

The servers are real uvicorn processes (``tests/api/real_server.py``) on the test's schema.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from kosiflow.store import open_database
from tests.api.real_server import ROOT, RealServer

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

RACERS = 50
ROUNDS = 100
LOAD_CLIENTS = 20
LOAD_INITIATIVES = 5
LOAD_SECONDS = float(os.environ.get("KOSIFLOW_LOAD_SECONDS", "60"))
"""How long the mixed load runs (CI: 60 s)."""
REQUEST_SECONDS = 10.0
"""A request without an answer within this counts as uncertain."""
POSTGRES_CLUSTER = os.environ.get("KOSIFLOW_TEST_PG_CLUSTER", "15 main")
"""The Debian cluster ``pg_ctlcluster`` restarts (version and name)."""
RECOVERY_SECONDS = 60.0
"""How long the service may take to answer again after PostgreSQL is back."""


def _workflows(folder: Path) -> Path:
    """A folder with light-track (the race) and the benchmark's plan/act loop (the load)."""
    folder.mkdir()
    for source in (ROOT / "workflows" / "light-track.yaml", ROOT / "bench/workflows/loop.yaml"):
        (folder / source.name).write_text(source.read_text())
    return folder


@dataclass
class Cluster:
    """Two server processes on one database and a token per coordinator."""

    servers: list[RealServer]
    tokens: list[str]

    def url(self, n: int) -> str:
        """The API address of client ``n``'s server (even: the first, odd: the second),
        read anew for every request: a restarted server listens on a new port."""
        return self.servers[n % 2].url


@pytest.fixture
def cluster(postgres_url: str, tmp_path: Path) -> Iterator[Cluster]:
    with open_database(postgres_url) as database:
        tokens = [database.add_user(f"Coordinator {n}", ["coordinator"])[1] for n in range(5)]
    workflows = _workflows(tmp_path / "workflows")
    servers = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        server = RealServer(folder)
        server.env.update(KOSIFLOW_DATABASE_URL=postgres_url, KOSIFLOW_WORKFLOWS=str(workflows))
        servers.append(server)
    try:
        for server in servers:
            server.start()
        yield Cluster(servers, tokens)
    finally:
        for server in servers:
            server.stop()


def _client(token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        headers={"Authorization": f"Bearer {token}"}, timeout=httpx.Timeout(REQUEST_SECONDS)
    )


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def _history(client: httpx.AsyncClient, url: str, initiative: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while True:
        params = {"limit": 100, "offset": len(events)}
        page = _ok(await client.get(f"{url}/initiatives/{initiative}/history", params=params))
        events.extend(page["items"])
        if len(page["items"]) < 100:
            return events


async def _sound(client: httpx.AsyncClient, url: str, initiative: str) -> list[dict[str, Any]]:
    """History contiguous (1..n), chain verified, projection at version n; the events."""
    events = await _history(client, url, initiative)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    verified = _ok(await client.get(f"{url}/initiatives/{initiative}/history/verify"))
    assert verified == {"ok": True, "events": len(events)}
    progress = _ok(await client.get(f"{url}/initiatives/{initiative}"))
    assert progress["version"] == len(events)
    return events


# -- 50 clients racing one transition, 100 rounds --------------------------------------------


async def _ready(client: httpx.AsyncClient, url: str, title: str) -> tuple[str, int]:
    """A light-track initiative whose ``start_implementation`` may fire; id and version."""
    body = {"title": title, "workflow": "light-track"}
    initiative: str = _ok(await client.post(f"{url}/initiatives", json=body), 201)["id"]
    version = 1
    for item in ("request_described", "responsible_named"):
        ticked = await client.post(f"{url}/initiatives/{initiative}/checklist/{item}", json={})
        version = _ok(ticked)["version"]
    return initiative, version


async def _race(cluster: Cluster) -> tuple[Counter[int], list[str]]:
    clients = [_client(cluster.tokens[n % len(cluster.tokens)]) for n in range(RACERS)]
    statuses: Counter[int] = Counter()
    initiatives = []
    try:
        for n, client in enumerate(clients):  # every connection open before the first round
            _ok(await client.get(f"{cluster.url(n)}/health"))
        ready = []
        for first in range(0, ROUNDS, 10):  # prepared ten at a time, on both servers
            ready += await asyncio.gather(
                *(
                    _ready(clients[n % RACERS], cluster.url(n), f"Bank {n}")
                    for n in range(first, first + 10)
                )
            )
        for round_, (initiative, version) in enumerate(ready):
            initiatives.append(initiative)
            path = f"/initiatives/{initiative}/transitions"
            fired = await asyncio.gather(
                *(
                    client.post(
                        f"{cluster.url(n)}{path}",
                        json={"trigger": "start_implementation"},
                        headers={"If-Match": f'"{version}"'} if n % 4 == 0 else {},
                    )
                    for n, client in enumerate(clients)
                )
            )
            round_statuses = Counter(response.status_code for response in fired)
            assert round_statuses[200] == 1, (round_, round_statuses)
            assert set(round_statuses) <= {200, 409, 412}, (round_, round_statuses)
            for response in fired:
                if response.status_code != 200:
                    assert response.headers["content-type"] == "application/problem+json"
            statuses.update(round_statuses)
        return statuses, initiatives
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))


async def _check_race_histories(cluster: Cluster, initiatives: list[str]) -> None:
    async with _client(cluster.tokens[0]) as client:
        for n, initiative in enumerate(initiatives):
            events = await _sound(client, cluster.url(n), initiative)
            assert [e["type"] for e in events].count("PhaseChanged") == 1
            assert events[-1]["payload"]["target"] == "implement"


def test_fifty_clients_on_two_processes_race_a_transition_once_per_round(
    cluster: Cluster,
) -> None:
    statuses, initiatives = asyncio.run(_race(cluster))

    assert statuses[200] == ROUNDS
    assert statuses[409] + statuses[412] == ROUNDS * (RACERS - 1)
    asyncio.run(_check_race_histories(cluster, initiatives))


# -- the mixed load, through a SIGKILL and a PostgreSQL restart -----------------------------

_TOKEN = re.compile(r"tok-\d+-\d+")


@dataclass(frozen=True)
class _Command:
    """One request of the load: what to send, and the token its event must carry."""

    key: str
    initiative: str
    method: str
    path: str
    body: dict[str, Any]

    @property
    def token(self) -> str:
        return f"tok-{self.key}"


def _command(client: int, n: int, initiative: str, rng: random.Random) -> _Command:
    key = f"{client}-{n}"
    token = f"tok-{key}"
    kind = rng.choice(["tick", "tick", "reopen", "note", "note", "fire", "fire", "hold", "resume"])
    item = rng.choice(["planned", "acted"])
    at = f"/initiatives/{initiative}"
    match kind:
        case "tick":
            return _Command(key, initiative, "POST", f"{at}/checklist/{item}", {"evidence": token})
        case "reopen":
            return _Command(key, initiative, "DELETE", f"{at}/checklist/{item}", {"reason": token})
        case "note":
            return _Command(key, initiative, "POST", f"{at}/notes", {"text": token})
        case "fire":
            trigger = rng.choice(["start", "again"])
            body = {"trigger": trigger, "reason": token}
            return _Command(key, initiative, "POST", f"{at}/transitions", body)
        case "hold":
            return _Command(key, initiative, "POST", f"{at}/hold", {"reason": token})
    return _Command(key, initiative, "POST", f"{at}/resume", {"reason": token})


@dataclass
class _Log:
    """What the clients saw: acknowledged (key → version), refused, uncertain; and when."""

    acknowledged: dict[str, int] = field(default_factory=dict)
    refused: set[str] = field(default_factory=set)
    uncertain: dict[str, _Command] = field(default_factory=dict)
    commands: dict[str, _Command] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    unavailable_at: list[float] = field(default_factory=list)
    """When (monotonic) each 503 came."""


async def _send(client: httpx.AsyncClient, url: str, command: _Command) -> httpx.Response:
    return await client.request(
        command.method,
        f"{url}{command.path}",
        json=command.body,
        headers={"Idempotency-Key": command.key},
    )


def _record(log: _Log, command: _Command, response: httpx.Response | None) -> None:
    if response is None:
        log.uncertain[command.key] = command
        return
    status = response.status_code
    log.statuses[status] += 1
    if status == 503:
        log.unavailable_at.append(time.monotonic())
        assert response.headers["content-type"] == "application/problem+json"
        log.uncertain[command.key] = command
    elif 200 <= status < 300:
        log.acknowledged[command.key] = response.json()["version"]
    elif 400 <= status < 500 and not _concurrent_same_key(response):
        log.refused.add(command.key)
    else:  # a 500 (asserted against afterwards), or the same key still running elsewhere
        log.uncertain[command.key] = command


def _concurrent_same_key(response: httpx.Response) -> bool:
    return response.status_code == 409 and "idempotency key" in response.text


async def _load_client(
    cluster: Cluster, n: int, initiatives: list[str], deadline: float, log: _Log
) -> None:
    rng = random.Random(n)
    async with _client(cluster.tokens[n % len(cluster.tokens)]) as client:
        count = 0
        while time.monotonic() < deadline:
            count += 1
            command = _command(n, count, rng.choice(initiatives), rng)
            log.commands[command.key] = command
            try:
                response: httpx.Response | None = await _send(client, cluster.url(n), command)
            except httpx.TransportError:  # refused connection (killed server), timeout, reset
                response = None
            _record(log, command, response)
            if response is None or response.status_code >= 500:
                await asyncio.sleep(0.05)  # a client's pause before its next command


def _restart_postgres() -> None:
    done = subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", *POSTGRES_CLUSTER.split(), "restart"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _ensure_postgres_runs() -> None:
    """Start the cluster if a failed restart left it down (other tests need it)."""
    cluster = POSTGRES_CLUSTER.split()
    status = subprocess.run(["pg_ctlcluster", *cluster, "status"], capture_output=True, check=False)
    if status.returncode != 0:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, "start"],
            capture_output=True,
            timeout=120,
            check=False,
        )


async def _faults(cluster: Cluster, started: float, faults_at: list[float]) -> None:
    """SIGKILL the first server after a third of the load (and start it again), restart
    PostgreSQL after two thirds."""
    await asyncio.sleep(max(0.0, started + LOAD_SECONDS / 3 - time.monotonic()))
    faults_at.append(time.monotonic())
    cluster.servers[0].kill()
    await asyncio.to_thread(cluster.servers[0].start)
    await asyncio.sleep(max(0.0, started + 2 * LOAD_SECONDS / 3 - time.monotonic()))
    faults_at.append(time.monotonic())
    await asyncio.to_thread(_restart_postgres)


async def _create_loop_initiatives(cluster: Cluster) -> list[str]:
    async with _client(cluster.tokens[0]) as client:
        initiatives = []
        for n in range(LOAD_INITIATIVES):
            body = {"title": f"Schleife {n}", "workflow": "bench-loop"}
            created = await client.post(f"{cluster.url(n)}/initiatives", json=body)
            initiatives.append(_ok(created, 201)["id"])
        return initiatives


async def _load(cluster: Cluster, log: _Log, faults_at: list[float]) -> list[str]:
    initiatives = await _create_loop_initiatives(cluster)
    started = time.monotonic()
    deadline = started + LOAD_SECONDS
    await asyncio.gather(
        _faults(cluster, started, faults_at),
        *(_load_client(cluster, n, initiatives, deadline, log) for n in range(LOAD_CLIENTS)),
    )
    return initiatives


async def _resolve_uncertain(cluster: Cluster, log: _Log) -> None:
    """Send every uncertain command again with its key until it is answered for good."""
    async with _client(cluster.tokens[0]) as client:
        for key, command in sorted(log.uncertain.items()):
            user = int(key.split("-")[0])  # as the same user as before: keys are per user
            client.headers["Authorization"] = f"Bearer {cluster.tokens[user % len(cluster.tokens)]}"
            deadline = time.monotonic() + RECOVERY_SECONDS
            while True:
                try:
                    response: httpx.Response | None = await _send(client, cluster.url(0), command)
                except httpx.TransportError:
                    response = None
                if (
                    response is not None
                    and response.status_code < 500
                    and not _concurrent_same_key(response)
                ):
                    break
                assert time.monotonic() < deadline, f"{key} still without an answer"
                await asyncio.sleep(0.2)
            assert response is not None
            del log.uncertain[key]
            _record(log, command, response)


async def _wait_until_served(cluster: Cluster) -> None:
    """Both servers answer a read again (the pools reconnect without help)."""
    async with _client(cluster.tokens[0]) as client:
        for n in range(2):
            deadline = time.monotonic() + RECOVERY_SECONDS
            while True:
                try:
                    if (await client.get(f"{cluster.url(n)}/initiatives?limit=1")).is_success:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"server {n} does not serve again"
                await asyncio.sleep(0.2)


async def _check_load_histories(cluster: Cluster, initiatives: list[str], log: _Log) -> None:
    seen: dict[str, tuple[str, int]] = {}
    async with _client(cluster.tokens[0]) as client:
        for initiative in initiatives:
            events = await _sound(client, cluster.url(1), initiative)
            for event in events[1:]:
                tokens = set(_TOKEN.findall(json.dumps(event["payload"])))
                assert len(tokens) == 1, f"event {event['seq']} carries {tokens or 'no token'}"
                token = tokens.pop()
                assert token not in seen, f"{token} recorded twice: {seen[token]}, {event['seq']}"
                seen[token] = (initiative, event["seq"])
    recorded = {token.removeprefix("tok-") for token in seen}
    assert not recorded & log.refused, "refused commands were recorded"
    assert recorded == set(log.acknowledged), "acknowledged and recorded commands differ"
    for key, version in log.acknowledged.items():  # the answer shows it, or later
        initiative, seq = seen[f"tok-{key}"]
        assert initiative == log.commands[key].initiative
        assert seq <= version, f"{key} answered version {version}, recorded at {seq}"


def test_mixed_load_on_two_processes_through_a_sigkill_and_a_postgres_restart(
    cluster: Cluster,
) -> None:
    log = _Log()
    faults_at: list[float] = []
    try:
        initiatives = asyncio.run(_load(cluster, log, faults_at))
    finally:
        _ensure_postgres_runs()
    asyncio.run(_wait_until_served(cluster))
    during = Counter(log.statuses)
    uncertain = len(log.uncertain)
    asyncio.run(_resolve_uncertain(cluster, log))
    print(  # shown with -s: what the clients saw
        f"during the load: {dict(during)}; {uncertain} uncertain, resolved by sending them "
        f"again; {len(log.acknowledged)} acknowledged, {len(log.refused)} refused"
    )

    assert 500 not in log.statuses, log.statuses
    assert set(during) <= {200, 404, 409, 422, 503}, during  # 404: an item of the other phase
    assert len(faults_at) == 2
    assert all(at >= faults_at[0] for at in log.unavailable_at), "a 503 before any fault"
    assert not log.uncertain
    assert len(log.acknowledged) > 100, during
    asyncio.run(_check_load_histories(cluster, initiatives, log))
