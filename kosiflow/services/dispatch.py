"""``kosiflow dispatch``: the outbox's events to the webhook subscriptions, at least once.

Each round is two write units: fan out new outbox rows and claim what may be sent now; then,
after sending the claimed deliveries in parallel, record how each attempt went (see
:mod:`kosiflow.store.outbox` for the order per initiative and the claims). A failed attempt is
tried again after a backoff of ``backoff_base`` · 2^(attempt - 1) seconds, capped at
``backoff_cap``, of which a random half is waived (so that failing receivers are not hit by all
retries at once); after ``max_attempts`` failed attempts the delivery is dead.

Several dispatchers may run at once on PostgreSQL. On SQLite one is enough (all writers take
turns on one file anyway); a second one does no harm either, as the write lock serialises claims.
Claims last :attr:`DispatchSettings.lease`, three request timeouts (connect, send, answer) and a
margin: no other dispatcher sends an attempt while it may still be under way, unless a receiver
trickles its answer out byte by byte for longer; a crashed dispatcher's claims are taken up again
once they expire.
"""

from __future__ import annotations

import random
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from kosiflow.errors import StoreError
from kosiflow.services.results import Clock, utc_now
from kosiflow.services.webhooks import WebhookSender
from kosiflow.store import ClaimedDelivery, Database, DeliveryOutcome

LEASE_MARGIN = timedelta(seconds=30)
"""Added to the longest a request may take: for recording its outcome, and clocks that differ."""


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    """How a dispatcher works; the defaults suit production, tests shorten the times."""

    batch: int = 100
    """Outbox rows fanned out, and deliveries claimed, per round at most."""
    poll: float = 0.25
    """Seconds to wait after a round with nothing to do."""
    max_attempts: int = 8
    timeout: float = 5.0
    """Seconds per request for each of connecting, sending and waiting for the answer."""
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    concurrency: int = 16
    """Requests sent at the same time."""

    @property
    def lease(self) -> timedelta:
        """How long a claim holds: a request's whole time allowance plus a margin."""
        return timedelta(seconds=3 * self.timeout) + LEASE_MARGIN


def backoff(attempts: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: ``base`` doubling per attempt,
    at most ``cap``, of which a random part of up to half is waived."""
    delay = min(cap, base * 2.0 ** min(attempts - 1, 60))
    return delay / 2 + rng.uniform(0, delay / 2)


@dataclass(frozen=True, slots=True)
class DispatchRound:
    """What one round did."""

    fanned_out: int
    """Outbox rows turned into deliveries (0 too while another dispatcher fans out)."""
    delivered: int
    retrying: int
    dead: int

    @property
    def sent(self) -> int:
        return self.delivered + self.retrying + self.dead

    @property
    def is_idle(self) -> bool:
        """Nothing was there to do: wait before the next round."""
        return self.fanned_out == 0 and self.sent == 0


class Dispatcher:
    """Delivers the outbox's events to the subscriptions; close it when done."""

    def __init__(
        self,
        database: Database,
        settings: DispatchSettings | None = None,
        *,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self.database = database
        self.settings = settings or DispatchSettings()
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 -- jitter, not a secret
        self._sender = WebhookSender(
            timeout=self.settings.timeout, connections=self.settings.concurrency
        )
        self._pool = ThreadPoolExecutor(
            max_workers=self.settings.concurrency, thread_name_prefix="kosiflow-webhook"
        )

    def run_once(self) -> DispatchRound:
        """Fan out, claim, send what was claimed, and record how it went."""
        settings = self.settings
        claim = secrets.token_hex(16)
        now = self._clock()
        with self.database.write() as unit:
            fanned_out = unit.outbox.fan_out(limit=settings.batch, now=now) or 0
            claimed = unit.outbox.claim(
                limit=settings.batch, now=now, until=now + settings.lease, claim=claim
            )
        outcomes = list(self._pool.map(self._attempt, claimed))
        if outcomes:
            with self.database.write() as unit:
                unit.outbox.record(outcomes, claim=claim)
        count = dict.fromkeys(("delivered", "pending", "dead"), 0)
        for outcome in outcomes:
            count[outcome.status] += 1
        return DispatchRound(fanned_out, count["delivered"], count["pending"], count["dead"])

    def run(
        self,
        stop: threading.Event,
        *,
        once: bool = False,
        report: Callable[[DispatchRound | StoreError], None] = lambda _: None,
    ) -> None:
        """Run rounds until ``stop`` is set (with ``once``: until a round finds nothing to do).

        A database error ends the round, not the dispatcher: it is reported and the next round
        comes after the poll interval (claims not recorded expire with their lease). With
        ``once`` it is raised.
        """
        while not stop.is_set():
            try:
                done = self.run_once()
            except StoreError as exc:
                if once:
                    raise
                report(exc)
                stop.wait(self.settings.poll)
                continue
            report(done)
            if done.is_idle:
                if once:
                    return
                stop.wait(self.settings.poll)

    def _attempt(self, delivery: ClaimedDelivery) -> DeliveryOutcome:
        settings = self.settings
        attempted_at = self._clock()
        error = self._sender.send(delivery, now=attempted_at)
        attempts = delivery.attempts + 1
        if error is None:
            return DeliveryOutcome(
                delivery.id, "delivered", attempts, attempted_at, None, attempted_at
            )
        if attempts >= settings.max_attempts:
            return DeliveryOutcome(delivery.id, "dead", attempts, attempted_at, error, attempted_at)
        wait = backoff(
            attempts, base=settings.backoff_base, cap=settings.backoff_cap, rng=self._rng
        )
        retry_at = attempted_at + timedelta(seconds=wait)
        return DeliveryOutcome(delivery.id, "pending", attempts, retry_at, error, attempted_at)

    def close(self) -> None:
        """Stop the request threads and close the connections (the database stays open)."""
        self._pool.shutdown(wait=True)
        self._sender.close()

    def __enter__(self) -> Dispatcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
