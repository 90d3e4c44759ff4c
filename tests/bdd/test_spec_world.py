"""A scenario's world tells a spec writer what is missing, in the feature's language."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kosiflow.bdd import SpecFailure, World
from kosiflow.bdd.world import DefinitionCache
from kosiflow.engine import TickItem, WaiveItem

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    found = World(
        feature_file=ROOT / "features" / "de" / "tore.feature",
        lang="de",
        via="engine",
        workdir=tmp_path,
        definitions=DefinitionCache(),
    )
    yield found
    found.close()


def test_people_need_the_workflow_first(world: World) -> None:
    with pytest.raises(SpecFailure, match="Nennen Sie zuerst den Ablauf"):
        world.introduce("Jana Becker", ["coordinator"])


def test_a_workflow_file_is_looked_up_from_the_feature_upwards(world: World) -> None:
    with pytest.raises(SpecFailure, match=r'keine Ablaufdatei "kosi_lab\.yaml"'):
        world.use_workflow("kosi_lab.yaml")
    world.use_workflow("workflows/kosi-lab.yaml")
    assert world.definition.id == "kosi-lab"


def test_an_unknown_role_is_named_with_the_closest_one(world: World) -> None:
    world.use_workflow("workflows/kosi-lab.yaml")
    with pytest.raises(SpecFailure, match=r"keine Rolle 'sciense' \(meinten Sie 'science'\?\)"):
        world.introduce("Lena Vogt", ["sciense"])


def test_roles_may_be_named_by_their_title(world: World) -> None:
    world.use_workflow("workflows/kosi-lab.yaml")
    world.introduce("Thomas Krüger", ["Verwaltung"])
    assert world.people["Thomas Krüger"].actor.roles == {"administration"}


def test_a_person_nobody_introduced_is_named_with_those_who_were(world: World) -> None:
    world.use_workflow("workflows/kosi-lab.yaml")
    world.introduce("Jana Becker", ["coordinator"])
    with pytest.raises(SpecFailure, match=r'Niemand namens "Jana Beker".*bekannt: "Jana Becker"'):
        world.start("Jana Beker", "Fahrradgaragen")


def test_commands_need_an_initiative(world: World) -> None:
    world.use_workflow("workflows/kosi-lab.yaml")
    world.introduce("Jana Becker", ["coordinator"])
    with pytest.raises(SpecFailure, match="Legen Sie zuerst eine Initiative an"):
        world.act("Jana Becker", TickItem("core_team_named"), lambda _, __: "")


def test_through_the_api_every_command_takes_its_http_route(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--kosiflow-via=api`` checks the API: a waiver too goes through its route."""
    world = World(
        feature_file=ROOT / "features" / "de" / "tore.feature",
        lang="de",
        via="api",
        workdir=tmp_path,
        definitions=DefinitionCache(),
    )
    try:
        world.use_workflow("workflows/kosi-lab.yaml")
        world.introduce("Jana Becker", ["coordinator"])
        world.introduce("Thomas Krüger", ["administration"])
        world.start("Jana Becker", "Fahrradgaragen")
        sent: list[str] = []
        client = world.driver._client  # type: ignore[attr-defined]
        request = client.request
        monkeypatch.setattr(
            client,
            "request",
            lambda method, url, **kw: sent.append(url) or request(method, url, **kw),
        )

        world.act("Thomas Krüger", WaiveItem("resources_clarified", "Räume stellt das Lab"), _no)

        assert [url.rsplit("/", 3)[-3:] for url in sent] == [
            ["checklist", "resources_clarified", "waiver"]
        ]
        assert world.view().checklist["resources_clarified"] == "waived"
    finally:
        world.close()


def _no(_: str, __: object) -> str:
    return "refused"
