"""The workflow format as written in YAML (``kosiflow/v1``): its one description.

These pydantic models are used twice: to check the structure of a parsed file (strict types, no
unknown keys) and to publish the JSON Schema editors validate and complete with. Everything that
needs more than one value to check (references, translations, the phase graph) lives in
:mod:`kosiflow.definition.rules`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, StringConstraints, Tag
from typing_extensions import TypeAliasType

from kosiflow.definition.model import DEFAULT_ROLE

WORKFLOW_ID_PATTERN = r"^[a-z0-9_-]+$"
NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
LANGUAGE_PATTERN = r"^[a-z]{2}$"
SOURCE_PATTERN = r"^([a-z][a-z0-9_]*|\*)$"
ANY_PHASE = "*"

Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
Language = Annotated[str, StringConstraints(pattern=LANGUAGE_PATTERN)]

Text = TypeAliasType(
    "Text",
    Annotated[
        dict[Language, str],
        Field(
            description="One text per declared language, e.g. {de: Initiierung, en: Initiation}. "
            "Every language of `languages` must be given, and no other.",
            json_schema_extra={"additionalProperties": False},
        ),
    ],
)


def _sources_kind(value: object) -> str | None:
    if isinstance(value, str):
        return "one"
    if isinstance(value, list):
        return "list"
    return None


Sources = Annotated[
    Annotated[str, StringConstraints(pattern=SOURCE_PATTERN), Tag("one")]
    | Annotated[list[Name], Field(min_length=1), Tag("list")],
    Discriminator(
        _sources_kind,
        custom_error_type="sources_type",
        custom_error_message='expected a phase id, a list of phase ids or "*"',
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class RawItem(_Strict):
    """A checklist item of a phase."""

    model_config = ConfigDict(title="Checklist item")

    id: Name = Field(description="Unique within its phase.")
    title: Text
    description: Text | None = None
    roles: list[Name] = Field(
        default=[DEFAULT_ROLE], min_length=1, description="Who may tick it (declared roles)."
    )
    evidence: Literal["required", "optional"] = Field(
        default="optional", description="Whether ticking it needs evidence (a link or note)."
    )
    optional: bool = Field(default=False, description="true: the item does not block the gate.")
    waivable_by: list[Name] = Field(
        default=[], description="Roles that may waive the item, giving a reason."
    )


class RawPhase(_Strict):
    """A phase; the list order is the order progress is shown in."""

    model_config = ConfigDict(title="Phase")

    id: Name = Field(description="Unique among the phases.")
    title: Text
    description: Text | None = None
    max_days: int | None = Field(
        default=None, gt=0, description="After this many days the initiative is shown as overdue."
    )
    final: bool = Field(
        default=False,
        description="true: reaching the phase ends the initiative; no transitions leave it.",
    )
    checklist: list[RawItem] = Field(default=[], description="What must be done in this phase.")


class RawRequires(_Strict):
    """What must hold before the transition may fire (all of it)."""

    model_config = ConfigDict(title="Requirements")

    checklist: Literal["complete", "none"] = Field(
        default="complete",
        description="complete: every non-optional item of the source phase is done (or waived).",
    )
    approvals: list[Name] = Field(
        default=[], description="A sign-off by someone of each of these roles."
    )
    sectors: int = Field(
        default=0, ge=0, description="Participants from at least this many distinct roles."
    )


class RawTransition(_Strict):
    """A gate between phases, fired by its trigger."""

    model_config = ConfigDict(title="Transition")

    trigger: Name = Field(description="The name the transition is fired by.")
    title: Text | None = None
    sources: Sources = Field(
        alias="from",
        description='One phase id, a list of phase ids, or "*" (every non-final phase).',
    )
    to: Name = Field(description="The phase the transition leads to.")
    roles: list[Name] = Field(
        default=[DEFAULT_ROLE], min_length=1, description="Who may fire it (declared roles)."
    )
    requires: RawRequires = Field(
        default=RawRequires(), description="Omitted: {checklist: complete}."
    )
    reason: Literal["required", "optional", "none"] = Field(
        default="optional", description="Whether firing it asks for a reason."
    )
    auto: bool = Field(
        default=False, description="true: fires by itself as soon as every requirement holds."
    )

    def source_ids(self, phases: Iterable[RawPhase]) -> tuple[str, ...]:
        """The phases it leaves from, ``"*"`` expanded to every non-final phase of ``phases``."""
        if self.sources == ANY_PHASE:
            return tuple(phase.id for phase in phases if not phase.final)
        if isinstance(self.sources, str):
            return (self.sources,)
        return tuple(self.sources)


class RawDefinition(_Strict):
    """A kosiflow workflow definition."""

    format: Literal["kosiflow/v1"] = Field(description="The format version of this file.")
    id: Annotated[str, StringConstraints(pattern=WORKFLOW_ID_PATTERN)] = Field(
        description="The workflow's id: lowercase letters, digits, '-' and '_'."
    )
    version: int = Field(gt=0, description="Bump on every change that affects running initiatives.")
    languages: list[Language] = Field(
        min_length=1,
        description="Two-letter codes; every title and description exists in each of them.",
        json_schema_extra={"uniqueItems": True},
    )
    title: Text
    description: Text | None = None
    roles: dict[Name, Text] = Field(
        description="The declared roles; users carry one or more. 'coordinator' is required.",
        json_schema_extra={"additionalProperties": False},
    )
    initial: Name = Field(description="The phase new initiatives start in.")
    phases: list[RawPhase] = Field(min_length=1)
    transitions: list[RawTransition]
