"""Every sentence the step library says to people, in English and German.

A feature file's language (``# language: de``) chooses the language of its failures; other
languages get English.
"""

from __future__ import annotations

from collections.abc import Mapping

_TEXTS: Mapping[str, Mapping[str, str]] = {
    "en": {
        # the workflow, people and the initiative
        "workflow_first": 'Name the workflow first, e.g. Given the workflow "my-workflow.yaml".',
        "workflow_twice": "A scenario runs against one workflow; it was named already.",
        "workflow_missing": 'There is no workflow file "{file}" in {folder} or above it.',
        "workflow_invalid": 'The workflow file "{file}" is not valid:',
        "role_unknown": "The workflow has no role '{role}'{hint}; roles: {known}.",
        "person_twice": '"{person}" was introduced twice.',
        "person_unknown": 'Nobody called "{person}" was introduced{hint}; known: {known}. '
        'Introduce them first, e.g. Given "{person}" with the role "coordinator".',
        "initiative_first": "Start an initiative first, e.g. "
        'Given "Jana Becker" has started the initiative "My initiative".',
        "system": "system",
        "did_you_mean": " (did you mean '{word}'?)",
        # commands
        "gate_shut": "Gate '{trigger}' is shut",
        "gate_shut_for": "Gate '{trigger}' is shut for \"{person}\"",
        "may_not_start": '"{person}" may not start the initiative "{title}"',
        "may_not_involve": '"{person}" may not involve "{participant}"',
        "may_not_tick": "\"{person}\" may not tick '{item}'",
        "may_not_reopen": "\"{person}\" may not reopen '{item}'",
        "may_not_waive": "\"{person}\" may not waive '{item}'",
        "may_not_approve": "\"{person}\" may not sign off '{trigger}'",
        "may_not_hold": '"{person}" may not put the initiative on hold',
        "may_not_resume": '"{person}" may not resume the initiative',
        "may_not_note": '"{person}" may not add a note',
        "conflict": '"{person}" was too late: somebody else changed the initiative first '
        "(version {expected} expected, {actual} found).",
        "accepted": '"{person}" was not refused: the command was accepted (events: {events}).',
        "no_command": "No command was sent before this step.",
        "not_refused": "The step before was not refused. {outcome}",
        "participant_name": "Participant for {role}",
        # shortcuts
        "shortcut_evidence": "Evidence (written by the specification)",
        "shortcut_reason": "Reached by the specification",
        "nobody_may": "Nobody in this scenario may {action}; introduce somebody with one of "
        "the roles {roles}.",
        "action_tick": "tick {item}",
        "action_approve": "sign off {trigger} for {role}",
        "action_fire": "fire {trigger}",
        "action_involve": "involve participants",
        "unreachable": "The phase {target} cannot be reached from the phase {phase}.",
        "not_a_step_here": "The step {trigger} does not leave the phase {phase}; "
        "steps from here: {steps}.",
        # checks
        "phase_is": "The initiative is in the phase {actual}, not in {expected}.",
        "visit_is": "This is visit {actual} of the phase {phase}, not visit {expected}.",
        "is_on_hold": "The initiative is on hold ({reason}).",
        "is_not_on_hold": "The initiative is not on hold.",
        "item_not_here": "The phase {phase} has no checklist item {item}.",
        "item_is": "The item {item} is {actual}, not {expected}.",
        "status_unknown": "'{status}' is not a status of an item; use one of: {known}.",
        "items_done": "Items of the phase are done already: {items}.",
        "progress_is": "The progress is {actual} percent, not {expected}.",
        "sectors_are": "Participants bring {actual} sectors ({sectors}), not {expected}.",
        "step_blocked": "The step {trigger} is blocked",
        "step_open": "The step {trigger} is not blocked at all.",
        "step_not_blocked_by": "The step {trigger} is not blocked by {wanted}; what blocks it:",
        "blockers_differ": "The step {trigger} is blocked by other reasons than the table says.",
        "refusals_differ": "It was refused for other reasons than the table says.",
        "expected_rows": "Expected:",
        "found_rows": "Found:",
        "not_refused_because": "It was refused, but not because of {wanted}:",
        "message_missing": 'It was refused, but no reason says "{text}":',
        "signoffs_are": "The step {trigger} has the sign-offs of {actual}, not of {expected}.",
        "race_outcome": "Expected one winner and a conflict for everybody else; it went:",
        "not_a_race": "The step before was no race of several people.",
        "nothing": "nothing",
        # history
        "history_missing": "The history has no event like row {row} ({wanted}) after the "
        "ones matched before. The history:",
        "history_count": "The history has {actual} events, not {expected}.",
        "chain_broken": "The hash chain of the history is broken.",
        "visits_count": "The phase {phase} was visited {actual} times, not {expected}.",
        "not_automatic": "The system did not fire {trigger} by itself. Phase changes:",
        "table_columns": "The table needs the columns {columns}; it has {found}.",
        # failures and reports
        "scenario_failed": 'Scenario "{scenario}" ({where}):',
        "unknown_step": "This step is not in kosiflow's step library:",
        "closest_steps": "The closest known steps:",
        "no_close_step": "No known step is close; see `kosiflow steps --lang {language}`.",
        "error_in_step": "The step failed unexpectedly",
    },
    "de": {
        "workflow_first": "Nennen Sie zuerst den Ablauf, z. B. Angenommen der Ablauf "
        '"mein-ablauf.yaml".',
        "workflow_twice": "Ein Szenario läuft gegen einen Ablauf; er wurde schon genannt.",
        "workflow_missing": 'Es gibt keine Ablaufdatei "{file}" in {folder} oder darüber.',
        "workflow_invalid": 'Die Ablaufdatei "{file}" ist nicht gültig:',
        "role_unknown": "Der Ablauf kennt keine Rolle '{role}'{hint}; Rollen: {known}.",
        "person_twice": '"{person}" wurde zweimal eingeführt.',
        "person_unknown": 'Niemand namens "{person}" wurde eingeführt{hint}; bekannt: {known}. '
        'Führen Sie die Person zuerst ein, z. B. Angenommen "{person}" mit der Rolle '
        '"coordinator".',
        "initiative_first": "Legen Sie zuerst eine Initiative an, z. B. "
        'Angenommen "Jana Becker" hat die Initiative "Meine Initiative" angelegt.',
        "system": "System",
        "did_you_mean": " (meinten Sie '{word}'?)",
        "gate_shut": "Gate '{trigger}' ist geschlossen",
        "gate_shut_for": "Gate '{trigger}' ist für \"{person}\" geschlossen",
        "may_not_start": '"{person}" darf die Initiative "{title}" nicht anlegen',
        "may_not_involve": '"{person}" darf "{participant}" nicht beteiligen',
        "may_not_tick": "\"{person}\" darf '{item}' nicht abhaken",
        "may_not_reopen": "\"{person}\" darf '{item}' nicht wieder öffnen",
        "may_not_waive": "\"{person}\" darf '{item}' nicht erlassen",
        "may_not_approve": "\"{person}\" darf '{trigger}' nicht freigeben",
        "may_not_hold": '"{person}" darf die Initiative nicht pausieren',
        "may_not_resume": '"{person}" darf die Initiative nicht fortsetzen',
        "may_not_note": '"{person}" darf keine Notiz hinzufügen',
        "conflict": '"{person}" war zu spät: jemand anderes hat die Initiative zuerst geändert '
        "(Version {expected} erwartet, {actual} vorgefunden).",
        "accepted": '"{person}" wurde nicht abgelehnt: der Befehl wurde angenommen '
        "(Ereignisse: {events}).",
        "no_command": "Vor diesem Schritt wurde kein Befehl gesendet.",
        "not_refused": "Der Schritt davor wurde nicht abgelehnt. {outcome}",
        "participant_name": "Beteiligte Person für {role}",
        "shortcut_evidence": "Nachweis (von der Spezifikation eingetragen)",
        "shortcut_reason": "Von der Spezifikation erreicht",
        "nobody_may": "Niemand in diesem Szenario darf {action}; führen Sie jemanden mit einer "
        "der Rollen {roles} ein.",
        "action_tick": "{item} abhaken",
        "action_approve": "{trigger} für {role} freigeben",
        "action_fire": "{trigger} auslösen",
        "action_involve": "Beteiligte aufnehmen",
        "unreachable": "Die Phase {target} ist aus der Phase {phase} nicht erreichbar.",
        "not_a_step_here": "Der Schritt {trigger} führt nicht aus der Phase {phase}; "
        "Schritte von hier: {steps}.",
        "phase_is": "Die Initiative ist in der Phase {actual}, nicht in {expected}.",
        "visit_is": "Das ist der {actual}. Besuch der Phase {phase}, nicht der {expected}.",
        "is_on_hold": "Die Initiative ist pausiert ({reason}).",
        "is_not_on_hold": "Die Initiative ist nicht pausiert.",
        "item_not_here": "Die Phase {phase} hat keinen Checklistenpunkt {item}.",
        "item_is": "Der Punkt {item} ist {actual}, nicht {expected}.",
        "status_unknown": "'{status}' ist kein Status eines Punkts; möglich sind: {known}.",
        "items_done": "Punkte der Phase sind schon erledigt: {items}.",
        "progress_is": "Der Fortschritt beträgt {actual} Prozent, nicht {expected}.",
        "sectors_are": "Beteiligte bringen {actual} Sektoren ein ({sectors}), nicht {expected}.",
        "step_blocked": "Der Schritt {trigger} ist gesperrt",
        "step_open": "Der Schritt {trigger} ist gar nicht gesperrt.",
        "step_not_blocked_by": "Der Schritt {trigger} ist nicht gesperrt durch {wanted}; "
        "ihn sperrt:",
        "blockers_differ": "Der Schritt {trigger} ist aus anderen Gründen gesperrt, als die "
        "Tabelle sagt.",
        "refusals_differ": "Es wurde aus anderen Gründen abgelehnt, als die Tabelle sagt.",
        "expected_rows": "Erwartet:",
        "found_rows": "Gefunden:",
        "not_refused_because": "Es wurde abgelehnt, aber nicht wegen {wanted}:",
        "message_missing": 'Es wurde abgelehnt, aber kein Grund lautet "{text}":',
        "signoffs_are": "Der Schritt {trigger} hat die Freigaben von {actual}, nicht von "
        "{expected}.",
        "race_outcome": "Erwartet: einer gewinnt, alle anderen erhalten einen Konflikt; es kam so:",
        "not_a_race": "Der Schritt davor war kein Wettlauf mehrerer Personen.",
        "nothing": "nichts",
        "history_missing": "Die Historie hat nach den zuvor gefundenen Ereignissen keines wie "
        "Zeile {row} ({wanted}). Die Historie:",
        "history_count": "Die Historie hat {actual} Ereignisse, nicht {expected}.",
        "chain_broken": "Die Hash-Kette der Historie ist gebrochen.",
        "visits_count": "Die Phase {phase} wurde {actual}-mal besucht, nicht {expected}-mal.",
        "not_automatic": "Das System hat {trigger} nicht selbst ausgelöst. Phasenwechsel:",
        "table_columns": "Die Tabelle braucht die Spalten {columns}; sie hat {found}.",
        "scenario_failed": 'Szenario "{scenario}" ({where}):',
        "unknown_step": "Diesen Schritt kennt die Schrittbibliothek von kosiflow nicht:",
        "closest_steps": "Die ähnlichsten bekannten Schritte:",
        "no_close_step": "Kein bekannter Schritt ist ähnlich; "
        "siehe `kosiflow steps --lang {language}`.",
        "error_in_step": "Der Schritt ist unerwartet gescheitert",
    },
}


def language_of(lang: str) -> str:
    """The language kosiflow speaks that is closest to a feature's (``de``, else ``en``)."""
    return "de" if lang.lower().startswith("de") else "en"


def say(lang: str, key: str, **values: object) -> str:
    """The sentence ``key`` in ``lang`` (English for languages kosiflow does not speak)."""
    return _TEXTS[language_of(lang)][key].format(**values)
