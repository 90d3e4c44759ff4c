"""Steps that set a scenario up and steps for every command of the engine.

Each command has a present-tense sentence (for *When*) and a perfect-tense one (for *Given*);
both run the same command as a named person.
"""

from __future__ import annotations

from collections.abc import Sequence

from kosiflow.bdd.failures import gate_headline
from kosiflow.bdd.registry import step
from kosiflow.bdd.tables import rows_of
from kosiflow.bdd.texts import say
from kosiflow.bdd.world import Headline, World
from kosiflow.engine import (
    AddNote,
    ApproveGate,
    Blocker,
    FireTrigger,
    Hold,
    ReopenItem,
    Resume,
    TickItem,
    WaiveItem,
)


def says(world: World, key: str, **values: str) -> Headline:
    """The headline ``key`` of a refusal, naming who was refused as ``{person}``."""

    def headline(person: str, _: Sequence[Blocker]) -> str:
        return say(world.lang, key, person=person, **values)

    return headline


def gate(world: World, trigger: str) -> Headline:
    """``Gate 'x' is shut`` as the headline of a refused firing."""

    def headline(person: str, blockers: Sequence[Blocker]) -> str:
        return gate_headline(world.lang, trigger, person, blockers)

    return headline


def split_roles(roles: str) -> list[str]:
    """``"administration, science"`` → ``["administration", "science"]``."""
    return [r.strip() for r in roles.split(",") if r.strip()]


# -- setup -----------------------------------------------------------------------------------------


@step(
    "workflow",
    "setup",
    en=["the workflow {file}"],
    de=["der Ablauf {file}"],
    example_en=['Given the workflow "workflows/kosi-lab.yaml"'],
    example_de=['Angenommen der Ablauf "workflows/kosi-lab.yaml"'],
)
def workflow(world: World, file: str) -> None:
    """The workflow file to run against, looked up from the feature file's folder upwards."""
    world.use_workflow(file)


@step(
    "person",
    "setup",
    en=["{name} with the role {roles}", "{name} with the roles {roles}"],
    de=["{name} mit der Rolle {roles}", "{name} mit den Rollen {roles}"],
    example_en=['Given "Thomas Krüger" with the roles "administration, science"'],
    example_de=['Angenommen "Thomas Krüger" mit der Rolle "administration"'],
)
def person(world: World, name: str, roles: str) -> None:
    """A person acting in the scenario; roles by id or title, separated by commas."""
    world.introduce(name, split_roles(roles))


@step(
    "people",
    "setup",
    en=["these people:"],
    de=["diese Personen:"],
    example_en=[
        "Given these people:",
        "  | name        | roles       |",
        "  | Jana Becker | coordinator |",
    ],
    example_de=[
        "Angenommen diese Personen:",
        "  | Name        | Rollen      |",
        "  | Jana Becker | coordinator |",
    ],
    table=True,
)
def people(world: World, table: Sequence[Sequence[object]]) -> None:
    """Several people at once: a table with the columns name and roles."""
    for row in rows_of(table, world.lang, ["name", "roles"]):
        world.introduce(row["name"], split_roles(row["roles"]))


# -- commands --------------------------------------------------------------------------------------


@step(
    "start",
    "commands",
    en=["{person} starts the initiative {title}", "{person} has started the initiative {title}"],
    de=["{person} die Initiative {title} anlegt", "{person} hat die Initiative {title} angelegt"],
    example_en=['Given "Jana Becker" has started the initiative "Fahrradgaragen im Quartier"'],
    example_de=[
        'Angenommen "Jana Becker" hat die Initiative "Fahrradgaragen im Quartier" angelegt'
    ],
)
def start(world: World, person: str, title: str) -> None:
    """Start an initiative; later steps talk about it."""
    world.start(person, title)


@step(
    "involve",
    "commands",
    en=[
        "{person} involves {participant} for the sector {role}",
        "{person} has involved {participant} for the sector {role}",
    ],
    de=[
        "{person} {participant} für den Sektor {role} beteiligt",
        "{person} hat {participant} für den Sektor {role} beteiligt",
    ],
    example_en=['When "Jana Becker" involves "Aylin Demir" for the sector "civil_society"'],
    example_de=['Wenn "Jana Becker" "Aylin Demir" für den Sektor "civil_society" beteiligt'],
)
def involve(world: World, person: str, participant: str, role: str) -> None:
    """Add a participant and the sector (workflow role) they bring."""
    world.involve(person, participant, world.role_id(role))


@step(
    "involve_sectors",
    "commands",
    en=[
        "{person} involves participants from the sectors {roles}",
        "{person} has involved participants from the sectors {roles}",
    ],
    de=[
        "{person} Beteiligte aus den Sektoren {roles} aufnimmt",
        "{person} hat Beteiligte aus den Sektoren {roles} aufgenommen",
    ],
    example_en=[
        'Given "Jana Becker" has involved participants from the sectors '
        '"administration, civil_society, science"'
    ],
    example_de=[
        'Angenommen "Jana Becker" hat Beteiligte aus den Sektoren '
        '"administration, civil_society, science" aufgenommen'
    ],
)
def involve_sectors(world: World, person: str, roles: str) -> None:
    """One participant for each sector named (separated by commas)."""
    for role in (world.role_id(r) for r in split_roles(roles)):
        title = (
            world.definition.roles[role].in_(world.lang) if role in world.definition.roles else role
        )
        world.involve(person, say(world.lang, "participant_name", role=title), role)


@step(
    "tick",
    "commands",
    en=[
        "{person} ticks {item}[ with the evidence {evidence}]",
        "{person} has ticked {item}[ with the evidence {evidence}]",
    ],
    de=[
        "{person} {item}[ mit dem Nachweis {evidence}] abhakt",
        "{person} hat {item}[ mit dem Nachweis {evidence}] abgehakt",
    ],
    example_en=[
        'When "Thomas Krüger" ticks "mandate_secured" with the evidence "Council decision"'
    ],
    example_de=['Wenn "Thomas Krüger" "mandate_secured" mit dem Nachweis "Ratsbeschluss" abhakt'],
)
def tick(world: World, person: str, item: str, evidence: str | None) -> None:
    """Tick a checklist item of the current phase (by id or title)."""
    item_id = world.item_id(item)
    headline = says(world, "may_not_tick", item=item_id)
    world.act(person, TickItem(item_id, evidence), headline)


@step(
    "reopen",
    "commands",
    en=[
        "{person} reopens {item}[ because {reason}]",
        "{person} has reopened {item}[ because {reason}]",
    ],
    de=[
        "{person} {item}[ mit der Begründung {reason}] wieder öffnet",
        "{person} hat {item}[ mit der Begründung {reason}] wieder geöffnet",
    ],
    example_en=['When "Jana Becker" reopens "core_team_named" because "The core team changed"'],
    example_de=[
        'Wenn "Jana Becker" "core_team_named" mit der Begründung "Das Kernteam hat sich '
        'geändert" wieder öffnet'
    ],
)
def reopen(world: World, person: str, item: str, reason: str | None) -> None:
    """Reopen a done or waived item; sign-offs of the gates it belongs to become void."""
    item_id = world.item_id(item)
    headline = says(world, "may_not_reopen", item=item_id)
    world.act(person, ReopenItem(item_id, reason or ""), headline)


@step(
    "waive",
    "commands",
    en=[
        "{person} waives {item}[ because {reason}]",
        "{person} has waived {item}[ because {reason}]",
    ],
    de=[
        "{person} {item}[ mit der Begründung {reason}] erlässt",
        "{person} hat {item}[ mit der Begründung {reason}] erlassen",
    ],
    example_en=[
        'Given "Thomas Krüger" has waived "resources_clarified" because "The lab\'s rooms are used"'
    ],
    example_de=[
        'Angenommen "Thomas Krüger" hat "resources_clarified" mit der Begründung '
        '"Räume des Labors" erlassen'
    ],
)
def waive(world: World, person: str, item: str, reason: str | None) -> None:
    """Waive an item that the workflow lets the person's role waive."""
    item_id = world.item_id(item)
    headline = says(world, "may_not_waive", item=item_id)
    world.act(person, WaiveItem(item_id, reason or ""), headline)


@step(
    "approve",
    "commands",
    en=[
        "{person} signs off {trigger}[ for {role}]",
        "{person} has signed off {trigger}[ for {role}]",
    ],
    de=[
        "{person} {trigger}[ für {role}] freigibt",
        "{person} hat {trigger}[ für {role}] freigegeben",
    ],
    example_en=['Given "Thomas Krüger" has signed off "start_co_creation"'],
    example_de=['Angenommen "Thomas Krüger" hat "start_co_creation" freigegeben'],
)
def approve(world: World, person: str, trigger: str, role: str | None) -> None:
    """Sign off a gate for one of the person's roles (name the role when they hold several)."""
    trigger_id = world.trigger_id(trigger)
    headline = says(world, "may_not_approve", trigger=trigger_id)
    role_id = None if role is None else world.role_id(role)
    world.act(person, ApproveGate(trigger_id, role_id), headline)


@step(
    "fire",
    "commands",
    en=[
        "{person} fires {trigger}[ because {reason}]",
        "{person} has fired {trigger}[ because {reason}]",
    ],
    de=[
        "{person} {trigger}[ mit der Begründung {reason}] auslöst",
        "{person} hat {trigger}[ mit der Begründung {reason}] ausgelöst",
    ],
    example_en=['When "Jana Becker" fires "rework" because "The site does not fit"'],
    example_de=['Wenn "Jana Becker" "start_co_creation" auslöst'],
)
def fire(world: World, person: str, trigger: str, reason: str | None) -> None:
    """Take a step to another phase (its gate must be open)."""
    trigger_id = world.trigger_id(trigger)
    world.act(person, FireTrigger(trigger_id, reason), gate(world, trigger_id))


@step(
    "hold",
    "commands",
    en=[
        "{person} puts the initiative on hold[ because {reason}]",
        "{person} has put the initiative on hold[ because {reason}]",
    ],
    de=[
        "{person} die Initiative[ mit der Begründung {reason}] pausiert",
        "{person} hat die Initiative[ mit der Begründung {reason}] pausiert",
    ],
    example_en=['When "Jana Becker" puts the initiative on hold because "Budget freeze"'],
    example_de=['Wenn "Jana Becker" die Initiative mit der Begründung "Haushaltssperre" pausiert'],
)
def hold(world: World, person: str, reason: str | None) -> None:
    """Put the initiative on hold: nothing but resuming, notes and archiving until resumed."""
    world.act(person, Hold(reason or ""), says(world, "may_not_hold"))


@step(
    "resume",
    "commands",
    en=[
        "{person} resumes the initiative[ because {reason}]",
        "{person} has resumed the initiative[ because {reason}]",
    ],
    de=[
        "{person} die Initiative[ mit der Begründung {reason}] fortsetzt",
        "{person} hat die Initiative[ mit der Begründung {reason}] fortgesetzt",
    ],
    example_en=['When "Jana Becker" resumes the initiative'],
    example_de=['Wenn "Jana Becker" die Initiative fortsetzt'],
)
def resume(world: World, person: str, reason: str | None) -> None:
    """Resume an initiative on hold."""
    world.act(person, Resume(reason), says(world, "may_not_resume"))


@step(
    "note",
    "commands",
    en=["{person} notes {text}", "{person} has noted {text}"],
    de=["{person} die Notiz {text} hinzufügt", "{person} hat die Notiz {text} hinzugefügt"],
    example_en=['When "Aylin Demir" notes "The residents want a second site"'],
    example_de=[
        'Wenn "Aylin Demir" die Notiz "Die Anwohnenden wünschen einen zweiten Standort" hinzufügt'
    ],
)
def note(world: World, person: str, text: str) -> None:
    """Add a note to the history."""
    world.act(person, AddNote(text), says(world, "may_not_note"))


@step(
    "race",
    "commands",
    en=["{first} and {second} both fire {trigger}[ because {reason}] at the same time"],
    de=["{first} und {second} gleichzeitig {trigger}[ mit der Begründung {reason}] auslösen"],
    example_en=[
        'When "Jana Becker" and "Sven Richter" both fire "start_co_creation" at the same time'
    ],
    example_de=['Wenn "Jana Becker" und "Sven Richter" gleichzeitig "start_co_creation" auslösen'],
)
def race(world: World, first: str, second: str, trigger: str, reason: str | None) -> None:
    """Two people, each in a session of their own, fire on the version they both read."""
    trigger_id = world.trigger_id(trigger)
    world.race([first, second], FireTrigger(trigger_id, reason), gate(world, trigger_id))
