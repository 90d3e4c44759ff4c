"""Loading workflow definitions from files, folders and stored text."""

from __future__ import annotations

import os
from pathlib import Path

from kosiflow.definition.model import Definition
from kosiflow.definition.source import DOCUMENT, parse_source, read_text
from kosiflow.definition.validate import validate_source
from kosiflow.errors import DefinitionError, Problem


def load_definition(path: str | os.PathLike[str]) -> Definition:
    """Load and validate one workflow file.

    Raises:
        DefinitionError: listing every problem of the file, each with its line and column.
    """
    name = os.fspath(path)
    return load_definition_text(read_text(path), name)


def load_definition_text(text: str, source_name: str = "<string>") -> Definition:
    """Validate workflow YAML given as text (e.g. a pinned version stored in the database).

    Raises:
        DefinitionError: listing every problem of the text; ``source_name`` names it.
    """
    return validate_source(parse_source(text, source_name))


def load_workflows(directory: str | os.PathLike[str]) -> tuple[Definition, ...]:
    """Every ``*.yaml`` and ``*.yml`` file of ``directory``, in file-name order.

    Raises:
        DefinitionError: with the problems of every bad file, and for two files that define the
            same ``(id, version)``.
    """
    folder = Path(directory)
    if not folder.is_dir():
        problem = Problem(os.fspath(directory), 1, 1, DOCUMENT, "not a folder")
        raise DefinitionError([problem])
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    definitions: list[Definition] = []
    problems: list[Problem] = []
    first: dict[tuple[str, int], str] = {}
    for path in files:
        try:
            source = parse_source(read_text(path), os.fspath(path))
            definition = validate_source(source)
        except DefinitionError as exc:
            problems.extend(exc.problems)
            continue
        known = first.setdefault(definition.key, source.name)
        if known != source.name:
            message = f"workflow '{definition.id}' version {definition.version} is also in {known}"
            problems.append(source.problem(("id",), message))
            continue
        definitions.append(definition)
    if problems:
        raise DefinitionError(problems)
    return tuple(definitions)
