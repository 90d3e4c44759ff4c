"""The forms of the initiative page: each posts here, calls the same service as the API, and
redirects back with a message (303, post/redirect/get).

Every form carries the session's CSRF token (checked before anything else) and the version the
page was rendered at, sent as the expected version: when somebody changed the initiative
meanwhile, nothing is written and the page says so. A refusal by the engine shows the page again
with every blocker in words (409); a bad field value names the field (422).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import ServicesDep
from api.pages.errors import FormProblem
from api.pages.fields import describe, optional_text, required_text, version_of
from api.pages.initiative import show_initiative
from api.pages.routing import PageRoute
from api.pages.session import FormWriterDep, LangDep, Viewer, set_flash
from api.pages.texts import field_label, translate
from kosiflow.engine import Actor, Blocker
from kosiflow.errors import BadInput, CommandRefused, ConcurrencyConflict
from kosiflow.services import CommandResult, Services, WriteOptions

router = APIRouter(
    prefix="/initiatives/{initiative_id}", route_class=PageRoute, include_in_schema=False
)

_INPUT_BLOCKERS = {
    "reason_required": "reason",
    "reason_not_allowed": "reason",
    "evidence_required": "evidence",
    "text_required": "text",
}
"""Refusals that only say a field is missing or must stay empty: 422, naming the field."""

Field = Annotated[str, Form()]


@dataclass(frozen=True, slots=True)
class PageWrite:
    """One form sent: who sends it, in which language, at which version of the page."""

    request: Request
    services: Services
    viewer: Viewer
    lang: str
    version: str

    @property
    def actor(self) -> Actor:
        return self.viewer.actor

    def run(
        self,
        initiative_id: str,
        flash: str,
        command: Callable[[WriteOptions], CommandResult],
    ) -> Response:
        """Run ``command`` at the form's version; back to the page with ``flash`` (303), or the
        page again with what went wrong."""
        try:
            command({"expected_version": version_of(self.version)})
        except FormProblem as exc:
            return self._again(initiative_id, 422, [describe(exc, self.lang)])
        except BadInput as exc:
            problem = f"{field_label(self.lang, exc.field)}: {exc.message}"
            return self._again(initiative_id, 422, [problem])
        except CommandRefused as exc:
            return self._refused(initiative_id, exc.blockers)
        except ConcurrencyConflict:
            return self._again(initiative_id, 409, [translate(self.lang, "conflict.changed")])
        response = RedirectResponse(f"/initiatives/{initiative_id}", status_code=303)
        set_flash(self.request, response, flash)
        return response

    def _refused(self, initiative_id: str, blockers: tuple[Blocker, ...]) -> Response:
        if all(b.code in _INPUT_BLOCKERS for b in blockers):
            problems = [
                f"{field_label(self.lang, _INPUT_BLOCKERS[b.code])}: {b.message(self.lang)}"
                for b in blockers
            ]
            return self._again(initiative_id, 422, problems)
        return self._again(initiative_id, 409, [b.message(self.lang) for b in blockers])

    def _again(self, initiative_id: str, status: int, problems: list[str]) -> Response:
        return show_initiative(
            self.request,
            self.services,
            self.viewer,
            self.lang,
            initiative_id,
            status=status,
            problems=problems,
        )


def _text_for_engine(value: str, field: str) -> str:
    """A text the engine requires (a reason, a note): blank stays blank, so that the engine
    refuses it with its own words (422 naming the field, see ``_INPUT_BLOCKERS``)."""
    return optional_text(value, field) or ""


def get_page_write(
    request: Request,
    services: ServicesDep,
    viewer: FormWriterDep,
    lang: LangDep,
    version: Field = "",
) -> PageWrite:
    return PageWrite(request, services, viewer, lang, version)


PageWriteDep = Annotated[PageWrite, Depends(get_page_write)]


@router.post("/tick/{item}")
def tick(
    initiative_id: str, item: str, write: PageWriteDep, evidence: Field = "", note: Field = ""
) -> Response:
    return write.run(
        initiative_id,
        "flash.ticked",
        lambda options: write.services.tick(
            initiative_id,
            item,
            write.actor,
            evidence=optional_text(evidence, "evidence"),
            note=optional_text(note, "note"),
            **options,
        ),
    )


@router.post("/reopen/{item}")
def reopen(initiative_id: str, item: str, write: PageWriteDep, reason: Field = "") -> Response:
    return write.run(
        initiative_id,
        "flash.reopened",
        lambda options: write.services.reopen(
            initiative_id, item, _text_for_engine(reason, "reason"), write.actor, **options
        ),
    )


@router.post("/waive/{item}")
def waive(initiative_id: str, item: str, write: PageWriteDep, reason: Field = "") -> Response:
    return write.run(
        initiative_id,
        "flash.waived",
        lambda options: write.services.waive(
            initiative_id, item, _text_for_engine(reason, "reason"), write.actor, **options
        ),
    )


@router.post("/approve/{trigger}")
def approve(initiative_id: str, trigger: str, write: PageWriteDep, role: Field = "") -> Response:
    return write.run(
        initiative_id,
        "flash.approved",
        lambda options: write.services.approve(
            initiative_id,
            trigger,
            write.actor,
            role=optional_text(role, "role"),
            **options,
        ),
    )


@router.post("/fire/{trigger}")
def fire(initiative_id: str, trigger: str, write: PageWriteDep, reason: Field = "") -> Response:
    return write.run(
        initiative_id,
        "flash.fired",
        lambda options: write.services.fire(
            initiative_id,
            trigger,
            write.actor,
            reason=optional_text(reason, "reason"),
            **options,
        ),
    )


@router.post("/hold")
def hold(initiative_id: str, write: PageWriteDep, reason: Field = "") -> Response:
    return write.run(
        initiative_id,
        "flash.held",
        lambda options: write.services.hold(
            initiative_id, _text_for_engine(reason, "reason"), write.actor, **options
        ),
    )


@router.post("/resume")
def resume(initiative_id: str, write: PageWriteDep, reason: Field = "") -> Response:
    return write.run(
        initiative_id,
        "flash.resumed",
        lambda options: write.services.resume(
            initiative_id,
            write.actor,
            reason=optional_text(reason, "reason"),
            **options,
        ),
    )


@router.post("/notes")
def note(initiative_id: str, write: PageWriteDep, text: Field = "") -> Response:
    return write.run(
        initiative_id,
        "flash.noted",
        lambda options: write.services.note(
            initiative_id, _text_for_engine(text, "text"), write.actor, **options
        ),
    )


@router.post("/participants")
def add_participant(
    initiative_id: str,
    write: PageWriteDep,
    name: Field = "",
    role: Field = "",
    contact: Field = "",
) -> Response:
    return write.run(
        initiative_id,
        "flash.participant_added",
        lambda options: write.services.add_participant(
            initiative_id,
            required_text(name, "name"),
            required_text(role, "role"),
            write.actor,
            contact=optional_text(contact, "contact"),
            **options,
        ),
    )
