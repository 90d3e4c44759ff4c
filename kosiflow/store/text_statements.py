"""The SQL of the texts kept outside the hashed event payloads, and of the retention settings.

Compiled once per dialect with the store's other statements (``statements.Statements.texts``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Dialect,
    Select,
    and_,
    bindparam,
    insert,
    literal_column,
    or_,
    select,
)
from sqlalchemy import update as update_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ClauseElement

from kosiflow.store.tables import event_texts, initiatives, retention_settings

if TYPE_CHECKING:
    from kosiflow.store.statements import Compiled

TEXT_KEYS = ["initiative_id", "seq", "field", "category", "at", "text", "salt", "removed_at"]
SETTING_KEYS = ["category", "days", "changed_at", "changed_by"]

Compile = Callable[[ClauseElement, Sequence[str] | None], "Compiled"]


@dataclass(frozen=True, slots=True)
class TextStatements:
    insert: Compiled
    select_of_initiative: Compiled
    """seq, field, category, text, salt, removed_at of one initiative's texts, in seq order."""
    select_all: Mapping[tuple[bool, bool], Compiled]
    """initiative_id and the columns of ``select_of_initiative`` of every initiative's texts,
    in the order ``Statements.select_histories`` streams the events; by which of (workflow_id,
    id) filter."""
    select_due: Compiled
    """initiative_id, seq, field, category of every text due for removal, by initiative."""
    select_due_of_initiative: Compiled
    remove: Compiled
    """Blank one text not removed yet (0 rows: another run removed it first)."""
    select_settings: Compiled
    upsert_setting: Compiled


def _due() -> ColumnElement[bool]:
    """Kept, and recorded at or before its category's limit (a null limit: kept forever)."""
    c = event_texts.c
    return and_(
        c.removed_at.is_(None),
        or_(
            and_(c.category == literal_column("'evidence'"), c.at <= bindparam("evidence_before")),
            and_(c.category == literal_column("'notes'"), c.at <= bindparam("notes_before")),
        ),
    )


def _all_texts(*, workflow_id: bool, initiative_id: bool) -> Select[Any]:
    t = event_texts.c
    named = (
        (workflow_id, initiatives.c.workflow_id == bindparam("workflow_id")),
        (initiative_id, initiatives.c.id == bindparam("id")),
    )
    return (
        select(t.initiative_id, t.seq, t.field, t.category, t.text, t.salt, t.removed_at)
        .join_from(event_texts, initiatives, initiatives.c.id == t.initiative_id)
        .where(*(condition for is_set, condition in named if is_set))
        .order_by(initiatives.c.created_at, initiatives.c.id, t.seq, t.field)
    )


def compile_texts(c: Compile, dialect: Dialect) -> TextStatements:
    """Every text and retention statement, compiled with ``c`` for ``dialect``."""
    t = event_texts.c
    due = select(t.initiative_id, t.seq, t.field, t.category).where(_due())
    upsert = (sqlite.insert if dialect.name == "sqlite" else postgresql.insert)(retention_settings)
    return TextStatements(
        insert=c(insert(event_texts).inline(), TEXT_KEYS),
        select_of_initiative=c(
            select(t.seq, t.field, t.category, t.text, t.salt, t.removed_at)
            .where(t.initiative_id == bindparam("id"))
            .order_by(t.seq, t.field),
            None,
        ),
        select_all={
            (w, i): c(_all_texts(workflow_id=w, initiative_id=i), None)
            for w in (False, True)
            for i in (False, True)
        },
        select_due=c(due.order_by(t.initiative_id, t.seq, t.field), None),
        select_due_of_initiative=c(
            due.where(t.initiative_id == bindparam("id")).order_by(t.seq, t.field), None
        ),
        remove=c(
            update_(event_texts).where(
                t.initiative_id == bindparam("b_id"),
                t.seq == bindparam("b_seq"),
                t.field == bindparam("b_field"),
                t.removed_at.is_(None),
            ),
            ["text", "salt", "removed_at"],
        ),
        select_settings=c(
            select(*(retention_settings.c[k] for k in SETTING_KEYS)).order_by(
                retention_settings.c.category
            ),
            None,
        ),
        upsert_setting=c(
            upsert.on_conflict_do_update(
                index_elements=[retention_settings.c.category],
                set_={k: upsert.excluded[k] for k in SETTING_KEYS[1:]},
            ),
            SETTING_KEYS,
        ),
    )
