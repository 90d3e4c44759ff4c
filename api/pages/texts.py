"""Every text the pages show, in English and German (one catalogue; blockers come from the
engine in both languages already).

Placeholders are filled with ``str.format``: values are inserted as they are (the templates
escape the finished sentence), and a value is never used as a format string itself.
"""

from collections.abc import Mapping

TEXTS: Mapping[str, Mapping[str, str]] = {
    # -- frame --------------------------------------------------------------------------------
    "nav.skip": {"en": "Skip to content", "de": "Zum Inhalt springen"},
    "nav.label": {"en": "Main navigation", "de": "Hauptnavigation"},
    "nav.dashboard": {"en": "All initiatives", "de": "Alle Initiativen"},
    "nav.language": {"en": "Language", "de": "Sprache"},
    "nav.signed_in_as": {"en": "Signed in as {name}", "de": "Angemeldet als {name}"},
    "nav.sign_out": {"en": "Sign out", "de": "Abmelden"},
    "footer.text": {
        "en": "kosiflow — workflows of municipal social-innovation labs",
        "de": "kosiflow — Abläufe kommunaler Labore sozialer Innovation",
    },
    "problems.title": {"en": "That did not work", "de": "Das hat nicht geklappt"},
    "live.updated": {
        "en": "Updated with the latest changes at {time}.",
        "de": "Um {time} mit den neuesten Änderungen aktualisiert.",
    },
    "live.waiting": {
        "en": "There are new changes; this part updates once you leave the field you are "
        "typing in (what you typed stays).",
        "de": "Es gibt neue Änderungen; dieser Teil wird aktualisiert, sobald Sie das Feld "
        "verlassen, in das Sie gerade schreiben (Ihre Eingabe bleibt erhalten).",
    },
    "form.optional": {"en": "optional", "de": "optional"},
    # -- sign-in ------------------------------------------------------------------------------
    "login.title": {"en": "Sign in", "de": "Anmelden"},
    "login.intro": {
        "en": "Sign in with your personal API token.",
        "de": "Melden Sie sich mit Ihrem persönlichen API-Token an.",
    },
    "login.token": {"en": "API token", "de": "API-Token"},
    "login.token_help": {
        "en": "Your lab's administrators give you a token (kosiflow users add / users token).",
        "de": "Ihr Token erhalten Sie von der Administration des Labs "
        "(kosiflow users add / users token).",
    },
    "login.submit": {"en": "Sign in", "de": "Anmelden"},
    "login.bad_token": {
        "en": "This token is not valid. Check it and try again.",
        "de": "Dieses Token ist nicht gültig. Bitte prüfen und erneut versuchen.",
    },
    "login.form_expired": {
        "en": "The sign-in form has expired or did not come from this site. Please sign in again.",
        "de": "Das Anmeldeformular ist abgelaufen oder stammt nicht von dieser Seite. "
        "Bitte erneut anmelden.",
    },
    # -- flash messages after a form ----------------------------------------------------------
    "flash.signed_out": {"en": "You have signed out.", "de": "Sie haben sich abgemeldet."},
    "flash.created": {"en": "The initiative was started.", "de": "Die Initiative wurde angelegt."},
    "flash.ticked": {"en": "The item was ticked.", "de": "Der Punkt wurde abgehakt."},
    "flash.reopened": {"en": "The item was reopened.", "de": "Der Punkt wurde wieder geöffnet."},
    "flash.waived": {"en": "The item was waived.", "de": "Der Punkt wurde erlassen."},
    "flash.approved": {"en": "Your sign-off was recorded.", "de": "Ihre Freigabe wurde erfasst."},
    "flash.fired": {"en": "The step was taken.", "de": "Der Schritt wurde ausgeführt."},
    "flash.held": {"en": "The initiative is on hold.", "de": "Die Initiative ist pausiert."},
    "flash.resumed": {"en": "The initiative was resumed.", "de": "Die Initiative läuft weiter."},
    "flash.noted": {"en": "The note was added.", "de": "Die Notiz wurde hinzugefügt."},
    "flash.participant_added": {
        "en": "The participant was added.",
        "de": "Die beteiligte Person wurde hinzugefügt.",
    },
    "conflict.changed": {
        "en": "Somebody changed this initiative meanwhile, so nothing was saved. "
        "Here is the current state: check it and try again.",
        "de": "Jemand hat die Initiative inzwischen geändert, daher wurde nichts gespeichert. "
        "Hier ist der aktuelle Stand: bitte prüfen und erneut versuchen.",
    },
    # -- errors -------------------------------------------------------------------------------
    "status.403": {"en": "Not allowed", "de": "Nicht erlaubt"},
    "status.404": {"en": "Not found", "de": "Nicht gefunden"},
    "status.422": {"en": "Invalid input", "de": "Ungültige Eingabe"},
    "status.500": {"en": "Something went wrong", "de": "Etwas ist schiefgegangen"},
    "status.503": {"en": "Not available", "de": "Nicht verfügbar"},
    "status.other": {"en": "Error", "de": "Fehler"},
    "error.csrf": {
        "en": "This form did not come from your current session (it may be old). Nothing was "
        "changed. Reload the page and try again.",
        "de": "Dieses Formular stammt nicht aus Ihrer aktuellen Sitzung (es ist evtl. veraltet). "
        "Es wurde nichts geändert. Bitte die Seite neu laden und erneut versuchen.",
    },
    "error.forbidden": {
        "en": "Your roles allow you to read, not to change initiatives. Nothing was changed.",
        "de": "Ihre Rollen erlauben Lesen, aber keine Änderungen. Es wurde nichts geändert.",
    },
    "error.not_found": {
        "en": "There is no such page or initiative.",
        "de": "Diese Seite oder Initiative gibt es nicht.",
    },
    "error.store": {
        "en": "The database is not available right now. Please try again later.",
        "de": "Die Datenbank ist gerade nicht erreichbar. Bitte später erneut versuchen.",
    },
    "error.http": {
        "en": "This request cannot be answered.",
        "de": "Diese Anfrage kann nicht beantwortet werden.",
    },
    "error.internal": {
        "en": "Something went wrong on our side. Nothing you did caused it.",
        "de": "Bei uns ist etwas schiefgegangen. Es lag nicht an Ihnen.",
    },
    "error.back": {"en": "Back to all initiatives", "de": "Zurück zu allen Initiativen"},
    # -- form fields and their problems -------------------------------------------------------
    "field.title": {"en": "Title", "de": "Titel"},
    "field.workflow": {"en": "Workflow", "de": "Ablauf"},
    "field.description": {"en": "Description", "de": "Beschreibung"},
    "field.evidence": {
        "en": "Evidence (link or document reference)",
        "de": "Nachweis (Link oder Dokumentverweis)",
    },
    "field.note": {"en": "Note", "de": "Notiz"},
    "field.text": {"en": "Note", "de": "Notiz"},
    "field.reason": {"en": "Reason", "de": "Begründung"},
    "field.name": {"en": "Name", "de": "Name"},
    "field.role": {"en": "Role", "de": "Rolle"},
    "field.sector": {"en": "Sector they bring", "de": "Eingebrachter Sektor"},
    "field.contact": {"en": "Contact", "de": "Kontakt"},
    "field.version": {"en": "Page version", "de": "Seitenstand"},
    "field.state": {"en": "State", "de": "Status"},
    "field.phase": {"en": "Phase", "de": "Phase"},
    "field.page": {"en": "Page", "de": "Seite"},
    "problem.required": {
        "en": "“{field}” must be filled in.",
        "de": "„{field}“ muss ausgefüllt werden.",
    },
    "problem.too_long": {
        "en": "“{field}” may have at most {limit} characters.",
        "de": "„{field}“ darf höchstens {limit} Zeichen haben.",
    },
    "problem.invalid": {
        "en": "“{field}” has a value that is not valid.",
        "de": "„{field}“ hat einen ungültigen Wert.",
    },
    # -- people, times ------------------------------------------------------------------------
    "person.system": {"en": "kosiflow (automatic)", "de": "kosiflow (automatisch)"},
    "person.erased": {"en": "(name erased)", "de": "(Name gelöscht)"},
    "person.unknown": {"en": "(unknown person)", "de": "(unbekannte Person)"},
    "duration.under_an_hour": {"en": "less than an hour", "de": "weniger als eine Stunde"},
    "duration.day": {"en": "{n} day", "de": "{n} Tag"},
    "duration.days": {"en": "{n} days", "de": "{n} Tage"},
    "duration.hour": {"en": "{n} hour", "de": "{n} Stunde"},
    "duration.hours": {"en": "{n} hours", "de": "{n} Stunden"},
    # -- where an initiative stands -----------------------------------------------------------
    "track.passed": {"en": "passed", "de": "abgeschlossen"},
    "track.current": {"en": "current phase", "de": "aktuelle Phase"},
    "track.ahead": {"en": "ahead", "de": "steht bevor"},
    "track.skipped": {"en": "not reached", "de": "nicht erreicht"},
    "track.summary": {"en": "Phase {n} of {of}: {phase}", "de": "Phase {n} von {of}: {phase}"},
    "track.summary_ended": {"en": "Ended: {phase}", "de": "Beendet: {phase}"},
    "mark.on_hold": {"en": "On hold", "de": "Pausiert"},
    "mark.ended": {"en": "Ended", "de": "Beendet"},
    "mark.overdue": {"en": "Overdue by {by}", "de": "{by} überfällig"},
    "phase.visit": {"en": "visit {n}", "de": "{n}. Durchlauf"},
    "checklist.percent": {"en": "{n} % done", "de": "{n} % erledigt"},
    "state.active": {"en": "Active", "de": "Aktiv"},
    "state.on_hold": {"en": "On hold", "de": "Pausiert"},
    "state.ended": {"en": "Ended", "de": "Beendet"},
    "state.overdue": {"en": "Overdue", "de": "Überfällig"},
    # -- dashboard ----------------------------------------------------------------------------
    "dashboard.title": {"en": "Initiatives", "de": "Initiativen"},
    "dashboard.caption": {
        "en": "Initiatives, in order of creation (page {page})",
        "de": "Initiativen in der Reihenfolge ihrer Anlage (Seite {page})",
    },
    "dashboard.col_title": {"en": "Initiative", "de": "Initiative"},
    "dashboard.col_workflow": {"en": "Workflow", "de": "Ablauf"},
    "dashboard.col_phase": {"en": "Phase", "de": "Phase"},
    "dashboard.col_progress": {
        "en": "Progress across the phases",
        "de": "Fortschritt über die Phasen",
    },
    "dashboard.col_checklist": {"en": "Checklist of the phase", "de": "Checkliste der Phase"},
    "dashboard.col_state": {"en": "Marks", "de": "Hinweise"},
    "dashboard.no_checklist": {"en": "—", "de": "—"},
    "dashboard.empty": {
        "en": "No initiative matches these filters.",
        "de": "Keine Initiative passt zu diesen Filtern.",
    },
    "filter.label": {"en": "Filter initiatives", "de": "Initiativen filtern"},
    "filter.workflow": {"en": "Workflow", "de": "Ablauf"},
    "filter.phase": {"en": "Phase", "de": "Phase"},
    "filter.state": {"en": "State", "de": "Status"},
    "filter.all": {"en": "All", "de": "Alle"},
    "filter.apply": {"en": "Show", "de": "Anzeigen"},
    "filter.reset": {"en": "Reset filters", "de": "Filter zurücksetzen"},
    "pagination.label": {"en": "Pages", "de": "Seiten"},
    "pagination.previous": {"en": "Previous page", "de": "Vorherige Seite"},
    "pagination.next": {"en": "Next page", "de": "Nächste Seite"},
    "create.title": {"en": "Start an initiative", "de": "Initiative anlegen"},
    "create.submit": {"en": "Start initiative", "de": "Initiative anlegen"},
    "create.sent_twice": {
        "en": "This form already started an initiative with other values. Nothing new was "
        "started; fill in the form below to start another one.",
        "de": "Mit diesem Formular wurde schon eine Initiative mit anderen Angaben angelegt. Es "
        "wurde nichts Neues angelegt; für eine weitere Initiative bitte das Formular unten "
        "ausfüllen.",
    },
    # -- one initiative -----------------------------------------------------------------------
    "initiative.workflow": {"en": "Workflow", "de": "Ablauf"},
    "initiative.version": {"en": "version {n}", "de": "Version {n}"},
    "initiative.phase": {"en": "Phase", "de": "Phase"},
    "initiative.entered": {"en": "In this phase since", "de": "In dieser Phase seit"},
    "initiative.in_phase_for": {"en": "for {span}", "de": "Dauer bisher: {span}"},
    "initiative.on_hold": {"en": "On hold", "de": "Pausiert"},
    "initiative.hold_by": {"en": "by {by} since", "de": "von {by} seit"},
    "initiative.checklist_done": {"en": "Checklist", "de": "Checkliste"},
    "initiative.history_link": {
        "en": "History, phase visits and hash-chain check",
        "de": "Verlauf, Phasendurchläufe und Prüfung der Hash-Kette",
    },
    "initiative.no_actions": {
        "en": "There is nothing you can change here right now.",
        "de": "Sie können hier gerade nichts ändern.",
    },
    "checklist.title": {"en": "Checklist: {phase}", "de": "Checkliste: {phase}"},
    "checklist.empty": {
        "en": "This phase has no checklist.",
        "de": "Diese Phase hat keine Checkliste.",
    },
    "item.open": {"en": "Open", "de": "Offen"},
    "item.done": {"en": "Done", "de": "Erledigt"},
    "item.waived": {"en": "Waived", "de": "Erlassen"},
    "item.optional": {"en": "optional", "de": "freiwillig"},
    "item.by": {"en": "by {by}", "de": "von {by}"},
    "detail.evidence": {"en": "Evidence", "de": "Nachweis"},
    "detail.note": {"en": "Note", "de": "Notiz"},
    "detail.reason": {"en": "Reason", "de": "Begründung"},
    "detail.waiver_reason": {"en": "Why it was waived", "de": "Begründung des Erlasses"},
    "detail.description": {"en": "Description", "de": "Beschreibung"},
    "detail.withdrawn": {"en": "Sign-offs withdrawn", "de": "Zurückgezogene Freigaben"},
    "detail.cause": {"en": "Caused by", "de": "Ausgelöst durch"},
    "steps.title": {"en": "Next steps", "de": "Nächste Schritte"},
    "steps.to": {"en": "{step} (to {target})", "de": "{step} (nach {target})"},
    "steps.may_fire": {
        "en": "You may take this step now.",
        "de": "Sie können diesen Schritt jetzt ausführen.",
    },
    "steps.blocked": {
        "en": "You cannot take this step now, because:",
        "de": "Sie können diesen Schritt jetzt nicht ausführen, denn:",
    },
    "steps.approvals": {"en": "Sign-offs given", "de": "Erteilte Freigaben"},
    "steps.approval": {"en": "{role}: {by}", "de": "{role}: {by}"},
    "steps.none": {
        "en": "No step leads on from here.",
        "de": "Von hier führt kein Schritt weiter.",
    },
    "diagram.title": {"en": "Where it stands in the workflow", "de": "Stand im Ablauf"},
    "diagram.workflow_link": {
        "en": "The workflow “{workflow}” described step by step",
        "de": "Der Ablauf „{workflow}“ Schritt für Schritt beschrieben",
    },
    "participants.title": {"en": "Participants", "de": "Beteiligte"},
    "participants.entry": {"en": "{name} ({sector})", "de": "{name} ({sector})"},
    "participants.none": {"en": "No participants yet.", "de": "Noch keine Beteiligten."},
    "more.title": {"en": "Notes and hold", "de": "Notizen und Pause"},
    "action.tick": {"en": "Tick", "de": "Abhaken"},
    "action.reopen": {"en": "Reopen", "de": "Wieder öffnen"},
    "action.waive": {"en": "Waive", "de": "Erlassen"},
    "action.approve": {"en": "Sign off as {role}", "de": "Freigeben als {role}"},
    "action.fire": {"en": "{step}", "de": "{step}"},
    "action.hold": {"en": "Put on hold", "de": "Pausieren"},
    "action.resume": {"en": "Resume", "de": "Fortsetzen"},
    "action.note": {"en": "Add note", "de": "Notiz hinzufügen"},
    "action.add_participant": {"en": "Add participant", "de": "Beteiligte Person hinzufügen"},
    # -- history ------------------------------------------------------------------------------
    "history.title": {"en": "History: {title}", "de": "Verlauf: {title}"},
    "history.back": {"en": "Back to the initiative", "de": "Zurück zur Initiative"},
    "chain.title": {"en": "Hash chain", "de": "Hash-Kette"},
    "chain.ok": {
        "en": "Intact: all {n} events check out.",
        "de": "Intakt: alle {n} Ereignisse sind unverändert.",
    },
    "chain.ok_one": {
        "en": "Intact: its one event checks out.",
        "de": "Intakt: das einzige Ereignis ist unverändert.",
    },
    "chain.broken": {
        "en": "Broken at event {seq}: {problem}",
        "de": "Unterbrochen bei Ereignis {seq}: {problem}",
    },
    "chain.head": {"en": "Hash of the last event", "de": "Hash des letzten Ereignisses"},
    "chain.checked_at": {"en": "Checked at", "de": "Geprüft am"},
    "visits.title": {"en": "Phase visits", "de": "Phasendurchläufe"},
    "visits.phase": {"en": "Phase", "de": "Phase"},
    "visits.entered": {"en": "Entered", "de": "Begonnen"},
    "visits.left": {"en": "Left", "de": "Verlassen"},
    "visits.duration": {"en": "Duration", "de": "Dauer"},
    "visits.on_hold": {"en": "Of which on hold", "de": "Davon pausiert"},
    "visits.still_there": {"en": "still in this phase", "de": "noch in dieser Phase"},
    "visits.ended_here": {"en": "ended here", "de": "hier beendet"},
    "compare.title": {"en": "Compare two moments", "de": "Zwei Zeitpunkte vergleichen"},
    "compare.intro": {
        "en": "What changed between two moments, in words, each with the events that prove it.",
        "de": "Was sich zwischen zwei Zeitpunkten geändert hat, in Worten, jeweils mit den "
        "Ereignissen, die es belegen.",
    },
    "compare.from": {"en": "From (UTC)", "de": "Von (UTC)"},
    "compare.to": {"en": "To (UTC)", "de": "Bis (UTC)"},
    "compare.moment_help": {
        "en": "e.g. 2026-05-01T12:00, or with an offset: 2026-05-01T14:00+02:00",
        "de": "z. B. 2026-05-01T12:00, oder mit Zeitzone: 2026-05-01T14:00+02:00",
    },
    "compare.to_help": {"en": "Empty: now.", "de": "Leer: jetzt."},
    "compare.submit": {"en": "Compare", "de": "Vergleichen"},
    "compare.result": {
        "en": "From {since} to {until}:",
        "de": "Von {since} bis {until}:",
    },
    "compare.evidence": {"en": "Events:", "de": "Ereignisse:"},
    "compare.bad_moment": {
        "en": "“{value}” is not a date and time (e.g. 2026-05-01T12:00).",
        "de": "„{value}“ ist kein Zeitpunkt (z. B. 2026-05-01T12:00).",
    },
    "compare.order": {
        "en": "“From” must not be later than “to”.",
        "de": "„Von“ darf nicht nach „bis“ liegen.",
    },
    "timeline.title": {"en": "Every event", "de": "Alle Ereignisse"},
    "timeline.hash": {"en": "Hash:", "de": "Hash:"},
    "export.title": {"en": "Download", "de": "Herunterladen"},
    "export.jsonl": {
        "en": "History as JSON Lines (with hashes)",
        "de": "Verlauf als JSON Lines (mit Hashes)",
    },
    "export.csv": {"en": "History as CSV (with hashes)", "de": "Verlauf als CSV (mit Hashes)"},
    "export.api": {
        "en": "Through the API (with an API token):",
        "de": "Über die API (mit API-Token):",
    },
    "event.created": {
        "en": "Started “{title}” in phase {phase} (workflow version {version}).",
        "de": "„{title}“ in der Phase {phase} begonnen (Ablaufversion {version}).",
    },
    "event.participant_added": {
        "en": "{name} joined, bringing the sector {role}.",
        "de": "{name} ist dabei und bringt den Sektor {role} ein.",
    },
    "event.ticked": {"en": "Ticked “{item}”.", "de": "„{item}“ abgehakt."},
    "event.reopened": {"en": "Reopened “{item}”.", "de": "„{item}“ wieder geöffnet."},
    "event.waived": {"en": "Waived “{item}”.", "de": "„{item}“ erlassen."},
    "event.approved": {
        "en": "Signed off “{trigger}” for {role}.",
        "de": "„{trigger}“ für {role} freigegeben.",
    },
    "event.moved": {
        "en": "“{trigger}”: from {source} to {target} (visit {visit}).",
        "de": "„{trigger}“: von {source} nach {target} ({visit}. Durchlauf).",
    },
    "event.moved_automatically": {
        "en": "“{trigger}” (automatic): from {source} to {target} (visit {visit}).",
        "de": "„{trigger}“ (automatisch): von {source} nach {target} ({visit}. Durchlauf).",
    },
    "event.cause": {"en": "event #{seq}", "de": "Ereignis #{seq}"},
    "event.held": {"en": "Put on hold.", "de": "Pausiert."},
    "event.resumed": {"en": "Resumed.", "de": "Fortgesetzt."},
    "event.noted": {"en": "Added a note.", "de": "Notiz hinzugefügt."},
    "event.overdue": {
        "en": "“{phase}” is overdue: more than {days} days (time on hold not counted).",
        "de": "„{phase}“ ist überfällig: mehr als {days} Tage (Pausen nicht mitgezählt).",
    },
    "event.migrated": {
        "en": "Moved to version {version} of the workflow; now in “{phase}”.",
        "de": "In Version {version} des Ablaufs überführt; jetzt in „{phase}“.",
    },
    "event.texts_removed": {
        "en": "Removed {count} text(s) under the retention policy: {texts}.",
        "de": "{count} Text(e) gemäß der Aufbewahrungsregel gelöscht: {texts}.",
    },
    "event.removed_text": {"en": "{field} of event #{seq}", "de": "{field} aus Ereignis #{seq}"},
    "text.removed": {
        "en": "removed under the retention policy on {date}",
        "de": "gemäß der Aufbewahrungsregel gelöscht am {date}",
    },
    "text.missing": {
        "en": "missing, though no removal under the retention policy is recorded",
        "de": "fehlt, ohne dass eine Löschung gemäß der Aufbewahrungsregel verzeichnet ist",
    },
    # -- one workflow, described --------------------------------------------------------------
    "nav.statistics": {"en": "Statistics", "de": "Statistik"},
    "workflow.title": {"en": "Workflow: {title}", "de": "Ablauf: {title}"},
    "workflow.for_initiative": {
        "en": "Shown for the initiative “{title}”: its current phase, {phase}, is marked.",
        "de": "Dargestellt für die Initiative „{title}“: ihre aktuelle Phase, {phase}, "
        "ist markiert.",
    },
    "workflow.version": {"en": "Version", "de": "Version"},
    "workflow.start": {"en": "Starts in", "de": "Beginnt in"},
    "workflow.roles": {"en": "Roles", "de": "Rollen"},
    "workflow.diagram": {"en": "Diagram", "de": "Ablaufdiagramm"},
    "workflow.phases": {"en": "The phases in order", "de": "Die Phasen der Reihe nach"},
    "workflow.phase_heading": {"en": "{n}. {phase}", "de": "{n}. {phase}"},
    "workflow.tag_start": {"en": "start", "de": "Start"},
    "workflow.tag_final": {"en": "final phase", "de": "Endphase"},
    "workflow.tag_current": {"en": "current phase", "de": "aktuelle Phase"},
    "workflow.max_days": {
        "en": "Time limit: {n} days (time on hold not counted).",
        "de": "Frist: {n} Tage (Pausen nicht mitgezählt).",
    },
    "workflow.no_limit": {"en": "No time limit.", "de": "Keine Frist."},
    "workflow.final_note": {
        "en": "An initiative that reaches this phase has ended.",
        "de": "Eine Initiative, die diese Phase erreicht, ist beendet.",
    },
    "workflow.checklist": {"en": "Checklist", "de": "Checkliste"},
    "workflow.checklist_caption": {"en": "Checklist of {phase}", "de": "Checkliste: {phase}"},
    "workflow.done_of": {
        "en": "{done} of {total} required items done or waived.",
        "de": "{done} von {total} Pflichtpunkten erledigt oder erlassen.",
    },
    "workflow.col_item": {"en": "Item", "de": "Punkt"},
    "workflow.col_who": {"en": "Who may tick it", "de": "Wer darf abhaken"},
    "workflow.col_evidence": {"en": "Evidence", "de": "Nachweis"},
    "workflow.col_required": {"en": "Required or optional", "de": "Pflicht oder freiwillig"},
    "workflow.col_waivable": {"en": "May be waived by", "de": "Erlassen dürfen"},
    "workflow.col_status": {"en": "Status now", "de": "Stand jetzt"},
    "workflow.evidence_required": {"en": "required", "de": "erforderlich"},
    "workflow.evidence_optional": {"en": "not required", "de": "nicht erforderlich"},
    "workflow.item_required": {"en": "required", "de": "Pflicht"},
    "workflow.item_optional": {"en": "optional", "de": "freiwillig"},
    "workflow.not_waivable": {"en": "nobody", "de": "niemand"},
    "workflow.ways_out": {"en": "Ways out of this phase", "de": "Wege aus dieser Phase"},
    "workflow.no_way_out": {"en": "None.", "de": "Keine."},
    "workflow.way": {"en": "{step}: to {target}", "de": "{step}: nach {target}"},
    "workflow.req_checklist": {
        "en": "Every required checklist item is done or waived.",
        "de": "Alle Pflichtpunkte der Checkliste sind erledigt oder erlassen.",
    },
    "workflow.req_no_checklist": {
        "en": "Open checklist items do not hold it up.",
        "de": "Offene Punkte der Checkliste halten diesen Schritt nicht auf.",
    },
    "workflow.req_approvals": {"en": "Sign-offs by: {roles}.", "de": "Freigaben durch: {roles}."},
    "workflow.req_sectors": {
        "en": "Participants from at least {n} different sectors.",
        "de": "Beteiligte aus mindestens {n} verschiedenen Sektoren.",
    },
    "workflow.reason_required": {
        "en": "A reason must be given.",
        "de": "Eine Begründung ist erforderlich.",
    },
    "workflow.reason_optional": {
        "en": "A reason may be given.",
        "de": "Eine Begründung kann angegeben werden.",
    },
    "workflow.automatic": {
        "en": "Happens by itself as soon as the requirements are met.",
        "de": "Geschieht von selbst, sobald die Voraussetzungen erfüllt sind.",
    },
    "workflow.taken_by": {"en": "Taken by: {roles}.", "de": "Ausgelöst durch: {roles}."},
    "workflow.from_any": {
        "en": "Possible from every phase that is not final.",
        "de": "Aus jeder Phase möglich, die keine Endphase ist.",
    },
    # -- statistics ---------------------------------------------------------------------------
    "statistics.title": {"en": "Phase statistics", "de": "Phasenstatistik"},
    "statistics.intro": {
        "en": "How long initiatives stayed in each phase (completed visits, in days, time on "
        "hold included) and how many are in each phase now. Overdue means past the phase's "
        "time limit, time on hold not counted.",
        "de": "Wie lange Initiativen in jeder Phase blieben (abgeschlossene Durchläufe, in "
        "Tagen, Pausen eingerechnet) und wie viele jetzt in jeder Phase sind. Überfällig heißt: "
        "über der Frist der Phase, Pausen nicht mitgezählt.",
    },
    "statistics.empty": {
        "en": "No statistics yet: no initiative has been started.",
        "de": "Noch keine Statistik: Es wurde noch keine Initiative angelegt.",
    },
    "statistics.caption": {"en": "Phases of “{workflow}”", "de": "Phasen von „{workflow}“"},
    "statistics.col_phase": {"en": "Phase", "de": "Phase"},
    "statistics.col_count": {"en": "Completed visits", "de": "Abgeschlossene Durchläufe"},
    "statistics.col_median": {"en": "Median (days)", "de": "Median (Tage)"},
    "statistics.col_p90": {"en": "90th percentile (days)", "de": "90. Perzentil (Tage)"},
    "statistics.col_current": {"en": "In the phase now", "de": "Jetzt in der Phase"},
    "statistics.col_overdue": {"en": "Of which overdue", "de": "Davon überfällig"},
    "statistics.col_rework": {"en": "Repeat visits", "de": "Wiederholte Durchläufe"},
    "statistics.col_bottleneck": {
        "en": "Met last (median days after entering)",
        "de": "Zuletzt erfüllt (Median der Tage nach Beginn)",
    },
    "statistics.bottleneck_item": {"en": "“{item}”: {days}", "de": "„{item}“: {days}"},
    "statistics.bottleneck_approval": {
        "en": "Sign-off of “{step}” by {role}: {days}",
        "de": "Freigabe „{step}“ durch {role}: {days}",
    },
    "statistics.chart_durations": {
        "en": "Days in each phase of “{workflow}”: median and 90th percentile",
        "de": "Tage je Phase von „{workflow}“: Median und 90. Perzentil",
    },
    "statistics.chart_durations_desc": {
        "en": "Days of the completed visits of each phase.",
        "de": "Tage der abgeschlossenen Durchläufe je Phase.",
    },
    "statistics.chart_load": {
        "en": "Initiatives in each phase of “{workflow}” now, and how many are overdue",
        "de": "Initiativen je Phase von „{workflow}“ jetzt, und wie viele überfällig sind",
    },
    "statistics.chart_load_desc": {
        "en": "Number of initiatives.",
        "de": "Anzahl der Initiativen.",
    },
    "statistics.series_median": {"en": "Median", "de": "Median"},
    "statistics.series_p90": {"en": "90th percentile", "de": "90. Perzentil"},
    "statistics.series_now": {"en": "In the phase now", "de": "Jetzt in der Phase"},
    "statistics.series_overdue": {"en": "Overdue", "de": "Überfällig"},
    "statistics.days": {"en": "{n} days", "de": "{n} Tage"},
    "statistics.no_value": {"en": "—", "de": "—"},
    "statistics.no_data": {"en": "no completed visit", "de": "kein abgeschlossener Durchlauf"},
    "statistics.chart_empty": {"en": "No phase to show.", "de": "Keine Phase darzustellen."},
    "statistics.charts_note": {
        "en": "The charts leave out final phases (an initiative there has ended).",
        "de": "Die Diagramme lassen Endphasen aus (eine Initiative dort ist beendet).",
    },
    "statistics.csv": {"en": "Statistics as CSV", "de": "Statistik als CSV"},
    "statistics.json": {"en": "Statistics as JSON", "de": "Statistik als JSON"},
    # -- audit report -------------------------------------------------------------------------
    "report.title": {"en": "Audit report: {title}", "de": "Prüfbericht: {title}"},
    "report.link": {"en": "Audit report (printable)", "de": "Prüfbericht (druckbar)"},
    "report.pdf_link": {"en": "Audit report as PDF", "de": "Prüfbericht als PDF"},
    "report.history_link": {"en": "History", "de": "Verlauf"},
    "report.printable": {
        "en": "Open the printable report (print it from your browser)",
        "de": "Druckbaren Bericht öffnen (aus dem Browser drucken)",
    },
    "report.initiative": {"en": "Initiative", "de": "Initiative"},
    "report.created": {"en": "Started", "de": "Angelegt"},
    "report.current_phase": {"en": "Current phase", "de": "Aktuelle Phase"},
    "report.generated": {"en": "Report generated", "de": "Bericht erstellt"},
    "report.verification": {"en": "Verification", "de": "Prüfung"},
    "report.chain_version": {
        "en": "Events in the chain (version)",
        "de": "Ereignisse in der Kette (Version)",
    },
    "report.decisions": {"en": "Decisions (phase changes)", "de": "Entscheidungen (Phasenwechsel)"},
    "report.no_decisions": {"en": "No phase change yet.", "de": "Noch kein Phasenwechsel."},
    "report.approvals": {"en": "Sign-offs", "de": "Freigaben"},
    "report.no_approvals": {"en": "No sign-off given.", "de": "Keine Freigabe erteilt."},
    "report.evidence": {"en": "Evidence", "de": "Nachweise"},
    "report.no_evidence": {"en": "No evidence given.", "de": "Keine Nachweise angegeben."},
    "report.col_event": {"en": "Event", "de": "Ereignis"},
    "report.col_when": {"en": "When", "de": "Wann"},
    "report.col_who": {"en": "Who", "de": "Wer"},
    "report.col_step": {"en": "Step", "de": "Schritt"},
    "report.col_from_to": {"en": "From → to", "de": "Von → nach"},
    "report.col_reason": {"en": "Reason", "de": "Begründung"},
    "report.col_role": {"en": "For", "de": "Für"},
    "report.col_phase": {"en": "Phase", "de": "Phase"},
    "report.col_note": {"en": "Note", "de": "Notiz"},
    "report.col_status": {"en": "Status", "de": "Status"},
    "report.col_item": {"en": "Checklist item", "de": "Checklistenpunkt"},
    "report.from_to": {"en": "{source} → {target}", "de": "{source} → {target}"},
    "report.automatic": {"en": "automatic", "de": "automatisch"},
    "report.opened_by": {
        "en": "Gate opened by event #{seq}",
        "de": "Übergang geöffnet durch Ereignis #{seq}",
    },
    "report.given": {"en": "given", "de": "erteilt"},
    "report.withdrawn": {
        "en": "withdrawn (event #{seq})",
        "de": "zurückgezogen (Ereignis #{seq})",
    },
    "report.forbidden": {
        "en": "Audit reports are for auditors and the lab coordination; your roles are neither.",
        "de": "Prüfberichte sind für Prüfende und die Lab-Koordination; Ihre Rollen gehören "
        "nicht dazu.",
    },
    "report.pdf_missing": {
        "en": "The PDF cannot be made: the server has no Chromium browser to print it with. "
        "Ask your administrators to install it — or open the printable report and print it "
        "from your browser.",
        "de": "Das PDF kann nicht erstellt werden: Auf dem Server fehlt der Browser Chromium, "
        "mit dem es gedruckt wird. Bitten Sie Ihre Administration, ihn zu installieren — oder "
        "öffnen Sie den druckbaren Bericht und drucken Sie ihn aus dem Browser.",
    },
    "report.pdf_failed": {
        "en": "The PDF could not be made this time. Try again later — or open the printable "
        "report and print it from your browser.",
        "de": "Das PDF konnte diesmal nicht erstellt werden. Bitte später erneut versuchen — "
        "oder den druckbaren Bericht öffnen und aus dem Browser drucken.",
    },
}


def has_text(key: str) -> bool:
    return key in TEXTS


def translate(lang: str, key: str, **params: str | int) -> str:
    """The text ``key`` in ``lang`` (English when ``lang`` is unknown), placeholders filled."""
    texts = TEXTS[key]
    return (texts.get(lang) or texts["en"]).format(**params)


def field_label(lang: str, field: str) -> str:
    """A form field's label, for messages about it (the field's name if it has none)."""
    key = f"field.{field}"
    return translate(lang, key) if key in TEXTS else field


def field_problem(lang: str, field: str, problem: str, **params: str | int) -> str:
    """A sentence naming the field and what is wrong with its value."""
    return translate(lang, f"problem.{problem}", field=field_label(lang, field), **params)
