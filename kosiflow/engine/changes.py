"""What changed between two moments of an initiative, in words.

:func:`changes_between` compares the state at the first moment with the state at the second and
reads the events recorded in between, so that each change names who made it and the events that
prove it (their seq numbers). :func:`sentence` says a change in German or English, with ids
turned into the workflow's own titles and person ids into names.

A change is described by its net effect: an item ticked and reopened again in between is one
change ("ticked and reopened again; open as before"), not two — the events stay its evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kosiflow.definition.model import Definition
from kosiflow.engine.commands import SYSTEM_ACTOR
from kosiflow.engine.events import (
    GateApproved,
    InitiativeCreated,
    InitiativeHeld,
    InitiativeResumed,
    ItemReopened,
    ItemTicked,
    ItemWaived,
    NoteAdded,
    ParticipantAdded,
    PhaseChanged,
    PhaseOverdue,
    Recorded,
    TextsRemoved,
    WorkflowMigrated,
)
from kosiflow.engine.state import InitiativeState

Param = str | int | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two moments."""

    code: str
    """What kind of change (a key of :data:`SENTENCES`), e.g. ``item.ticked``."""
    params: Mapping[str, Param]
    """Ids, person ids and counts the sentence is made of, e.g. ``{"item": "kickoff"}``."""
    seqs: tuple[int, ...]
    """The events recorded in between that make up this change, in order."""


SENTENCES: Mapping[str, Mapping[str, str]] = {
    "nothing": {
        "en": "Nothing changed.",
        "de": "Nichts hat sich geändert.",
    },
    "not_yet": {
        "en": "The initiative did not exist yet.",
        "de": "Die Initiative gab es noch nicht.",
    },
    "created": {
        "en": "{who} started the initiative “{title}” in {phase}.",
        "de": "{who} hat die Initiative „{title}“ in {phase} begonnen.",
    },
    "phase.moved": {
        "en": "The phase moved from {source} to {target} (“{trigger}”, {who}).",
        "de": "Die Phase wechselte von {source} zu {target} („{trigger}“, {who}).",
    },
    "phase.moved_through": {
        "en": "The phase moved from {source} through {through} to {target}.",
        "de": "Die Phase wechselte von {source} über {through} zu {target}.",
    },
    "phase.returned": {
        "en": "The initiative went from {source} through {through} back to {target} "
        "(visit {visit}).",
        "de": "Die Initiative ging von {source} über {through} zurück zu {target} "
        "({visit}. Durchlauf).",
    },
    "ended": {
        "en": "The initiative ended in phase {phase}.",
        "de": "Die Initiative endete in der Phase {phase}.",
    },
    "migrated": {
        "en": "{who} moved the initiative from version {from_version} to version {to_version} "
        "of its workflow; it is in {phase}.",
        "de": "{who} hat die Initiative von Version {from_version} in Version {to_version} "
        "ihres Ablaufs überführt; sie ist in {phase}.",
    },
    "texts.removed": {
        "en": "{count} texts of earlier events (evidence links or notes) were removed under the "
        "retention policy.",
        "de": "{count} Texte früherer Ereignisse (Nachweise oder Notizen) wurden gemäß der "
        "Aufbewahrungsregel gelöscht.",
    },
    "hold.held": {
        "en": "{who} put the initiative on hold.",
        "de": "{who} hat die Initiative pausiert.",
    },
    "hold.resumed": {
        "en": "{who} resumed the initiative.",
        "de": "{who} hat die Initiative fortgesetzt.",
    },
    "hold.held_resumed": {
        "en": "{first_who} put the initiative on hold and {who} resumed it; it runs as before.",
        "de": "{first_who} hat die Initiative pausiert und {who} hat sie fortgesetzt; sie läuft "
        "wie zuvor.",
    },
    "hold.resumed_held": {
        "en": "{first_who} resumed the initiative and {who} put it on hold again.",
        "de": "{first_who} hat die Initiative fortgesetzt und {who} hat sie erneut pausiert.",
    },
    "item.ticked": {
        "en": "{who} ticked “{item}” ({item_phase}).",
        "de": "{who} hat „{item}“ ({item_phase}) abgehakt.",
    },
    "item.waived": {
        "en": "{who} waived “{item}” ({item_phase}).",
        "de": "{who} hat „{item}“ ({item_phase}) erlassen.",
    },
    "item.reopened": {
        "en": "{who} reopened “{item}” ({item_phase}).",
        "de": "{who} hat „{item}“ ({item_phase}) wieder geöffnet.",
    },
    "item.ticked_again": {
        "en": "“{item}” ({item_phase}) was reopened and ticked again, last by {who}.",
        "de": "„{item}“ ({item_phase}) wurde wieder geöffnet und erneut abgehakt, zuletzt von "
        "{who}.",
    },
    "item.waived_again": {
        "en": "“{item}” ({item_phase}) was reopened and waived again, last by {who}.",
        "de": "„{item}“ ({item_phase}) wurde wieder geöffnet und erneut erlassen, zuletzt von "
        "{who}.",
    },
    "item.back_open": {
        "en": "{first_who} ticked “{item}” ({item_phase}) and {who} reopened it; it is open as "
        "before.",
        "de": "{first_who} hat „{item}“ ({item_phase}) abgehakt und {who} hat den Punkt wieder "
        "geöffnet; er ist offen wie zuvor.",
    },
    "approval.given": {
        "en": "{who} signed off “{trigger}” for {role}.",
        "de": "{who} hat „{trigger}“ für {role} freigegeben.",
    },
    "approval.withdrawn": {
        "en": "The sign-off of “{trigger}” by {role} was withdrawn: {who} reopened “{item}”.",
        "de": "Die Freigabe von „{trigger}“ durch {role} entfiel: {who} hat „{item}“ wieder "
        "geöffnet.",
    },
    "approval.given_withdrawn": {
        "en": "{first_who} signed off “{trigger}” for {role}; the sign-off was withdrawn again "
        "when {who} reopened “{item}”.",
        "de": "{first_who} hat „{trigger}“ für {role} freigegeben; die Freigabe entfiel wieder, "
        "als {who} „{item}“ wieder geöffnet hat.",
    },
    "approval.renewed": {
        "en": "The sign-off of “{trigger}” by {role} was withdrawn and given again by {who}.",
        "de": "Die Freigabe von „{trigger}“ durch {role} entfiel und wurde von {who} erneut "
        "erteilt.",
    },
    "participant.added": {
        "en": "{who} added {name} as a participant for {role}.",
        "de": "{who} hat {name} als Beteiligte(n) für {role} hinzugefügt.",
    },
    "note.added": {
        "en": "{who} added a note.",
        "de": "{who} hat eine Notiz hinzugefügt.",
    },
    "notes.added": {
        "en": "{count} notes were added, by {people}.",
        "de": "{count} Notizen wurden hinzugefügt, von {people}.",
    },
    "overdue": {
        "en": "{phase} (visit {visit}) went past its {days} days on {date}.",
        "de": "{phase} ({visit}. Durchlauf) hat am {date} die Frist von {days} Tagen "
        "überschritten.",
    },
}
"""Each change's sentence, by code and language."""

_WORDS: Mapping[str, Mapping[str, str]] = {
    "system": {"en": "kosiflow (automatically)", "de": "kosiflow (automatisch)"},
    "erased": {"en": "an erased person", "de": "eine gelöschte Person"},
    "and": {"en": " and ", "de": " und "},
}

_STATUS: Mapping[type, str] = {ItemTicked: "done", ItemWaived: "waived"}
"""An item's status after each kind of item event (reopened: open, None)."""
_PHASE_KEYS = frozenset({"phase", "source", "target", "item_phase"})
_PERSON_KEYS = frozenset({"who", "first_who", "name"})


# -- what changed ----------------------------------------------------------------------------


@dataclass
class _Track:
    """The events in between that touched one item, sign-off or the hold, and how it stood."""

    before: str | None
    """How it stood at the first moment (a status, or None for open / not given / running)."""
    now: str | None = None
    seqs: list[int] = field(default_factory=list)
    actors: list[str] = field(default_factory=list)
    cause: str = ""
    """For a sign-off: the item whose reopening withdrew it last."""

    def touch(self, r: Recorded, now: str | None) -> None:
        self.now = now
        self.seqs.append(r.seq)
        self.actors.append(r.actor)


def changes_between(
    before: InitiativeState, between: Sequence[Recorded], after: InitiativeState
) -> list[Change]:
    """The changes from ``before`` to ``after`` (its fold with ``between`` applied), each with
    the events that make it up. ``before`` may be the state before the initiative existed."""
    if not between:
        return []
    changes = _created(between)
    changes += _phase(before, between, after)
    rest = _items(before, between) + _approvals(before, between) + _hold(before, between, after)
    rest += [change for r in between if (change := _single(r)) is not None]
    rest += _notes(between)
    return changes + sorted(rest, key=lambda c: c.seqs)


def _single(r: Recorded) -> Change | None:
    """The change one event makes by itself: a participant, a deadline passed, a migration,
    texts removed under the retention policy."""
    params: dict[str, Param]
    match r.event:
        case ParticipantAdded() as e:
            params = {"who": r.actor, "name": e.participant_id, "role": e.role}
            return Change("participant.added", params, (r.seq,))
        case PhaseOverdue() as e:
            date = e.overdue_since[:10]
            params = {"phase": e.phase, "visit": e.visit, "days": e.max_days, "date": date}
            return Change("overdue", params, (r.seq,))
        case WorkflowMigrated() as e:
            params = {
                "who": r.actor,
                "from_version": e.from_version,
                "to_version": e.to_version,
                "phase": e.phase,
            }
            return Change("migrated", params, (r.seq,))
        case TextsRemoved() as e:
            return Change("texts.removed", {"count": len(e.removed)}, (r.seq,))
    return None


def _created(between: Sequence[Recorded]) -> list[Change]:
    first = between[0]
    if not isinstance(first.event, InitiativeCreated):
        return []
    params = {"who": first.actor, "title": first.event.title, "phase": first.event.phase}
    return [Change("created", params, (first.seq,))]


def _phase(
    before: InitiativeState, between: Sequence[Recorded], after: InitiativeState
) -> list[Change]:
    moves = [r for r in between if isinstance(r.event, PhaseChanged)]
    if not moves:
        return []
    first = moves[0].event
    assert isinstance(first, PhaseChanged)  # noqa: S101 -- selected above
    source, target = first.source, after.phase
    seqs = tuple(r.seq for r in moves)
    through = tuple(r.event.target for r in moves[:-1] if isinstance(r.event, PhaseChanged))
    changes: list[Change]
    if len(moves) == 1:
        params: dict[str, Param] = {
            "source": source,
            "target": target,
            "trigger": first.trigger,
            "who": moves[0].actor,
        }
        changes = [Change("phase.moved", params, seqs)]
    elif source == target:
        params = {"source": source, "target": target, "through": through, "visit": after.visit}
        changes = [Change("phase.returned", params, seqs)]
    else:
        params = {"source": source, "target": target, "through": through}
        changes = [Change("phase.moved_through", params, seqs)]
    if after.has_ended and not before.has_ended:
        changes.append(Change("ended", {"phase": after.phase}, (moves[-1].seq,)))
    return changes


def _continuing(before: InitiativeState, between: Sequence[Recorded]) -> set[tuple[str, int]]:
    """The (phase, visit) whose checklist and sign-offs ``before`` holds: its own, and where a
    migration carried that visit on (until the phase first changed)."""
    visits = {(before.phase, before.visit)} if before.is_created else set()
    for r in between:
        if isinstance(r.event, PhaseChanged):
            break
        if isinstance(r.event, WorkflowMigrated):
            visits.add((r.event.phase, r.event.visit))
    return visits


def _items(before: InitiativeState, between: Sequence[Recorded]) -> list[Change]:
    continuing = _continuing(before, between)
    tracks: dict[tuple[str, int, str], _Track] = {}
    for r in between:
        e = r.event
        if not isinstance(e, ItemTicked | ItemWaived | ItemReopened):
            continue
        key = (e.phase, e.visit, e.item)
        track = tracks.get(key)
        if track is None:
            held = before.checklist.get(e.item) if (e.phase, e.visit) in continuing else None
            track = tracks[key] = _Track(None if held is None else held.status)
        track.touch(r, _STATUS.get(type(e)))
    changes = []
    for (phase, _, item), track in tracks.items():
        code = _item_code(track.before, track.now)
        params = {"item": item, "item_phase": phase, "who": track.actors[-1]}
        if code == "item.back_open":
            params["first_who"] = track.actors[0]
        changes.append(Change(code, params, tuple(track.seqs)))
    return changes


def _item_code(before: str | None, now: str | None) -> str:
    if now is None:
        return "item.back_open" if before is None else "item.reopened"
    if before is None:
        return "item.ticked" if now == "done" else "item.waived"
    return "item.ticked_again" if now == "done" else "item.waived_again"


def _approvals(before: InitiativeState, between: Sequence[Recorded]) -> list[Change]:
    continuing = _continuing(before, between)
    given = {
        (phase, visit, trigger, role): True
        for phase, visit in continuing
        for trigger, roles in before.approvals.items()
        for role in roles
    }
    tracks: dict[tuple[str, int, str, str], _Track] = {}
    for r in between:
        e = r.event
        if isinstance(e, GateApproved):
            key = (e.phase, e.visit, e.trigger, e.role)
            touched = [key]
        elif isinstance(e, ItemReopened) and e.invalidated_approvals:
            voided = set(e.invalidated_approvals)
            touched = [k for k, is_given in given.items() if is_given and k[2] in voided]
            touched = [k for k in touched if k[:2] == (e.phase, e.visit)]
        else:
            continue
        for key in touched:
            track = tracks.setdefault(key, _Track("given" if given.get(key) else None))
            track.touch(r, "given" if isinstance(e, GateApproved) else None)
            track.cause = e.item if isinstance(e, ItemReopened) else track.cause
            given[key] = isinstance(e, GateApproved)
    return [_approval(key, track) for key, track in tracks.items()]


def _approval(key: tuple[str, int, str, str], track: _Track) -> Change:
    phase, _, trigger, role = key
    params: dict[str, Param] = {"trigger": trigger, "role": role, "who": track.actors[-1]}
    if track.now is not None:
        code = "approval.given" if track.before is None else "approval.renewed"
        return Change(code, params, tuple(track.seqs))
    params |= {"item": track.cause, "item_phase": phase}
    if track.before is not None:
        return Change("approval.withdrawn", params, tuple(track.seqs))
    params["first_who"] = track.actors[0]
    return Change("approval.given_withdrawn", params, tuple(track.seqs))


def _hold(
    before: InitiativeState, between: Sequence[Recorded], after: InitiativeState
) -> list[Change]:
    track = _Track("held" if before.hold is not None else None)
    for r in between:
        if isinstance(r.event, InitiativeHeld):
            track.touch(r, "held")
        elif isinstance(r.event, InitiativeResumed):
            track.touch(r, None)
    if not track.seqs:
        return []
    held_now = after.hold is not None
    params: dict[str, Param] = {"who": track.actors[-1]}
    if track.before is None:
        code = "hold.held" if held_now else "hold.held_resumed"
    else:
        code = "hold.resumed_held" if held_now else "hold.resumed"
    if code in ("hold.held_resumed", "hold.resumed_held"):
        params["first_who"] = track.actors[0]
    return [Change(code, params, tuple(track.seqs))]


def _notes(between: Sequence[Recorded]) -> list[Change]:
    notes = [r for r in between if isinstance(r.event, NoteAdded)]
    if not notes:
        return []
    seqs = tuple(r.seq for r in notes)
    if len(notes) == 1:
        return [Change("note.added", {"who": notes[0].actor}, seqs)]
    people = tuple(dict.fromkeys(r.actor for r in notes))
    return [Change("notes.added", {"count": len(notes), "people": people}, seqs)]


# -- in words ----------------------------------------------------------------------------------


def person_name(names: Mapping[str, str], person_id: str, lang: str) -> str:
    """A person's name in a sentence: kosiflow itself, an erased person, or the id when the
    person is unknown."""
    if person_id == SYSTEM_ACTOR:
        return _WORDS["system"][lang]
    name = names.get(person_id)
    if name is None:
        return person_id
    return name or _WORDS["erased"][lang]


class _Titles:
    """Titles of ids from the definitions in force at either moment (the later one first)."""

    def __init__(self, definitions: Sequence[Definition]) -> None:
        self.definitions = definitions

    def phase(self, phase: str, lang: str) -> str:
        for d in self.definitions:
            if d.has_phase(phase):
                return d.phase(phase).title.in_(lang)
        return phase

    def item(self, phase: str, item_id: str, lang: str) -> str:
        for d in self.definitions:
            item = d.phase(phase).item(item_id) if d.has_phase(phase) else None
            if item is not None:
                return item.title.in_(lang)
        return item_id

    def role(self, role: str, lang: str) -> str:
        for d in self.definitions:
            if role in d.roles:
                return d.roles[role].in_(lang)
        return role

    def trigger(self, trigger: str, lang: str) -> str:
        for d in self.definitions:
            for transition in d.transitions:
                if transition.trigger == trigger and transition.title is not None:
                    return transition.title.in_(lang)
        return trigger


def sentence(
    change: Change,
    definitions: Sequence[Definition],
    names: Mapping[str, str],
    lang: str,
) -> str:
    """``change`` as a sentence in ``lang`` (``de`` or ``en``): ids as the workflow's titles
    (looked up in ``definitions``, the first that knows them), person ids as ``names``."""
    titles = _Titles(definitions)
    values: dict[str, str | int] = {}
    params = change.params
    for key, value in params.items():
        if isinstance(value, tuple):
            if key == "through":
                shown = [titles.phase(p, lang) for p in value]
            else:
                shown = [person_name(names, p, lang) for p in value]
            values[key] = _listed(shown, lang)
        elif isinstance(value, int):
            values[key] = value
        elif key in _PHASE_KEYS:
            values[key] = titles.phase(value, lang)
        elif key in _PERSON_KEYS:
            values[key] = person_name(names, value, lang)
        elif key == "item":
            values[key] = titles.item(str(params.get("item_phase", "")), value, lang)
        elif key == "role":
            values[key] = titles.role(value, lang)
        elif key == "trigger":
            values[key] = titles.trigger(value, lang)
        else:
            values[key] = value
    said = SENTENCES[change.code][lang].format(**values)
    return said[:1].upper() + said[1:]  # "an erased person …" begins a sentence too


def _listed(words: Sequence[str], lang: str) -> str:
    if len(words) < 2:
        return "".join(words)
    return ", ".join(words[:-1]) + _WORDS["and"][lang] + words[-1]
