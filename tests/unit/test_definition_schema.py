"""The published JSON Schema: its shape, and that it accepts valid files and rejects bad ones.

``jsonschema`` is not a dependency, so a tiny validator for the keywords the schema uses checks
the files here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from kosiflow.definition import FORMAT, json_schema
from kosiflow.definition.source import parse_source

CASES = Path(__file__).parent / "definition_cases"
WORKFLOWS = Path(__file__).parents[2] / "workflows"
MINI = (CASES / "mini.yaml").read_text(encoding="utf-8")
SCHEMA = json_schema()
_KNOWN_KEYWORDS = {
    "$schema", "$id", "$defs", "$ref", "title", "description", "default", "type", "properties",
    "required", "additionalProperties", "patternProperties", "items", "enum", "const", "pattern",
    "minimum", "exclusiveMinimum", "minItems", "uniqueItems", "anyOf", "oneOf",
}  # fmt: skip
_TYPES: Mapping[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def _is_type(value: object, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def _errors(schema: Mapping[str, Any], value: object, path: str = "$") -> list[str]:
    """Errors of ``value`` against ``schema`` (a subset of draft 2020-12: what SCHEMA uses)."""
    assert set(schema) <= _KNOWN_KEYWORDS, set(schema) - _KNOWN_KEYWORDS
    if "$ref" in schema:
        return _errors(SCHEMA["$defs"][schema["$ref"].removeprefix("#/$defs/")], value, path)
    if "type" in schema and not _is_type(value, schema["type"]):
        return [f"{path}: not {schema['type']}"]
    errors = _combinator_errors(schema, value, path) + _value_errors(schema, value, path)
    if isinstance(value, list):
        errors += _array_errors(schema, value, path)
    if isinstance(value, dict):
        errors += _object_errors(schema, value, path)
    return errors


def _combinator_errors(schema: Mapping[str, Any], value: object, path: str) -> list[str]:
    errors = []
    if "anyOf" in schema and all(_errors(s, value, path) for s in schema["anyOf"]):
        errors.append(f"{path}: matches no anyOf")
    if "oneOf" in schema and sum(not _errors(s, value, path) for s in schema["oneOf"]) != 1:
        errors.append(f"{path}: matches not exactly one oneOf")
    return errors


def _value_errors(schema: Mapping[str, Any], value: object, path: str) -> list[str]:
    errors = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: not in enum")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: not the const")
    if "pattern" in schema and not re.search(schema["pattern"], str(value)):
        errors.append(f"{path}: does not match {schema['pattern']}")
    number = value if isinstance(value, int) else None
    if number is not None and number < schema.get("minimum", number):
        errors.append(f"{path}: below minimum")
    if number is not None and number <= schema.get("exclusiveMinimum", number - 1):
        errors.append(f"{path}: not above exclusiveMinimum")
    return errors


def _array_errors(schema: Mapping[str, Any], value: list[object], path: str) -> list[str]:
    items = schema.get("items", {})
    errors = [e for i, v in enumerate(value) for e in _errors(items, v, f"{path}[{i}]")]
    if len(value) < schema.get("minItems", 0):
        errors.append(f"{path}: too few items")
    if schema.get("uniqueItems") and len({json.dumps(v) for v in value}) != len(value):
        errors.append(f"{path}: items not unique")
    return errors


def _object_errors(schema: Mapping[str, Any], value: dict[str, object], path: str) -> list[str]:
    errors = [f"{path}: missing {key}" for key in schema.get("required", []) if key not in value]
    properties = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    for key, item in value.items():
        matched = [s for p, s in patterns.items() if re.search(p, key)]
        if key in properties:
            matched.append(properties[key])
        if not matched and schema.get("additionalProperties") is False:
            errors.append(f"{path}: unknown key {key}")
        for sub in matched:
            errors += _errors(sub, item, f"{path}.{key}")
    return errors


def _data(text: str) -> object:
    return parse_source(text, "test.yaml").data


def _example_files() -> list[Path]:
    return [CASES / "mini.yaml", CASES / "format-example.yaml", *sorted(WORKFLOWS.glob("*.yaml"))]


def test_the_schema_is_draft_2020_12_with_a_title() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert FORMAT in SCHEMA["title"]
    assert SCHEMA["type"] == "object"
    assert SCHEMA["additionalProperties"] is False
    assert set(SCHEMA["required"]) == {
        "format", "id", "version", "languages", "title", "roles", "initial", "phases",
        "transitions",
    }  # fmt: skip


def test_the_schema_is_plain_json() -> None:
    assert json.loads(json.dumps(SCHEMA)) == SCHEMA


def test_the_schema_offers_enums_for_the_rule_values() -> None:
    defs = SCHEMA["$defs"]

    assert SCHEMA["properties"]["format"]["const"] == FORMAT
    assert defs["RawItem"]["properties"]["evidence"]["enum"] == ["required", "optional"]
    assert defs["RawRequires"]["properties"]["checklist"]["enum"] == ["complete", "none"]
    assert defs["RawTransition"]["properties"]["reason"]["enum"] == ["required", "optional", "none"]


def test_the_schema_gives_patterns_for_ids() -> None:
    defs = SCHEMA["$defs"]

    assert SCHEMA["properties"]["id"]["pattern"] == "^[a-z0-9_-]+$"
    assert defs["RawPhase"]["properties"]["id"]["pattern"] == "^[a-z][a-z0-9_]*$"
    assert defs["RawTransition"]["properties"]["trigger"]["pattern"] == "^[a-z][a-z0-9_]*$"
    assert list(SCHEMA["properties"]["roles"]["patternProperties"]) == ["^[a-z][a-z0-9_]*$"]
    assert list(defs["Text"]["patternProperties"]) == ["^[a-z]{2}$"]


def test_the_schema_describes_the_properties_for_editors() -> None:
    for name in ("RawItem", "RawPhase", "RawRequires", "RawTransition"):
        definition = SCHEMA["$defs"][name]
        assert definition["description"]
        for key, prop in definition["properties"].items():
            described = "description" in prop or "$ref" in prop or "anyOf" in prop
            assert described, f"{name}.{key} has no description"
    assert "from" in SCHEMA["$defs"]["RawTransition"]["properties"]


@pytest.mark.parametrize("path", _example_files(), ids=lambda p: p.name)
def test_the_schema_accepts_the_valid_files(path: Path) -> None:
    assert _errors(SCHEMA, _data(path.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        ("version: 1", "version: 1\nversoin: 2", "$: unknown key versoin"),
        ("  - id: done\n", "  - id: done\n    colour: red\n", "$.phases[1]: unknown key colour"),
        ("version: 1\n", "", "$: missing version"),
        ("version: 1", "version: one", "$.version: not integer"),
        ("version: 1", "version: 0", "$.version: not above exclusiveMinimum"),
        ("id: mini", "id: Mini", "$.id: does not match ^[a-z0-9_-]+$"),
        ("    to: done", "    to: done\n    reason: nope", "$.transitions[0].reason: not in enum"),
        ("    from: start", "    from: 5", "$.transitions[0].from: matches not exactly one oneOf"),
        ("[de, en]", "[de, de]", "$.languages: items not unique"),
        ("{de: Mini, en: Mini}", "{de: Mini, EN: Mini}", "$.title: unknown key EN"),
        ("  science:", "  Science:", "$.roles: unknown key Science"),
    ],
)
def test_the_schema_rejects_bad_files(old: str, new: str, error: str) -> None:
    assert old in MINI
    assert error in _errors(SCHEMA, _data(MINI.replace(old, new, 1)))
