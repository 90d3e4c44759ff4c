"""A diff between two moments of an initiative, in words (``GET …/diff``, ``kosiflow diff``).

Both states are folded from the history, like time travel (``state_at``); the events recorded in
between are the evidence of each change (:mod:`kosiflow.engine.changes`).

A first moment before the initiative existed is an answer, not an error: the diff then starts
from nothing and its first change is the start of the initiative. A second moment before it
existed gives the single change "did not exist yet".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kosiflow.definition import Definition
from kosiflow.engine import InitiativeState, Recorded, apply, event_type
from kosiflow.engine.changes import Change, changes_between, sentence
from kosiflow.errors import BadInput, NotFound
from kosiflow.services.base import ServiceBase, recorded

NOTHING = Change("nothing", {}, ())
NOT_YET = Change("not_yet", {}, ())


@dataclass(frozen=True, slots=True)
class Diff:
    """What changed in an initiative from one moment to another."""

    initiative_id: str
    title: str
    since: datetime
    until: datetime
    before: InitiativeState
    """The state at ``since`` (version 0 when the initiative did not exist yet)."""
    after: InitiativeState
    changes: tuple[Change, ...]
    """Never empty: "nothing" or "did not exist yet" when there is no change."""
    events: tuple[Recorded, ...]
    """The events recorded after ``since`` up to and including ``until``."""
    names: Mapping[str, str]
    """Person id → name, for the people the changes and events name."""

    @property
    def definitions(self) -> tuple[Definition, ...]:
        """The workflow versions in force at either moment (the later first), for titles."""
        if self.before.definition is self.after.definition:
            return (self.after.definition,)
        return (self.after.definition, self.before.definition)

    def sentences(self, lang: str) -> list[str]:
        """Each change as a sentence in ``lang`` (``de`` or ``en``)."""
        return [sentence(c, self.definitions, self.names, lang) for c in self.changes]

    def as_json(self, lang: str) -> dict[str, Any]:
        """The diff as plain JSON, sentences in ``lang`` (the API's ``DiffOut``, ``--json``)."""
        before, after = self.before, self.after
        return {
            "initiative_id": self.initiative_id,
            "from": self.since.isoformat(),
            "to": self.until.isoformat(),
            "version_from": before.version,
            "version_to": after.version,
            "phase_from": before.phase if before.is_created else None,
            "phase_to": after.phase if after.is_created else None,
            "changes": [
                {
                    "code": c.code,
                    "sentence": said,
                    "params": {
                        k: list(v) if isinstance(v, tuple) else v for k, v in c.params.items()
                    },
                    "seqs": list(c.seqs),
                }
                for c, said in zip(self.changes, self.sentences(lang), strict=True)
            ],
            "events": [
                {
                    "seq": r.seq,
                    "type": event_type(r.event),
                    "actor": r.actor,
                    "at": r.at.isoformat(),
                }
                for r in self.events
            ],
        }


def _people(changes: list[Change], events: list[Recorded]) -> set[str]:
    found = {r.actor for r in events}
    for change in changes:
        for key in ("who", "first_who", "name"):
            value = change.params.get(key)
            if isinstance(value, str):
                found.add(value)
        people = change.params.get("people")
        if isinstance(people, tuple):
            found.update(people)
    return found


def _moment(field: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise BadInput(field, "give a time with its offset, e.g. 2026-05-01T12:00:00Z")
    return value


class DiffQueries(ServiceBase):
    """The difference between two moments of one initiative."""

    def diff(
        self,
        initiative_id: str,
        since: datetime,
        until: datetime | None = None,
        *,
        fields: tuple[str, str] = ("from", "to"),
    ) -> Diff:
        """What changed from ``since`` to ``until`` (default: now), both folded from the
        history; events exactly at a moment belong to it (as with ``state_at``).

        Raises:
            BadInput: a moment without its offset, or ``since`` later than ``until``; naming
                the moment by ``fields`` (as the caller calls them, e.g. ``--from``).
            NotFound: no such initiative.
        """
        since = _moment(fields[0], since)
        until = self._clock() if until is None else _moment(fields[1], until)
        if since > until:
            raise BadInput(
                fields[0],
                f"must not be later than {fields[1]} ({since.isoformat()} > {until.isoformat()})",
            )
        with self.database.read() as unit:
            projection = unit.load_projection(initiative_id)
            if projection is None:
                raise NotFound("initiative", initiative_id)
            definition = self._definition(projection.workflow_id, projection.workflow_version)
            before = InitiativeState(initiative_id, definition)
            between: list[Recorded] = []
            for record in unit.events(initiative_id):
                if record.at > until:
                    continue  # read on: a stream is best left to run out inside its unit
                event = recorded(record)
                if record.at <= since:
                    before = apply(before, event, self._definition)
                else:
                    between.append(event)
            after = before
            for event in between:
                after = apply(after, event, self._definition)
            changes = changes_between(before, between, after)
            names = unit.person_names(sorted(_people(changes, between)))
        if not after.is_created:
            changes = [NOT_YET]
        elif not changes:
            changes = [NOTHING]
        return Diff(
            initiative_id=initiative_id,
            title=projection.title,
            since=since,
            until=until,
            before=before,
            after=after,
            changes=tuple(changes),
            events=tuple(between),
            names=names,
        )
