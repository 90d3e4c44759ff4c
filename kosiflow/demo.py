"""The demo data: the example initiatives of the KoSI-Lab projects in Wuppertal and Dortmund.

Dates follow the published milestones where they are known; the people are fictional.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from kosiflow.engine import Actor
from kosiflow.services import Services

CAST: dict[str, tuple[str, tuple[str, ...]]] = {
    "jana": ("Jana Becker", ("coordinator",)),
    "thomas": ("Thomas Krüger", ("administration",)),
    "aylin": ("Aylin Demir", ("civil_society",)),
    "lena": ("Dr. Lena Vogt", ("science",)),
    "markus": ("Markus Hoffmann", ("business",)),
    "sven": ("Sven Richter", ("coordinator",)),
    "petra": ("Petra Schulz", ("administration",)),
    "felix": ("Dr. Felix Wagner", ("science",)),
    "miriam": ("Miriam Yilmaz", ("civil_society",)),
    "katrin": ("Katrin Neumann", ("business",)),
    "renate": ("Renate Albers", ("auditor",)),
}
"""Demo users: key → (fictional name, roles)."""

DEMO_COORDINATOR = "Jana Becker"
DEMO_AUDITOR = "Renate Albers"
"""The demo users whose tokens ``kosiflow serve`` prints on its first start."""

MARKER = "Fahrradgaragen im Quartier"
"""The title whose presence means the demo has been loaded already."""


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=10, tzinfo=UTC)


@dataclass
class _Story:
    """One initiative being walked through its history, step by dated step."""

    services: Services
    actors: dict[str, Actor]
    initiative_id: str = ""

    def start(
        self, day: str, who: str, workflow: str, title: str, parent: _Story | None = None
    ) -> _Story:
        result = self.services.create(
            workflow,
            title,
            self.actors[who],
            parent_id=parent.initiative_id if parent else None,
            at=_at(day),
        )
        self.initiative_id = result.initiative_id
        return self

    def participants(self, day: str, who: str, *keys: str) -> None:
        for key in keys:
            name, roles = CAST[key]
            self.services.add_participant(
                self.initiative_id, name, roles[0], self.actors[who], at=_at(day)
            )

    def tick(self, day: str, who: str, item: str, evidence: str | None = None) -> None:
        self.services.tick(
            self.initiative_id, item, self.actors[who], evidence=evidence, at=_at(day)
        )

    def waive(self, day: str, who: str, item: str, reason: str) -> None:
        self.services.waive(self.initiative_id, item, reason, self.actors[who], at=_at(day))

    def approve(self, day: str, trigger: str, *who: str) -> None:
        for key in who:
            self.services.approve(self.initiative_id, trigger, self.actors[key], at=_at(day))

    def fire(self, day: str, who: str, trigger: str, reason: str | None = None) -> None:
        self.services.fire(
            self.initiative_id, trigger, self.actors[who], reason=reason, at=_at(day)
        )

    def hold(self, day: str, who: str, reason: str) -> None:
        self.services.hold(self.initiative_id, reason, self.actors[who], at=_at(day))

    def note(self, day: str, who: str, text: str) -> None:
        self.services.note(self.initiative_id, text, self.actors[who], at=_at(day))


def _cast(services: Services) -> dict[str, Actor]:
    actors: dict[str, Actor] = {}
    for key, (name, roles) in CAST.items():
        user = services.database.user_by_name(name)
        if user is None:
            user, _token = services.database.add_user(name, list(roles))
        actors[key] = Actor(user.person_id, frozenset(user.roles))
    return actors


def _bicycle_garages(story: _Story) -> None:
    """§3.1: Wuppertal, ends blocked in consolidation after one rework."""
    s = story.start("2017-06-12", "jana", "kosi-lab", MARKER)
    s.participants("2017-06-12", "jana", "thomas", "aylin", "lena", "markus")
    s.tick(
        "2017-06-14",
        "jana",
        "challenge_defined",
        "Bürgerbudget-Vorschlag: sichere Fahrradboxen in Altbauquartieren",
    )
    s.tick("2017-06-30", "jana", "kickoff_dialogue", "Protokoll 1. Stadtdialog, Juni 2017")
    s.tick("2017-07-03", "thomas", "mandate_secured", "Beschluss Bezirksvertretung Elberfeld")
    s.tick("2017-09-20", "lena", "actor_mapping", "Akteurskarte Wuppertal Institut, Stand 09/2017")
    s.tick("2017-10-10", "jana", "core_team_named")
    s.waive("2017-10-12", "thomas", "resources_clarified", "Räume stellt das Wuppertal Institut")
    s.approve("2017-11-20", "start_co_creation", "thomas")
    s.fire("2017-11-24", "jana", "start_co_creation", "Runder Tisch am Wuppertal Institut")
    _co_create(s, "2018-01-15", "lockable bike/pedelec boxes rented monthly")
    s.approve("2018-06-04", "start_prototyping", "thomas", "aylin")
    s.fire("2018-06-05", "jana", "start_prototyping")
    s.tick("2018-09-14", "thomas", "permits_cleared", "Sondernutzungserlaubnis 2018/117")
    s.tick("2018-10-01", "markus", "prototype_set_up", "Fotos: 6 Boxen Luisenviertel")
    s.fire("2018-12-10", "jana", "rework", "Standort und Preis passen nicht zur Nachfrage")
    _co_create(s, "2019-01-15", "neuer Standort gemeinsam mit Anwohnenden gewählt")
    s.approve("2019-03-18", "start_prototyping", "thomas", "aylin")
    s.fire("2019-03-20", "jana", "start_prototyping", "Zweiter Standort am Ölberg")
    s.tick("2019-03-28", "markus", "prototype_set_up", "Fotos: 8 Boxen am Ölberg")
    s.tick("2019-03-29", "thomas", "permits_cleared", "Sondernutzungserlaubnis 2019/031")
    s.tick("2019-04-30", "aylin", "field_test_run", "Nutzungsprotokoll April 2019")
    s.tick("2019-05-20", "lena", "evaluation_done", "Evaluationsbericht Wuppertal Institut")
    s.tick("2019-05-27", "markus", "operating_model", "Geschäftsmodell: Monatsmiete 8 €")
    s.approve("2019-06-03", "consolidate", "thomas")
    s.fire("2019-06-05", "jana", "consolidate")
    s.tick("2019-06-20", "jana", "carrier_named", "Wohnungsgenossenschaft betreibt die Boxen")


def _co_create(s: _Story, start: str, concept: str) -> None:
    def day(offset: int) -> str:
        return (date.fromisoformat(start) + timedelta(days=offset)).isoformat()

    year = start[:4]
    s.tick(day(0), "jana", "round_table_held", f"Protokoll Runder Tisch {year}")
    s.tick(day(28), "aylin", "needs_documented", "Umfrage: Altbaustraßen ohne Keller")
    s.tick(day(36), "jana", "ideas_prioritised")
    s.tick(day(42), "thomas", "concept_agreed", f"Konzeptpapier: {concept}")
    s.tick(day(49), "markus", "commitments_made", "Absichtserklärung Genossenschaft")
    s.tick(day(52), "lena", "test_plan", "Testplan mit Auslastungszielen")


def _social_innovation_center(story: _Story) -> None:
    """§3.2: Dortmund, completed inside the economic development agency."""
    s = story.start("2017-03-01", "sven", "kosi-lab", "Social Innovation Center Dortmund")
    s.participants("2017-03-01", "sven", "petra", "felix", "miriam", "katrin")
    s.tick("2017-03-06", "sven", "challenge_defined", "Aufruf: soziale Innovationen in Dortmund")
    s.tick("2017-03-06", "petra", "mandate_secured", "Auftrag der Wirtschaftsförderung")
    s.tick("2017-06-30", "felix", "actor_mapping", "Ergebnisse des Mapping-Aufrufs, 30.06.2017")
    s.tick("2017-07-10", "sven", "core_team_named")
    s.tick("2017-07-10", "petra", "resources_clarified")
    s.tick("2017-09-14", "sven", "kickoff_dialogue", "1. Stadtdialog mit Gästen aus Tilburg")
    s.approve("2017-09-14", "start_co_creation", "petra")
    s.fire("2017-09-14", "sven", "start_co_creation")
    s.tick("2017-11-07", "sven", "round_table_held", "Themen-Tische: Mobilität, Kinderbetreuung")
    s.tick("2018-01-16", "miriam", "needs_documented", "Bedarfsanalyse Schulbegleitung")
    s.tick("2018-02-01", "sven", "ideas_prioritised")
    s.tick("2018-03-13", "petra", "concept_agreed", "Konzept Stabsstelle soziale Innovation")
    s.tick("2018-04-10", "katrin", "commitments_made", "Kooperationsvereinbarung")
    s.tick("2018-04-24", "felix", "test_plan", "Evaluationsdesign sfs")
    s.approve("2018-05-03", "start_prototyping", "petra", "miriam")
    s.fire(
        "2018-05-03", "sven", "start_prototyping", "2. Stadtdialog: Pilotprozess Schulbegleitung"
    )
    s.tick("2018-06-01", "katrin", "prototype_set_up", "Stabsstelle eingerichtet")
    s.tick("2018-06-15", "petra", "permits_cleared", "Verwaltungsvorstand informiert")
    s.tick("2018-12-03", "sven", "field_test_run", "Öffentliche Präsentation, 03.12.2018")
    s.tick("2019-05-15", "felix", "evaluation_done", "Evaluationsbericht sfs")
    s.approve("2019-06-03", "consolidate", "petra")
    s.fire("2019-06-04", "sven", "consolidate", "3. Stadtdialog: Übergabe der Ansätze")
    s.tick(
        "2019-07-01", "sven", "carrier_named", "Social Innovation Center der Wirtschaftsförderung"
    )
    s.tick("2019-08-15", "katrin", "funding_secured", "Haushalt Wirtschaftsförderung 2020")
    s.tick("2019-09-10", "petra", "formal_decision", "Beschluss des Aufsichtsrats")
    s.tick("2019-10-01", "felix", "results_published", "Drehbuch KoSI-Lab, 2019")
    s.tick("2019-10-01", "sven", "handover_done", "Übergabe an das Center-Team")
    s.approve("2019-10-02", "complete", "petra", "miriam")
    s.fire("2019-10-04", "sven", "complete", "Pressemitteilung: Center verstetigt das Lab")


def _initiation(s: _Story, year: str, topic: str) -> None:
    s.participants(f"{year}-01-10", "jana", "thomas", "aylin", "lena")
    s.tick(f"{year}-01-12", "jana", "challenge_defined", topic)
    s.tick(f"{year}-01-20", "thomas", "mandate_secured", "Auftrag aus dem Stadtdialog")
    s.tick(f"{year}-02-01", "lena", "actor_mapping", "Akteurskarte des Runden Tischs")
    s.tick(f"{year}-02-05", "jana", "kickoff_dialogue", "Runder Tisch, 2. Stadtdialog")
    s.tick(f"{year}-02-05", "jana", "core_team_named")
    s.waive(f"{year}-02-06", "thomas", "resources_clarified", "Ressourcen trägt das Lab")
    s.approve(f"{year}-02-07", "start_co_creation", "thomas")
    s.fire(f"{year}-02-08", "jana", "start_co_creation")


def _bench(s: _Story) -> None:
    """The bench of the Wuppertal round table: a light-track request that finished itself."""
    s.participants("2017-11-24", "jana", "thomas", "aylin")
    s.tick("2017-11-24", "aylin", "request_described", "Bank am Wendehammer Hombüchel")
    s.tick("2017-12-05", "thomas", "responsible_named", "Grünflächenamt")
    s.tick("2017-12-06", "aylin", "neighbours_informed")
    s.fire("2018-01-15", "jana", "start_implementation")
    s.tick("2018-04-20", "thomas", "measure_done", "Bank aufgestellt, Foto vom 20.04.2018")
    s.tick("2018-04-25", "jana", "feedback_given", "Brief an die Antragstellenden")


def _wuppertal_lab(story: _Story, child: _Story, child2: _Story, child3: _Story) -> None:
    """§3.3: the Wuppertal civic lab and three of its pilot processes."""
    lab = story.start("2016-12-19", "jana", "kosi-lab", "KoSI-Lab Wuppertal")
    lab.participants("2016-12-19", "jana", "thomas", "aylin", "lena", "markus")
    lab.tick("2017-02-15", "jana", "challenge_defined", "Leitbild des KoSI-Labs Wuppertal")
    lab.tick("2017-02-20", "thomas", "mandate_secured", "Pressekonferenz des Oberbürgermeisters")
    lab.tick("2017-05-10", "lena", "actor_mapping", "Kartierung Wuppertal Institut")
    lab.tick("2017-06-27", "jana", "kickoff_dialogue", "1. Stadtdialog, Juni 2017")
    lab.tick("2017-07-05", "jana", "core_team_named")
    lab.tick("2017-07-05", "thomas", "resources_clarified", "Räume im Zentrum für gute Taten")
    lab.approve("2017-11-20", "start_co_creation", "thomas")
    lab.fire("2017-11-24", "jana", "start_co_creation", "2. Stadtdialog: drei Runde Tische")

    _bench(child.start("2017-11-24", "jana", "light-track", "Sitzbank aufstellen", parent=lab))

    shops = child2.start(
        "2018-01-08", "jana", "kosi-lab", "Belebung leerstehender Ladenlokale", lab
    )
    _initiation(shops, "2018", "Leerstand in der Elberfelder Nordstadt beleben")
    _co_create(shops, "2018-02-09", "Pop-up-Laden als Test")
    shops.approve("2018-04-10", "start_prototyping", "thomas", "aylin")
    shops.fire("2018-04-12", "jana", "start_prototyping", "Pop-up-Laden ab Mai")
    shops.tick("2018-05-02", "markus", "prototype_set_up", "Pop-up-Laden Luisenstraße")

    cups = child3.start("2018-01-09", "jana", "kosi-lab", "Einwegbecherfreies Wuppertal", lab)
    _initiation(cups, "2018", "Weniger Einwegbecher in der Innenstadt")
    cups.hold("2018-03-01", "jana", "Warten auf eine stadtweite Mehrwegbecher-Entscheidung")
    cups.note("2018-06-01", "thomas", "Ratsvorlage zum Mehrwegsystem ist in Arbeit")

    lab.tick("2018-02-01", "jana", "round_table_held", "Drei Runde Tische als Simulation")
    lab.tick("2018-02-15", "aylin", "needs_documented", "Bedarfe aus den Runden Tischen")
    lab.tick("2018-02-16", "jana", "ideas_prioritised")
    lab.tick("2018-02-20", "thomas", "concept_agreed", "Arbeitsgruppen für Pilotprozesse")
    lab.tick("2018-03-01", "markus", "commitments_made", "Zusagen der Partner")
    lab.tick("2018-03-05", "lena", "test_plan", "Begleitforschung Wuppertal Institut")
    lab.approve("2018-03-10", "start_prototyping", "thomas", "aylin")
    lab.fire("2018-03-12", "jana", "start_prototyping", "Pilotprozesse in Arbeitsgruppen")
    lab.tick("2018-04-01", "markus", "prototype_set_up", "Arbeitsgruppen gestartet")
    lab.tick("2018-04-15", "thomas", "permits_cleared", "Keine Genehmigungen nötig")
    lab.tick("2018-12-03", "jana", "field_test_run", "Präsentation der Pilotprozesse, 03.12.2018")
    lab.tick("2019-02-01", "lena", "evaluation_done", "Reflexionsbericht")
    lab.approve("2019-02-10", "consolidate", "thomas")
    lab.fire("2019-02-15", "jana", "consolidate")
    lab.tick("2019-04-01", "jana", "carrier_named", "Zentrum für gute Taten, F&E-Abteilung")
    lab.tick("2019-05-01", "markus", "funding_secured", "Förderzusage Stiftung")
    lab.tick("2019-05-20", "thomas", "formal_decision", "Vorstandsbeschluss Zentrum für gute Taten")
    lab.tick("2019-06-01", "lena", "results_published", "Ergebnisbericht KoSI-Lab Wuppertal")
    lab.tick("2019-06-03", "jana", "handover_done", "Anlaufstelle im Zentrum für gute Taten")
    lab.approve("2019-06-10", "complete", "thomas", "aylin")
    lab.fire("2019-06-14", "jana", "complete", "Anlaufstelle für Gemeinwohl-Ideen eröffnet")


def load_demo(services: Services) -> int:
    """Create the demo users and initiatives unless they exist; returns how many were created."""
    if any(p.title == MARKER for p in services.list_initiatives(limit=10_000)):
        return 0
    actors = _cast(services)
    stories = [_Story(services, actors) for _ in range(6)]
    _bicycle_garages(stories[0])
    _social_innovation_center(stories[1])
    _wuppertal_lab(*stories[2:])
    return len(stories)
