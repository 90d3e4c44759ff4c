"""Every error as RFC 9457 problem details (``application/problem+json``), mapped in one place.

=============================  ======  ==============================================
error                          status  note
=============================  ======  ==============================================
NotFound                       404
CommandRefused                 409     403 when every blocker is ``role_missing``,
                                       404 when every blocker is ``item_unknown``,
                                       422 when every blocker is ``role_unknown``
ConcurrencyConflict            409     412 when the request carried ``If-Match``
HistoryCorrupted               409     the hash chain check failed
BadInput, IdempotencyMismatch  422     request validation errors too
PermissionDenied               403
StoreUnavailable               503     with Retry-After; says when a write's outcome
                                       is unknown (send it again with its key)
StoreError                     503     no details (never SQL)
anything else                  500     no details (never a traceback)
=============================  ======  ==============================================
"""

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from api.deps import check_writer_first, language_of
from kosiflow.engine import Blocker
from kosiflow.errors import (
    BadInput,
    CommandRefused,
    ConcurrencyConflict,
    HistoryCorrupted,
    IdempotencyMismatch,
    KosiflowError,
    NotFound,
    PermissionDenied,
    StoreError,
    StoreUnavailable,
)

MEDIA_TYPE = "application/problem+json"
_log = logging.getLogger(__name__)

_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Content too large",
    422: "Invalid input",
    500: "Internal error",
    503: "Service unavailable",
}

_REFUSAL_STATUS = {"role_missing": 403, "item_unknown": 404, "role_unknown": 422}
"""A refusal whose blockers all carry one of these codes gets this status instead of 409."""


class ProblemDetailOut(BaseModel):
    """One reason within a problem: a blocker, or an invalid field."""

    code: str = Field(examples=["item_open"])
    message: str = Field(examples=["Checklist item 'Mandate or sponsor secured' is not done yet."])
    params: dict[str, str | int] = Field(default_factory=dict, examples=[{"item": "mandate"}])
    field: str | None = Field(default=None, examples=["body.title"])
    allowed: list[str] | None = Field(default=None, description="The values the field accepts.")


class ProblemOut(BaseModel):
    """RFC 9457 problem details; ``errors`` lists every reason."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:kosiflow:problem:command-refused",
                    "title": "Conflict",
                    "status": 409,
                    "detail": "Checklist item 'Mandate or sponsor secured' is not done yet.",
                    "errors": [
                        {
                            "code": "item_open",
                            "message": "Checklist item 'Mandate or sponsor secured' is not "
                            "done yet.",
                            "params": {"item": "mandate_secured", "phase": "initiation"},
                        }
                    ],
                }
            ]
        }
    )

    type: str = Field(examples=["urn:kosiflow:problem:command-refused"])
    title: str = Field(examples=["Conflict"])
    status: int = Field(examples=[409])
    detail: str
    errors: list[ProblemDetailOut] = Field(default_factory=list)
    first_bad_seq: int | None = Field(default=None, description="Only for a broken hash chain.")
    problem: str | None = Field(default=None, description="Only for a broken hash chain.")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that may answer with these problem statuses."""
    return {
        status: {
            "model": ProblemOut,
            "description": _TITLES[status],
            "content": {MEDIA_TYPE: {}},
        }
        for status in statuses
    }


def problem(
    status: int,
    slug: str,
    detail: str,
    errors: Iterable[ProblemDetailOut] = (),
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = ProblemOut(
        type=f"urn:kosiflow:problem:{slug}",
        title=_TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        errors=list(errors),
        **extensions,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def _blocker(blocker: Blocker, lang: str) -> ProblemDetailOut:
    return ProblemDetailOut(
        code=blocker.code, message=blocker.message(lang), params=dict(blocker.params)
    )


def _refused(exc: CommandRefused, lang: str) -> JSONResponse:
    codes = {b.code for b in exc.blockers}
    status = _REFUSAL_STATUS.get(codes.pop(), 409) if len(codes) == 1 else 409
    slug = {403: "role-missing", 404: "item-unknown", 422: "role-unknown"}.get(
        status, "command-refused"
    )
    errors = [_blocker(b, lang) for b in exc.blockers]
    return problem(status, slug, " ".join(e.message for e in errors), errors)


def _kosiflow_error(request: Request, exc: KosiflowError) -> JSONResponse:
    lang = language_of(request.headers.get("accept-language"))
    match exc:
        case CommandRefused():
            return _refused(exc, lang)
        case NotFound():
            return problem(404, f"{exc.kind}-not-found", str(exc))
        case ConcurrencyConflict():
            if "if-match" in request.headers:
                return problem(412, "stale-version", str(exc))
            return problem(409, "concurrent-change", str(exc))
        case BadInput():
            error = ProblemDetailOut(code="bad_input", message=exc.message, field=exc.field)
            return problem(422, "bad-input", str(exc), [error])
        case IdempotencyMismatch():
            error = ProblemDetailOut(
                code="idempotency_mismatch", message=str(exc), field="Idempotency-Key"
            )
            return problem(422, "idempotency-mismatch", str(exc), [error])
        case PermissionDenied():
            return problem(403, "forbidden", f"You may not {exc.action}.")
        case HistoryCorrupted():
            return problem(
                409, "history-corrupted", str(exc), first_bad_seq=exc.seq, problem=exc.problem
            )
        case StoreError():
            return _store_error(exc)
    return _internal_error(request, exc)


def _store_error(exc: StoreError) -> JSONResponse:
    if not isinstance(exc, StoreUnavailable):
        _log.error("store error", exc_info=exc)
        return problem(503, "store-unavailable", "The database is not available right now.")
    _log.warning("store unavailable: %s", exc)
    detail = "The database is not available right now; try again."
    if exc.outcome_unknown:
        detail = (
            "The connection to the database was lost while recording this; it may or may not "
            "have been recorded. Send it again with the same Idempotency-Key."
        )
    return problem(503, "store-unavailable", detail, headers={"Retry-After": "1"})


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    try:
        await check_writer_first(request)  # 401 and 403 come first
    except HTTPException as refused:
        return _http_error(request, refused)
    except KosiflowError as refused:
        return _kosiflow_error(request, refused)
    errors = []
    for error in exc.errors():
        context = error.get("ctx") or {}
        expected = context.get("expected")
        errors.append(
            ProblemDetailOut(
                code=str(error["type"]),
                message=str(error["msg"]),
                field=".".join(str(part) for part in error["loc"]),
                params=_bounds(context),
                allowed=None if expected is None else _alternatives(str(expected)),
            )
        )
    return problem(422, "invalid-input", "The request is not valid.", errors)


_BOUNDS = ("ge", "gt", "le", "lt", "min_length", "max_length")


def _bounds(context: Mapping[str, Any]) -> dict[str, str | int]:
    """The limits a value broke, as pydantic names them (``{"le": 100}``)."""
    return {k: v for k, v in context.items() if k in _BOUNDS and isinstance(v, int)}


def _alternatives(expected: str) -> list[str]:
    """Pydantic's ``"'a', 'b' or 'c'"`` as ``["a", "b", "c"]``."""
    parts = expected.replace(" or ", ", ").split(", ")
    return [part.strip().strip("'") for part in parts if part.strip()]


def _http_error(_request: Request, exc: HTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
    return problem(exc.status_code, "http", detail, headers=exc.headers)


def _internal_error(_request: Request, exc: Exception) -> JSONResponse:
    _log.error("unhandled error", exc_info=exc)
    return problem(500, "internal", "Something went wrong on our side.")


def answer_error(request: Request, exc: Exception) -> JSONResponse:
    """The problem document the handlers below answer ``exc`` with (for ``api.tick_fastpath``,
    which answers without FastAPI's exception handling)."""
    if isinstance(exc, KosiflowError):
        return _kosiflow_error(request, exc)
    return _internal_error(request, exc)


def install(app: FastAPI) -> None:
    """Register every handler on ``app``."""
    app.add_exception_handler(KosiflowError, _kosiflow_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _internal_error)
