"""texts kept outside the hashed event payloads, and the retention settings

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

From event schema version 2 on, evidence links and notes live in ``event_texts`` (the hashed
payload holds a salted SHA-256 commitment to each), so that ``kosiflow retention apply`` can
remove them after the days ``retention_settings`` names without breaking a hash chain. Events
recorded before keep their texts inline.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kosiflow.store.columns import UtcDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_texts",
        sa.Column("initiative_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("field", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("salt", sa.String(length=64), nullable=True),
        sa.Column("removed_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["initiative_id", "seq"],
            ["events.initiative_id", "events.seq"],
            name="fk_event_texts_initiative_id_events",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("initiative_id", "seq", "field", name=op.f("pk_event_texts")),
    )
    op.create_table(
        "retention_settings",
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("days", sa.Integer(), nullable=True),
        sa.Column("changed_at", UtcDateTime(), nullable=False),
        sa.Column("changed_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("category", name=op.f("pk_retention_settings")),
    )


def downgrade() -> None:
    op.drop_table("retention_settings")
    op.drop_table("event_texts")
