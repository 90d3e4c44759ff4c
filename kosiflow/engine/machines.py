"""The phase graph of each definition as a ``transitions`` state machine, built once and reused.

Initiatives are never attached to a machine for longer than one firing: the machine only moves a
tiny carrier object that holds a phase, so one machine serves every initiative of a definition.
"""

from __future__ import annotations

from threading import Lock

from transitions import Machine, MachineError

from kosiflow.definition.model import Definition


class _Carrier:
    """The stand-in model a machine moves: just a phase (``state`` in transitions' words)."""

    __slots__ = ("state",)

    def __init__(self, phase: str) -> None:
        self.state = phase


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
        carrier = _Carrier(phase)
        try:
            self._machine.events[trigger].trigger(carrier)
        except (KeyError, MachineError) as exc:
            raise ValueError(f"no transition {trigger!r} from {phase!r}") from exc
        return carrier.state


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
