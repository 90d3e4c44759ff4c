"""The database schema as typed SQLAlchemy models: the source of Alembic's comparison.

The hot path does not use ORM sessions; it runs the Core statements of ``statements.py`` on
these models' tables. Personal data (names, contacts) lives only in ``people``; events refer to
people by their pseudonymous id so that erasing a person never touches the history.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kosiflow.store.columns import UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(64)
"""Initiative, person and user ids (uuid strings, ``p-``/``u-`` prefixed hex)."""
NAME = String(200)
"""Workflow ids, phases, event types, actors."""
HASH = String(64)
"""SHA-256 hex digests."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class DefinitionRow(Base):
    """A workflow definition's full text, stored the first time it is used."""

    __tablename__ = "definitions"

    workflow_id: Mapped[str] = mapped_column(NAME, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    content_hash: Mapped[str] = mapped_column(HASH)
    text: Mapped[str] = mapped_column(Text)
    source_name: Mapped[str] = mapped_column(Text)
    stored_at: Mapped[datetime] = mapped_column(UtcDateTime)


class InitiativeRow(Base):
    """The projection: an initiative's current state, a cache of its folded events."""

    __tablename__ = "initiatives"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workflow_id", "workflow_version"],
            ["definitions.workflow_id", "definitions.version"],
            name="fk_initiatives_workflow_id_definitions",
        ),
        Index("ix_initiatives_workflow_id_phase", "workflow_id", "phase"),
        Index("ix_initiatives_parent_id", "parent_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workflow_id: Mapped[str] = mapped_column(NAME)
    workflow_version: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[str | None] = mapped_column(ID, ForeignKey("initiatives.id"))
    title: Mapped[str] = mapped_column(Text)
    phase: Mapped[str] = mapped_column(NAME)
    on_hold: Mapped[bool]
    ended: Mapped[bool]
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(Text)
    """The folded state as JSON text."""
    head_hash: Mapped[str] = mapped_column(HASH)
    """The hash of the last event (``GENESIS_HASH`` never appears: version ≥ 1)."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EventRow(Base):
    """One recorded event; rows are only ever inserted."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("initiative_id", "seq"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    initiative_id: Mapped[str] = mapped_column(ID, ForeignKey("initiatives.id"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(NAME)
    schema_version: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(NAME)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[str] = mapped_column(Text)
    """The event's fields as JSON text."""
    prev_hash: Mapped[str] = mapped_column(HASH)
    hash: Mapped[str] = mapped_column(HASH)


class EventTextRow(Base):
    """A text of an event kept outside its hashed payload, which holds only a commitment to it
    (``kosiflow.store.texts``); blanked, not deleted, when the retention policy removes it."""

    __tablename__ = "event_texts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["initiative_id", "seq"],
            ["events.initiative_id", "events.seq"],
            name="fk_event_texts_initiative_id_events",
            ondelete="CASCADE",  # rows are never deleted; a deleted event leaves no orphan text
        ),
    )  # no index on (category, at): it would cost every write, and only the retention run
    # (a batch job) looks for due texts, in one pass over the table

    initiative_id: Mapped[str] = mapped_column(ID, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    field: Mapped[str] = mapped_column(NAME, primary_key=True)
    category: Mapped[str] = mapped_column(String(16))
    """``evidence`` or ``notes``: the retention setting that applies."""
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    """The event's time, from which the retention period counts."""
    text: Mapped[str | None] = mapped_column(Text)
    salt: Mapped[str | None] = mapped_column(String(64))
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RetentionSettingRow(Base):
    """How many days texts of a category are kept (``days`` None: forever); set by admins."""

    __tablename__ = "retention_settings"

    category: Mapped[str] = mapped_column(String(16), primary_key=True)
    days: Mapped[int | None] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    changed_by: Mapped[str] = mapped_column(NAME)
    """The pseudonymous id of the admin who set it."""


class PersonRow(Base):
    """A person known to the lab; the only table with personal data."""

    __tablename__ = "people"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class UserRow(Base):
    """Someone who may act through the API or CLI; only the token's hash is kept."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(ID, ForeignKey("people.id"))
    roles: Mapped[str] = mapped_column(Text)
    """JSON list of role names."""
    token_hash: Mapped[str] = mapped_column(HASH, unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IdempotencyKeyRow(Base):
    """The answer to a command sent with an Idempotency-Key, to replay on retry."""

    __tablename__ = "idempotency_keys"

    actor: Mapped[str] = mapped_column(NAME, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(HASH)
    initiative_id: Mapped[str | None] = mapped_column(ID, ForeignKey("initiatives.id"))
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SessionRow(Base):
    """A browser signed in to the pages; only the hash of its cookie's random id is kept."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_expires_at", "expires_at"),)

    id_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id"))
    csrf_secret: Mapped[str] = mapped_column(String(64))
    """The token every form of this session carries (CSRF protection)."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OutboxRow(Base):
    """An event waiting to be matched to the webhook subscriptions (``kosiflow dispatch``).

    Inserted with the event, in its transaction; deleted once the dispatcher has turned it into
    deliveries. ``phase`` is the initiative's phase once the command that recorded it was done.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    initiative_id: Mapped[str] = mapped_column(ID)
    seq: Mapped[int] = mapped_column(Integer)
    workflow_id: Mapped[str] = mapped_column(NAME)
    type: Mapped[str] = mapped_column(NAME)
    phase: Mapped[str] = mapped_column(NAME)


class SubscriptionRow(Base):
    """A webhook: where to send which events, and the secret that signs them.

    The secret is kept as given (signing needs it); the filters are JSON lists, empty for any.
    """

    __tablename__ = "subscriptions"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)
    workflows: Mapped[str] = mapped_column(Text)
    event_types: Mapped[str] = mapped_column(Text)
    phases: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DeliveryRow(Base):
    """One event for one subscription: its attempts, the next one, and how it ended.

    ``status`` is pending, delivered, dead (no attempt left) or skipped (by an admin). A
    dispatcher claims a pending row until ``claimed_until`` (``claimed_by`` names the claim).
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "initiative_id", "seq"),
        ForeignKeyConstraint(
            ["initiative_id", "seq"],
            ["events.initiative_id", "events.seq"],
            name="fk_deliveries_initiative_id_events",
        ),
        Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    subscription_id: Mapped[str] = mapped_column(ID, ForeignKey("subscriptions.id"))
    initiative_id: Mapped[str] = mapped_column(ID)
    seq: Mapped[int] = mapped_column(Integer)
    workflow_id: Mapped[str] = mapped_column(NAME)
    phase: Mapped[str] = mapped_column(NAME)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


# The tables, for Core statements (declarative types ``__table__`` as a plain FromClause).
definitions = cast(Table, DefinitionRow.__table__)
initiatives = cast(Table, InitiativeRow.__table__)
events = cast(Table, EventRow.__table__)
people = cast(Table, PersonRow.__table__)
users = cast(Table, UserRow.__table__)
idempotency_keys = cast(Table, IdempotencyKeyRow.__table__)
sessions = cast(Table, SessionRow.__table__)
outbox = cast(Table, OutboxRow.__table__)
subscriptions = cast(Table, SubscriptionRow.__table__)
deliveries = cast(Table, DeliveryRow.__table__)
event_texts = cast(Table, EventTextRow.__table__)
retention_settings = cast(Table, RetentionSettingRow.__table__)
