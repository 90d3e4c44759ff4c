"""The rules that need more than one value: uniqueness, references, translations, the phase graph.

Each rule looks only at the well-formed parts of a file (:class:`~.structure.Parts`) and skips
what depends on a broken part, so one mistake is reported once and does not cascade. The rules of
the phase graph are in :mod:`~.graph`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from kosiflow.definition.graph import check_auto_loops, check_graph
from kosiflow.definition.model import DEFAULT_ROLE
from kosiflow.definition.raw import ANY_PHASE, RawItem, RawPhase, RawTransition
from kosiflow.definition.source import Path, Source, format_path
from kosiflow.definition.structure import Parts, TextValue, phases_by_id
from kosiflow.definition.suggest import did_you_mean
from kosiflow.errors import Problem

RESERVED_ROLES = ("admin", "auditor", "system")
"""Platform roles of kosiflow itself; a workflow may not declare them."""


def check_rules(parts: Parts, source: Source) -> list[Problem]:
    """Every problem the rules find in the well-formed parts of a file."""
    return [problem for rule in _RULES for problem in rule(parts, source)]


def _duplicates(values: Iterable[tuple[Path, str]]) -> Iterator[tuple[Path, str, Path]]:
    """``(path, value, path of its first occurrence)`` for every repeated value."""
    first: dict[str, Path] = {}
    for path, value in values:
        if value in first:
            yield path, value, first[value]
        else:
            first[value] = path


def _languages(parts: Parts, source: Source) -> Iterator[Problem]:
    listed = ((("languages", i), lang) for i, lang in enumerate(parts.languages or ()))
    for path, lang, _ in _duplicates(listed):
        yield source.problem(path, f"language '{lang}' is listed twice")


def _texts_of(path: Path, element: RawPhase | RawItem) -> Iterator[tuple[Path, TextValue]]:
    yield (*path, "title"), element.title
    if element.description is not None:
        yield (*path, "description"), element.description


def _all_texts(parts: Parts) -> Iterator[tuple[Path, TextValue]]:
    yield from parts.texts
    for name, text in (parts.roles or {}).items():
        yield ("roles", name), text
    for i, phase in parts.phases:
        yield from _texts_of(("phases", i), phase)
    for i, items in parts.items.items():
        for j, item in items:
            yield from _texts_of(("phases", i, "checklist", j), item)
    for i, transition in parts.transitions:
        if transition.title is not None:
            yield ("transitions", i, "title"), transition.title


def _translations(parts: Parts, source: Source) -> Iterator[Problem]:
    languages = parts.languages
    if languages is None:
        return
    for path, text in _all_texts(parts):
        missing = [lang for lang in languages if lang not in text]
        if missing:
            names = ", ".join(f"'{lang}'" for lang in missing)
            yield source.problem(path, f"missing translation for {names}")
        for lang in text:
            if lang not in languages:
                message = f"language '{lang}' is not declared in 'languages'"
                yield source.problem((*path, lang), message, at_key=True)


def _roles(parts: Parts, source: Source) -> Iterator[Problem]:
    if parts.roles is None:
        return
    for name in parts.roles:
        if name in RESERVED_ROLES:
            message = (
                f"role '{name}' is reserved by kosiflow (platform roles: admin, auditor, system)"
            )
            yield source.problem(("roles", name), message, at_key=True)
    if DEFAULT_ROLE not in parts.roles:
        message = (
            f"the role '{DEFAULT_ROLE}' must be declared: it is the default for items and "
            "transitions and coordinates initiatives"
        )
        yield source.problem(("roles",), message, at_key=True)


def _role_refs(
    source: Source, path: Path, names: Iterable[str], roles: Mapping[str, object]
) -> Iterator[Problem]:
    for k, name in enumerate(names):
        if name not in roles and name != DEFAULT_ROLE:  # a missing coordinator is reported once
            yield source.problem((*path, k), f"unknown role '{name}'" + did_you_mean(name, roles))


def _phase_ids(parts: Parts, source: Source) -> Iterator[Problem]:
    ids = ((("phases", i, "id"), phase.id) for i, phase in parts.phases)
    for path, phase_id, first in _duplicates(ids):
        message = f"phase '{phase_id}' is defined twice (first at {format_path(first[:-1])})"
        yield source.problem(path, message)


def _checklists(parts: Parts, source: Source) -> Iterator[Problem]:
    for i, phase in parts.phases:
        path: Path = ("phases", i, "checklist")
        if phase.final and (*path, 0) in source.values:  # its items may all be broken
            message = "a final phase has no checklist: reaching it ends the initiative"
            yield source.problem(path, message, at_key=True)
    for i, items in parts.items.items():
        ids = ((("phases", i, "checklist", j, "id"), item.id) for j, item in items)
        for item_path, item_id, _ in _duplicates(ids):
            yield source.problem(item_path, f"item '{item_id}' is defined twice in this phase")


def _item_roles(parts: Parts, source: Source) -> Iterator[Problem]:
    if parts.roles is None:
        return
    for i, items in parts.items.items():
        for j, item in items:
            path: Path = ("phases", i, "checklist", j)
            yield from _role_refs(source, (*path, "roles"), item.roles, parts.roles)
            yield from _role_refs(source, (*path, "waivable_by"), item.waivable_by, parts.roles)


def _unknown_phase(name: str, phases: Mapping[str, RawPhase]) -> str:
    return f"unknown phase '{name}'" + did_you_mean(name, phases)


def _initial(parts: Parts, source: Source) -> Iterator[Problem]:
    phases = phases_by_id(parts)
    if parts.initial is None or phases is None:
        return
    phase = phases.get(parts.initial)
    if phase is None:
        yield source.problem(("initial",), _unknown_phase(parts.initial, phases))
    elif phase.final:
        message = f"the initial phase '{phase.id}' is final: initiatives would end as they start"
        yield source.problem(("initial",), message)


def _transition_phases(parts: Parts, source: Source) -> Iterator[Problem]:
    phases = phases_by_id(parts)
    if phases is None:
        return
    for i, transition in parts.transitions:
        if transition.to not in phases:
            yield source.problem(("transitions", i, "to"), _unknown_phase(transition.to, phases))
        yield from _sources(source, ("transitions", i, "from"), transition, phases)


def _sources(
    source: Source, path: Path, transition: RawTransition, phases: Mapping[str, RawPhase]
) -> Iterator[Problem]:
    if transition.sources == ANY_PHASE:
        return
    if isinstance(transition.sources, str):
        listed = [(path, transition.sources)]
    else:
        listed = [((*path, k), name) for k, name in enumerate(transition.sources)]
    for where, name in listed:
        phase = phases.get(name)
        if phase is None:
            yield source.problem(where, _unknown_phase(name, phases))
        elif phase.final:
            yield source.problem(where, f"phase '{name}' is final: no transition may leave it")
    for where, name, _ in _duplicates(listed):
        yield source.problem(where, f"phase '{name}' is listed twice")


def _transition_roles(parts: Parts, source: Source) -> Iterator[Problem]:
    if parts.roles is None:
        return
    for i, transition in parts.transitions:
        path: Path = ("transitions", i)
        requires = transition.requires
        yield from _role_refs(source, (*path, "roles"), transition.roles, parts.roles)
        yield from _role_refs(
            source, (*path, "requires", "approvals"), requires.approvals, parts.roles
        )
        if requires.sectors > len(parts.roles):
            message = (
                f"sectors is {requires.sectors}, but only {len(parts.roles)} roles are declared"
            )
            yield source.problem((*path, "requires", "sectors"), message)


def _transition_settings(parts: Parts, source: Source) -> Iterator[Problem]:
    for i, transition in parts.transitions:
        path: Path = ("transitions", i)
        approvals = transition.requires.approvals
        listed = (((*path, "requires", "approvals", k), role) for k, role in enumerate(approvals))
        for where, role, _ in _duplicates(listed):
            yield source.problem(where, f"approval by role '{role}' is listed twice")
        if transition.auto and transition.reason == "required":
            message = "an auto transition cannot require a reason: nobody fires it by hand"
            yield source.problem((*path, "reason"), message)


def _triggers(parts: Parts, source: Source) -> Iterator[Problem]:
    phases = phases_by_id(parts)
    if phases is None:
        return
    firsts: dict[tuple[str, str], int] = {}
    autos: dict[str, int] = {}
    for i, transition in parts.transitions:
        for phase_id in transition.source_ids(phases.values()):
            first = firsts.setdefault((phase_id, transition.trigger), i)
            if first != i:
                message = (
                    f"trigger '{transition.trigger}' already leaves phase '{phase_id}' "
                    f"(transitions[{first}])"
                )
                yield source.problem(("transitions", i, "trigger"), message)
            first_auto = autos.setdefault(phase_id, i) if transition.auto else i
            if first_auto != i:
                message = (
                    f"phase '{phase_id}' already has an auto transition "
                    f"(transitions[{first_auto}]); at most one per phase"
                )
                yield source.problem(("transitions", i, "auto"), message)


_RULES: tuple[Callable[[Parts, Source], Iterator[Problem]], ...] = (
    _languages,
    _translations,
    _roles,
    _phase_ids,
    _checklists,
    _item_roles,
    _initial,
    _transition_phases,
    _transition_roles,
    _transition_settings,
    _triggers,
    check_graph,
    check_auto_loops,
)
