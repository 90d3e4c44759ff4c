"""One scenario's world: its workflow, database, people, initiative and the last command's outcome.

A fresh world (and a fresh temporary SQLite database) is made for every scenario by the
``kosiflow_world`` fixture; steps receive it and keep their state in it, never in globals.

Commands follow one rule: a command that is refused (or loses a race) fails its step with the
blocker in the lab's words, unless the very next step checks that outcome ("Then it is refused
because …"). So a scenario that contradicts the workflow fails where it contradicts it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kosiflow.bdd.drivers import Done, Driver, EngineDriver, HistoryEntry, Person, View
from kosiflow.bdd.failures import SpecFailure, refusal_words
from kosiflow.bdd.naming import Kind, Names
from kosiflow.bdd.registry import STEPS
from kosiflow.bdd.texts import say
from kosiflow.catalog import WorkflowCatalog
from kosiflow.definition import RESERVED_ROLES, Definition, load_definition
from kosiflow.definition.suggest import closest
from kosiflow.engine import SYSTEM_ACTOR, Actor, Blocker, Command
from kosiflow.errors import CommandRefused, ConcurrencyConflict, DefinitionError
from kosiflow.services import Services
from kosiflow.store import open_database

Via = Literal["engine", "api"]
VIAS: tuple[Via, ...] = ("engine", "api")
PLATFORM_ROLES = tuple(r for r in RESERVED_ROLES if r != SYSTEM_ACTOR)
"""Roles a person may hold besides the workflow's own (``auditor``, ``admin``)."""

_SYNCHRONOUS = "NORMAL"
"""A scenario's database is thrown away afterwards: it need not survive a power cut."""

Headline = Callable[[str, Sequence[Blocker]], str]
"""What a refused command says first ("Gate 'x' is shut"), given who sent it and its blockers."""


@dataclass(frozen=True, slots=True)
class Accepted:
    person: str
    done: Done


@dataclass(frozen=True, slots=True)
class Refusal:
    person: str
    headline: str
    blockers: tuple[Blocker, ...]


@dataclass(frozen=True, slots=True)
class Conflict:
    person: str
    error: ConcurrencyConflict


@dataclass(frozen=True, slots=True)
class Race:
    """Several people sent the same command on the same version at the same time."""

    results: tuple[Accepted | Refusal | Conflict, ...]


Outcome = Accepted | Refusal | Conflict | Race


class DefinitionCache:
    """Workflow files parsed once per test session (re-read when a file changes)."""

    def __init__(self) -> None:
        self._loaded: dict[tuple[Path, int], Definition] = {}

    def load(self, path: Path) -> Definition:
        key = (path.resolve(), path.stat().st_mtime_ns)
        if key not in self._loaded:
            self._loaded[key] = load_definition(path)
        return self._loaded[key]


@dataclass
class _Store:
    """The database of the scenario and the way steps reach it."""

    url: str
    catalog: WorkflowCatalog
    services: Services
    driver: Driver
    close_driver: Callable[[], None]


class World:
    """Everything one scenario has set up so far."""

    def __init__(
        self,
        *,
        feature_file: Path,
        lang: str,
        via: Via,
        workdir: Path,
        definitions: DefinitionCache,
    ) -> None:
        self.feature_file = feature_file
        self.lang = lang
        self.via = via
        self._workdir = workdir
        self._definitions = definitions
        self._definition: Definition | None = None
        self._names: Names | None = None
        self._store: _Store | None = None
        self._people: dict[str, Person] = {}
        self._current: str | None = None
        self._expects_outcome = False
        self.outcome: Outcome | None = None

    # -- the workflow and the database -------------------------------------------------------------

    def use_workflow(self, name: str) -> None:
        """Run the scenario against the workflow file ``name`` (looked up from the feature's
        folder upwards) on a new database."""
        if self._definition is not None:
            raise SpecFailure(say(self.lang, "workflow_twice"))
        path = self._find(name)
        try:
            definition = self._definitions.load(path)
        except DefinitionError as exc:
            problems = "\n".join(f"  {p}" for p in exc.problems)
            raise SpecFailure(
                say(self.lang, "workflow_invalid", file=name) + "\n" + problems
            ) from exc
        self._definition = definition
        url = f"sqlite:///{self._workdir / 'kosiflow.db'}"
        catalog = WorkflowCatalog([definition])
        database = open_database(url, sqlite_synchronous=_SYNCHRONOUS)
        catalog.register(database)
        services = Services(database, catalog)
        if self.via == "api":
            from kosiflow.bdd.api_driver import ApiDriver  # needs FastAPI's TestClient (httpx)

            api = ApiDriver(services, definition, self.lang)
            self._store = _Store(url, catalog, services, api, api.close)
        else:
            self._store = _Store(url, catalog, services, EngineDriver(services), lambda: None)

    def _find(self, name: str) -> Path:
        start = self.feature_file.parent
        for folder in (start, *start.parents):
            candidate = folder / name
            if candidate.is_file():
                return candidate
        raise SpecFailure(say(self.lang, "workflow_missing", file=name, folder=os.fspath(start)))

    @property
    def definition(self) -> Definition:
        if self._definition is None:
            raise SpecFailure(say(self.lang, "workflow_first"))
        return self._definition

    @property
    def services(self) -> Services:
        return self._opened().services

    @property
    def driver(self) -> Driver:
        return self._opened().driver

    def _opened(self) -> _Store:
        if self._store is None:
            raise SpecFailure(say(self.lang, "workflow_first"))
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close_driver()
            self._store.services.database.close()

    # -- people and the initiative -----------------------------------------------------------------

    def introduce(self, name: str, roles: Iterable[str]) -> None:
        """Add a user ``name`` holding ``roles`` (workflow roles, ``auditor`` or ``admin``)."""
        known = [*self.definition.roles, *PLATFORM_ROLES]
        wanted = [self.role_id(r) for r in roles]
        for role in wanted:
            if role not in known:
                hint = self._hint(role, known)
                raise SpecFailure(
                    say(self.lang, "role_unknown", role=role, hint=hint, known=", ".join(known))
                )
        if name in self._people:
            raise SpecFailure(say(self.lang, "person_twice", person=name))
        user, token = self.services.database.add_user(name, wanted)
        self._people[name] = Person(name, Actor(user.person_id, frozenset(user.roles)), token)

    def person(self, name: str) -> Person:
        found = self._people.get(name)
        if found is None:
            hint = self._hint(name, self._people)
            known = ", ".join(f'"{n}"' for n in self._people) or "-"
            raise SpecFailure(say(self.lang, "person_unknown", person=name, hint=hint, known=known))
        return found

    def _hint(self, word: str, options: Iterable[str]) -> str:
        match = closest(word, options)
        return "" if match is None else say(self.lang, "did_you_mean", word=match)

    @property
    def people(self) -> Mapping[str, Person]:
        return self._people

    def name_of(self, actor_id: str) -> str:
        """The name of a person the scenario introduced (``system`` for the engine itself)."""
        if actor_id == SYSTEM_ACTOR:
            return say(self.lang, "system")
        for person in self._people.values():
            if person.actor.id == actor_id:
                return person.name
        return actor_id

    def start(self, who: str, title: str) -> None:
        """``who`` starts an initiative; it becomes the one later steps talk about."""
        person = self.person(who)
        workflow = self.definition.id

        def headline(_: str, __: Sequence[Blocker]) -> str:
            return say(self.lang, "may_not_start", person=who, title=title)

        self._settle(person, headline, lambda d: d.create(workflow, title, person), strict=False)
        if isinstance(self.outcome, Accepted):
            self._current = self.outcome.done.initiative_id

    @property
    def initiative_id(self) -> str:
        if self._current is None:
            raise SpecFailure(say(self.lang, "initiative_first"))
        return self._current

    # -- ids and titles ----------------------------------------------------------------------------

    @property
    def names(self) -> Names:
        if self._names is None:
            self._names = Names(self.definition)
        return self._names

    def item_id(self, text: str) -> str:
        return self.names.id_of("item", text)

    def trigger_id(self, text: str) -> str:
        return self.names.id_of("trigger", text)

    def role_id(self, text: str) -> str:
        return self.names.id_of("role", text)

    def phase_id(self, text: str) -> str:
        return self.names.id_of("phase", text)

    def label(self, kind: Kind, key: str) -> str:
        """``'id' (Title)`` in the scenario's language."""
        return self.names.label(kind, key, self.lang)

    # -- commands and their outcome ----------------------------------------------------------------

    def begin_step(self, next_step: str | None) -> None:
        """Called before every step with the text of the step after it (None at the end)."""
        self._expects_outcome = next_step is not None and any(
            spec.outcome and spec.match(next_step) is not None for spec in STEPS
        )

    def act(self, who: str, command: Command, headline: Headline, *, strict: bool = False) -> None:
        """``who`` sends ``command`` about the current initiative; ``strict``: a refusal fails
        the step even when the next step checks the outcome (for shortcuts)."""
        person = self.person(who)
        initiative = self.initiative_id
        self._settle(
            person, headline, lambda d: d.execute(initiative, command, person), strict=strict
        )

    def involve(self, who: str, participant: str, role: str, *, strict: bool = False) -> None:
        """``who`` adds ``participant`` bringing the sector ``role``."""
        person = self.person(who)
        initiative = self.initiative_id

        def headline(_: str, __: Sequence[Blocker]) -> str:
            return say(self.lang, "may_not_involve", person=who, participant=participant)

        def call(driver: Driver) -> Done:
            return driver.add_participant(initiative, participant, role, person)

        self._settle(person, headline, call, strict=strict)

    def _settle(
        self, person: Person, headline: Headline, call: Callable[[Driver], Done], *, strict: bool
    ) -> None:
        try:
            self.outcome = Accepted(person.name, call(self.driver))
        except CommandRefused as exc:
            self.outcome = Refusal(person.name, headline(person.name, exc.blockers), exc.blockers)
        except ConcurrencyConflict as exc:
            self.outcome = Conflict(person.name, exc)
        if not isinstance(self.outcome, Accepted) and (strict or not self._expects_outcome):
            raise SpecFailure(self.words(self.outcome))

    def race(self, names: Sequence[str], command: Command, headline: Headline) -> None:
        """Everyone in ``names`` sends ``command`` at once, each from a session of their own
        that read the same version; the outcome holds what each of them got."""
        people = [self.person(n) for n in names]
        initiative, version = self.initiative_id, self.view().version
        sessions = [self._session() for _ in people]
        ready = threading.Barrier(len(people))

        def send(
            session: tuple[Driver, Callable[[], None]], person: Person
        ) -> Accepted | Refusal | Conflict:
            ready.wait()
            try:
                done = session[0].execute(initiative, command, person, expected_version=version)
                return Accepted(person.name, done)
            except CommandRefused as exc:
                return Refusal(person.name, headline(person.name, exc.blockers), exc.blockers)
            except ConcurrencyConflict as exc:
                return Conflict(person.name, exc)

        try:
            with ThreadPoolExecutor(len(people)) as pool:
                results = list(pool.map(send, sessions, people))
        finally:
            for _, close in sessions:
                close()
        self.outcome = Race(tuple(results))
        refused = [r for r in results if isinstance(r, Refusal)]
        if refused:
            raise SpecFailure(self.words(refused[0]))

    def _session(self) -> tuple[Driver, Callable[[], None]]:
        """A driver of its own on the scenario's database (its own connections and caches);
        through the API every person already has a client session of their own."""
        store = self._opened()
        if self.via == "api":
            return store.driver, lambda: None
        database = open_database(store.url, sqlite_synchronous=_SYNCHRONOUS, auto_upgrade=False)
        return EngineDriver(Services(database, store.catalog)), database.close

    def words(self, outcome: Outcome) -> str:
        """What an outcome means, for people."""
        match outcome:
            case Refusal():
                return refusal_words(self.lang, outcome.headline, outcome.blockers)
            case Conflict():
                error = outcome.error
                return say(
                    self.lang,
                    "conflict",
                    person=outcome.person,
                    expected=error.expected,
                    actual="?" if error.actual is None else error.actual,
                )
            case Accepted():
                events = ", ".join(outcome.done.events)
                return say(self.lang, "accepted", person=outcome.person, events=events or "-")
            case Race():
                return "\n".join(self.words(r) for r in outcome.results)

    def refusal(self) -> Refusal:
        """The refusal the step before got; fails when it was not refused."""
        if isinstance(self.outcome, Refusal):
            return self.outcome
        if self.outcome is None:
            raise SpecFailure(say(self.lang, "no_command"))
        raise SpecFailure(say(self.lang, "not_refused", outcome=self.words(self.outcome)))

    # -- reading -----------------------------------------------------------------------------------

    def view(self) -> View:
        return self.driver.view(self.initiative_id)

    def history(self) -> list[HistoryEntry]:
        return self.driver.history(self.initiative_id)
