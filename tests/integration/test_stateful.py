"""A Hypothesis state machine over the real services and a real SQLite file.

Any sequence of commands — by any role, with stale versions, across restarts — keeps the
invariants: the phase is one the definition has, refused commands change nothing, seq is
contiguous, rebuilding equals the projection, and the hash chain verifies.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from kosiflow.catalog import WorkflowCatalog
from kosiflow.engine import Actor, state_to_json
from kosiflow.errors import CommandRefused, ConcurrencyConflict
from kosiflow.services import Services
from kosiflow.store import open_database

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
CATALOG = WorkflowCatalog.from_folder(WORKFLOWS)
DEFINITION = CATALOG.newest("kosi-lab")
ROLES = sorted(DEFINITION.roles)
ITEMS = sorted({i.id for p in DEFINITION.phases for i in p.checklist})
TRIGGERS = list(DEFINITION.triggers)
FORWARD = [t for t in TRIGGERS if t != "archive"]

texts = st.sampled_from(["", "  ", "https://example.org/evidence", "Protokoll", None])
role_sets = st.sets(st.sampled_from(ROLES), min_size=1, max_size=2)


class InitiativeMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="kosiflow-stateful-"))
        self.url = f"sqlite:///{self.folder / 'lab.db'}"
        self.services = self._open()
        self.initiative_id = ""
        self.actors: dict[frozenset[str], Actor] = {}

    def _open(self) -> Services:
        services = Services(open_database(self.url, sqlite_synchronous="NORMAL"), CATALOG)
        CATALOG.register(services.database)
        return services

    def _actor(self, roles: set[str]) -> Actor:
        key = frozenset(roles)
        if key not in self.actors:
            user, _ = self.services.database.add_user("-".join(sorted(key)), sorted(key))
            self.actors[key] = Actor(user.person_id, frozenset(user.roles))
        return self.actors[key]

    def teardown(self) -> None:
        self.services.database.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    @initialize()
    def create(self) -> None:
        actor = self._actor({"coordinator"})
        self.initiative_id = self.services.create("kosi-lab", "Stateful", actor).initiative_id

    def _attempt(self, roles: set[str], stale: bool, command_name: str, **kwargs: object) -> None:
        before = self.services.state(self.initiative_id)
        expected = before.version - 1 if stale else before.version
        method = getattr(self.services, command_name)
        outcome = "applied"
        try:
            method(
                self.initiative_id, actor=self._actor(roles), expected_version=expected, **kwargs
            )
        except ConcurrencyConflict:
            outcome = "conflict"
        except CommandRefused:
            outcome = "refused"
        if stale:
            assert outcome == "conflict", "a stale version must never be applied or judged"
        if outcome != "applied":
            after = self.services.state(self.initiative_id)
            assert after.version == before.version
            assert state_to_json(after) == state_to_json(before)

    @rule(roles=role_sets, item=st.sampled_from(ITEMS), evidence=texts, stale=st.booleans())
    def tick(self, roles: set[str], item: str, evidence: str | None, stale: bool) -> None:
        self._attempt(roles, stale, "tick", item=item, evidence=evidence)

    @rule(roles=role_sets, item=st.sampled_from(ITEMS), reason=texts)
    def reopen(self, roles: set[str], item: str, reason: str | None) -> None:
        self._attempt(roles, False, "reopen", item=item, reason=reason or "")

    @rule(roles=role_sets, item=st.sampled_from(ITEMS), reason=texts)
    def waive(self, roles: set[str], item: str, reason: str | None) -> None:
        self._attempt(roles, False, "waive", item=item, reason=reason or "")

    @rule(roles=role_sets, trigger=st.sampled_from(TRIGGERS), stale=st.booleans())
    def approve(self, roles: set[str], trigger: str, stale: bool) -> None:
        self._attempt(roles, stale, "approve", trigger=trigger)

    @rule(roles=role_sets, trigger=st.sampled_from(TRIGGERS), reason=texts, stale=st.booleans())
    def fire(self, roles: set[str], trigger: str, reason: str | None, stale: bool) -> None:
        self._attempt(roles, stale, "fire", trigger=trigger, reason=reason)

    @rule(roles=role_sets, sector=st.sampled_from([*ROLES, "politics"]))
    def add_participant(self, roles: set[str], sector: str) -> None:
        self._attempt(roles, False, "add_participant", name="Someone", role=sector)

    @rule(roles=role_sets, reason=texts)
    def hold(self, roles: set[str], reason: str | None) -> None:
        self._attempt(roles, False, "hold", reason=reason or "")

    @rule(roles=role_sets)
    def resume(self, roles: set[str]) -> None:
        self._attempt(roles, False, "resume")

    @rule(roles=role_sets, text=texts)
    def note(self, roles: set[str], text: str | None) -> None:
        self._attempt(roles, False, "note", text=text or "")

    @rule()
    def meet_every_requirement_of_the_phase(self) -> None:
        """A coordinated step (every item, every sector, every sign-off), so that the random
        rules also run in later phases and across rework loops."""
        state = self.services.state(self.initiative_id)
        if state.has_ended or state.hold is not None:
            return
        for item in DEFINITION.phase(state.phase).checklist:
            if item.id not in state.checklist:
                actor = self._actor({item.roles[0]})
                self.services.tick(self.initiative_id, item.id, actor, evidence="doc")
        coordinator = self._actor({"coordinator"})
        for role in sorted(set(ROLES) - state.sectors):
            self.services.add_participant(self.initiative_id, role, role, coordinator)
        for transition in DEFINITION.transitions_from(state.phase):
            signed = state.approvals.get(transition.trigger, {})
            for role in transition.requires.approvals:
                if role not in signed:
                    self.services.approve(
                        self.initiative_id, transition.trigger, self._actor({role})
                    )

    @rule(trigger=st.sampled_from(FORWARD))
    def fire_as_coordinator(self, trigger: str) -> None:
        self._attempt({"coordinator"}, False, "fire", trigger=trigger, reason="because")

    @rule()
    def restart(self) -> None:
        self.services.database.close()
        self.services = self._open()

    @invariant()
    def phase_is_one_the_definition_has(self) -> None:
        if self.initiative_id:
            state = self.services.state(self.initiative_id)
            assert DEFINITION.has_phase(state.phase)
            event(f"reached {state.phase} visit {state.visit}")

    @invariant()
    def history_is_contiguous_verified_and_folds_to_the_projection(self) -> None:
        if not self.initiative_id:
            return
        history = list(self.services.history(self.initiative_id))
        stored = self.services.state(self.initiative_id)
        assert [r.seq for r in history] == list(range(1, stored.version + 1))
        assert self.services.verify(self.initiative_id).ok
        assert state_to_json(self.services.fold(self.initiative_id)) == state_to_json(stored)


InitiativeMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_initiative_machine = InitiativeMachine.TestCase
