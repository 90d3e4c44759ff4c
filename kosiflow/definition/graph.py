"""The rules of the phase graph: every phase reachable, a way out of it, an end in reach, and no
loop made only of automatic transitions.

The graph is drawn from every transition, the broken ones too, as far as they can be read, so that
a broken transition neither hides a problem elsewhere nor causes one (judgement calls):

- A name that is not a phase is read as the phase its "did you mean" suggests. One that resembles
  no phase stands for a phase missing from the file, assumed to be right: reachable, and leading
  to a final phase. So its transition still reaches its target, or is a way out of its sources,
  but says nothing about the other phases: a typo in one ``to`` does not hide an unreachable phase
  or a dead end elsewhere.
- A ``from`` or ``to`` that cannot be read at all (missing, or of the wrong type) could be any
  phase, so its transition may leave every phase, or reach every phase, and no conclusion it could
  change is drawn. Its structural problem says enough.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from kosiflow.definition.raw import ANY_PHASE, RawPhase
from kosiflow.definition.source import Source
from kosiflow.definition.structure import Parts, phases_by_id
from kosiflow.definition.suggest import closest
from kosiflow.errors import Problem

_Ends = tuple[tuple[str | None, ...], str | None]
"""The sources and the target of a transition; None where it cannot be read."""

_FROM_ANY = "\0from any phase"
_TO_ANY = "\0to any phase"
"""Stand-ins for an unreadable source and target: every phase leads to the first, which leads to
their targets; their sources lead to the second, which leads to every phase."""


def _resolve(name: object, phases: Mapping[str, RawPhase]) -> str | None:
    """The phase ``name`` names or most likely means; the name of a missing phase; None."""
    if not isinstance(name, str):
        return None
    return name if name in phases else (closest(name, phases) or name)


def _ends(written_from: object, written_to: object, phases: Mapping[str, RawPhase]) -> _Ends:
    sources: tuple[str | None, ...]
    if written_from == ANY_PHASE:
        sources = tuple(phase_id for phase_id, phase in phases.items() if not phase.final)
    elif isinstance(written_from, list) and written_from:
        sources = tuple(_resolve(name, phases) for name in written_from)
    else:
        sources = (_resolve(written_from, phases),)
    return sources, _resolve(written_to, phases)


def _all_ends(parts: Parts, phases: Mapping[str, RawPhase]) -> Iterator[_Ends]:
    for _, transition in parts.transitions:
        yield _ends(transition.sources, transition.to, phases)
    for _, written in parts.broken_transitions or ():
        data = written if isinstance(written, dict) else {}
        yield _ends(data.get("from"), data.get("to"), phases)


@dataclass(frozen=True, slots=True)
class _Graph:
    """What the transitions may make of the phases (see the module's notes on broken ones)."""

    initial: str | None
    """The initial phase; None when unknown (then reachability is not judged)."""
    reachable: frozenset[str] | None
    """Phases reachable from the initial phase; None when that cannot be judged."""
    way_out: frozenset[str]
    """Phases some transition leaves."""
    ending: frozenset[str]
    """Phases from which a final phase is reachable."""

    def problem(self, phase: RawPhase) -> str | None:
        if self.reachable is not None and phase.id not in self.reachable:
            return f"phase '{phase.id}' cannot be reached from the initial phase '{self.initial}'"
        if phase.final:
            return None
        if phase.id not in self.way_out:
            return f"phase '{phase.id}' has no way out: it is not final and no transition leaves it"
        if phase.id not in self.ending and (self.initial is None or self.initial in self.ending):
            return f"no final phase can be reached from phase '{phase.id}'"
        return None


def _reach(start: Iterable[str], edges: Mapping[str, Iterable[str]]) -> frozenset[str]:
    seen = set(start)
    todo = list(seen)
    while todo:
        for target in edges[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return frozenset(seen)


class _Edges:
    """The phase graph, both ways, with the stand-ins for unreadable phases."""

    def __init__(self, phases: Mapping[str, RawPhase]) -> None:
        self.forward: defaultdict[str, set[str]] = defaultdict(set)
        self.backward: defaultdict[str, set[str]] = defaultdict(set)
        for phase_id, phase in phases.items():
            self.add(_TO_ANY, phase_id)
            if not phase.final:
                self.add(phase_id, _FROM_ANY)

    def add(self, source: str, target: str) -> None:
        self.forward[source].add(target)
        self.backward[target].add(source)


def _graph_of(parts: Parts) -> _Graph | None:
    phases = phases_by_id(parts)
    if phases is None or len(phases) != len(parts.phases) or parts.broken_transitions is None:
        return None  # a broken or repeated phase, or no list of transitions: nothing to judge
    edges = _Edges(phases)
    way_out: set[str] = set()
    for sources, target in _all_ends(parts, phases):
        for source in sources:
            edges.add(
                _FROM_ANY if source is None else source, _TO_ANY if target is None else target
            )
            way_out.update(phases if source is None else (source,))
    missing = edges.forward.keys() - phases - {_FROM_ANY, _TO_ANY}  # assumed right
    missing |= edges.backward.keys() - phases - {_FROM_ANY, _TO_ANY}
    initial = _resolve(parts.initial, phases)
    reachable = None
    if initial is not None and initial in phases and not phases[initial].final:
        reachable = _reach({initial, *missing}, edges.forward)  # a final initial is reported
    finals = {phase_id for phase_id, phase in phases.items() if phase.final}
    return _Graph(
        initial=initial if reachable is not None else None,
        reachable=reachable,
        way_out=frozenset(way_out),
        ending=_reach(finals | missing, edges.backward),
    )


def check_graph(parts: Parts, source: Source) -> Iterator[Problem]:
    """Unreachable phases, phases without a way out, and no final phase in reach."""
    graph = _graph_of(parts)
    if graph is None:
        return
    if graph.initial is not None and graph.initial not in graph.ending:
        message = f"no final phase can be reached from the initial phase '{graph.initial}'"
        yield source.problem(("initial",), message)
    for i, phase in parts.phases:
        problem = graph.problem(phase)
        if problem is not None:
            yield source.problem(("phases", i, "id"), problem)


def check_auto_loops(parts: Parts, source: Source) -> Iterator[Problem]:
    """Loops made only of automatic transitions: the engine would go round them forever.

    Each phase follows its first automatic transition (a second one is a problem of its own), so
    the automatic transitions form chains that end or run into one loop; each loop is reported
    once, at the transition of the loop that comes last in the file (the one that closes it).
    """
    autos = _first_autos(parts)
    done: set[str] = set()
    for start in autos:
        chain: list[str] = []
        phase_id = start
        while phase_id in autos and phase_id not in done:
            done.add(phase_id)
            chain.append(phase_id)
            phase_id = autos[phase_id][1]
        if phase_id in chain:
            yield _loop_problem(source, chain[chain.index(phase_id) :], autos)


_Auto = tuple[int, str, str]
"""An automatic transition leaving a phase: its index, the phase it leads to, its trigger."""


def _first_autos(parts: Parts) -> dict[str, _Auto]:
    phases = phases_by_id(parts)
    if phases is None:
        return {}
    autos: dict[str, _Auto] = {}
    for i, transition in parts.transitions:
        if not transition.auto or transition.to not in phases:
            continue
        for phase_id in transition.source_ids(phases.values()):
            if phase_id in phases and not phases[phase_id].final:
                autos.setdefault(phase_id, (i, transition.to, transition.trigger))
    return autos


def _loop_problem(source: Source, loop: list[str], autos: Mapping[str, _Auto]) -> Problem:
    last = max(loop, key=lambda phase_id: autos[phase_id][0])
    cut = loop.index(last) + 1
    loop = loop[cut:] + loop[:cut]  # from the phase the closing transition leads to
    triggers = [f"'{autos[phase_id][2]}'" for phase_id in loop]
    shown = " → ".join([*loop, loop[0]])
    if len(triggers) == 1:
        message = (
            f"automatic transition {triggers[0]} forms a loop {shown}; it must not be automatic"
        )
    else:
        names = ", ".join(triggers[:-1]) + f" and {triggers[-1]}"
        message = (
            f"automatic transitions {names} form a loop {shown}; "
            "at least one of them must not be automatic"
        )
    return source.problem(("transitions", autos[last][0], "auto"), message)
