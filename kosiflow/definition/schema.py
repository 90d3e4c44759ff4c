"""The JSON Schema (draft 2020-12) of the workflow format, for editors."""

from __future__ import annotations

from typing import Any

from kosiflow.definition.model import FORMAT
from kosiflow.definition.raw import RawDefinition

SCHEMA_ID = "https://kosiflow.example/schema/kosiflow-v1.json"
"""The schema's ``$id`` (a name, not necessarily a reachable address)."""


def json_schema() -> dict[str, Any]:
    """The JSON Schema of ``kosiflow/v1`` files, generated from the raw format.

    It describes the structure (keys, types, enums, id patterns); the rules that need more than
    one value, such as references and translations, are only checked by ``kosiflow validate``.
    """
    schema = RawDefinition.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": f"kosiflow workflow ({FORMAT})",
    }
