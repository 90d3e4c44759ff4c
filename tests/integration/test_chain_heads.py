"""Chain heads kept outside the database find a history rewritten wholesale (every hash
recomputed), which verification alone cannot; signed documents cannot be altered to match."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from kosiflow.catalog import WorkflowCatalog
from kosiflow.cli import app
from kosiflow.engine import Actor
from kosiflow.errors import BadInput
from kosiflow.services import Services
from kosiflow.services.heads import ChainHead, heads_document, read_heads_document
from kosiflow.store import canonical_json, open_database, record_hash

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
KEY = b"geheimer Pruefschluessel"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    catalog = WorkflowCatalog.from_folder(WORKFLOWS)
    database = open_database(database_url)
    catalog.register(database)
    yield Services(database, catalog)
    database.close()


def _initiative(services: Services, title: str) -> str:
    user, _ = services.database.add_user(f"Koordination {title}", ["coordinator", "administration"])
    actor = Actor(user.person_id, frozenset(user.roles))
    initiative_id = services.create("kosi-lab", title, actor).initiative_id
    services.tick(initiative_id, "mandate_secured", actor, evidence="Ratsbeschluss 2026/17")
    services.note(initiative_id, "Auftakt im Rathaus", actor)
    return initiative_id


def _rewrite_wholesale(services: Services, initiative_id: str) -> None:
    """Change event 2's evidence and recompute every hash from there on, projection included
    (the evidence written into the payload, its text kept outside the payload deleted)."""
    history = list(services.history(initiative_id))
    payload = {**history[1].payload, "evidence": "nachträglich geändert"}
    prev_hash = history[0].hash
    rewritten = []
    for record in history[1:]:
        changed = dataclasses.replace(
            record, prev_hash=prev_hash, payload=payload if record.seq == 2 else record.payload
        )
        changed = dataclasses.replace(changed, hash=record_hash(changed))
        rewritten.append(changed)
        prev_hash = changed.hash
    with services.database.engine.begin() as connection:
        connection.execute(
            text("DELETE FROM event_texts WHERE initiative_id = :id AND seq = 2"),
            {"id": initiative_id},
        )
        for record in rewritten:
            connection.execute(
                text(
                    "UPDATE events SET payload = :payload, prev_hash = :prev, hash = :hash "
                    "WHERE initiative_id = :id AND seq = :seq"
                ),
                {
                    "payload": canonical_json(record.payload),
                    "prev": record.prev_hash,
                    "hash": record.hash,
                    "id": initiative_id,
                    "seq": record.seq,
                },
            )
        connection.execute(
            text("UPDATE initiatives SET head_hash = :hash WHERE id = :id"),
            {"hash": prev_hash, "id": initiative_id},
        )


def test_a_wholesale_rewrite_passes_verify_but_not_the_heads(services: Services) -> None:
    untouched = _initiative(services, "Fahrradgaragen")
    rewritten = _initiative(services, "Quartierszentrum")
    document = heads_document(services.chain_heads(), NOW, KEY)
    _rewrite_wholesale(services, rewritten)
    services._states.clear()  # another process would not have this initiative cached

    assert services.verify(rewritten).ok  # the recomputed chain is consistent in itself
    findings = services.check_heads(read_heads_document(document, KEY, source="heads.json"))
    assert [f.initiative_id for f in findings] == [rewritten]
    assert "history rewritten" in findings[0].problem
    assert untouched not in {f.initiative_id for f in findings}


def test_heads_find_deleted_histories_and_vanished_initiatives(services: Services) -> None:
    initiative_id = _initiative(services, "Fahrradgaragen")
    heads = services.chain_heads()
    with services.database.engine.begin() as connection:
        connection.execute(
            text("DELETE FROM events WHERE initiative_id = :id AND seq = 3"), {"id": initiative_id}
        )
    (finding,) = services.check_heads(heads)
    assert "broken" in finding.problem
    gone = dataclasses.replace(heads[0], initiative_id="verschwunden")
    (vanished,) = services.check_heads([gone])
    assert vanished.problem == "the initiative is gone"


def test_an_altered_or_unsigned_heads_document_is_refused() -> None:
    heads = [ChainHead("fahrradgaragen", 3, "ab" * 32)]
    document = heads_document(heads, NOW, KEY)
    assert read_heads_document(document, KEY, source="heads.json")[0].version == 3
    altered = document.replace('"version": 3', '"version": 2')
    with pytest.raises(BadInput, match="signature does not match"):
        read_heads_document(altered, KEY, source="heads.json")
    unsigned = heads_document(heads, NOW, None)
    with pytest.raises(BadInput, match="not signed"):
        read_heads_document(unsigned, KEY, source="heads.json")
    with pytest.raises(BadInput, match=r"heads\.json"):
        read_heads_document("{}", None, source="heads.json")


def test_the_cli_exports_and_checks_signed_heads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOSIFLOW_AUDIT_KEY", KEY.decode())
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    base = ["--database", url, "--workflows", str(WORKFLOWS)]
    runner = CliRunner()
    assert runner.invoke(app, [*base, "demo"]).exit_code == 0
    heads = runner.invoke(app, [*base, "audit", "heads"])
    assert heads.exit_code == 0, heads.output
    heads_file = tmp_path / "heads.json"
    heads_file.write_text(heads.stdout)
    assert json.loads(heads.stdout)["signature"]

    checked = runner.invoke(app, [*base, "audit", "check", str(heads_file)])
    assert checked.exit_code == 0, checked.output
    assert "6 of 6 heads confirmed (signature verified)" in checked.output

    catalog = WorkflowCatalog.from_folder(WORKFLOWS)
    database = open_database(url)
    try:
        services = Services(database, catalog)
        victim = services.initiative_ids()[0]
        _rewrite_wholesale(services, victim)
    finally:
        database.close()
    caught = runner.invoke(app, [*base, "audit", "check", str(heads_file)])
    assert caught.exit_code == 1, caught.output
    assert f"{victim}: event" in caught.output
    assert "5 of 6 heads confirmed" in caught.output

    heads_file.write_text(heads.stdout.replace('"version": ', '"version": 1'))
    altered = runner.invoke(app, [*base, "audit", "check", str(heads_file)])
    assert altered.exit_code == 2, altered.output
    assert "signature does not match" in altered.output
