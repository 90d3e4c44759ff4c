"""Step sentences as small templates: what a process owner reads, compiled to what pytest matches.

A template is plain text with placeholders::

    {person} ticks {item}[ with the evidence {evidence}]

- ``{name}`` is a value in double quotes (``"Jana Becker"``); it may not contain ``"``.
- ``{name:d}`` is a whole number; ``{name:w}`` is one word without quotes.
- ``[...]`` is an optional part; a placeholder in it is ``None`` when the part is left out.

The same template gives the regular expression a step must match in full, and the form the
step catalogue prints (``"<person>" ticks "<item>" [with the evidence "<evidence>"]``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_TOKEN = re.compile(r"\{(?P<name>\w+)(?::(?P<kind>[dw]))?\}|(?P<open>\[)|(?P<close>\])")
_GROUPS = {None: r'"(?P<{0}>[^"]*)"', "d": r"(?P<{0}>\d+)", "w": r'(?P<{0}>[^\s"]+)'}
_SHOWN = {None: '"<{0}>"', "d": "<{0}>", "w": "<{0}>"}
_OPTIONAL = re.compile(r"\[[^\[\]]*\]")


@dataclass(frozen=True, slots=True)
class Pattern:
    """One sentence a step may be written as."""

    template: str
    regex: re.Pattern[str]
    names: tuple[str, ...]
    """The placeholders, in the order they appear."""

    def shown(self, labels: Mapping[str, str] | None = None) -> str:
        """The template as the catalogue prints it: ``"<person>" ticks "<item>" [with …]``;
        ``labels`` renames placeholders for readers (``{"item": "Punkt"}``)."""
        return _render(self.template, _SHOWN, brackets=True, labels=labels or {})

    @property
    def skeletons(self) -> tuple[str, str]:
        """The sentence with every value as ``"…"``, with its optional parts and without them
        (to find the steps closest to a mistyped one)."""
        values: dict[str | None, str] = {None: '"…"', "d": "…", "w": "…"}
        return _render(self.template, values, brackets=False), _render(
            _OPTIONAL.sub("", self.template), values, brackets=False
        )

    def match(self, text: str) -> dict[str, str | None] | None:
        """The placeholders' values when ``text`` is this sentence, else None."""
        found = self.regex.fullmatch(text)
        return None if found is None else found.groupdict()


def _render(
    template: str,
    forms: Mapping[str | None, str],
    *,
    brackets: bool,
    labels: Mapping[str, str] | None = None,
) -> str:
    parts: list[str] = []
    for piece in _pieces(template):
        if isinstance(piece, tuple):
            name, kind = piece
            parts.append(forms[kind].format((labels or {}).get(name, name)))
        elif piece in ("[", "]"):
            parts.append(piece if brackets else "")
        else:
            parts.append(piece)
    return " ".join("".join(parts).replace("[ ", " [").split())


def _pieces(template: str) -> list[str | tuple[str, str | None]]:
    """The template split into literal text, placeholders ``(name, kind)`` and brackets."""
    pieces: list[str | tuple[str, str | None]] = []
    position = 0
    for token in _TOKEN.finditer(template):
        if token.start() > position:
            pieces.append(template[position : token.start()])
        if token.group("name"):
            pieces.append((token.group("name"), token.group("kind")))
        else:
            pieces.append(token.group(0))
        position = token.end()
    if position < len(template):
        pieces.append(template[position:])
    return pieces


def compile_template(template: str) -> Pattern:
    """The pattern of ``template``; raises ValueError for unbalanced brackets or a repeated name."""
    regex: list[str] = []
    names: list[str] = []
    depth = 0
    for piece in _pieces(template):
        if piece == "[":
            depth += 1
            regex.append("(?:")
        elif piece == "]":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced ']' in {template!r}")
            regex.append(")?")
        elif isinstance(piece, tuple):
            name, kind = piece
            if name in names:
                raise ValueError(f"placeholder {name!r} twice in {template!r}")
            names.append(name)
            regex.append(_GROUPS[kind].format(name))
        else:
            regex.append(re.escape(piece))
    if depth:
        raise ValueError(f"unbalanced '[' in {template!r}")
    return Pattern(template, re.compile("".join(regex)), tuple(names))
