"""Texts kept outside the hashed payloads: sealing, reading back, removal marks, both schemas."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from kosiflow.engine import RemovedText, event_from_payload, state_to_json
from kosiflow.engine.events import GateApproved, ItemTicked, NoteAdded
from kosiflow.engine.state import Approval, InitiativeState, ItemState, state_from_json
from kosiflow.errors import StoreError
from kosiflow.services.base import sealed
from kosiflow.store import EventRecord, EventText
from kosiflow.store.texts import readable_payload, texts_problem
from tests.unit.engine_workflow import guard_workflow

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _record(
    payload: dict[str, object], texts: dict[str, EventText], version: int = 2
) -> EventRecord:
    return EventRecord("i", 2, "ItemTicked", version, "p-1", AT, payload, "0" * 64, "1" * 64, texts)


def test_a_tick_is_sealed_and_read_back() -> None:
    payload, texts = sealed(ItemTicked("initiation", 1, "mandate", "https://x.org", None))
    evidence = texts["evidence"]
    assert evidence.text == "https://x.org"
    assert evidence.category == "evidence"
    assert evidence.salt is not None
    digest = hashlib.sha256(bytes.fromhex(evidence.salt) + b"https://x.org").hexdigest()
    assert payload == {
        "phase": "initiation",
        "visit": 1,
        "item": "mandate",
        "evidence": {"sha256": digest},
        "note": None,
    }
    readable = readable_payload(_record(payload, texts))
    assert readable["evidence"] == "https://x.org"
    assert event_from_payload("ItemTicked", 2, readable) == ItemTicked(
        "initiation", 1, "mandate", "https://x.org", None
    )
    assert sealed(NoteAdded("Hallo"))[1]["text"].category == "notes"
    assert sealed(GateApproved("initiation", 1, "go", "admin", "ok"))[1]["note"].category == "notes"


def test_each_salt_is_fresh() -> None:
    first, _ = sealed(NoteAdded("Hallo"))
    second, _ = sealed(NoteAdded("Hallo"))
    assert first["text"] != second["text"]


def test_a_removed_text_reads_as_its_removal() -> None:
    payload, texts = sealed(ItemTicked("initiation", 1, "mandate", "https://x.org", "n"))
    removed = {**texts, "evidence": EventText("evidence", None, None, AT)}
    readable = readable_payload(_record(payload, removed))
    assert readable["evidence"] is None
    assert readable["evidence_removed_at"] == AT.isoformat()
    assert readable["note"] == "n"
    event = event_from_payload("ItemTicked", 2, readable)
    assert isinstance(event, ItemTicked)
    assert event.evidence == RemovedText(AT)
    missing = readable_payload(_record(payload, {}))
    assert event_from_payload("ItemTicked", 2, missing) == ItemTicked(
        "initiation", 1, "mandate", RemovedText(None), RemovedText(None)
    )


def test_schema_1_payloads_read_as_stored_and_others_are_refused() -> None:
    inline = {"phase": "p", "visit": 1, "item": "i", "evidence": "e", "note": None}
    assert readable_payload(_record(inline, {}, version=1)) == inline
    assert event_from_payload("ItemTicked", 1, inline) == ItemTicked("p", 1, "i", "e", None)
    with pytest.raises(StoreError, match="schema version 3"):
        event_from_payload("ItemTicked", 3, inline)


def test_a_removed_text_survives_the_projection_and_old_projections_are_unchanged() -> None:
    wf = guard_workflow()
    gone = RemovedText(AT)
    state = InitiativeState(
        "i",
        wf,
        version=2,
        title="t",
        phase=wf.initial,
        visit=1,
        checklist={"a": ItemState("done", "p-1", AT, evidence=gone, note="kept")},
        approvals={"go": {"admin": Approval("p-1", AT, gone)}},
    )
    data = state_to_json(state)
    assert data["checklist"]["a"] == {
        "status": "done",
        "by": "p-1",
        "at": AT.isoformat(),
        "evidence": None,
        "evidence_removed_at": AT.isoformat(),
        "note": "kept",
        "reason": None,
    }
    assert state_from_json(wf, "i", 2, data) == state
    kept = ItemState("done", "p-1", AT, evidence="e")
    assert set(kept.as_json) == {"status", "by", "at", "evidence", "note", "reason"}


def test_a_text_stored_for_an_event_without_a_commitment_is_named() -> None:
    texts = {4: {"note": EventText("notes", "x", "00" * 16)}}
    assert texts_problem([], texts, set()) == (
        4,
        "texts are stored for event 4, which has no commitment to them",
    )
