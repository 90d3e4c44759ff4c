"""A workflow's ids in the workflow's own words (phase, item, role and step titles), in one
language; an id stays as it is when the definition does not know it (or there is none, for a
workflow only stored in the database)."""

from collections.abc import Iterable

from api.pages.texts import translate
from kosiflow.definition import Definition


class Wording:
    """Titles from ``definition`` and texts from the catalogue, in ``lang``."""

    def __init__(self, definition: Definition | None, lang: str) -> None:
        self.definition = definition
        self.lang = lang

    def text(self, key: str, **params: str | int) -> str:
        return translate(self.lang, key, **params)

    def phase(self, phase_id: str) -> str:
        d = self.definition
        return d.phase(phase_id).title.in_(self.lang) if d and d.has_phase(phase_id) else phase_id

    def is_final(self, phase_id: str) -> bool:
        d = self.definition
        return bool(d and d.has_phase(phase_id) and d.phase(phase_id).final)

    def item(self, phase_id: str, item_id: str) -> str:
        d = self.definition
        item = d.phase(phase_id).item(item_id) if d and d.has_phase(phase_id) else None
        return item_id if item is None else item.title.in_(self.lang)

    def role(self, role: str) -> str:
        titles = self.definition.roles if self.definition else {}
        return titles[role].in_(self.lang) if role in titles else role

    def roles(self, roles: Iterable[str]) -> str:
        """Role titles, comma-separated (empty for none)."""
        return ", ".join(self.role(role) for role in roles)

    def trigger(self, trigger: str) -> str:
        """The title of the step ``trigger`` (its first titled transition), else the trigger."""
        for transition in self.definition.transitions if self.definition else ():
            if transition.trigger == trigger and transition.title is not None:
                return transition.title.in_(self.lang)
        return trigger
