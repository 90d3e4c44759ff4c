"""The workflows kosiflow knows: the files of a folder, and every version initiatives are pinned to.

New initiatives run under the newest version a file gives. Running initiatives keep the exact
version (and text) they were created under: it is stored in the database on first use and read
back from there, so a history stays interpretable after the file changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from threading import Lock

from kosiflow.definition import Definition, load_definition_text, load_workflows
from kosiflow.errors import NotFound
from kosiflow.store import Database, StoredDefinition


class WorkflowCatalog:
    """Definitions by ``(id, version)``; each is parsed once and then shared."""

    def __init__(self, definitions: Iterable[Definition] = ()) -> None:
        self._by_key: dict[tuple[str, int], Definition] = {}
        self._current: dict[str, Definition] = {}
        self._lock = Lock()
        for definition in definitions:
            self._add(definition)

    @classmethod
    def from_folder(cls, folder: str | Path) -> WorkflowCatalog:
        """Every workflow file of ``folder`` (raises DefinitionError listing every problem)."""
        return cls(load_workflows(folder))

    def _add(self, definition: Definition) -> None:
        self._by_key[definition.key] = definition
        current = self._current.get(definition.id)
        if current is None or current.version < definition.version:
            self._current[definition.id] = definition

    @property
    def current(self) -> list[Definition]:
        """The newest version of every workflow, by id."""
        return [self._current[k] for k in sorted(self._current)]

    def newest(self, workflow_id: str) -> Definition:
        """The version new initiatives of ``workflow_id`` start under."""
        definition = self._current.get(workflow_id)
        if definition is None:
            raise NotFound("workflow", workflow_id)
        return definition

    def versions(self, database: Database, workflow_id: str) -> list[int]:
        """Every known version of ``workflow_id``: loaded from the files or stored in the
        database (the versions initiatives were started under), ascending."""
        with database.read() as unit:
            stored = {d.version for d in unit.list_definitions() if d.workflow_id == workflow_id}
        loaded = {version for (known, version) in self._by_key if known == workflow_id}
        return sorted(stored | loaded)

    def register(self, database: Database) -> None:
        """Store every definition's text, refusing a changed file whose version was not bumped."""
        with database.write() as unit:
            for definition in self._by_key.values():
                unit.save_definition(_stored(definition))

    def pinned(self, database: Database, workflow_id: str, version: int) -> Definition:
        """The exact definition an initiative runs under, from the files or the database."""
        definition = self._by_key.get((workflow_id, version))
        if definition is not None:
            return definition
        with self._lock:
            definition = self._by_key.get((workflow_id, version))
            if definition is None:
                with database.read() as unit:
                    stored = unit.load_definition(workflow_id, version)
                if stored is None:
                    raise NotFound("workflow", f"{workflow_id} v{version}")
                definition = load_definition_text(stored.text, stored.source_name)
                self._by_key[definition.key] = definition
        return definition


def _stored(definition: Definition) -> StoredDefinition:
    return StoredDefinition(
        workflow_id=definition.id,
        version=definition.version,
        content_hash=definition.content_hash,
        text=definition.source_text,
        source_name=definition.source_name,
    )
