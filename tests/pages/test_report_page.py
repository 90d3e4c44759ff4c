"""The audit report of one initiative: printable page, PDF (headless Chromium) and ``kosiflow
report``; for auditors and coordinators."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kosiflow.cli import app as cli
from kosiflow.render import CHROMIUM_VARIABLE, DEFAULT_CHROMIUM
from tests.api.helpers import WORKFLOWS
from tests.pages.conftest import Clock, Site

PAYLOAD = "<script>alert(1)</script>{{7*7}}"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;{{7*7}}"


@pytest.fixture
def chromium() -> Path:
    """The system's Chromium, which prints the PDFs (as for the browser tests: missing, the
    test fails under CI and is skipped elsewhere)."""
    if not DEFAULT_CHROMIUM.exists():
        reason = f"{DEFAULT_CHROMIUM} is missing (Debian package chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must print PDFs")
        pytest.skip(reason)
    return DEFAULT_CHROMIUM


@pytest.fixture
def story(site: Site, clock: Clock) -> str:
    """An initiative with evidence (a link and a folder), a sign-off voided by a reopened item,
    a hold, and an end with a reason."""
    initiative = site.create()
    jana, thomas = site.actor("jana"), site.actor("thomas")
    site.services.tick(initiative, "challenge_defined", jana, evidence="https://example.org/p")
    site.services.tick(initiative, "actor_mapping", jana, evidence="Ordner 3, Regal 2")
    site.services.approve(initiative, "start_co_creation", thomas, note="passt")
    site.services.reopen(initiative, "challenge_defined", "Protokoll fehlt", jana)
    clock.advance(timedelta(days=2))
    site.services.hold(initiative, "Haushaltssperre", jana)
    clock.advance(timedelta(days=1))
    site.services.resume(initiative, jana)
    site.services.fire(initiative, "archive", jana, reason="Kein Bedarf mehr")
    return initiative


def rows(html: str, section: str) -> list[str]:
    """The table rows of a report section, as text without tags."""
    body = html.split(f'id="{section}"')[1].split("</section>")[0]
    found = []
    for row in body.split("<tbody>")[1].split("</tbody>")[0].split("</tr>")[:-1]:
        found.append(" ".join(re.sub(r"<[^>]+>", " ", row).split()))
    return found


def test_the_report_tells_what_an_auditor_needs(site: Site, story: str) -> None:
    html = site.visitor("renate").page(f"/initiatives/{story}/report")

    assert '<h1 id="report-title">Audit report: Fahrradgaragen</h1>' in html
    facts = html.split('id="report-facts"')[1].split("</dl>")[0]
    assert "Municipal social innovation lab (version 1)" in facts
    assert '<dd id="report-phase">Archived</dd>' in facts
    assert facts.count("<time datetime=") == 2  # started, generated
    head = list(site.services.history(story))[-1]
    assert "Intact: all 8 events check out." in html
    assert '<dd id="chain-version">8</dd>' in html
    assert f'<code class="hash" id="head-hash">{head.hash}</code>' in html
    (decision,) = rows(html, "decisions")
    assert re.fullmatch(
        r"#8 \S+ \S+ UTC Jana Becker Archive Initiation → Archived Kein Bedarf mehr", decision
    )
    (approval,) = rows(html, "approvals")
    assert "Thomas Krüger Start co-creation Public administration Initiation passt" in approval
    assert approval.endswith("withdrawn (event #5)")
    links, folder = rows(html, "evidence")
    assert "Jana Becker Initiation Challenge statement agreed https://example.org/p" in links
    assert folder.endswith("Stakeholder and initiative map done Ordner 3, Regal 2")
    assert '<a href="https://example.org/p" rel="noopener noreferrer">' in html
    assert 'href="Ordner' not in html
    visits = rows(html, "visits-section")
    assert visits[0].startswith("Initiation")
    assert "3 days" in visits[0]
    assert visits[0].endswith("1 day")  # of which on hold
    assert "Put on hold." in html
    assert "Haushaltssperre" in html
    assert html.count('<p class="event-hash">') == 8


def test_the_report_speaks_german(site: Site, story: str) -> None:
    html = site.visitor("jana").page(f"/initiatives/{story}/report?lang=de")

    assert '<html lang="de">' in html
    assert "Prüfbericht: Fahrradgaragen" in html
    assert "Intakt: alle 8 Ereignisse sind unverändert." in html
    assert "Entscheidungen (Phasenwechsel)" in html
    assert "zurückgezogen (Ereignis #5)" in html
    assert "Initiierung → Archiviert" in html


def test_a_fresh_initiative_reports_that_nothing_was_decided_yet(site: Site) -> None:
    initiative = site.create()

    html = site.visitor("renate").page(f"/initiatives/{initiative}/report")

    assert "No phase change yet." in html
    assert "No sign-off given." in html
    assert "No evidence given." in html
    assert '<dd id="report-phase">Initiation</dd>' in html


def test_an_initiative_on_hold_is_marked_so_in_the_report(site: Site) -> None:
    initiative = site.create()
    site.services.hold(initiative, "Haushaltssperre", site.actor("jana"))

    html = site.visitor("renate").page(f"/initiatives/{initiative}/report")

    assert 'Initiation <span class="mark mark-on_hold">On hold</span></dd>' in html


def test_the_report_is_linked_from_the_history_and_the_initiative(site: Site) -> None:
    initiative = site.create()
    renate = site.visitor("renate")

    for page in (f"/initiatives/{initiative}", f"/initiatives/{initiative}/history"):
        html = renate.page(page)
        assert f'href="/initiatives/{initiative}/report" id="report-link"' in html
        assert f'href="/initiatives/{initiative}/report.pdf" id="report-pdf-link"' in html


def test_only_auditors_and_coordinators_may_see_reports(site: Site) -> None:
    initiative = site.create()

    for who in ("renate", "jana"):
        assert site.visitor(who).get(f"/initiatives/{initiative}/report").status_code == 200
    thomas = site.visitor("thomas")
    for path in (f"/initiatives/{initiative}/report", f"/initiatives/{initiative}/report.pdf"):
        refused = thomas.get(path)
        assert refused.status_code == 403
        assert "Audit reports are for auditors and the lab coordination" in refused.text
    assert (
        "Prüfberichte sind für Prüfende"
        in thomas.get(f"/initiatives/{initiative}/report?lang=de").text
    )


def test_the_report_is_linked_only_for_those_who_may_see_it(site: Site) -> None:
    initiative = site.create()
    thomas = site.visitor("thomas")

    for page in (f"/initiatives/{initiative}", f"/initiatives/{initiative}/history"):
        html = thomas.page(page)
        assert f"/initiatives/{initiative}/report" not in html
        assert "report-link" not in html


@pytest.mark.parametrize("suffix", ["report", "report.pdf"])
def test_an_unknown_initiative_is_a_404_page(site: Site, suffix: str) -> None:
    response = site.visitor("renate").get(f"/initiatives/nonexistent/{suffix}")

    assert response.status_code == 404
    assert "There is no such page or initiative." in response.text


@pytest.mark.parametrize("suffix", ["report", "report.pdf"])
def test_a_signed_out_visitor_is_sent_to_sign_in_first(site: Site, suffix: str) -> None:
    initiative = site.create()

    response = site.visitor().get(f"/initiatives/{initiative}/{suffix}")

    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=%2Finitiatives%2F{initiative}%2F{suffix}"


def test_what_people_wrote_is_escaped_in_the_report(site: Site) -> None:
    initiative = site.create(PAYLOAD)
    jana, thomas = site.actor("jana"), site.actor("thomas")
    site.services.tick(
        initiative,
        "challenge_defined",
        jana,
        evidence='https://x.example/"><script>alert(2)</script>',
    )
    site.services.tick(initiative, "actor_mapping", jana, evidence="javascript:alert(3)")
    site.services.tick(initiative, "core_team_named", jana, evidence=PAYLOAD)
    site.services.approve(initiative, "start_co_creation", thomas, note=PAYLOAD)
    site.services.hold(initiative, PAYLOAD, jana)
    site.services.fire(initiative, "archive", jana, reason=PAYLOAD)

    html = site.visitor("renate").page(f"/initiatives/{initiative}/report")

    assert "<script" not in html
    assert "&lt;/script&gt;49" not in html
    assert html.count(ESCAPED) >= 7  # title, evidence, note, hold reason, end reason
    assert 'href="https://x.example/&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"' in html
    assert 'href="javascript:' not in html


def test_the_print_stylesheet_makes_the_report_a_clean_document(site: Site) -> None:
    css = site.visitor().get("/static/kosiflow.css").text

    print_rules = "".join(part.split("\n}\n")[0] for part in css.split("@media print")[1:])
    assert re.search(r"\.site-nav,[^}]*display: none", print_rules)
    assert re.search(r"\.report-section \{\s*break-before: page;", print_rules)
    assert re.search(r"\.report \.details a\[href\]::after \{\s*content: none;", print_rules)


def test_the_pdf_is_the_report_printed_by_chromium(site: Site, story: str, chromium: Path) -> None:
    response = site.visitor("renate").get(f"/initiatives/{story}/report.pdf")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'attachment; filename="{story}-report.pdf"'
    assert response.content.startswith(b"%PDF-")
    assert len(response.content) > 1024


def test_without_chromium_the_pdf_is_a_503_page_that_says_so(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    initiative = site.create()
    monkeypatch.setenv(CHROMIUM_VARIABLE, str(tmp_path / "no-chromium"))

    response = site.visitor("renate").get(f"/initiatives/{initiative}/report.pdf?lang=de")

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert "Auf dem Server fehlt der Browser Chromium" in response.text
    assert f'href="/initiatives/{initiative}/report" id="printable-link"' in response.text


def test_the_command_line_writes_the_same_report_as_html_and_pdf(
    tmp_path: Path, chromium: Path
) -> None:
    runner = CliRunner()
    base = ["--database", f"sqlite:///{tmp_path / 'lab.db'}", "--workflows", str(WORKFLOWS)]
    assert (
        runner.invoke(cli, [*base, "users", "add", "Jana", "--role", "coordinator"]).exit_code == 0
    )
    created = runner.invoke(cli, [*base, "--as", "Jana", "create", "kosi-lab", PAYLOAD])
    initiative = created.output.split()[0]
    html, pdf = tmp_path / "report.html", tmp_path / "report.pdf"

    done = runner.invoke(
        cli, [*base, "--lang", "de", "report", initiative, "--html", str(html), "--pdf", str(pdf)]
    )

    assert done.exit_code == 0, done.output
    document = html.read_text(encoding="utf-8")
    assert document.startswith("<!doctype html>")
    assert f"Prüfbericht: {ESCAPED}" in document
    assert "<link" not in document  # self-contained: the stylesheet is inlined
    assert "@media print" in document
    assert pdf.read_bytes().startswith(b"%PDF-")
    printed = runner.invoke(cli, [*base, "report", initiative])
    assert printed.output.startswith("<!doctype html>")
    assert "Audit report: " in printed.output


def test_the_command_line_says_when_it_cannot_print(tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["--database", f"sqlite:///{tmp_path / 'lab.db'}", "--workflows", str(WORKFLOWS)]
    runner.invoke(cli, [*base, "users", "add", "Jana", "--role", "coordinator"])
    initiative = runner.invoke(cli, [*base, "--as", "Jana", "create", "kosi-lab", "X"]).output
    missing = tmp_path / "no-chromium"

    done = runner.invoke(
        cli,
        [*base, "report", initiative.split()[0], "--pdf", str(tmp_path / "r.pdf")],
        env={CHROMIUM_VARIABLE: str(missing)},
    )

    assert done.exit_code == 2
    assert f"no PDF from {missing}: Chromium is not installed there" in done.output
    assert not (tmp_path / "r.pdf").exists()
