"""Every history in one stream (``ReadUnit.histories``): what ``verify --all`` and the export
read, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import text

from kosiflow.store import Database, StoredDefinition, StoredHead, open_database, verify_stored
from tests.integration.store_helpers import T0, define, event, grow, projection

OTHER = StoredDefinition("light", 1, "b" * 64, "id: light\nversion: 1\n", "light.yaml")


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    define(database)
    with database.write() as unit:
        unit.save_definition(OTHER)
    try:
        yield database
    finally:
        database.close()


def _create(db: Database, initiative_id: str, events: int, *, minutes: int, light: bool) -> None:
    """An initiative created ``minutes`` after T0 (of workflow ``light`` or ``kosi-lab``)."""
    first = projection(initiative_id, 1)
    first = replace(first, created_at=T0 + timedelta(minutes=minutes))
    if light:
        first = replace(first, workflow_id=OTHER.workflow_id)
    with db.write() as unit:
        unit.append(first, 0, [event(1)])
    if events > 1:
        grow(db, initiative_id, events - 1)


@pytest.fixture
def three(db: Database) -> list[str]:
    """Three initiatives created in the order c, a, b (ids do not sort like creation)."""
    _create(db, "c", 3, minutes=1, light=False)
    _create(db, "a", 2, minutes=2, light=True)
    _create(db, "b", 4, minutes=3, light=False)
    return ["c", "a", "b"]


def _read(db: Database, **filters: str) -> list[tuple[StoredHead, list[int]]]:
    with db.read() as unit:
        return [(head, [row[1] for row in rows]) for head, rows in unit.histories(**filters)]


def test_every_history_streams_in_order_of_creation_each_in_seq_order(
    db: Database, three: list[str]
) -> None:
    found = _read(db)
    assert [head.initiative_id for head, _ in found] == three
    assert [seqs for _, seqs in found] == [[1, 2, 3], [1, 2], [1, 2, 3, 4]]
    with db.read() as unit:
        for head, _ in found:
            stored = unit.load_projection(head.initiative_id)
            assert stored is not None
            assert (head.version, head.hash) == (stored.version, stored.head_hash)
        records = list(unit.all_events())
        assert [(r.initiative_id, r.seq) for r in records] == [
            (h.initiative_id, seq) for h, seqs in found for seq in seqs
        ]
        assert records[:3] == list(unit.events("c"))


def test_the_stream_filters_by_workflow_and_by_initiative(db: Database, three: list[str]) -> None:
    assert [h.initiative_id for h, _ in _read(db, workflow_id="kosi-lab")] == ["c", "b"]
    assert [h.initiative_id for h, _ in _read(db, workflow_id="light")] == ["a"]
    assert [(h.initiative_id, seqs) for h, seqs in _read(db, initiative_id="b")] == [
        ("b", [1, 2, 3, 4])
    ]
    assert _read(db, workflow_id="light", initiative_id="b") == []


def test_a_group_left_unread_does_not_disturb_the_next(db: Database, three: list[str]) -> None:
    with db.read() as unit:
        heads = [head.initiative_id for head, _ in unit.histories()]
    assert heads == three


@pytest.mark.parametrize(
    ("statement", "first_bad"),
    [
        ("UPDATE events SET payload = '{\"n\": 9}' WHERE seq = 2 AND initiative_id = 'a'", 2),
        ("DELETE FROM events WHERE seq = 3 AND initiative_id = 'b'", 3),
        ("DELETE FROM events WHERE initiative_id = 'a'", 1),
    ],
    ids=["changed", "deleted", "history-gone"],
)
def test_each_chain_is_checked_on_the_fly_and_only_the_tampered_one_fails(
    db: Database, three: list[str], statement: str, first_bad: int
) -> None:
    with db.engine.begin() as connection:
        connection.execute(text(statement))
    with db.read() as unit:
        results = {
            head.initiative_id: verify_stored(rows, head_hash=head.hash, version=head.version)
            for head, rows in unit.histories()
        }
    assert list(results) == three  # an initiative whose rows are all gone is still named
    bad = {i: r for i, r in results.items() if not r.ok}
    assert len(bad) == 1
    assert next(iter(bad.values())).first_bad_seq == first_bad
