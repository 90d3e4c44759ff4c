"""Retention: evidence links and notes removed after the days an admin set, chains intact.

Since event schema 2 those texts live outside the hashed payloads (``kosiflow.store.texts``), so
removing one leaves its commitment in the chain. Each run records, in the chain of every
initiative it touched, one ``TextsRemoved`` event (actor: the system) naming the texts and the
settings applied: auditors see in the history itself that and when a text went by policy, a
verification finds a text that went without such a record, and the state cached by any process
is stale from then on (the head moved), so that no removed text returns through a cache.

``apply_retention`` is idempotent and safe from cron on several machines at once: each
initiative is handled in a write unit of its own that holds it (``FOR UPDATE`` on PostgreSQL,
the write lock on SQLite) and looks again at which of its texts are due, so a text is removed,
and recorded, once.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from kosiflow.engine import SYSTEM, Actor, TextsRemoved
from kosiflow.engine.events import RETENTION_CATEGORIES
from kosiflow.errors import BadInput, PermissionDenied
from kosiflow.services.commands import CommandServices

RETENTION_ROLE = "admin"
"""Who may change the retention settings."""


@dataclass(frozen=True, slots=True)
class RetentionSetting:
    category: str
    """``evidence`` (links and other evidence of ticked items) or ``notes`` (notes of ticks and
    sign-offs, notes added to the history)."""
    days: int | None
    """How long a text is kept, counted from its event's time; None: forever (the default)."""
    changed_at: datetime | None = None
    changed_by: str | None = None
    """The pseudonymous id of the admin who set it (None: never set)."""


@dataclass(frozen=True, slots=True)
class RemovedTexts:
    """The texts of one initiative a run removed (or, in a dry run, would remove)."""

    initiative_id: str
    title: str
    texts: tuple[tuple[int, str, str], ...]
    """(seq, field, category) of each."""
    recorded_seq: int | None
    """The seq of the ``TextsRemoved`` event that records them (None in a dry run)."""


@dataclass(frozen=True, slots=True)
class RetentionReport:
    now: datetime
    """The moment the run judged by."""
    settings: tuple[RetentionSetting, ...]
    dry_run: bool
    removed: tuple[RemovedTexts, ...]


def parse_days(name: str, value: str) -> int | None:
    """A number of days (0 or more), or ``forever`` (None).

    Raises:
        BadInput: anything else, named by ``name``.
    """
    if value.strip().lower() == "forever":
        return None
    try:
        days = int(value)
    except ValueError:
        raise BadInput(name, f"{value!r} is neither a number of days nor 'forever'") from None
    if days < 0:
        raise BadInput(name, f"{days} days: give 0 or more days, or 'forever'")
    return days


class RetentionServices(CommandServices):
    """The retention settings and their application."""

    def retention_settings(self) -> tuple[RetentionSetting, ...]:
        """The setting of each category (keep forever unless an admin set a number of days)."""
        with self.database.read() as unit:
            stored = unit.retention_settings()
        return tuple(
            RetentionSetting(category, *stored[category])
            if category in stored
            else RetentionSetting(category, None)
            for category in RETENTION_CATEGORIES
        )

    def set_retention(
        self, days: Mapping[str, int | None], actor: Actor
    ) -> tuple[RetentionSetting, ...]:
        """Keep the texts of each category named in ``days`` for that many days (None: forever).

        Raises:
            PermissionDenied: ``actor`` is no admin.
            BadInput: an unknown category, a negative number, or nothing to set.
        """
        if RETENTION_ROLE not in actor.roles:
            raise PermissionDenied(actor.id, "change the retention settings")
        if not days:
            raise BadInput("retention", "name at least one setting to change")
        for category, value in days.items():
            if category not in RETENTION_CATEGORIES:
                known = ", ".join(RETENTION_CATEGORIES)
                raise BadInput("retention", f"unknown category {category!r} (known: {known})")
            if value is not None and value < 0:
                raise BadInput(f"{category}_days", f"{value} days: give 0 or more, or forever")
        now = self._clock()
        with self.database.write() as unit:
            for category, value in days.items():
                unit.set_retention(category, value, at=now, by=actor.id)
        return self.retention_settings()

    def apply_retention(
        self, *, now: datetime | None = None, dry_run: bool = False
    ) -> RetentionReport:
        """Remove every kept evidence link and note whose event is older than its category's
        setting at ``now`` (default: the clock), recording one ``TextsRemoved`` per initiative;
        with ``dry_run``, only report what would go."""
        when = self._when(now) or self._clock()
        settings = self.retention_settings()
        limits = {
            s.category: None if s.days is None else when - timedelta(days=s.days) for s in settings
        }
        with self.database.read() as unit:
            due = unit.due_texts(limits) if any(v is not None for v in limits.values()) else []
            titles = {
                i: p.title
                for i in dict.fromkeys(d[0] for d in due)
                if (p := unit.load_projection(i))
            }
        removed: list[RemovedTexts] = []
        for initiative_id, group in itertools.groupby(due, lambda d: d[0]):
            if dry_run:
                texts = tuple((seq, name, category) for _, seq, name, category in group)
                removed.append(RemovedTexts(initiative_id, titles[initiative_id], texts, None))
                continue
            done = self._remove(initiative_id, limits, settings, when)
            if done is not None:
                removed.append(done)
        return RetentionReport(when, settings, dry_run, tuple(removed))

    def _remove(
        self,
        initiative_id: str,
        limits: Mapping[str, datetime | None],
        settings: tuple[RetentionSetting, ...],
        now: datetime,
    ) -> RemovedTexts | None:
        """Remove the due texts of one initiative and record it; None when another run did."""
        with self.database.write() as unit:
            projection = unit.load_projection(initiative_id)  # holds the initiative
            if projection is None:
                return None
            due = unit.due_texts(limits, initiative_id=initiative_id)
            if not due:
                return None
            at = max(now, projection.updated_at)  # histories run forward in time
            # only what this unit blanked is recorded (one that went meanwhile is not ours)
            gone = [d for d in due if unit.remove_text(initiative_id, d[1], d[2], at)]
            if not gone:
                return None
            folded = self._fold(projection, unit.events(initiative_id))  # the texts now gone
            days = {s.category: s.days for s in settings}
            event = TextsRemoved(
                tuple((seq, name) for _, seq, name, _ in gone),
                evidence_days=days.get("evidence"),
                notes_days=days.get("notes"),
            )
            written = self._append(unit, folded, [event], SYSTEM, at)
            unit.after_commit(partial(self._states.put, written.state, written.head_hash))
        texts = tuple((seq, name, category) for _, seq, name, category in gone)
        return RemovedTexts(initiative_id, projection.title, texts, written.state.version)
