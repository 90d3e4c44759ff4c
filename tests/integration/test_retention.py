"""Retention of evidence links and notes: texts kept outside the hashed payloads, removed after the
days an admin set, every chain still verifying, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from kosiflow.catalog import WorkflowCatalog
from kosiflow.cli import app
from kosiflow.engine import SYSTEM_ACTOR, Actor, RemovedText, state_to_json
from kosiflow.errors import BadInput, HistoryCorrupted, PermissionDenied
from kosiflow.services import Services
from kosiflow.services.exports import export_lines, read_export
from kosiflow.store import NewEvent, open_database
from kosiflow.store.texts import readable_payload

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
CATALOG = WorkflowCatalog.from_folder(WORKFLOWS)
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    services = Services(open_database(database_url), CATALOG)
    CATALOG.register(services.database)
    yield services
    services.database.close()


def _actor(services: Services, name: str, *roles: str) -> Actor:
    user, _ = services.database.add_user(name, list(roles))
    return Actor(user.person_id, frozenset(user.roles))


def _bench(services: Services, coord: Actor | None = None) -> str:
    """A light-track initiative: evidence and a note on a tick (day 1), a note (day 2)."""
    coord = coord or _actor(services, "Jana", "coordinator")
    bench = services.create("light-track", "Sitzbank", coord, at=T0).initiative_id
    services.tick(
        bench,
        "request_described",
        coord,
        evidence="https://example.org/antrag",
        note="Anwohnerin fragt nach",
        at=T0 + timedelta(days=1),
    )
    services.note(bench, "Telefonat mit Frau M.", coord, at=T0 + timedelta(days=2))
    return bench


def _tamper(services: Services, statement: str, initiative_id: str, **params: object) -> None:
    with services.database.engine.begin() as connection:
        connection.execute(
            text(f"{statement} AND initiative_id = :id"), {"id": initiative_id, **params}
        )


def _rebuilt_equals_stored(services: Services, initiative_id: str) -> bool:
    return state_to_json(services.fold(initiative_id)) == state_to_json(
        services.state(initiative_id)
    )


def test_texts_live_outside_the_hashed_payload_and_read_back(services: Services) -> None:
    bench = _bench(services)
    tick = list(services.history(bench))[1]

    assert tick.schema_version == 2
    evidence = tick.texts["evidence"]
    assert evidence.text == "https://example.org/antrag"
    assert evidence.salt is not None
    assert len(bytes.fromhex(evidence.salt)) >= 16
    committed = hashlib.sha256(bytes.fromhex(evidence.salt) + evidence.text.encode()).hexdigest()
    assert tick.payload["evidence"] == {"sha256": committed}
    assert "antrag" not in str(tick.payload)
    assert readable_payload(tick)["evidence"] == "https://example.org/antrag"
    assert readable_payload(tick)["note"] == "Anwohnerin fragt nach"
    item = services.state(bench).checklist["request_described"]
    assert (item.evidence, item.note) == ("https://example.org/antrag", "Anwohnerin fragt nach")
    assert services.verify(bench).ok


def test_apply_removes_due_texts_records_it_and_every_chain_still_verifies(
    services: Services,
) -> None:
    bench = _bench(services)
    admin = _actor(services, "Root", "admin")
    hashes = [r.hash for r in services.history(bench)]
    services.set_retention({"evidence": 30}, admin)

    assert services.apply_retention(now=T0 + timedelta(days=30)).removed == ()
    report = services.apply_retention(now=T0 + timedelta(days=31, hours=1))

    (removed,) = report.removed
    assert removed.texts == ((2, "evidence", "evidence"),)
    history = list(services.history(bench))
    assert [r.hash for r in history[: len(hashes)]] == hashes  # the chain is untouched
    last = history[-1]
    assert (last.type, last.actor, last.seq) == ("TextsRemoved", SYSTEM_ACTOR, removed.recorded_seq)
    assert last.payload == {"removed": [[2, "evidence"]], "evidence_days": 30, "notes_days": None}
    tick = readable_payload(history[1])
    assert tick["evidence"] is None
    assert datetime.fromisoformat(tick["evidence_removed_at"]) == last.at
    assert tick["note"] == "Anwohnerin fragt nach"  # notes are kept forever
    item = services.state(bench).checklist["request_described"]
    assert item.evidence == RemovedText(last.at)
    assert "antrag" not in str(state_to_json(services.state(bench)))
    assert services.verify(bench).ok
    assert _rebuilt_equals_stored(services, bench)
    assert services.rebuild().differing == ()


def test_a_dry_run_changes_nothing_and_a_second_run_removes_nothing(services: Services) -> None:
    bench = _bench(services)
    services.set_retention({"evidence": 0, "notes": 0}, _actor(services, "Root", "admin"))
    later = T0 + timedelta(days=3)
    version = services.state(bench).version

    dry = services.apply_retention(now=later, dry_run=True)
    assert [r.texts for r in dry.removed] == [
        ((2, "evidence", "evidence"), (2, "note", "notes"), (3, "text", "notes"))
    ]
    assert dry.removed[0].recorded_seq is None
    assert services.state(bench).version == version
    assert readable_payload(list(services.history(bench))[2])["text"] == "Telefonat mit Frau M."

    first = services.apply_retention(now=later)
    again = services.apply_retention(now=later + timedelta(days=1))
    assert [len(r.texts) for r in first.removed] == [3]
    assert again.removed == ()
    assert services.state(bench).version == version + 1
    assert services.verify(bench).ok


def test_runs_racing_each_other_remove_and_record_each_text_once(
    services: Services, database_url: str
) -> None:
    coord = _actor(services, "Jana", "coordinator")
    benches = [_bench(services, coord) for _ in range(4)]
    services.set_retention({"evidence": 0, "notes": 0}, _actor(services, "Root", "admin"))
    start = threading.Barrier(3)
    reports: list[int] = []

    def run() -> None:
        other = Services(open_database(database_url), CATALOG)
        try:
            start.wait()
            report = other.apply_retention(now=T0 + timedelta(days=5))
            reports.append(sum(len(r.texts) for r in report.removed))
        finally:
            other.database.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(reports) == 12  # 3 texts per initiative, each removed by exactly one run
    for bench in benches:
        types = [r.type for r in services.history(bench)]
        assert types.count("TextsRemoved") == 1
        assert services.verify(bench).ok


def test_verify_names_a_changed_a_blanked_and_a_deleted_text(services: Services) -> None:
    coord = _actor(services, "Jana", "coordinator")
    changed, blanked, deleted = (_bench(services, coord) for _ in range(3))
    _tamper(services, "UPDATE event_texts SET text = 'https://evil.example' WHERE seq = 2", changed)
    _tamper(
        services,
        "UPDATE event_texts SET text = NULL, salt = NULL, removed_at = at WHERE seq = 3",
        blanked,
    )
    _tamper(services, "DELETE FROM event_texts WHERE field = 'note'", deleted)

    found = [services.verify(i) for i in (changed, blanked, deleted)]
    assert [(f.ok, f.first_bad_seq) for f in found] == [(False, 2), (False, 3), (False, 2)]
    assert [f.problem for f in found] == [
        "the evidence text of event 2 was changed (it does not match its commitment)",
        "the text text of event 3 is gone, but no removal records it",
        "the note text of event 2 is missing (not removed by the policy)",
    ]
    assert services.timeline(changed).chain == found[0]  # the history page says so too
    assert dict(services.verify_all())[deleted] == found[2]
    assert all(r.ok for i, r in services.verify_all() if i not in (changed, blanked, deleted))


def test_settings_need_an_admin_and_sensible_days(services: Services) -> None:
    coord = _actor(services, "Jana", "coordinator")
    admin = _actor(services, "Root", "admin")
    assert [(s.category, s.days) for s in services.retention_settings()] == [
        ("evidence", None),
        ("notes", None),
    ]
    with pytest.raises(PermissionDenied):
        services.set_retention({"evidence": 10}, coord)
    with pytest.raises(BadInput, match="0 or more"):
        services.set_retention({"notes": -1}, admin)
    with pytest.raises(BadInput, match="unknown category 'reasons'"):
        services.set_retention({"reasons": 10}, admin)
    settings = services.set_retention({"evidence": 10, "notes": None}, admin)
    assert [(s.category, s.days, s.changed_by) for s in settings] == [
        ("evidence", 10, admin.id),
        ("notes", None, admin.id),
    ]


def test_an_export_with_removed_texts_imports_to_the_same_projections(
    services: Services, tmp_path: Path
) -> None:
    bench = _bench(services)
    services.set_retention({"notes": 1}, _actor(services, "Root", "admin"))
    services.apply_retention(now=T0 + timedelta(days=2, hours=12))  # the tick's note only
    for format in ("jsonl", "csv"):
        lines = b"".join(export_lines(services.export(), format)).decode().splitlines(True)
        target = Services(open_database(f"sqlite:///{tmp_path / f'{format}.db'}"), CATALOG)
        try:
            CATALOG.register(target.database)
            report = target.import_history(read_export(lines, format, source="x"))
            assert report.initiatives == 1
            assert target.verify(bench).ok
            assert state_to_json(target.state(bench)) == state_to_json(services.state(bench))
            assert [readable_payload(r) for r in target.history(bench)] == [
                readable_payload(r) for r in services.history(bench)
            ]
        finally:
            target.database.close()


def test_an_import_refuses_a_text_that_does_not_match_its_commitment(
    services: Services, tmp_path: Path
) -> None:
    _bench(services)
    lines = b"".join(export_lines(services.export(), "jsonl")).decode().splitlines(True)
    forged = [line.replace("Telefonat mit Frau M.", "Telefonat mit Herrn K.") for line in lines]
    target = Services(open_database(f"sqlite:///{tmp_path / 'forged.db'}"), CATALOG)
    try:
        CATALOG.register(target.database)
        with pytest.raises(HistoryCorrupted, match="text text of event 3 was changed"):
            target.import_history(read_export(forged, "jsonl", source="forged.jsonl"))
        assert target.initiative_ids() == []
    finally:
        target.database.close()


def test_schema_1_events_with_inline_texts_still_read_fold_verify_and_export(
    services: Services, tmp_path: Path
) -> None:
    """Histories recorded before schema 2 keep their texts inline (built here directly)."""
    bench = _bench(services)
    with services.database.read() as unit:
        projection = unit.load_projection(bench)
        records = list(unit.events(bench))
    assert projection is not None
    schema_1 = [NewEvent(r.type, 1, r.actor, r.at, readable_payload(r)) for r in records]
    target = Services(open_database(f"sqlite:///{tmp_path / 'old.db'}"), CATALOG)
    try:
        CATALOG.register(target.database)
        with target.database.write() as unit:
            unit.append(projection, 0, schema_1)
        tick = list(target.history(bench))[1]
        assert (tick.schema_version, tick.payload["evidence"]) == (1, "https://example.org/antrag")
        assert target.verify(bench).ok
        assert state_to_json(target.fold(bench)) == state_to_json(services.state(bench))
        lines = b"".join(export_lines(target.export(), "jsonl")).decode().splitlines(True)
        assert all('"texts":{}' in line for line in lines)
        target.set_retention({"evidence": 0, "notes": 0}, _actor(target, "Root", "admin"))
        assert target.apply_retention(now=T0 + timedelta(days=9)).removed == ()  # cannot go
    finally:
        target.database.close()


def test_the_cli_shows_sets_and_applies_the_settings(tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["--database", f"sqlite:///{tmp_path / 'lab.db'}", "--workflows", str(WORKFLOWS)]

    def kosiflow(*args: str, expect: int = 0) -> str:
        result = runner.invoke(app, [*base, *args])
        assert result.exit_code == expect, result.output
        return result.output

    kosiflow("users", "add", "Root", "--role", "admin")
    kosiflow("users", "add", "Jana", "--role", "coordinator")
    initiative = kosiflow("--as", "Jana", "create", "light-track", "Sitzbank").split()[0]
    kosiflow("--as", "Jana", "tick", initiative, "request_described", "--evidence", "https://x.org")
    assert "evidence  kept forever" in kosiflow("retention", "show")

    for days, message in (("-3", "give 0 or more days"), ("soon", "neither a number")):
        refused = kosiflow("--as", "Root", "retention", "set", "--evidence-days", days, expect=2)
        assert "--evidence-days:" in refused
        assert message in refused
    assert "--evidence-days and/or --notes-days" in kosiflow(
        "--as", "Root", "retention", "set", expect=2
    )
    assert "may not change the retention" in kosiflow(
        "--as", "Jana", "retention", "set", "--notes-days", "5", expect=2
    )
    assert "evidence  kept forever" in kosiflow("retention", "show")

    shown = kosiflow("--as", "Root", "retention", "set", "--evidence-days", "0")
    assert "evidence  kept 0 days from the event (set " in shown
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    dry = kosiflow("retention", "apply", "--dry-run", "--now", later)
    assert "would remove 1 text(s): evidence of events 2" in dry
    done = kosiflow("retention", "apply", "--now", later)
    assert "removed 1 text(s) (recorded as event 3): evidence of events 2" in done
    assert "removed 0 text(s) of 0 initiative(s)" in kosiflow("retention", "apply", "--now", later)
    assert "removed under the retention policy" in kosiflow("show", initiative)
    assert "broken" not in kosiflow("verify")
    assert "no ISO 8601 time" in kosiflow("retention", "apply", "--now", "tomorrow", expect=2)
