"""Reading the pages' HTML in tests: forms with their fields, labels, visible text."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

FIELD_TAGS = ("input", "select", "textarea")


@dataclass
class Form:
    id: str
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    """Field name → its (first) value; hidden fields included."""


@dataclass
class _Found:
    forms: dict[str, Form] = field(default_factory=dict)
    labelled: set[str] = field(default_factory=set)
    """Ids named by a ``<label for>``."""
    controls: list[tuple[str, str]] = field(default_factory=list)
    """(tag, id) of every visible form control."""
    html_lang: str | None = None


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found = _Found()
        self._form: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.found.html_lang = a.get("lang")
        elif tag == "form":
            self._form = Form(a.get("id", ""), a.get("action", ""), a.get("method", "get"))
            self.found.forms[self._form.id] = self._form
        elif tag == "label" and "for" in a:
            self.found.labelled.add(a["for"])
        elif tag in FIELD_TAGS:
            if a.get("type") != "hidden":
                self.found.controls.append((tag, a.get("id", "")))
            if self._form is not None and "name" in a:
                self._form.fields.setdefault(a["name"], a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def parse(html: str) -> _Found:
    parser = _Parser()
    parser.feed(html)
    return parser.found


def forms(html: str) -> dict[str, Form]:
    """The page's forms by id."""
    return parse(html).forms


def initiative_forms(html: str) -> dict[str, Form]:
    """The forms that change an initiative (everything but sign-out and the filters)."""
    return {k: f for k, f in forms(html).items() if f.action.startswith("/initiatives")}


def unlabelled_controls(html: str) -> list[tuple[str, str]]:
    """Visible form controls without a ``<label for>`` naming their id."""
    found = parse(html)
    return [(tag, id_) for tag, id_ in found.controls if not id_ or id_ not in found.labelled]
