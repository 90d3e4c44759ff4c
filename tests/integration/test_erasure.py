"""Erasing a person on request: their name and contact go, every hash chain still verifies, the
history shows "erased person", and their token stops working."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api import create_app
from kosiflow.catalog import WorkflowCatalog
from kosiflow.cli import app
from kosiflow.demo import load_demo
from kosiflow.errors import BadInput, NotFound
from kosiflow.services import Services
from kosiflow.store import open_database
from tests.api.helpers import TestClient

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    catalog = WorkflowCatalog.from_folder(WORKFLOWS)
    database = open_database(database_url)
    catalog.register(database)
    services = Services(database, catalog)
    load_demo(services)
    yield services
    database.close()


def _hashes(services: Services) -> list[str]:
    return [r.hash for i in services.initiative_ids() for r in services.history(i)]


def test_erasure_keeps_every_chain_and_shows_an_erased_person(services: Services) -> None:
    before = _hashes(services)
    user = services.database.user_by_name("Thomas Krüger")
    assert user is not None
    token = services.database.renew_token(user)
    everyone = services.find_people("Thomas Krüger")
    assert len(everyone) > 1  # the user, and the participant records of the same name

    with pytest.raises(BadInput, match=f"{len(everyone)} people are named"):
        services.erase_people("Thomas Krüger")
    erased = services.erase_people("Thomas Krüger", every=True)

    assert {p.id for p in erased} == {p.id for p in everyone}
    assert _hashes(services) == before
    assert all(services.verify(i).ok for i in services.initiative_ids())
    assert services.person_names([user.person_id]) == {user.person_id: ""}
    assert services.database.user_by_token(token) is None
    assert services.database.user_by_name("Thomas Krüger") is None
    assert all(p.erased_at is not None for p in services.find_people(user.person_id))
    with pytest.raises(BadInput, match="erased already"):
        services.erase_people(user.person_id)
    with pytest.raises(NotFound):
        services.erase_people("Niemand")


def test_the_cli_asks_erases_and_the_history_says_so(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    base = ["--database", url, "--workflows", str(WORKFLOWS)]

    def kosiflow(*args: str, expect: int = 0, answer: str | None = None) -> str:
        result = runner.invoke(app, [*base, *args], input=answer)
        assert result.exit_code == expect, result.output
        return result.output

    kosiflow("demo")
    database = open_database(url)
    try:
        services = Services(database, WorkflowCatalog.from_folder(WORKFLOWS))
        user = database.user_by_name("Thomas Krüger")
        assert user is not None
        acted = next(
            i
            for i in services.initiative_ids()
            if any(r.actor == user.person_id for r in services.history(i))
        )
    finally:
        database.close()

    assert "people are named" in kosiflow("erase", "Thomas Krüger", "--yes", expect=2)
    kosiflow("erase", "Thomas Krüger", "--all", answer="n\n", expect=1)
    assert "Thomas Krüger" in kosiflow("--lang", "de", "history", acted)
    assert kosiflow("erase", "Thomas Krüger", "--all", answer="y\n").count("erased p-") > 1
    assert "broken" not in kosiflow("verify")
    shown = kosiflow("--lang", "de", "history", acted)
    assert "gelöschte Person" in shown
    assert "Thomas Krüger" not in shown


def test_the_api_names_an_erased_person_none(services: Services) -> None:
    auditor = services.database.user_by_name("Renate Albers")
    assert auditor is not None
    token = services.database.renew_token(auditor)
    initiative_id = next(i for i in services.initiative_ids() if services.state(i).participants)
    person_id = next(iter(services.state(initiative_id).participants))
    services.erase_people(person_id)
    with TestClient(create_app(services)) as client:
        body = client.get(
            f"/api/v1/initiatives/{initiative_id}", headers={"Authorization": f"Bearer {token}"}
        ).json()
    (erased,) = [p["person"] for p in body["participants"] if p["person"]["id"] == person_id]
    assert erased == {"id": person_id, "name": None}
