"""Steps that check what an auditor sees: the history, its hash chain and the phase visits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kosiflow.bdd.drivers import HistoryEntry
from kosiflow.bdd.failures import SpecFailure
from kosiflow.bdd.registry import step
from kosiflow.bdd.tables import rows_of
from kosiflow.bdd.texts import say
from kosiflow.bdd.world import World

_SHOWN_FIELDS = ("item", "trigger", "role", "target", "reason", "text")
"""Payload fields shown when the history is printed in a failure."""


def _value(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _fits(world: World, entry: HistoryEntry, row: Mapping[str, str]) -> bool:
    for column, wanted in row.items():
        if not wanted:
            continue
        if column == "event":
            if entry.type != wanted:
                return False
        elif column == "by":
            if world.name_of(entry.actor) != wanted:
                return False
        elif _value(entry.payload.get(column)) not in world.names.ids_of(wanted):
            return False
    return True


def _shown(world: World, entry: HistoryEntry) -> str:
    fields = " ".join(
        f"{key}={_value(entry.payload[key])}" for key in _SHOWN_FIELDS if entry.payload.get(key)
    )
    return f"  {entry.seq:>3} {entry.type} ({world.name_of(entry.actor)}) {fields}".rstrip()


@step(
    "history",
    "history",
    en=["the history contains, in this order:"],
    de=[
        "die Historie enthält in dieser Reihenfolge:",
        "enthält die Historie in dieser Reihenfolge:",
    ],
    example_en=[
        "Then the history contains, in this order:",
        "  | event        | by            | trigger | reason          |",
        "  | ItemTicked   | Thomas Krüger |         |                 |",
        "  | PhaseChanged | Jana Becker   | rework  | Site is too far |",
    ],
    example_de=[
        "Dann enthält die Historie in dieser Reihenfolge:",
        "  | Ereignis     | von           | Schritt | Grund               |",
        "  | ItemTicked   | Thomas Krüger |         |                     |",
        "  | PhaseChanged | Jana Becker   | rework  | Standort zu abgelegen |",
    ],
    table=True,
)
def history_contains(world: World, table: Sequence[Sequence[object]]) -> None:
    """Events in this order (others may come between): the column event is the event type;
    by names who did it (``system`` for the engine); further columns compare fields of the
    event (item, trigger, role, target, reason, …); an empty cell matches anything."""
    history = world.history()
    position = 0
    for number, row in enumerate(rows_of(table, world.lang, ["event"]), start=1):
        found = next(
            (i for i in range(position, len(history)) if _fits(world, history[i], row)), None
        )
        if found is None:
            wanted = ", ".join(f"{k}={v}" for k, v in row.items() if v)
            listing = "\n".join(_shown(world, e) for e in history)
            raise SpecFailure(
                f"{say(world.lang, 'history_missing', row=number, wanted=wanted)}\n{listing}"
            )
        position = found + 1


@step(
    "history_count",
    "history",
    en=["the history has {count:d} events", "the history has {count:d} event"],
    de=[
        "die Historie hat {count:d} Ereignisse",
        "die Historie hat {count:d} Ereignis",
        "hat die Historie {count:d} Ereignisse",
        "hat die Historie {count:d} Ereignis",
    ],
    example_en=["Then the history has 12 events"],
    example_de=["Dann hat die Historie 12 Ereignisse"],
)
def history_count(world: World, count: str) -> None:
    """How many events the history holds (a refused command records none)."""
    actual = len(world.history())
    if actual != int(count):
        raise SpecFailure(say(world.lang, "history_count", actual=actual, expected=count))


@step(
    "chain",
    "history",
    en=["the hash chain of the history is intact"],
    de=["die Hash-Kette der Historie ist intakt", "ist die Hash-Kette der Historie intakt"],
    example_en=["Then the hash chain of the history is intact"],
    example_de=["Dann ist die Hash-Kette der Historie intakt"],
)
def chain_intact(world: World) -> None:
    """Every event still carries the hash that chains it to the one before."""
    if not world.driver.is_chain_intact(world.initiative_id):
        raise SpecFailure(say(world.lang, "chain_broken"))


@step(
    "visits",
    "history",
    en=[
        "the phase {phase} was visited {count:d} times",
        "the phase {phase} was visited {count:d} time",
    ],
    de=[
        "die Phase {phase} wurde {count:d}-mal besucht",
        "wurde die Phase {phase} {count:d}-mal besucht",
    ],
    example_en=['Then the phase "co_creation" was visited 2 times'],
    example_de=['Dann wurde die Phase "co_creation" 2-mal besucht'],
)
def visited(world: World, phase: str, count: str) -> None:
    """How many visits of a phase the auditor's timeline shows (the current one included)."""
    phase_id = world.phase_id(phase)
    visits = world.services.visits(world.initiative_id)
    actual = sum(1 for v in visits if v.phase == phase_id)
    if actual != int(count):
        label = world.label("phase", phase_id)
        raise SpecFailure(
            say(world.lang, "visits_count", phase=label, actual=actual, expected=count)
        )


@step(
    "automatic",
    "history",
    en=["the system fired {trigger} by itself"],
    de=["das System hat {trigger} selbst ausgelöst", "hat das System {trigger} selbst ausgelöst"],
    example_en=['Then the system fired "finish" by itself'],
    example_de=['Dann hat das System "finish" selbst ausgelöst'],
)
def fired_by_itself(world: World, trigger: str) -> None:
    """An automatic transition took the initiative on, recorded as done by the system."""
    trigger_id = world.trigger_id(trigger)
    changes = [e for e in world.history() if e.type == "PhaseChanged"]
    if not any(
        e.payload.get("trigger") == trigger_id and e.payload.get("automatic") for e in changes
    ):
        listing = "\n".join(_shown(world, e) for e in changes) or "  -"
        label = world.label("trigger", trigger_id)
        raise SpecFailure(f"{say(world.lang, 'not_automatic', trigger=label)}\n{listing}")
