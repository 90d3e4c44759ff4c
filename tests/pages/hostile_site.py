"""A site whose light-track workflow file has markup in its titles (workflow files are untrusted
text too): for the pages that show a workflow's own words."""

from __future__ import annotations

from pathlib import Path

from kosiflow.catalog import WorkflowCatalog
from kosiflow.services import Services
from kosiflow.store import Database, open_database
from tests.api.helpers import USERS, WORKFLOWS
from tests.pages.conftest import Clock, Site

PAYLOAD = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

_TITLES = {
    "en: Light track}": f'en: "{PAYLOAD} track"}}',
    "en: Agree}": f'en: "{PAYLOAD} Agree"}}',
    "en: Request described}": f'en: "{PAYLOAD} Request"}}',
    "en: Public administration}": f'en: "{PAYLOAD} Administration"}}',
    "en: Start implementation}": f'en: "{PAYLOAD} Start"}}',
}


def hostile_workflows(folder: Path) -> Path:
    """A workflow folder holding light-track with markup in its English titles."""
    text = (WORKFLOWS / "light-track.yaml").read_text(encoding="utf-8")
    for plain, hostile in _TITLES.items():
        assert plain in text, plain
        text = text.replace(plain, hostile)
    folder.mkdir()
    (folder / "light-track.yaml").write_text(text, encoding="utf-8")
    return folder


def hostile_site(tmp_path: Path, clock: Clock) -> tuple[Site, Database]:
    """The site over the hostile workflow folder (close the database when done)."""
    catalog = WorkflowCatalog.from_folder(hostile_workflows(tmp_path / "hostile"))
    database = open_database(f"sqlite:///{tmp_path / 'hostile.db'}")
    catalog.register(database)
    services = Services(database, catalog, clock=clock)
    tokens = {key: database.add_user(name, roles)[1] for key, (name, roles) in USERS.items()}
    return Site(services, tokens), database
