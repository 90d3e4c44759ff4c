"""The phase graph of each definition as a ``transitions`` state machine, built once and reused.

Initiatives are never attached to the machine: ``decide`` asks it which edge a trigger takes
from a phase (a dictionary lookup inside ``transitions``), so one machine serves every initiative
of a definition and no command pays for attaching a model (about 25 µs) or for running
``transitions``' callback machinery (about 9 µs) — the guards are ours and declarative.
"""

from __future__ import annotations

from threading import Lock

from transitions import Machine

from kosiflow.definition.model import Definition


class PhaseMachine:
    """The phase graph of one definition version."""

    def __init__(self, definition: Definition) -> None:
        self._machine = Machine(
            model=None,
            states=[phase.id for phase in definition.phases],
            transitions=[
                {"trigger": t.trigger, "source": list(t.sources), "dest": t.target}
                for t in definition.transitions
            ],
            initial=definition.initial,
            auto_transitions=False,
            send_event=False,
        )

    def can_fire(self, phase: str, trigger: str) -> bool:
        """True when the graph has ``trigger`` leaving ``phase``."""
        return trigger in self._machine.events and bool(
            self._machine.get_transitions(trigger, source=phase)
        )

    def available(self, phase: str) -> list[str]:
        """The triggers leaving ``phase``."""
        return list(self._machine.get_triggers(phase))

    def fire(self, phase: str, trigger: str) -> str:
        """The phase ``trigger`` leads to from ``phase``; ValueError when the graph has no such
        edge (callers check :meth:`can_fire` first)."""
        edges = (
            self._machine.get_transitions(trigger, source=phase)
            if trigger in self._machine.events
            else []
        )
        if not edges:
            raise ValueError(f"no transition {trigger!r} from {phase!r}")
        return str(edges[0].dest)


_MACHINES: dict[str, PhaseMachine] = {}
_LOCK = Lock()


def machine_for(definition: Definition) -> PhaseMachine:
    """The machine of ``definition``, built on first use and cached by content hash."""
    machine = _MACHINES.get(definition.content_hash)
    if machine is None:
        with _LOCK:
            machine = _MACHINES.get(definition.content_hash)
            if machine is None:
                machine = PhaseMachine(definition)
                _MACHINES[definition.content_hash] = machine
    return machine
