"""A parsed file → a :class:`Definition`, or every problem of the file at once."""

from __future__ import annotations

from kosiflow.definition.build import build_definition
from kosiflow.definition.model import Definition
from kosiflow.definition.rules import check_rules
from kosiflow.definition.source import Source
from kosiflow.definition.structure import check_structure
from kosiflow.errors import DefinitionError


def validate_source(source: Source) -> Definition:
    """The definition ``source`` describes; raises DefinitionError listing every problem.

    Problems come in the order of the text (line, then column).
    """
    raw, parts, structure_problems = check_structure(source)
    problems = [*source.problems, *structure_problems, *check_rules(parts, source)]
    if raw is None or problems:
        raise DefinitionError(sorted(problems, key=lambda p: (p.line, p.column)))
    return build_definition(raw, text=source.text, source_name=source.name)
