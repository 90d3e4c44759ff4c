"""The route class of every page: whatever goes wrong ends in a page, never in JSON or a traceback.

The JSON API maps errors to problem details app-wide (``api/problems.py``); a page route catches
them first and answers with an error page in the visitor's language instead.
"""

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from api.pages.errors import CsrfRejected, FormProblem, ReportsForbidden, SignInRequired
from api.pages.fields import describe
from api.pages.rendering import render
from api.pages.session import page_language
from api.pages.texts import field_problem, translate
from kosiflow.errors import NotFound, PermissionDenied, StoreError

_log = logging.getLogger(__name__)

_KNOWN: tuple[tuple[type[Exception], int, str], ...] = (
    (CsrfRejected, 403, "error.csrf"),
    (ReportsForbidden, 403, "report.forbidden"),
    (PermissionDenied, 403, "error.forbidden"),
    (NotFound, 404, "error.not_found"),
    (StoreError, 503, "error.store"),
)
"""Errors with a fixed page: type, status, the catalogue key of its message."""

_TITLED = frozenset({403, 404, 422, 500, 503})
"""Statuses whose error page has a title of its own (``status.<code>``)."""


def sign_in_first(next_path: str) -> RedirectResponse:
    """To the sign-in page (303), which leads back to ``next_path`` afterwards."""
    return RedirectResponse(f"/login?{urlencode({'next': next_path})}", status_code=303)


def _problems(exc: Exception, lang: str) -> tuple[int, list[str]]:
    """The status of an error page and its messages."""
    for kind, status, key in _KNOWN:
        if isinstance(exc, kind):
            if isinstance(exc, StoreError):
                _log.error("store error on a page", exc_info=exc)
            return status, [translate(lang, key)]
    if isinstance(exc, FormProblem):
        return 422, [describe(exc, lang)]
    if isinstance(exc, RequestValidationError):
        return 422, [
            field_problem(lang, str(error["loc"][-1]), "invalid") for error in exc.errors()
        ]
    if isinstance(exc, HTTPException):
        return exc.status_code, [translate(lang, "error.http")]
    _log.error("unhandled error on a page", exc_info=exc)
    return 500, [translate(lang, "error.internal")]


def error_page(request: Request, exc: Exception) -> Response:
    lang = page_language(request)
    status, problems = _problems(exc, lang)
    return render(
        request,
        "error.html",
        lang=lang,
        viewer=None,
        title=translate(lang, f"status.{status}" if status in _TITLED else "status.other"),
        status=status,
        here=None if request.method == "GET" else "/",
        problems=problems,
    )


class PageRoute(APIRoute):
    """An API route whose handler turns every exception into a page (or a sign-in redirect)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired as exc:
                return sign_in_first(exc.next_path)
            except Exception as exc:  # the pages' outermost handler: a page, never a traceback
                return error_page(request, exc)

        return page_handler
