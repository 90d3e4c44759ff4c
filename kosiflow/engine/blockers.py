"""Blockers: why a command is refused, as a code for machines and a sentence for people.

Every code has a German and an English sentence. Placeholders are filled from the blocker's
params, with ids turned into the workflow's own titles in the sentence's language.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from kosiflow.definition.model import Definition

LANGUAGES = ("de", "en")

_MESSAGES: Mapping[str, Mapping[str, str]] = {
    "not_created": {
        "en": "The initiative does not exist yet.",
        "de": "Die Initiative existiert noch nicht.",
    },
    "already_created": {
        "en": "The initiative exists already.",
        "de": "Die Initiative existiert bereits.",
    },
    "ended": {
        "en": "The initiative has ended in phase '{phase}'; nothing can be changed any more.",
        "de": "Die Initiative ist in der Phase '{phase}' beendet; sie kann nicht mehr "
        "geändert werden.",
    },
    "on_hold": {
        "en": "The initiative is on hold ({reason}); resume it first.",
        "de": "Die Initiative ist pausiert ({reason}); zuerst fortsetzen.",
    },
    "not_on_hold": {
        "en": "The initiative is not on hold.",
        "de": "Die Initiative ist nicht pausiert.",
    },
    "role_missing": {
        "en": "Only {roles} may {action}.",
        "de": "Nur {roles} darf {action}.",
    },
    "trigger_unknown": {
        "en": "The workflow has no step '{trigger}'{suggestion}.",
        "de": "Der Ablauf kennt keinen Schritt '{trigger}'{suggestion}.",
    },
    "trigger_not_available": {
        "en": "'{trigger}' is not possible from phase '{phase}'; possible now: {available}.",
        "de": "'{trigger}' ist aus der Phase '{phase}' nicht möglich; möglich sind: {available}.",
    },
    "item_open": {
        "en": "Checklist item '{item}' is not done yet.",
        "de": "Checklistenpunkt '{item}' ist noch offen.",
    },
    "approval_missing": {
        "en": "Sign-off by {role} is missing.",
        "de": "Freigabe durch {role} fehlt.",
    },
    "sectors_missing": {
        "en": "Participants from {required} different sectors are needed; there are {present}.",
        "de": "Beteiligte aus {required} verschiedenen Sektoren sind nötig; es sind {present}.",
    },
    "reason_required": {
        "en": "A reason is required.",
        "de": "Eine Begründung ist erforderlich.",
    },
    "reason_not_allowed": {
        "en": "'{trigger}' takes no reason.",
        "de": "'{trigger}' nimmt keine Begründung an.",
    },
    "text_required": {
        "en": "The note is empty.",
        "de": "Die Notiz ist leer.",
    },
    "title_required": {
        "en": "A title is required.",
        "de": "Ein Titel ist erforderlich.",
    },
    "item_unknown": {
        "en": "Phase '{phase}' has no checklist item '{item}'{suggestion}.",
        "de": "Die Phase '{phase}' hat keinen Checklistenpunkt '{item}'{suggestion}.",
    },
    "item_already_done": {
        "en": "Checklist item '{item}' is already done.",
        "de": "Checklistenpunkt '{item}' ist bereits erledigt.",
    },
    "item_not_done": {
        "en": "Checklist item '{item}' is not done, so it cannot be reopened.",
        "de": "Checklistenpunkt '{item}' ist nicht erledigt und kann nicht wieder geöffnet werden.",
    },
    "evidence_required": {
        "en": "Checklist item '{item}' needs evidence (a link or document reference).",
        "de": "Checklistenpunkt '{item}' braucht einen Nachweis (Link oder Dokumentverweis).",
    },
    "item_not_waivable": {
        "en": "Checklist item '{item}' cannot be waived.",
        "de": "Checklistenpunkt '{item}' kann nicht erlassen werden.",
    },
    "approval_not_needed": {
        "en": "'{trigger}' needs no sign-off by {role}.",
        "de": "'{trigger}' braucht keine Freigabe durch {role}.",
    },
    "approval_role_ambiguous": {
        "en": "You hold several roles that sign off '{trigger}' ({roles}); "
        "name the one you sign for.",
        "de": "Sie haben mehrere Rollen, die '{trigger}' freigeben ({roles}); nennen Sie eine.",
    },
    "already_approved": {
        "en": "{role} has already signed off '{trigger}'.",
        "de": "{role} hat '{trigger}' bereits freigegeben.",
    },
    "role_unknown": {
        "en": "The workflow has no role '{role}'{suggestion}.",
        "de": "Der Ablauf kennt keine Rolle '{role}'{suggestion}.",
    },
    "system_only": {
        "en": "Only kosiflow itself records that a deadline has passed.",
        "de": "Nur kosiflow selbst hält fest, dass eine Frist verstrichen ist.",
    },
    "no_deadline": {
        "en": "Phase '{phase}' has no deadline of {max_days} days.",
        "de": "Die Phase '{phase}' hat keine Frist von {max_days} Tagen.",
    },
    "visit_over": {
        "en": "The initiative is no longer in visit {visit} of phase '{phase}'.",
        "de": "Die Initiative ist nicht mehr im {visit}. Durchlauf der Phase '{phase}'.",
    },
    "overdue_recorded": {
        "en": "That this visit of phase '{phase}' is overdue is recorded already.",
        "de": "Dass dieser Durchlauf der Phase '{phase}' überfällig ist, ist bereits erfasst.",
    },
    "workflow_other": {
        "en": "The initiative runs under workflow '{workflow}', not '{other}'.",
        "de": "Die Initiative läuft im Ablauf '{workflow}', nicht in '{other}'.",
    },
    "version_current": {
        "en": "The initiative runs under version {version} already.",
        "de": "Die Initiative läuft bereits in Version {version}.",
    },
    "phase_missing": {
        "en": "Version {version} has no phase '{landing}' for the initiative to land in "
        "(it is in '{phase}'); map that phase to one of: {phases}.",
        "de": "Version {version} hat keine Phase '{landing}', in der die Initiative landen "
        "könnte (sie ist in '{phase}'); ordnen Sie diese Phase einer von diesen zu: {phases}.",
    },
    "phase_final": {
        "en": "The initiative would land in '{landing}', a final phase of version {version}; "
        "a migration does not end initiatives.",
        "de": "Die Initiative würde in '{landing}' landen, einer Endphase von Version "
        "{version}; eine Überführung beendet keine Initiativen.",
    },
}

_SUGGESTION = {"en": " (did you mean '{0}'?)", "de": " (meinten Sie '{0}'?)"}
_LIST_SEPARATOR = {"en": " or ", "de": " oder "}
_NOTHING = {"en": "nothing", "de": "nichts"}


@dataclass(frozen=True, slots=True)
class Blocker:
    """One reason a command is refused."""

    code: str
    params: Mapping[str, str | int]
    """Machine-readable details (ids, counts), e.g. ``{"item": "mandate_secured"}``."""
    messages: Mapping[str, str]
    """The sentence for people, by language."""

    def message(self, lang: str) -> str:
        return self.messages.get(lang) or self.messages["en"]


def _label(definition: Definition, key: str, value: str, lang: str, phase: str | None) -> str:
    """The workflow's title for an id, in ``lang`` (items are looked up in ``phase``)."""
    if key == "item" and phase is not None and definition.has_phase(phase):
        item = definition.phase(phase).item(value)
        if item is not None:
            return item.title.in_(lang)
    if key == "phase" and definition.has_phase(value):
        return definition.phase(value).title.in_(lang)
    if key == "role" and value in definition.roles:
        return definition.roles[value].in_(lang)
    if key == "trigger":
        for transition in definition.transitions:
            if transition.trigger == value and transition.title is not None:
                return transition.title.in_(lang)
    return value


_ACTIONS: Mapping[str, Mapping[str, str]] = {
    "create": {"en": "create initiatives", "de": "Initiativen anlegen"},
    "add_participant": {"en": "add participants", "de": "Beteiligte hinzufügen"},
    "tick": {"en": "tick '{item}'", "de": "'{item}' abhaken"},
    "reopen": {"en": "reopen '{item}'", "de": "'{item}' wieder öffnen"},
    "waive": {"en": "waive '{item}'", "de": "'{item}' erlassen"},
    "approve": {"en": "sign off '{trigger}'", "de": "'{trigger}' freigeben"},
    "fire": {"en": "fire '{trigger}'", "de": "'{trigger}' auslösen"},
    "hold": {"en": "put initiatives on hold", "de": "Initiativen pausieren"},
    "resume": {"en": "resume initiatives", "de": "Initiativen fortsetzen"},
    "note": {"en": "add notes", "de": "Notizen hinzufügen"},
    "migrate": {
        "en": "move initiatives to another workflow version",
        "de": "Initiativen in eine andere Ablaufversion überführen",
    },
}


def _fill(definition: Definition, code: str, params: Mapping[str, str | int], lang: str) -> str:
    values: dict[str, str | int] = {}
    phase = str(params["phase"]) if "phase" in params else None
    for key, value in params.items():
        if key == "roles":
            labels = [
                _label(definition, "role", r, lang, phase) for r in str(value).split(",") if r
            ]
            values[key] = _LIST_SEPARATOR[lang].join(labels) if labels else _NOTHING[lang]
        elif key == "available":
            labels = [
                _label(definition, "trigger", t, lang, phase) for t in str(value).split(",") if t
            ]
            values[key] = ", ".join(labels) if labels else _NOTHING[lang]
        elif isinstance(value, str) and key != "suggestion":
            values[key] = _label(definition, key, value, lang, phase)
        else:
            values[key] = value
    suggestion = params.get("suggestion")
    values["suggestion"] = _SUGGESTION[lang].format(suggestion) if suggestion else ""
    if "action" in params:
        values["action"] = _ACTIONS[str(params["action"])][lang].format(**values)
    return _MESSAGES[code][lang].format(**values)


class _Sentences(Mapping[str, str]):
    """A blocker's sentence in every language kosiflow speaks, each written when first read:
    an answer needs one language, and the progress view lists every blocker of every step."""

    __slots__ = ("_code", "_definition", "_params", "_written")

    def __init__(self, definition: Definition, code: str, params: Mapping[str, str | int]) -> None:
        self._definition = definition
        self._code = code
        self._params = params
        self._written: dict[str, str] = {}

    def __getitem__(self, lang: str) -> str:
        written = self._written.get(lang)
        if written is None:
            if lang not in LANGUAGES:
                raise KeyError(lang)
            written = self._written[lang] = _fill(self._definition, self._code, self._params, lang)
        return written

    def __iter__(self) -> Iterator[str]:
        return iter(LANGUAGES)

    def __len__(self) -> int:
        return len(LANGUAGES)


def blocker(definition: Definition, code: str, **params: str | int) -> Blocker:
    """A blocker with its sentences in every language kosiflow speaks."""
    return Blocker(code, params, _Sentences(definition, code, params))
