"""The outbox, the webhook subscriptions and the deliveries made from them.

How an event reaches a webhook, at least once and in order per initiative:

1. **Append.** ``WriteUnit.append`` inserts one outbox row per event (initiative, seq, workflow,
   type, phase) in the command's transaction. Nothing is matched there: the hot path stays one
   insert.
2. **Fan out.** A dispatcher takes the oldest outbox rows, inserts a pending delivery for each
   subscription whose filters match, and deletes the rows, in one transaction. One dispatcher
   at a time does this (on PostgreSQL an advisory transaction lock, on SQLite the write lock):
   then the delivery of an initiative's event N is committed no later than that of N+1, which
   the ordering of step 3 relies on. It is quick database work; sending is what runs in parallel.
3. **Claim.** A dispatcher claims due pending deliveries that are the first open one of their
   initiative for their subscription (no earlier one pending or dead), with
   ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, and marks them with its claim and a lease
   (``claimed_until``). Others pass over claimed rows until the lease expires, so a crashed
   dispatcher's claims are taken up again afterwards.
4. **Record.** After sending, the outcome (delivered, retry at a later time, dead) is written
   only where the row still carries the same claim.

A dead delivery blocks the later events of its initiative for its subscription until an admin
redelivers it (it is tried again from its first attempt) or skips it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from kosiflow.store.columns import from_db_time
from kosiflow.store.executor import Executor, Row
from kosiflow.store.outbox_statements import FAN_OUT_LOCK, PENDING, SKIPPED

DeliveryStatus = Literal["pending", "delivered", "dead", "skipped"]


@dataclass(frozen=True, slots=True)
class Subscription:
    """A webhook: where events go, which ones (an empty filter takes any), the signing secret."""

    id: str
    url: str
    secret: str
    workflows: tuple[str, ...]
    event_types: tuple[str, ...]
    phases: tuple[str, ...]
    created_at: datetime

    def matches(self, workflow_id: str, event_type: str, phase: str) -> bool:
        """Whether an event of this workflow, type and phase goes to this subscription."""
        return (
            (not self.workflows or workflow_id in self.workflows)
            and (not self.event_types or event_type in self.event_types)
            and (not self.phases or phase in self.phases)
        )


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for one subscription: its state, as the API and CLI show it."""

    id: int
    subscription_id: str
    initiative_id: str
    seq: int
    type: str
    workflow_id: str
    phase: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    last_attempt_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery a dispatcher holds: where to send it, with what, and the event it carries."""

    id: int
    subscription_id: str
    url: str
    secret: str
    attempts: int
    """Attempts made before this one."""
    initiative_id: str
    seq: int
    workflow_id: str
    phase: str
    type: str
    schema_version: int
    actor: str
    at: datetime
    payload_json: str
    """The event's payload as stored (canonical JSON)."""


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What an attempt led to: delivered, pending again (a retry at ``next_attempt_at``) or dead."""

    delivery_id: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    error: str | None
    attempted_at: datetime


def _names(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


def _subscription(row: Row) -> Subscription:
    return Subscription(
        id=row[0],
        url=row[1],
        secret=row[2],
        workflows=_names(row[3]),
        event_types=_names(row[4]),
        phases=_names(row[5]),
        created_at=from_db_time(row[6]),
    )


def _delivery(row: Row) -> Delivery:
    return Delivery(
        id=row[0],
        subscription_id=row[1],
        initiative_id=row[2],
        seq=row[3],
        type=row[4],
        workflow_id=row[5],
        phase=row[6],
        status=cast(DeliveryStatus, row[7]),
        attempts=row[8],
        next_attempt_at=from_db_time(row[9]),
        last_error=row[10],
        last_attempt_at=None if row[11] is None else from_db_time(row[11]),
        created_at=from_db_time(row[12]),
    )


def _claimed(row: Row) -> ClaimedDelivery:
    return ClaimedDelivery(
        id=row[0],
        subscription_id=row[1],
        url=row[2],
        secret=row[3],
        attempts=row[4],
        initiative_id=row[5],
        seq=row[6],
        workflow_id=row[7],
        phase=row[8],
        type=row[9],
        schema_version=row[10],
        actor=row[11],
        at=from_db_time(row[12]),
        payload_json=row[13],
    )


class OutboxReads:
    """Subscriptions and deliveries as they stand (within a read or write unit)."""

    def __init__(self, db: Executor) -> None:
        self._db = db

    def subscription(self, subscription_id: str) -> Subscription | None:
        row = self._db.one(self._db.sql.outbox.select_subscription, {"id": subscription_id})
        return None if row is None else _subscription(row)

    def subscriptions(self) -> list[Subscription]:
        """Every subscription, the oldest first."""
        return [_subscription(r) for r in self._db.all(self._db.sql.outbox.list_subscriptions)]

    def delivery(self, delivery_id: int) -> Delivery | None:
        row = self._db.one(self._db.sql.outbox.select_delivery, {"id": delivery_id})
        return None if row is None else _delivery(row)

    def deliveries(
        self,
        *,
        status: DeliveryStatus | None = None,
        subscription_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Delivery]:
        """Deliveries in the order they were made, optionally of one status or subscription."""
        flags = (status is not None, subscription_id is not None)
        params = {
            "status": status,
            "subscription_id": subscription_id,
            "limit": limit,
            "offset": offset,
        }
        rows = self._db.all(self._db.sql.outbox.list_deliveries[flags], params)
        return [_delivery(row) for row in rows]

    def count_deliveries(
        self, *, status: DeliveryStatus | None = None, subscription_id: str | None = None
    ) -> int:
        """How many deliveries :meth:`deliveries` pages through with these filters."""
        flags = (status is not None, subscription_id is not None)
        params = {"status": status, "subscription_id": subscription_id}
        row = self._db.one(self._db.sql.outbox.count_deliveries[flags], params)
        return 0 if row is None else int(row[0])


class OutboxWrites(OutboxReads):
    """Managing subscriptions and moving deliveries on (within a write unit)."""

    def add_subscription(
        self,
        url: str,
        secret: str,
        *,
        workflows: Sequence[str] = (),
        event_types: Sequence[str] = (),
        phases: Sequence[str] = (),
        now: datetime,
    ) -> Subscription:
        """Store a new subscription (filters deduplicated, in the order given)."""
        subscription = Subscription(
            id=f"s-{uuid.uuid4().hex}",
            url=url,
            secret=secret,
            workflows=tuple(dict.fromkeys(workflows)),
            event_types=tuple(dict.fromkeys(event_types)),
            phases=tuple(dict.fromkeys(phases)),
            created_at=now,
        )
        params = {
            "id": subscription.id,
            "url": url,
            "secret": secret,
            "workflows": json.dumps(list(subscription.workflows)),
            "event_types": json.dumps(list(subscription.event_types)),
            "phases": json.dumps(list(subscription.phases)),
            "created_at": self._db.db_time(now),
        }
        self._db.run(self._db.sql.outbox.insert_subscription, params)
        return subscription

    def remove_subscription(self, subscription_id: str) -> bool:
        """Delete a subscription and its deliveries; False when there is none."""
        sql = self._db.sql.outbox
        self._db.run(sql.delete_deliveries_of, {"id": subscription_id})
        return self._db.count(sql.delete_subscription, {"id": subscription_id}) == 1

    def fan_out(self, *, limit: int, now: datetime) -> int | None:
        """Turn up to ``limit`` of the oldest outbox rows into pending deliveries.

        Returns how many outbox rows were taken, or None when another dispatcher is fanning
        out right now (PostgreSQL only; on SQLite this unit holds the write lock).
        """
        db, sql = self._db, self._db.sql.outbox
        if not db.sqlite:
            locked = db.one(sql.try_lock_fan_out, {"key": FAN_OUT_LOCK})
            if locked is None or not locked[0]:
                return None
        rows = db.all(sql.select_outbox, {"limit": limit})
        if not rows:
            return 0
        subscriptions = [_subscription(r) for r in db.all(sql.lock_subscriptions)]
        created = db.db_time(now)
        new = [
            {
                "subscription_id": s.id,
                "initiative_id": initiative_id,
                "seq": seq,
                "workflow_id": workflow_id,
                "phase": phase,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": created,
                "claimed_until": None,
                "claimed_by": None,
                "last_error": None,
                "last_attempt_at": None,
                "created_at": created,
            }
            for _, initiative_id, seq, workflow_id, type_, phase in rows
            for s in subscriptions
            if s.matches(workflow_id, type_, phase)
        ]
        if new:
            db.run_many(sql.insert_delivery, new)
        db.run_many(sql.delete_outbox, [{"id": row[0]} for row in rows])
        return len(rows)

    def claim(
        self, *, limit: int, now: datetime, until: datetime, claim: str
    ) -> list[ClaimedDelivery]:
        """Claim up to ``limit`` deliveries that may be sent now, for ``claim`` until ``until``."""
        db, sql = self._db, self._db.sql.outbox
        claimed = [_claimed(r) for r in db.all(sql.claim, {"now": db.db_time(now), "limit": limit})]
        if claimed:
            lease = {"claimed_until": db.db_time(until), "claimed_by": claim}
            db.run_many(sql.mark_claimed, [{**lease, "b_id": c.id} for c in claimed])
        return claimed

    def record(self, outcomes: Iterable[DeliveryOutcome], *, claim: str) -> int:
        """Record attempts made under ``claim``; returns how many rows it still held."""
        db = self._db
        recorded = 0
        for outcome in outcomes:
            params = {
                "status": outcome.status,
                "attempts": outcome.attempts,
                "next_attempt_at": db.db_time(outcome.next_attempt_at),
                "last_error": outcome.error,
                "last_attempt_at": db.db_time(outcome.attempted_at),
                "claimed_until": None,
                "claimed_by": None,
                "b_id": outcome.delivery_id,
                "b_claim": claim,
            }
            recorded += db.count(db.sql.outbox.record_outcome, params)
        return recorded

    def redeliver(self, delivery_id: int, *, now: datetime) -> bool:
        """Send a dead, delivered or skipped delivery again, from its first attempt, now.

        False when there is no such delivery or it is pending already.
        """
        params = {
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": self._db.db_time(now),
            "claimed_until": None,
            "claimed_by": None,
            "b_id": delivery_id,
        }
        return self._db.count(self._db.sql.outbox.redeliver, params) == 1

    def skip(self, delivery_id: int) -> bool:
        """Give up on a pending or dead delivery (the initiative's later events may then go).

        False when there is no such delivery or it is delivered or skipped already.
        """
        params = {"status": SKIPPED, "claimed_until": None, "claimed_by": None, "b_id": delivery_id}
        return self._db.count(self._db.sql.outbox.skip, params) == 1
