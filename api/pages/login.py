"""Signing in with an API token (``GET``/``POST /login``) and out (``POST /logout``)."""

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import ServicesDep
from api.pages.rendering import render
from api.pages.routing import PageRoute
from api.pages.session import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    FormSenderDep,
    LangDep,
    check_login_form,
    end_session,
    keep_login_token,
    local_path,
    new_login_token,
    set_flash,
    start_session,
)
from api.pages.texts import translate

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _login_page(
    request: Request,
    lang: str,
    next_path: str,
    *,
    status: int = 200,
    problems: Sequence[str] = (),
) -> Response:
    token = new_login_token()
    page = render(
        request,
        "login.html",
        lang=lang,
        viewer=None,
        title=translate(lang, "login.title"),
        status=status,
        here="/login",
        login_token=token,
        next_path=local_path(next_path),
        problems=problems,
    )
    keep_login_token(request, page, token)
    return page


@router.get("/login")
def login_form(
    request: Request, lang: LangDep, next: Annotated[str, Query(max_length=2000)] = "/"
) -> Response:
    """The sign-in form: an API token, and where to go afterwards (a path on this site)."""
    return _login_page(request, lang, next)


@router.post("/login")
def login(
    request: Request,
    services: ServicesDep,
    lang: LangDep,
    token: Annotated[str, Form(max_length=500)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A session for the token's user (303 to ``next``); 401 for an unknown token, 403 for a
    form that did not come from our sign-in page. Neither stores anything."""
    if not check_login_form(request, csrf_token):
        problems = [translate(lang, "login.form_expired")]
        return _login_page(request, lang, next, status=403, problems=problems)
    signed_in = services.sign_in(token.strip()) if token.strip() else None
    if signed_in is None:
        problems = [translate(lang, "login.bad_token")]
        return _login_page(request, lang, next, status=401, problems=problems)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        services.sign_out(previous)  # a new sign-in never keeps an old session id
    response = RedirectResponse(local_path(next), status_code=303)
    start_session(request, response, signed_in)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, services: ServicesDep, viewer: FormSenderDep) -> Response:
    """End the session (its row is deleted) and clear the cookie; then the sign-in page."""
    services.sign_out(viewer.session_id)
    response = RedirectResponse("/login", status_code=303)
    end_session(request, response)
    set_flash(request, response, "flash.signed_out")
    return response
