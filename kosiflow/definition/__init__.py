"""Workflow definitions: loading and validating the YAML files, and their typed model."""

from __future__ import annotations

from kosiflow.definition.diagram import PhaseMark, diagram_mermaid, diagram_svg
from kosiflow.definition.load import load_definition, load_definition_text, load_workflows
from kosiflow.definition.model import (
    DEFAULT_ROLE,
    FORMAT,
    ChecklistItem,
    ChecklistRule,
    Definition,
    EvidenceRule,
    Phase,
    ReasonRule,
    Requirements,
    Text,
    Transition,
)
from kosiflow.definition.rules import RESERVED_ROLES
from kosiflow.definition.schema import json_schema
from kosiflow.definition.source import MAX_BYTES, MAX_DEPTH, MAX_NODES

__all__ = [
    "DEFAULT_ROLE",
    "FORMAT",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "RESERVED_ROLES",
    "ChecklistItem",
    "ChecklistRule",
    "Definition",
    "EvidenceRule",
    "Phase",
    "PhaseMark",
    "ReasonRule",
    "Requirements",
    "Text",
    "Transition",
    "diagram_mermaid",
    "diagram_svg",
    "json_schema",
    "load_definition",
    "load_definition_text",
    "load_workflows",
]
