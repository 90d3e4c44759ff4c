"""Steps that check how the command before them ended: refused (and why), or a race won."""

from __future__ import annotations

from collections.abc import Sequence

from kosiflow.bdd.failures import SpecFailure, blocker_lines
from kosiflow.bdd.reasons import differ, is_about, same_reasons, wanted
from kosiflow.bdd.registry import step
from kosiflow.bdd.tables import rows_of
from kosiflow.bdd.texts import say
from kosiflow.bdd.world import Accepted, Conflict, Race, World

# -- the outcome of the command before -------------------------------------------------------------


@step(
    "refused_because",
    "outcomes",
    en=["it is refused because {code}[ for {subject}]"],
    de=[
        "es wird abgelehnt wegen {code}[ für {subject}]",
        "wird es abgelehnt wegen {code}[ für {subject}]",
    ],
    example_en=['Then it is refused because "approval_missing" for "administration"'],
    example_de=['Dann wird es abgelehnt wegen "item_open" für "mandate_secured"'],
    outcome=True,
)
def refused_because(world: World, code: str, subject: str | None) -> None:
    """The command before was refused, among others for this reason."""
    refusal = world.refusal()
    if not any(is_about(world, b, code, subject) for b in refusal.blockers):
        headline = say(world.lang, "not_refused_because", wanted=wanted(code, subject))
        raise SpecFailure(f"{headline}\n{blocker_lines(refusal.blockers, world.lang)}")


@step(
    "refused_exactly",
    "outcomes",
    en=["it is refused with exactly these reasons:"],
    de=[
        "es wird abgelehnt mit genau diesen Gründen:",
        "wird es abgelehnt mit genau diesen Gründen:",
    ],
    example_en=[
        "Then it is refused with exactly these reasons:",
        "  | code             | subject        |",
        "  | item_open        | test_plan      |",
        "  | approval_missing | civil_society  |",
    ],
    example_de=[
        "Dann wird es abgelehnt mit genau diesen Gründen:",
        "  | Code             | Betrifft       |",
        "  | item_open        | test_plan      |",
        "  | approval_missing | civil_society  |",
    ],
    table=True,
    outcome=True,
)
def refused_exactly(world: World, table: Sequence[Sequence[object]]) -> None:
    """The command before was refused for these reasons and no others."""
    refusal = world.refusal()
    rows = rows_of(table, world.lang, ["code"])
    if not same_reasons(world, refusal.blockers, rows):
        raise differ(world, "refusals_differ", rows, refusal.blockers)


@step(
    "refused_saying",
    "outcomes",
    en=["it is refused with the message {text}"],
    de=[
        "es wird abgelehnt mit der Meldung {text}",
        "wird es abgelehnt mit der Meldung {text}",
    ],
    example_en=[
        'Then it is refused with the message "Sign-off by Public administration is missing."'
    ],
    example_de=['Dann wird es abgelehnt mit der Meldung "Freigabe durch Verwaltung fehlt."'],
    outcome=True,
)
def refused_saying(world: World, text: str) -> None:
    """The command before was refused, and a reason says ``text`` (in the feature's language)."""
    refusal = world.refusal()
    if not any(text in b.message(world.lang) for b in refusal.blockers):
        headline = say(world.lang, "message_missing", text=text)
        raise SpecFailure(f"{headline}\n{blocker_lines(refusal.blockers, world.lang)}")


@step(
    "race_outcome",
    "outcomes",
    en=["one of them wins and the other gets a conflict"],
    de=[
        "einer von beiden gewinnt und der andere erhält einen Konflikt",
        "gewinnt einer von beiden und der andere erhält einen Konflikt",
    ],
    example_en=["Then one of them wins and the other gets a conflict"],
    example_de=["Dann gewinnt einer von beiden und der andere erhält einen Konflikt"],
    outcome=True,
)
def one_wins(world: World) -> None:
    """Of a race, exactly one command was applied and every other one got a conflict."""
    outcome = world.outcome
    if not isinstance(outcome, Race):
        raise SpecFailure(say(world.lang, "not_a_race"))
    winners = [r for r in outcome.results if isinstance(r, Accepted)]
    losers = [r for r in outcome.results if isinstance(r, Conflict)]
    if len(winners) != 1 or len(losers) != len(outcome.results) - 1:
        raise SpecFailure(f"{say(world.lang, 'race_outcome')}\n{world.words(outcome)}")
