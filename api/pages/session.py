"""Who looks at a page, in which language, and whether a form really comes from our page.

Cookies:

``kosiflow_session``
    The random id of a server-side session (only its hash is stored), HttpOnly, SameSite=Lax,
    Path=/, Secure when the request came over https; it lives as long as the session.
``kosiflow_login``
    A random value set by the sign-in form and sent back in it (login CSRF, see
    :func:`check_login_form`), HttpOnly, SameSite=Strict, Path=/login.
``kosiflow_lang``
    The language picked with ``?lang=de|en``; otherwise ``Accept-Language`` decides.
"""

import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Form, Request, Response

from api.deps import LANGUAGES, READ_ONLY_ROLES, ServicesDep, language_of
from api.pages.errors import CsrfRejected, SignInRequired
from kosiflow.engine import Actor
from kosiflow.errors import PermissionDenied
from kosiflow.services import SESSION_LIFETIME, SignedIn
from kosiflow.store import WebSession

SESSION_COOKIE = "kosiflow_session"
LOGIN_COOKIE = "kosiflow_login"
LANG_COOKIE = "kosiflow_lang"
FLASH_COOKIE = "kosiflow_flash"
CSRF_FIELD = "csrf_token"
"""The hidden field every form carries."""

_YEAR = 365 * 24 * 3600

REPORT_ROLES = frozenset({"auditor", "coordinator"})
"""Roles that may see the audit report of an initiative (its page and its PDF)."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in user looking at a page."""

    session_id: str
    session: WebSession

    @property
    def name(self) -> str:
        return self.session.user.name

    @property
    def roles(self) -> tuple[str, ...]:
        return self.session.user.roles

    @property
    def actor(self) -> Actor:
        return Actor(self.session.user.person_id, frozenset(self.session.user.roles))

    @property
    def can_see_reports(self) -> bool:
        return bool(REPORT_ROLES & set(self.roles))

    @property
    def csrf(self) -> str:
        """The token this session's forms carry."""
        return self.session.csrf_secret


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def page_language(request: Request) -> str:
    """``?lang=`` first, then the remembered choice, then ``Accept-Language``."""
    for chosen in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if chosen in LANGUAGES:
            return str(chosen)
    return language_of(request.headers.get("accept-language"))


LangDep = Annotated[str, Depends(page_language)]


def remember_language(request: Request, response: Response) -> None:
    """Keep a language picked with ``?lang=`` in a cookie."""
    chosen = request.query_params.get("lang")
    if chosen in LANGUAGES and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(
            LANG_COOKIE,
            str(chosen),
            max_age=_YEAR,
            path="/",
            httponly=True,
            samesite="lax",
            secure=is_https(request),
        )


def local_path(target: str | None) -> str:
    """``target`` when it is a path on this site, else ``/`` (never an open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ord(char) < 0x20 or char == "\\" for char in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def _back_to(request: Request) -> str:
    """Where to come back after signing in: this page, or for a form the page it was on."""
    if request.method == "GET":
        query = request.url.query
        return request.url.path + (f"?{query}" if query else "")
    initiative_id = request.path_params.get("initiative_id")
    return f"/initiatives/{initiative_id}" if initiative_id else "/"


def get_viewer(request: Request, services: ServicesDep) -> Viewer:
    """The signed-in user; without a valid session, a redirect to the sign-in page."""
    session_id = request.cookies.get(SESSION_COOKIE)
    session = services.signed_in(session_id) if session_id else None
    if session_id is None or session is None:
        raise SignInRequired(_back_to(request))
    return Viewer(session_id, session)


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


def is_genuine(sent: str | None, expected: str) -> bool:
    """Whether a form's token is the expected one (compared in constant time)."""
    return bool(sent) and secrets.compare_digest(str(sent).encode(), expected.encode())


def get_form_sender(viewer: ViewerDep, csrf_token: Annotated[str | None, Form()] = None) -> Viewer:
    """The signed-in user sending a form of this session's pages (403 otherwise)."""
    if not is_genuine(csrf_token, viewer.csrf):
        raise CsrfRejected()
    return viewer


FormSenderDep = Annotated[Viewer, Depends(get_form_sender)]


def get_form_writer(viewer: FormSenderDep) -> Viewer:
    """A form sender who may change initiatives: read-only roles are refused (403), as in the
    API; what they may change is the engine's decision."""
    if frozenset(viewer.roles) <= READ_ONLY_ROLES:
        raise PermissionDenied(viewer.actor.id, "change initiatives")
    return viewer


FormWriterDep = Annotated[Viewer, Depends(get_form_writer)]


def start_session(request: Request, response: Response, signed_in: SignedIn) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        signed_in.session_id,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )


def end_session(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request)
    )


def new_login_token() -> str:
    """A fresh login-CSRF value for the sign-in form's hidden field (and its cookie)."""
    return secrets.token_urlsafe(32)


def keep_login_token(request: Request, response: Response, token: str) -> None:
    """Put the sign-in form's token in a cookie only our sign-in page sets."""
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )


def check_login_form(request: Request, sent: str | None) -> bool:
    """Login CSRF: the form must send back the value of the cookie our sign-in page set.

    Without this, another site could sign a visitor in under the attacker's token (double
    submit: another site can neither read our cookie nor set it for our host). The value is not
    tied to a server-side secret; a pre-session row per visitor of the sign-in page would let
    anyone fill the database, and the cookie cannot be planted from elsewhere.
    """
    expected = request.cookies.get(LOGIN_COOKIE)
    return expected is not None and is_genuine(sent, expected)


def set_flash(request: Request, response: Response, key: str) -> None:
    """A message (its catalogue key) for the next page shown, after a redirect."""
    response.set_cookie(
        FLASH_COOKIE,
        key,
        max_age=120,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )
