"""The pages' Jinja2 environment and how a view becomes an HTML response.

The environment is built once, with autoescape on: every value a template prints is escaped
unless it is :class:`markupsafe.Markup` made in Python (only the workflow diagram, an SVG its
builder escaped). Templates get view objects, never rows or engine states.
"""

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from api.deps import LANGUAGES
from api.limits import MAX_LENGTHS
from api.pages.session import FLASH_COOKIE, Viewer, is_https, remember_language
from api.pages.texts import has_text, translate

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"

ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)
ENVIRONMENT.globals["max_length"] = MAX_LENGTHS

_POLICY = (
    "default-src 'none'; style-src 'self'{styles}; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": _POLICY.format(styles=""),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
"""No scripts at all, styles only from our own stylesheet (and inline styles a page names by
hash), forms only to ourselves."""
_LIVE_SOURCES = "; script-src 'self'; connect-src 'self'"
"""A live page also runs our own ``static/live.js`` (no inline script) and lets it read this
site (its stream and the page again)."""


def download_headers(filename: str) -> dict[str, str]:
    """The headers of a file the pages offer for download: saved as ``filename``."""
    return {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'}


_LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}


@dataclass(frozen=True, slots=True)
class LanguageLink:
    code: str
    name: str
    href: str
    current: bool


def _language_links(request: Request, here: str, lang: str) -> list[LanguageLink]:
    """This page in each language (other query parameters of a GET page are kept)."""
    params = dict(request.query_params) if request.method == "GET" else {}
    links = []
    for code in LANGUAGES:
        query = urlencode({**params, "lang": code})
        links.append(LanguageLink(code, _LANGUAGE_NAMES[code], f"{here}?{query}", code == lang))
    return links


_INLINE_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def style_hashes(markup: str) -> tuple[str, ...]:
    """The CSP sources (``'sha256-…'``) allowing exactly the ``<style>`` elements in ``markup``."""
    return tuple(
        "'sha256-" + base64.b64encode(hashlib.sha256(style.encode()).digest()).decode() + "'"
        for style in _INLINE_STYLE.findall(markup)
    )


def _is_flash(key: str) -> bool:
    return key.startswith("flash.") and has_text(key)


def render(
    request: Request,
    template: str,
    *,
    lang: str,
    viewer: Viewer | None,
    title: str,
    status: int = 200,
    here: str | None = None,
    problems: Sequence[str] = (),
    current: str | None = None,
    style_hashes: Sequence[str] = (),
    live_stream: str | None = None,
    **view: Any,
) -> HTMLResponse:
    """The page ``template`` filled with ``view``, in ``lang``, framed by header and footer.

    ``here`` is the address of the page as a GET (defaults to the request's path); the language
    switch links to it. ``problems`` are shown at the top, ``current`` marks the navigation's
    entry of the page, ``style_hashes`` allow its inline ``<style>`` elements. A page given
    ``live_stream`` (the address of its stream of changes) loads ``static/live.js``, which
    keeps it up to date. A flash message waiting in its cookie is shown once.
    """
    flash_key = request.cookies.get(FLASH_COOKIE) if request.method == "GET" else None
    context = {
        "t": partial(translate, lang),
        "lang": lang,
        "viewer": viewer,
        "csrf": None if viewer is None else viewer.csrf,
        "title": title,
        "languages": _language_links(request, here or request.url.path, lang),
        "problems": problems,
        "current": current,
        "flash": translate(lang, flash_key) if flash_key and _is_flash(flash_key) else None,
        "live_stream": live_stream,
        **view,
    }
    response = HTMLResponse(ENVIRONMENT.get_template(template).render(context), status)
    response.headers.update(SECURITY_HEADERS)
    if style_hashes or live_stream:
        styles = "".join(f" {source}" for source in style_hashes)
        policy = _POLICY.format(styles=styles) + (_LIVE_SOURCES if live_stream else "")
        response.headers["Content-Security-Policy"] = policy
    remember_language(request, response)
    if flash_key is not None:
        response.delete_cookie(FLASH_COOKIE, path="/", secure=is_https(request))
    return response
