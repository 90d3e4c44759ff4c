"""The store: the event history, projections, definitions, people and users, on SQLite or
PostgreSQL, behind units of work (``Database.write()`` / ``Database.read()``)."""

from __future__ import annotations

from kosiflow.store.chain import (
    VerifyResult,
    canonical_json,
    compute_hash,
    record_hash,
    verify_chain,
    verify_stored,
)
from kosiflow.store.database import Database, open_database
from kosiflow.store.migrate import current_revision, head_revision, upgrade
from kosiflow.store.outbox import (
    ClaimedDelivery,
    Delivery,
    DeliveryOutcome,
    DeliveryStatus,
    Subscription,
)
from kosiflow.store.records import (
    GENESIS_HASH,
    EventRecord,
    EventText,
    JsonObject,
    NewEvent,
    Person,
    Projection,
    StoredDefinition,
    StoredEvent,
    StoredHead,
    User,
)
from kosiflow.store.sessions import WebSession
from kosiflow.store.units import ReadUnit, WriteUnit

__all__ = [
    "GENESIS_HASH",
    "ClaimedDelivery",
    "Database",
    "Delivery",
    "DeliveryOutcome",
    "DeliveryStatus",
    "EventRecord",
    "EventText",
    "JsonObject",
    "NewEvent",
    "Person",
    "Projection",
    "ReadUnit",
    "StoredDefinition",
    "StoredEvent",
    "StoredHead",
    "Subscription",
    "User",
    "VerifyResult",
    "WebSession",
    "WriteUnit",
    "canonical_json",
    "compute_hash",
    "current_revision",
    "head_revision",
    "open_database",
    "record_hash",
    "upgrade",
    "verify_chain",
    "verify_stored",
]
