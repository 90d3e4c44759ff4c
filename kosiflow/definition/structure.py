"""Checking the shape of parsed data against the raw format, with a position for every problem.

The whole file is validated with :class:`~kosiflow.definition.raw.RawDefinition` (pydantic reports
every structural problem at once); each error's ``loc`` is mapped back to the line and column the
key or value was written at. When the file is not well-formed, the parts that are (each phase,
each checklist item, each transition, the roles, ...) are still collected in :class:`Parts`, so the
rules that need more than one value can check them too, without tripping over the broken parts.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails
from typing_extensions import TypeAliasType

from kosiflow.definition.raw import (
    LANGUAGE_PATTERN,
    NAME_PATTERN,
    SOURCE_PATTERN,
    WORKFLOW_ID_PATTERN,
    RawDefinition,
    RawItem,
    RawPhase,
    RawTransition,
)
from kosiflow.definition.source import Path, Source
from kosiflow.definition.suggest import did_you_mean
from kosiflow.errors import Problem

_M = TypeVar("_M", bound=BaseModel)
_T = TypeVar("_T")
TextValue = Mapping[str, str]
Indexed = tuple[tuple[int, _T], ...]
"""Elements of a list in the file, each with its index there."""


@dataclass(frozen=True, slots=True)
class Parts:
    """The well-formed parts of a file (all of it when the whole file is well-formed)."""

    languages: tuple[str, ...] | None
    roles: Mapping[str, TextValue] | None
    initial: str | None
    texts: tuple[tuple[Path, TextValue], ...]
    """The definition's own title and description."""
    phases: Indexed[RawPhase]
    """Each well-formed phase with its index in the file (a phase whose only broken parts are
    checklist items counts as well-formed; its ``checklist`` holds the well-formed items only)."""
    items: Mapping[int, Indexed[RawItem]]
    """The well-formed checklist items of each phase (by phase index), with their indexes in the
    file; for every phase whose checklist is a list, even when the phase itself is broken."""
    transitions: Indexed[RawTransition]
    phases_complete: bool
    """True when every phase is well-formed (so phase references can be checked)."""
    broken_transitions: Indexed[object] | None
    """The transitions that are not well-formed, as written; None when ``transitions`` is not a
    list at all (so nothing is known about the phase graph)."""


def phases_by_id(parts: Parts) -> dict[str, RawPhase] | None:
    """Every phase by id, or None when a phase is broken (references cannot be checked)."""
    if not parts.phases_complete:
        return None
    phases: dict[str, RawPhase] = {}
    for _, phase in parts.phases:
        phases.setdefault(phase.id, phase)  # a repeated id is a problem of its own
    return phases


def check_structure(source: Source) -> tuple[RawDefinition | None, Parts, list[Problem]]:
    """The validated file (or None), its well-formed parts, and every structural problem."""
    try:
        raw = RawDefinition.model_validate(source.data)
    except ValidationError as exc:
        return None, _salvage(source.data), _problems(source, exc)
    return raw, _parts_of(raw), []


def _parts_of(raw: RawDefinition) -> Parts:
    texts: list[tuple[Path, TextValue]] = [(("title",), raw.title)]
    if raw.description is not None:
        texts.append((("description",), raw.description))
    return Parts(
        languages=tuple(raw.languages),
        roles=raw.roles,
        initial=raw.initial,
        texts=tuple(texts),
        phases=tuple(enumerate(raw.phases)),
        items={i: tuple(enumerate(phase.checklist)) for i, phase in enumerate(raw.phases)},
        transitions=tuple(enumerate(raw.transitions)),
        phases_complete=True,
        broken_transitions=(),
    )


# -- salvaging the well-formed parts of a broken file ----------------------------------------------


def _field_adapter(name: str) -> TypeAdapter[Any]:
    info = RawDefinition.model_fields[name]
    annotated: Any = Annotated[info.annotation, info]  # a type built at runtime
    return TypeAdapter(annotated, config=ConfigDict(strict=True))


_ADAPTERS = {
    name: _field_adapter(name) for name in ("languages", "roles", "initial", "title", "description")
}


def _valid(data: Mapping[str, object], name: str) -> Any:
    if name not in data:
        return None
    try:
        return _ADAPTERS[name].validate_python(data[name])
    except ValidationError:
        return None


def _split(values: object, model: type[_M]) -> tuple[Indexed[_M], Indexed[object]] | None:
    """The well-formed and the broken elements of a list, with their indexes (None: no list)."""
    if not isinstance(values, list):
        return None
    valid: list[tuple[int, _M]] = []
    broken: list[tuple[int, object]] = []
    for index, value in enumerate(values):
        try:
            valid.append((index, model.model_validate(value)))
        except ValidationError:
            broken.append((index, value))
    return tuple(valid), tuple(broken)


def _salvage_phase(value: dict[str, object], items: Indexed[RawItem] | None) -> RawPhase | None:
    """The phase without its broken checklist items, or None when more than those is broken."""
    if items is not None:
        value = {**value, "checklist": [item for _, item in items]}
    try:
        return RawPhase.model_validate(value)
    except ValidationError:
        return None


def _salvage_phases(values: object) -> tuple[Indexed[RawPhase], dict[int, Indexed[RawItem]]]:
    """The well-formed phases and the well-formed items of each phase, one at a time."""
    phases: list[tuple[int, RawPhase]] = []
    items: dict[int, Indexed[RawItem]] = {}
    for index, value in enumerate(values if isinstance(values, list) else []):
        if not isinstance(value, dict):
            continue
        split = _split(value.get("checklist", []), RawItem)
        if split is not None:
            items[index] = split[0]
        phase = _salvage_phase(value, split[0] if split is not None else None)
        if phase is not None:
            phases.append((index, phase))
    return tuple(phases), items


def _salvage(data: object) -> Parts:
    if not isinstance(data, dict):
        data = {}
    phases, items = _salvage_phases(data.get("phases"))
    listed = data.get("phases")
    transitions = _split(data.get("transitions"), RawTransition)
    languages = _valid(data, "languages")
    texts = tuple(
        ((name,), text) for name in ("title", "description") if (text := _valid(data, name))
    )
    return Parts(
        languages=tuple(languages) if languages is not None else None,
        roles=_valid(data, "roles"),
        initial=_valid(data, "initial"),
        texts=texts,
        phases=phases,
        items=items,
        transitions=transitions[0] if transitions is not None else (),
        phases_complete=isinstance(listed, list) and len(phases) == len(listed),
        broken_transitions=transitions[1] if transitions is not None else None,
    )


# -- mapping pydantic errors to problems -----------------------------------------------------------


def _problems(source: Source, exc: ValidationError) -> list[Problem]:
    problems: dict[Problem, None] = {}
    for error in exc.errors(include_url=False):
        path, names_key = _locate(source.data, error["loc"])
        if source.is_refused(path):
            continue  # reported once, where reading refused it
        at_key = names_key or error["type"] == "extra_forbidden"
        message = _MESSAGES.get(error["type"], _pydantic_message)(error, path)
        problems[source.problem(path, message, at_key=at_key)] = None
    return list(problems)


def _locate(data: object, loc: tuple[int | str, ...]) -> tuple[Path, bool]:
    """The data path of an error location (dropping union tags) and whether it names a key."""
    path: list[str | int] = []
    at_key = False
    for part in loc:
        if part == "[key]":
            at_key = True
        elif isinstance(data, dict) and isinstance(part, str):
            path.append(part)  # a missing key is not in the data, but belongs to the path
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            path.append(part)
            data = data[part]
    return tuple(path), at_key


def _describe(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return "a list" if isinstance(value, list) else "a mapping"


_EXPECTED = {
    "string_type": "a text",
    "int_type": "an integer",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
}

_PATTERN_HINTS = {
    NAME_PATTERN: "is not a valid name: use lowercase letters, digits and '_' (a letter first)",
    WORKFLOW_ID_PATTERN: "is not a valid workflow id: use lowercase letters, digits, '-' and '_'",
    LANGUAGE_PATTERN: "is not a language code: use two lowercase letters, like 'de'",
    SOURCE_PATTERN: "is not a phase id or '*'",
}


def _expected(error: ErrorDetails, path: Path) -> str:
    return f"expected {_EXPECTED[error['type']]}, got {_describe(error['input'])}"


def _missing(error: ErrorDetails, path: Path) -> str:
    return f"missing required key '{path[-1]}'"


def _unknown_key(error: ErrorDetails, path: Path) -> str:
    model = _type_at(path[:-1])
    keys = _keys_of(model) if isinstance(model, type) and issubclass(model, BaseModel) else []
    return f"unknown key '{path[-1]}'" + did_you_mean(path[-1], keys)


def _pattern(error: ErrorDetails, path: Path) -> str:
    pattern = str(error.get("ctx", {}).get("pattern", ""))
    hint = _PATTERN_HINTS.get(pattern, f"does not match {pattern}")
    return f"'{error['input']}' {hint}"


def _not_one_of(error: ErrorDetails, path: Path) -> str:
    options = [str(option) for option in get_args(_type_at(path))]
    listed = ", ".join(f"'{option}'" for option in options)
    return f"{error['input']!r} is not one of {listed}" + did_you_mean(error["input"], options)


def _positive(error: ErrorDetails, path: Path) -> str:
    return f"must be a positive integer, got {error['input']}"


def _not_negative(error: ErrorDetails, path: Path) -> str:
    return f"must not be negative, got {error['input']}"


def _empty(error: ErrorDetails, path: Path) -> str:
    return "must not be empty"


def _pydantic_message(error: ErrorDetails, path: Path) -> str:
    return str(error["msg"])


_MESSAGES: dict[str, Callable[[ErrorDetails, Path], str]] = {
    **dict.fromkeys(_EXPECTED, _expected),
    "missing": _missing,
    "extra_forbidden": _unknown_key,
    "string_pattern_mismatch": _pattern,
    "literal_error": _not_one_of,
    "greater_than": _positive,
    "greater_than_equal": _not_negative,
    "too_short": _empty,
}


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _type_at(path: Path) -> object:
    """The declared type of the value at ``path`` in the raw format."""
    kind: object = RawDefinition
    for part in path:
        kind = _unwrap(kind)
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            fields = {info.alias or name: info for name, info in kind.model_fields.items()}
            kind = fields[part].annotation if part in fields else None
        else:
            args = get_args(kind)
            kind = args[-1] if args else None
    return _unwrap(kind)


def _unwrap(kind: object) -> object:
    """``Annotated[X, ...]``, ``X | None`` and type aliases → ``X``."""
    while True:
        if isinstance(kind, TypeAliasType):
            kind = kind.__value__
        elif get_origin(kind) is Annotated:
            kind = get_args(kind)[0]
        elif get_origin(kind) in (Union, types.UnionType) and type(None) in get_args(kind):
            kind = next(arg for arg in get_args(kind) if arg is not type(None))
        else:
            return kind
