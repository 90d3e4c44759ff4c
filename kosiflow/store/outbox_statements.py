"""The SQL of the outbox, the webhook subscriptions and their deliveries.

Compiled once per dialect with the store's other statements (``statements.Statements.outbox``).
Fixed values (statuses) are SQL literals, so that every parameter is one the caller names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.sql import ClauseElement

from kosiflow.store.tables import deliveries, events, outbox, subscriptions

if TYPE_CHECKING:
    from kosiflow.store.statements import Compiled

PENDING, DELIVERED, DEAD, SKIPPED = "pending", "delivered", "dead", "skipped"
"""A delivery's statuses (``outbox.DeliveryStatus``)."""

FAN_OUT_LOCK = 0x6B6F7366
"""PostgreSQL advisory lock ("kosf") held by the one dispatcher turning outbox rows into
deliveries at a time (see :mod:`kosiflow.store.outbox` for why it must be one)."""


def _status(name: str) -> ColumnElement[Any]:
    """A status as an SQL literal (only ever one of the constants above)."""
    return literal_column(f"'{name}'")


OUTBOX_KEYS = ["initiative_id", "seq", "workflow_id", "type", "phase"]
SUBSCRIPTION_COLUMNS = (
    subscriptions.c.id,
    subscriptions.c.url,
    subscriptions.c.secret,
    subscriptions.c.workflows,
    subscriptions.c.event_types,
    subscriptions.c.phases,
    subscriptions.c.created_at,
)
DELIVERY_KEYS = [
    "subscription_id",
    "initiative_id",
    "seq",
    "workflow_id",
    "phase",
    "status",
    "attempts",
    "next_attempt_at",
    "claimed_until",
    "claimed_by",
    "last_error",
    "last_attempt_at",
    "created_at",
]
OUTCOME_KEYS = [
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "last_attempt_at",
    "claimed_until",
    "claimed_by",
]
"""What recording an attempt sets (the claim is set back to NULL)."""

_EVENT_OF_DELIVERY = and_(
    events.c.initiative_id == deliveries.c.initiative_id, events.c.seq == deliveries.c.seq
)
DELIVERY_COLUMNS = (
    deliveries.c.id,
    deliveries.c.subscription_id,
    deliveries.c.initiative_id,
    deliveries.c.seq,
    events.c.type,
    deliveries.c.workflow_id,
    deliveries.c.phase,
    deliveries.c.status,
    deliveries.c.attempts,
    deliveries.c.next_attempt_at,
    deliveries.c.last_error,
    deliveries.c.last_attempt_at,
    deliveries.c.created_at,
)
_DELIVERIES = select(*DELIVERY_COLUMNS).join_from(deliveries, events, _EVENT_OF_DELIVERY)

_NO_OFFSET: ColumnElement[int] = literal_column("0")
"""SQLite renders a LIMIT with an OFFSET; as a literal it is not a parameter to pass."""

_earlier = deliveries.alias("earlier")
_NOTHING_OPEN_BEFORE = ~exists().where(
    _earlier.c.subscription_id == deliveries.c.subscription_id,
    _earlier.c.initiative_id == deliveries.c.initiative_id,
    _earlier.c.seq < deliveries.c.seq,
    _earlier.c.status.in_([_status(PENDING), _status(DEAD)]),
)
"""Order per initiative: no earlier event of the initiative is pending or dead for the same
subscription (a dead one blocks the later ones until it is redelivered or skipped)."""

CLAIM = (
    select(
        deliveries.c.id,
        deliveries.c.subscription_id,
        subscriptions.c.url,
        subscriptions.c.secret,
        deliveries.c.attempts,
        deliveries.c.initiative_id,
        deliveries.c.seq,
        deliveries.c.workflow_id,
        deliveries.c.phase,
        events.c.type,
        events.c.schema_version,
        events.c.actor,
        events.c.at,
        events.c.payload,
    )
    .join_from(deliveries, subscriptions, deliveries.c.subscription_id == subscriptions.c.id)
    .join(events, _EVENT_OF_DELIVERY)
    .where(
        deliveries.c.status == _status(PENDING),
        deliveries.c.next_attempt_at <= bindparam("now"),
        or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until < bindparam("now")),
        _NOTHING_OPEN_BEFORE,
    )
    .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
    .limit(bindparam("limit"))
    .offset(_NO_OFFSET)
    .with_for_update(of=deliveries, skip_locked=True)
)
"""Due deliveries nobody holds, each the first open one of its initiative for its subscription.

On PostgreSQL ``FOR UPDATE OF deliveries SKIP LOCKED``: concurrent dispatchers pass over the rows
another one is claiming; SQLite drops the clause (its write lock serialises the claims)."""


def _by_id() -> ColumnElement[bool]:
    return deliveries.c.id == bindparam("b_id")


def _delivery_filters(*, status: bool, subscription: bool) -> list[ColumnElement[bool]]:
    filters = []
    if status:
        filters.append(deliveries.c.status == bindparam("status"))
    if subscription:
        filters.append(deliveries.c.subscription_id == bindparam("subscription_id"))
    return filters


def _list_deliveries(*, status: bool, subscription: bool) -> Any:
    return (
        _DELIVERIES.where(*_delivery_filters(status=status, subscription=subscription))
        .order_by(deliveries.c.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


def _count_deliveries(*, status: bool, subscription: bool) -> Any:
    filters = _delivery_filters(status=status, subscription=subscription)
    return select(func.count()).select_from(deliveries).where(*filters)


Flags = tuple[bool, bool]
"""Filter by (status, subscription)."""
_FLAGS: list[Flags] = [(s, b) for s in (False, True) for b in (False, True)]


@dataclass(frozen=True, slots=True)
class OutboxStatements:
    """The outbox's statements compiled for one dialect."""

    insert: Compiled
    """The hot path: one row per appended event."""
    try_lock_fan_out: Compiled
    select_outbox: Compiled
    delete_outbox: Compiled
    lock_subscriptions: Compiled
    insert_delivery: Compiled
    claim: Compiled
    mark_claimed: Compiled
    record_outcome: Compiled
    insert_subscription: Compiled
    select_subscription: Compiled
    list_subscriptions: Compiled
    delete_subscription: Compiled
    delete_deliveries_of: Compiled
    select_delivery: Compiled
    list_deliveries: dict[Flags, Compiled]
    count_deliveries: dict[Flags, Compiled]
    redeliver: Compiled
    skip: Compiled


Compile = Callable[[ClauseElement, Sequence[str] | None], "Compiled"]


def compile_outbox(c: Compile) -> OutboxStatements:
    """Every outbox statement, compiled with ``c`` (``statements.compile_for`` for a dialect)."""
    subscription_keys = [column.key for column in SUBSCRIPTION_COLUMNS]
    return OutboxStatements(
        insert=c(insert(outbox).inline(), OUTBOX_KEYS),
        try_lock_fan_out=c(select(func.pg_try_advisory_xact_lock(bindparam("key"))), None),
        select_outbox=c(
            select(outbox.c.id, *(outbox.c[key] for key in OUTBOX_KEYS))
            .order_by(outbox.c.id)
            .limit(bindparam("limit"))
            .offset(_NO_OFFSET),
            None,
        ),
        delete_outbox=c(delete(outbox).where(outbox.c.id == bindparam("id")), None),
        lock_subscriptions=c(
            select(*SUBSCRIPTION_COLUMNS).order_by(subscriptions.c.id).with_for_update(read=True),
            None,
        ),
        insert_delivery=c(insert(deliveries).inline(), DELIVERY_KEYS),
        claim=c(CLAIM, None),
        mark_claimed=c(update(deliveries).where(_by_id()), ["claimed_until", "claimed_by"]),
        record_outcome=c(
            update(deliveries).where(_by_id(), deliveries.c.claimed_by == bindparam("b_claim")),
            OUTCOME_KEYS,
        ),
        insert_subscription=c(insert(subscriptions), subscription_keys),
        select_subscription=c(
            select(*SUBSCRIPTION_COLUMNS).where(subscriptions.c.id == bindparam("id")), None
        ),
        list_subscriptions=c(
            select(*SUBSCRIPTION_COLUMNS).order_by(subscriptions.c.created_at, subscriptions.c.id),
            None,
        ),
        delete_subscription=c(
            delete(subscriptions).where(subscriptions.c.id == bindparam("id")), None
        ),
        delete_deliveries_of=c(
            delete(deliveries).where(deliveries.c.subscription_id == bindparam("id")), None
        ),
        select_delivery=c(_DELIVERIES.where(deliveries.c.id == bindparam("id")), None),
        list_deliveries={
            (s, b): c(_list_deliveries(status=s, subscription=b), None) for s, b in _FLAGS
        },
        count_deliveries={
            (s, b): c(_count_deliveries(status=s, subscription=b), None) for s, b in _FLAGS
        },
        redeliver=c(
            update(deliveries).where(
                _by_id(), deliveries.c.status.in_([_status(s) for s in (DEAD, DELIVERED, SKIPPED)])
            ),
            ["status", "attempts", "next_attempt_at", "claimed_until", "claimed_by"],
        ),
        skip=c(
            update(deliveries).where(
                _by_id(), deliveries.c.status.in_([_status(PENDING), _status(DEAD)])
            ),
            ["status", "claimed_until", "claimed_by"],
        ),
    )
