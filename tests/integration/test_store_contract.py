"""The store's contract, run against SQLite and PostgreSQL (one subclass per backend)."""

from __future__ import annotations

import hashlib
import itertools
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from kosiflow.errors import BadInput, ConcurrencyConflict, DefinitionChanged, DuplicateRequest
from kosiflow.store import (
    GENESIS_HASH,
    Database,
    StoredDefinition,
    current_revision,
    head_revision,
    open_database,
    record_hash,
    verify_chain,
    verify_stored,
)
from kosiflow.store.tables import Base
from tests.integration.store_helpers import BERLIN, DEFINITION, T0, define, event, grow, projection


def _new_id() -> str:
    return str(uuid.uuid4())


class EventStoreContract:
    """Every backend must pass these; subclasses provide the ``url`` fixture."""

    @pytest.fixture
    def db(self, url: str) -> Iterator[Database]:
        database = open_database(url)
        define(database)
        try:
            yield database
        finally:
            database.close()

    # -- appending and reading ---------------------------------------------------------------

    def test_an_appended_history_reads_back_exactly(self, db: Database) -> None:
        iid = _new_id()
        with db.write() as unit:
            written = unit.append(
                projection(iid, 2), 0, [event(1, at=T0.astimezone(BERLIN)), event(2)]
            )
        with db.read() as unit:
            read = list(unit.events(iid))
            stored = unit.load_projection(iid)
        assert read == written
        assert read[0].at == T0
        assert all(r.at.tzinfo is UTC and r.at.microsecond for r in read)
        assert read[0].payload["text"] == "Notiz 1: grüße €"
        expected = projection(iid, 2)
        assert stored == expected.__class__(**{**_fields(expected), "head_hash": written[-1].hash})
        assert stored is not None
        assert stored.created_at == T0
        assert stored.created_at.tzinfo is UTC
        assert stored.state == {"version": 2, "phase": "initiation"}
        assert stored.head_hash == written[-1].hash

    def test_seqs_are_contiguous_and_each_event_chains_onto_the_one_before(
        self, db: Database
    ) -> None:
        iid = _new_id()
        grow(db, iid, 5)
        with db.read() as unit:
            history = list(unit.events(iid))
            stored = unit.load_projection(iid)
        assert [r.seq for r in history] == [1, 2, 3, 4, 5]
        assert history[0].prev_hash == GENESIS_HASH
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(history))
        assert all(record_hash(r) == r.hash for r in history)
        assert stored is not None
        assert stored.version == 5
        assert stored.head_hash == history[-1].hash
        assert verify_chain(history, head_hash=stored.head_hash, version=5).ok
        with db.read() as unit:
            rows = list(unit.stored_events(iid))
        assert verify_stored(rows, head_hash=stored.head_hash, version=5).ok
        assert not verify_stored(rows[:4], head_hash=stored.head_hash, version=5).ok

    def test_appending_against_a_stale_version_conflicts(self, db: Database) -> None:
        iid = _new_id()
        grow(db, iid, 2)
        for expected in (0, 1, 5):
            with pytest.raises(ConcurrencyConflict) as caught, db.write() as unit:
                unit.append(projection(iid, expected + 1), expected, [event(9)])
            assert (caught.value.expected, caught.value.actual) == (expected, 2)
        with db.read() as unit:
            assert [r.seq for r in unit.events(iid)] == [1, 2]

    def test_two_racing_writers_one_wins_and_the_other_conflicts(self, url: str) -> None:
        first, second = open_database(url), open_database(url)
        try:
            define(first)
            iid = _new_id()
            grow(first, iid, 1)
            barrier = threading.Barrier(2)
            outcomes: list[str] = []

            def write(database: Database) -> None:
                barrier.wait()
                try:
                    with database.write() as unit:
                        unit.append(projection(iid, 2), 1, [event(2)])
                except ConcurrencyConflict as conflict:
                    outcomes.append(f"conflict {conflict.expected}->{conflict.actual}")
                else:
                    outcomes.append("won")

            threads = [threading.Thread(target=write, args=(d,)) for d in (first, second)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(outcomes) == ["conflict 1->2", "won"]
            with first.read() as unit:
                assert [r.seq for r in unit.events(iid)] == [1, 2]
        finally:
            first.close()
            second.close()

    def test_a_failure_inside_a_unit_rolls_back_events_and_projection(self, db: Database) -> None:
        old, new = _new_id(), _new_id()
        grow(db, old, 1)

        def fail_midway() -> None:
            with db.write() as unit:
                unit.append(projection(old, 2), 1, [event(2)])
                unit.append(projection(new, 1), 0, [event(1)])
                unit.add_person("Aylin")
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            fail_midway()
        with db.read() as unit:
            assert unit.load_projection(new) is None
            assert list(unit.events(new)) == []
            stored = unit.load_projection(old)
            assert stored is not None
            assert stored.version == 1
            assert [r.seq for r in unit.events(old)] == [1]

    def test_listing_filters_by_workflow_phase_and_parent(self, db: Database) -> None:
        parent, child, other = _new_id(), _new_id(), _new_id()
        grow(db, parent, 1)
        grow(db, child, 2, parent_id=parent, phase="co_creation")
        grow(db, other, 1, phase="co_creation")
        with db.read() as unit:
            assert {p.initiative_id for p in unit.list_projections()} == {parent, child, other}
            by_phase = unit.list_projections(workflow_id="kosi-lab", phase="co_creation")
            assert {p.initiative_id for p in by_phase} == {child, other}
            assert [p.initiative_id for p in unit.list_projections(parent_id=parent)] == [child]
            assert len(unit.list_projections(limit=2)) == 2
            assert len(unit.list_projections(limit=2, offset=2)) == 1
            assert set(unit.initiative_ids()) == {parent, child, other}

    def test_a_projection_can_be_replaced_at_its_own_version_only(self, db: Database) -> None:
        iid = _new_id()
        grow(db, iid, 2)
        with db.write() as unit:
            stored = unit.load_projection(iid)
            assert stored is not None
            rebuilt = stored.__class__(**{**_fields(stored), "state": {"rebuilt": True}})
            unit.replace_projection(rebuilt)
        with db.read() as unit:
            assert unit.load_projection(iid) == rebuilt
        stale = rebuilt.__class__(**{**_fields(rebuilt), "version": 1})
        with pytest.raises(ConcurrencyConflict), db.write() as unit:
            unit.replace_projection(stale)

    # -- definitions, idempotency, people, users ---------------------------------------------

    def test_a_definition_is_stored_once_and_never_changed(self, db: Database) -> None:
        define(db)  # the same text again is fine
        changed = StoredDefinition(DEFINITION.workflow_id, 1, "b" * 64, "other", "kosi.yaml")
        with pytest.raises(DefinitionChanged), db.write() as unit:
            unit.save_definition(changed)
        with db.read() as unit:
            assert unit.load_definition("kosi-lab", 1) == DEFINITION
            assert unit.load_definition("kosi-lab", 2) is None
            assert unit.list_definitions() == [DEFINITION]

    def test_an_idempotency_record_round_trips(self, db: Database) -> None:
        iid = _new_id()
        grow(db, iid, 1)
        with db.write() as unit:
            assert unit.find_idempotent("p-1", "key-1") is None
            unit.remember_idempotent("p-1", "key-1", "f" * 64, iid, '{"version": 1}')
        with db.write() as unit:
            assert unit.find_idempotent("p-1", "key-1") == ("f" * 64, '{"version": 1}')
            assert unit.find_idempotent("p-2", "key-1") is None
        with pytest.raises(DuplicateRequest, match="key-1"), db.write() as unit:
            unit.remember_idempotent("p-1", "key-1", "e" * 64, iid, "{}")

    def test_people_have_pseudonymous_ids_and_can_be_erased(self, db: Database) -> None:
        with db.write() as unit:
            aylin = unit.add_person("Aylin", "aylin@example.org")
            lena = unit.add_person("Lena")
        assert aylin.startswith("p-")
        assert len(aylin) == 34
        with db.write() as unit:
            assert unit.erase_person(aylin)
            assert not unit.erase_person(aylin)
        with db.read() as unit:
            assert unit.person_names([aylin, lena, "p-unknown"]) == {aylin: "", lena: "Lena"}
            assert unit.person_names([]) == {}
            twice = unit.person_names([lena, aylin, lena])  # one statement for all
            assert list(twice.items()) == [(lena, "Lena"), (aylin, "")]  # in the order asked
        with db.engine.connect() as connection:
            row = connection.execute(
                text("SELECT contact, erased_at FROM people WHERE id = :id"), {"id": aylin}
            ).one()
        assert row[0] is None
        assert row[1] is not None

    def test_a_renewed_token_replaces_the_old_one(self, db: Database) -> None:
        jana, old = db.add_user("Jana", ["coordinator"])
        thomas, other = db.add_user("Thomas", ["administration"])
        new = db.renew_token(jana)
        assert new != old
        assert db.user_by_token(old) is None
        assert db.user_by_token(new) == jana
        assert db.user_by_token(other) == thomas

    def test_users_keep_only_the_hash_of_their_token(self, db: Database) -> None:
        jana, token = db.add_user("Jana", ["coordinator", "admin"])
        thomas, _ = db.add_user("Thomas", ["administration"])
        assert len(token) >= 40
        assert jana.roles == ("coordinator", "admin")
        assert db.user_by_token(token) == jana
        assert db.user_by_token(token + "x") is None
        assert db.user_by_name("Jana") == jana
        assert db.user_by_name("Nobody") is None
        assert db.list_users() == [jana, thomas]
        with db.engine.connect() as connection:
            stored = connection.execute(text("SELECT token_hash FROM users")).scalars().all()
        assert hashlib.sha256(token.encode()).hexdigest() in stored
        assert token not in stored
        with db.read() as unit:
            assert unit.person_names([jana.person_id]) == {jana.person_id: "Jana"}
        with pytest.raises(BadInput):
            db.add_user("Jana", ["coordinator"])

    # -- tamper detection --------------------------------------------------------------------

    @pytest.mark.parametrize(
        ("statements", "first_bad", "problem"),
        [
            pytest.param(
                ["UPDATE events SET payload = '{\"n\": 99}' WHERE seq = 3"], 3, "changed",
                id="changed-payload",
            ),
            pytest.param(["DELETE FROM events WHERE seq = 3"], 3, "missing", id="deleted-row"),
            pytest.param(
                [
                    "UPDATE events SET seq = -seq WHERE seq IN (2, 3)",
                    "UPDATE events SET seq = 3 WHERE seq = -2",
                    "UPDATE events SET seq = 2 WHERE seq = -3",
                ],
                2,
                "changed",
                id="swapped-seqs",
            ),
        ],
    )  # fmt: skip
    def test_tampering_with_stored_rows_is_detected(
        self, db: Database, statements: list[str], first_bad: int, problem: str
    ) -> None:
        iid = _new_id()
        grow(db, iid, 5)
        with db.engine.begin() as connection:
            for statement in statements:
                connection.execute(text(f"{statement} AND initiative_id = :id"), {"id": iid})
        with db.read() as unit:
            result = verify_chain(unit.events(iid))
            assert verify_stored(unit.stored_events(iid)) == result  # the fast path agrees
        assert not result.ok
        assert result.first_bad_seq == first_bad
        assert result.problem is not None
        assert problem in result.problem

    def test_a_forged_row_inserted_mid_history_is_detected(self, db: Database) -> None:
        iid = _new_id()
        grow(db, iid, 5)
        with db.read() as unit:
            history = list(unit.events(iid))
        forged = history[2].__class__(
            **{**_fields(history[2]), "payload": {"text": "forged"}, "seq": 3}
        )
        forged = forged.__class__(**{**_fields(forged), "hash": record_hash(forged)})
        with db.engine.begin() as connection:
            shift = "UPDATE events SET seq = seq + :by WHERE initiative_id = :id AND seq >= :from"
            connection.execute(text(shift), {"by": 100, "id": iid, "from": 3})
            connection.execute(text(shift), {"by": -99, "id": iid, "from": 100})
            connection.execute(
                text(
                    "INSERT INTO events (initiative_id, seq, type, schema_version, actor, at, "
                    "payload, prev_hash, hash) SELECT initiative_id, 3, type, schema_version, "
                    "actor, at, :payload, prev_hash, :hash FROM events "
                    "WHERE initiative_id = :id AND seq = 4"
                ),
                {"payload": '{"text":"forged"}', "hash": forged.hash, "id": iid},
            )
        with db.read() as unit:
            result = verify_chain(unit.events(iid))
            assert verify_stored(unit.stored_events(iid)) == result
            assert verify_chain(list(unit.events(iid))[:3]).ok  # the forgery itself is sound
        assert (result.ok, result.first_bad_seq, result.events_checked) == (False, 4, 3)

    # -- schema ------------------------------------------------------------------------------

    def test_the_migrated_schema_equals_the_models(self, db: Database) -> None:
        assert current_revision(db.engine) == head_revision()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []

    def test_opening_without_upgrade_leaves_a_new_database_unmigrated(self, url: str) -> None:
        database = open_database(url, auto_upgrade=False)
        try:
            assert current_revision(database.engine) is None
        finally:
            database.close()


def _fields(record: object) -> dict[str, object]:
    return {name: getattr(record, name) for name in record.__slots__}  # type: ignore[attr-defined]


class TestSqlite(EventStoreContract):
    @pytest.fixture
    def url(self, sqlite_url: str) -> str:
        return sqlite_url


@pytest.mark.postgres
class TestPostgres(EventStoreContract):
    @pytest.fixture
    def url(self, postgres_url: str) -> str:
        return postgres_url
