"""Rich renderings for the command line: status tables, progress, histories.

Every text that comes from people or workflow files is passed as ``Text`` (never parsed as
rich markup), so a title like "[/bold]" prints as it is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from kosiflow.definition import Definition
from kosiflow.engine import RemovedText
from kosiflow.engine.events import Text as EventText
from kosiflow.services import MigrationPlan, MigrationStep, PhaseStatistics, Progress, SweepReport
from kosiflow.store import EventRecord, Projection
from kosiflow.store.texts import readable_payload

_WORDS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "initiative": "Initiative",
        "workflow": "Workflow",
        "phase": "Phase",
        "progress": "Progress",
        "version": "Version",
        "on_hold": "on hold",
        "ended": "ended",
        "item": "Checklist item",
        "checklist": "Checklist: {0} % done",
        "who": "Who",
        "when": "When",
        "evidence": "Evidence",
        "text_removed": "removed under the retention policy on {}",
        "text_missing": "missing, though no removal is recorded",
        "step": "Step",
        "blocks": "What blocks it",
        "ready": "ready",
        "optional": "optional",
        "waived": "waived",
        "done": "done",
        "open": "open",
        "seq": "#",
        "event": "Event",
        "details": "Details",
        "visit": "visit",
        "participants": "Participants",
        "no_initiatives": "No initiatives yet.",
        "erased": "erased person",
        "visits": "Visits done",
        "median": "Median days",
        "p90": "90 % days",
        "now": "Now",
        "overdue": "Overdue",
        "rework": "Rework",
        "slowest": "Met last (median days)",
        "visit_column": "Visit",
        "max_days": "Days allowed",
        "overdue_since": "Overdue since",
        "swept": "{n} overdue visit(s) recorded; {m} running initiative(s) looked at, as of {now}.",
        "from": "From",
        "to": "To",
        "new_items": "New items",
        "vanished_items": "Vanished items",
        "outcome": "Outcome",
        "moves": "moves",
        "would_move": "would move",
        "cannot_move": "cannot move:",
        "migrated": "{n} initiative(s) moved to {workflow} v{version}.",
        "dry_run": "Dry run: {n} initiative(s) would move to {workflow} v{version}; "
        "nothing changed.",
        "migration_refused": "Refused: {k} of {n} initiative(s) cannot move to {workflow} "
        "v{version}; nothing changed.",
        "nothing_to_move": "No running initiative of {workflow} to move to v{version}.",
    },
    "de": {
        "initiative": "Initiative",
        "workflow": "Ablauf",
        "phase": "Phase",
        "progress": "Fortschritt",
        "version": "Version",
        "on_hold": "pausiert",
        "ended": "beendet",
        "item": "Checklistenpunkt",
        "checklist": "Checkliste: {0} % erledigt",
        "who": "Wer",
        "when": "Wann",
        "evidence": "Nachweis",
        "text_removed": "gemäß der Aufbewahrungsregel gelöscht am {}",
        "text_missing": "fehlt, ohne verzeichnete Löschung",
        "step": "Schritt",
        "blocks": "Was noch fehlt",
        "ready": "bereit",
        "optional": "optional",
        "waived": "erlassen",
        "done": "erledigt",
        "open": "offen",
        "seq": "#",
        "event": "Ereignis",
        "details": "Details",
        "visit": "Besuch",
        "participants": "Beteiligte",
        "no_initiatives": "Noch keine Initiativen.",
        "erased": "gelöschte Person",
        "visits": "Abgeschlossen",
        "median": "Median Tage",
        "p90": "90 % Tage",
        "now": "Jetzt",
        "overdue": "Überfällig",
        "rework": "Überarbeitung",
        "slowest": "Zuletzt erfüllt (Median Tage)",
        "visit_column": "Besuch",
        "max_days": "Tage erlaubt",
        "overdue_since": "Überfällig seit",
        "swept": "{n} überfällige(r) Durchlauf/Durchläufe erfasst; {m} laufende Initiative(n) "
        "geprüft, Stand {now}.",
        "from": "Von",
        "to": "Nach",
        "new_items": "Neue Punkte",
        "vanished_items": "Entfallene Punkte",
        "outcome": "Ergebnis",
        "moves": "überführt",
        "would_move": "würde überführt",
        "cannot_move": "nicht möglich:",
        "migrated": "{n} Initiative(n) in {workflow} v{version} überführt.",
        "dry_run": "Probelauf: {n} Initiative(n) würde(n) in {workflow} v{version} überführt; "
        "nichts wurde geändert.",
        "migration_refused": "Abgelehnt: {k} von {n} Initiative(n) können nicht in {workflow} "
        "v{version} überführt werden; nichts wurde geändert.",
        "nothing_to_move": "Keine laufende Initiative von {workflow} für v{version}.",
    },
}


def _name(names: Mapping[str, str], person_id: str, lang: str) -> str:
    """A person's name; "erased person" once erased; the id when unknown (the system)."""
    name = names.get(person_id)
    if name is None:
        return person_id
    return name or word("erased", lang)


def word(key: str, lang: str) -> str:
    return _WORDS.get(lang, _WORDS["en"])[key]


def phase_bar(definition: Definition, phase: str) -> Text:
    """A bar across the non-final phases: ● passed or current, ○ ahead; ✓ completed, ✗ ended
    in any other final phase."""
    working = [p.id for p in definition.phases if not p.final]
    current = definition.phase(phase)
    if current.final:
        reached = len(working)
        mark = "✓" if phase == _main_ending(definition) else "✗"
    else:
        reached = working.index(phase) + 1
        mark = ""
    bar = Text("●" * reached, style="green") + Text("○" * (len(working) - reached), style="dim")
    return bar + Text(f" {mark}" if mark else "")


def _main_ending(definition: Definition) -> str:
    """The final phase the last working phase leads to (e.g. completed, not archived)."""
    working = [p.id for p in definition.phases if not p.final]
    for transition in definition.transitions_from(working[-1]):
        if definition.phase(transition.target).final and not transition.from_any:
            return transition.target
    return ""


def status_table(
    projections: Iterable[Projection], definitions: Mapping[tuple[str, int], Definition], lang: str
) -> RenderableType:
    table = Table(show_lines=False)
    for key in ("initiative", "workflow", "phase", "progress", "version"):
        table.add_column(word(key, lang))
    rows = 0
    for p in projections:
        definition = definitions[(p.workflow_id, p.workflow_version)]
        phase = definition.phase(p.phase).title.in_(lang)
        if p.on_hold:
            phase += f" ({word('on_hold', lang)})"
        table.add_row(
            Text.assemble(p.title, "\n", (p.initiative_id, "dim")),
            Text(f"{definition.id} v{definition.version}"),
            Text(phase),
            phase_bar(definition, p.phase),
            Text(str(p.version)),
        )
        rows += 1
    return table if rows else Text(word("no_initiatives", lang))


def _kept(value: EventText, lang: str) -> str:
    """An evidence or note text, or the words of its removal under the retention policy."""
    if not isinstance(value, RemovedText):
        return value
    if value.at is None:
        return word("text_missing", lang)
    return word("text_removed", lang).format(value.at.strftime("%Y-%m-%d"))


def _item_rows(progress: Progress, lang: str) -> Table:
    state = progress.state
    table = Table(title=word("checklist", lang).format(progress.percent_done))
    for key in ("item", "who", "when", "evidence"):
        table.add_column(word(key, lang))
    for item in state.definition.phase(state.phase).checklist:
        title = item.title.in_(lang) + (f" ({word('optional', lang)})" if item.optional else "")
        done = state.checklist.get(item.id)
        if done is None:
            table.add_row(Text(f"☐ {title}"))
            continue
        mark = "☑" if done.status == "done" else f"≈ {word('waived', lang)}:"
        table.add_row(
            Text(f"{mark} {title}"),
            Text(_name(progress.names, done.by, lang)),
            Text(done.at.strftime("%Y-%m-%d %H:%M")),
            Text(_kept(done.evidence, lang) if done.evidence else done.reason or ""),
        )
    return table


def _trigger_rows(progress: Progress, lang: str) -> Table:
    table = Table()
    table.add_column(word("step", lang))
    table.add_column(word("blocks", lang))
    for status in progress.triggers:
        t = status.transition
        title = t.title.in_(lang) if t.title else t.trigger
        target = progress.definition.phase(t.target).title.in_(lang)
        reasons = "\n".join(f"• {b.message(lang)}" for b in status.blockers)
        table.add_row(
            Text.assemble(title, (f" ({t.trigger} → {target})", "dim")),
            Text(reasons or word("ready", lang)),
        )
    return table


def progress_view(progress: Progress, lang: str) -> RenderableType:
    state = progress.state
    definition = state.definition
    head = Text.assemble(
        (state.title, "bold"),
        f"  [{state.initiative_id}]\n{word('phase', lang)}: ",
        (definition.phase(state.phase).title.in_(lang), "bold"),
        f" ({word('visit', lang)} {state.visit})  ",
        phase_bar(definition, state.phase),
    )
    if state.hold is not None:
        head.append(f"\n{word('on_hold', lang)}: {state.hold.reason}", style="yellow")
    sectors = ", ".join(
        f"{_name(progress.names, pid, lang)} ({definition.roles[role].in_(lang)})"
        for pid, role in state.participants.items()
    )
    parts: list[RenderableType] = [head, Text(f"{word('participants', lang)}: {sectors or '—'}")]
    if not state.has_ended:
        parts += [_item_rows(progress, lang), _trigger_rows(progress, lang)]
    return Group(*parts)


def _details(record: EventRecord) -> str:
    return ", ".join(
        f"{k}={v}" for k, v in readable_payload(record).items() if v not in (None, [], "", False)
    )


def history_table(records: Iterable[EventRecord], names: Mapping[str, str], lang: str) -> Table:
    table = Table()
    for key in ("seq", "when", "who", "event", "details"):
        table.add_column(word(key, lang))
    for r in records:
        table.add_row(
            Text(str(r.seq)),
            Text(r.at.strftime("%Y-%m-%d %H:%M")),
            Text(_name(names, r.actor, lang)),
            Text(r.type),
            Text(_details(r)),
        )
    return table


def _days(value: float | None) -> Text:
    return Text("-" if value is None else f"{value:.1f}", justify="right")


def statistics_table(found: Iterable[PhaseStatistics], lang: str) -> Table:
    """Per workflow and phase: visits, median/p90 days, now, overdue, rework, the bottleneck."""
    table = Table()
    for key in ("workflow", "phase", "visits", "median", "p90", "now", "overdue", "rework"):
        table.add_column(word(key, lang))
    table.add_column(word("slowest", lang))
    for s in found:
        neck = s.bottleneck
        table.add_row(
            Text(s.workflow_id),
            Text(s.phase),
            Text(str(s.count), justify="right"),
            _days(s.median_days),
            _days(s.p90_days),
            Text(str(s.current), justify="right"),
            Text(str(s.overdue), justify="right", style="red" if s.overdue else ""),
            Text(str(s.rework), justify="right"),
            Text("-" if neck is None else f"{neck.id} ({neck.median_days:.1f})"),
        )
    return table


def sweep_report(report: SweepReport, lang: str) -> RenderableType:
    """The visits a sweep recorded as overdue, and how many initiatives it looked at."""
    summary = Text(
        word("swept", lang).format(
            n=len(report.recorded),
            m=report.initiatives,
            now=report.now.strftime("%Y-%m-%d %H:%M %Z"),
        )
    )
    if not report.recorded:
        return summary
    table = Table()
    for key in ("initiative", "phase", "visit_column", "max_days", "overdue_since"):
        table.add_column(word(key, lang))
    for found in report.recorded:
        phase = found.definition.phase(found.phase).title.in_(lang)
        table.add_row(
            Text.assemble(found.title, "\n", (found.initiative_id, "dim")),
            Text(phase),
            Text(str(found.visit), justify="right"),
            Text(str(found.max_days), justify="right"),
            Text(found.overdue_since.strftime("%Y-%m-%d %H:%M"), style="red"),
        )
    return Group(table, summary)


def _phase_title(definition: Definition, phase: str, lang: str) -> str:
    """A phase's title with its id, or the id alone where the version has no such phase."""
    if not definition.has_phase(phase):
        return phase
    return f"{definition.phase(phase).title.in_(lang)} ({phase})"


def _item_titles(definition: Definition, phase: str, items: Iterable[str], lang: str) -> Text:
    titles = []
    for item_id in items:
        item = definition.phase(phase).item(item_id) if definition.has_phase(phase) else None
        titles.append(item_id if item is None else item.title.in_(lang))
    return Text("\n".join(titles) or "—")


def _outcome(step: MigrationStep, plan: MigrationPlan, lang: str) -> Text:
    if step.is_refused:
        reasons = "\n".join(f"• {b.message(lang)}" for b in step.blockers)
        return Text(f"{word('cannot_move', lang)}\n{reasons}", style="red")
    return Text(word("moves" if plan.applied else "would_move", lang), style="green")


def migration_report(plan: MigrationPlan, lang: str) -> RenderableType:
    """Per initiative: where it is, where it lands, which items are new or vanish, and whether
    it moves; then what happened to the migration as a whole."""
    target = plan.target
    names = {"workflow": target.id, "version": target.version, "n": len(plan.steps)}
    if not plan.steps:
        return Text(word("nothing_to_move", lang).format(**names))
    table = Table()
    for key in ("initiative", "from", "to", "new_items", "vanished_items", "outcome"):
        table.add_column(word(key, lang))
    for step in plan.steps:
        table.add_row(
            Text.assemble(step.title, "\n", (step.initiative_id, "dim")),
            Text(f"v{step.source.version} {_phase_title(step.source, step.phase, lang)}"),
            Text(f"v{target.version} {_phase_title(target, step.landing, lang)}"),
            _item_titles(target, step.landing, step.new_items, lang),
            _item_titles(step.source, step.phase, step.vanished_items, lang),
            _outcome(step, plan, lang),
        )
    if plan.refused:
        summary = Text(word("migration_refused", lang).format(k=len(plan.refused), **names))
    elif plan.applied:
        summary = Text(word("migrated", lang).format(**names))
    else:
        summary = Text(word("dry_run", lang).format(**names))
    return Group(table, summary)
