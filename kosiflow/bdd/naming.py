"""The workflow's ids and titles: steps may name a phase, item, step or role by either."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from kosiflow.definition import Definition, Text

Kind = Literal["phase", "item", "trigger", "role"]


class Names:
    """Ids and titles of one workflow."""

    def __init__(self, definition: Definition) -> None:
        self._titles: dict[Kind, Mapping[str, Text]] = {
            "phase": {p.id: p.title for p in definition.phases},
            "item": {i.id: i.title for p in definition.phases for i in p.checklist},
            "trigger": {t.trigger: t.title for t in definition.transitions if t.title is not None},
            "role": definition.roles,
        }
        self._triggers = set(definition.triggers)

    def id_of(self, kind: Kind, text: str) -> str:
        """``text`` when it is an id; the id whose title (in any language) it is; else ``text``
        (so that the engine can refuse an unknown id with its suggestion)."""
        text = text.strip()
        titles = self._titles[kind]
        if text in titles or (kind == "trigger" and text in self._triggers):
            return text
        for key, title in titles.items():
            if text in title.by_lang.values():
                return key
        return text

    def ids_of(self, text: str) -> set[str]:
        """``text`` and every id it may name, of any kind."""
        return {text, *(self.id_of(kind, text) for kind in self._titles)}

    def label(self, kind: Kind, key: str, lang: str) -> str:
        """``'id' (Title)`` in ``lang`` (just ``'id'`` when it has no title)."""
        title = self._titles[kind].get(key)
        return f"'{key}'" if title is None else f"'{key}' ({title.in_(lang)})"
