"""Reading workflow YAML: text within limits → plain data with the position of every key and value.

YAML 1.2 only (``no``, ``on``, ``yes`` stay strings), exactly one document, the core tags only, no
duplicate keys, and caps on size, nesting depth and the node count after alias expansion, so a
"billion laughs" document is refused quickly. Nothing is ever constructed as a Python object:
the composed node graph is walked and turned into dicts, lists and scalars here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    Event,
    NodeEvent,
)
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kosiflow.errors import DefinitionError, Problem

MAX_BYTES = 1024 * 1024
"""Larger files are refused before parsing."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and lists (after alias expansion)."""
MAX_NODES = 5_000
"""Most nodes a document may have, every alias counted each time it is reached."""

DOCUMENT = "<document>"
"""The path shown for problems of the document as a whole."""

Path = tuple[str | int, ...]

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp"))


@dataclass(frozen=True, slots=True)
class Mark:
    """A 1-based position in the text."""

    line: int
    column: int


_START = Mark(1, 1)


@dataclass(frozen=True, slots=True)
class Source:
    """A parsed file: its plain data and where each value (and each mapping key) was written."""

    name: str
    text: str
    data: object
    values: Mapping[Path, Mark]
    keys: Mapping[Path, Mark]
    problems: tuple[Problem, ...]
    """Problems found while reading that did not stop it (duplicate keys, refused tags and keys)."""
    refused: frozenset[Path]
    """Where a value (or its key) was refused while reading: the value is None there, and
    problems at or below these paths would only repeat that refusal."""

    def is_refused(self, path: Path) -> bool:
        """Whether ``path`` is at or below a refused value or key."""
        return bool(self.refused) and any(path[:n] in self.refused for n in range(len(path) + 1))

    def mark(self, path: Path, *, at_key: bool = False) -> Mark:
        """Where ``path`` was written (its key or its value), else where its parent was."""
        if at_key and path in self.keys:
            return self.keys[path]
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path, _START)

    def problem(self, path: Path, message: str, *, at_key: bool = False) -> Problem:
        """A problem located at ``path``."""
        mark = self.mark(path, at_key=at_key)
        return Problem(self.name, mark.line, mark.column, format_path(path), message)


def format_path(path: Path) -> str:
    """``("phases", 2, "checklist", 0)`` → ``phases[2].checklist[0]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.replace("_", "").replace("-", "").isalnum() and part.isascii():
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text or DOCUMENT


def read_text(path: str | os.PathLike[str]) -> str:
    """The UTF-8 text of a workflow file; DefinitionError if it is unreadable or too large."""
    name = os.fspath(path)
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_BYTES + 1)
    except OSError as exc:
        raise _fatal(name, _START, f"cannot read the file: {exc.strerror or exc}") from exc
    if len(data) > MAX_BYTES:
        raise _fatal(name, _START, _too_large())
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fatal(name, _START, f"the file is not UTF-8 (byte {exc.start})") from exc


def parse_source(text: str, name: str) -> Source:
    """Parse one YAML document; raises DefinitionError for anything that stops reading it."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise _fatal(name, _START, _too_large())
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        _check_events(yaml.parse(text), name)
        root = yaml.compose(text)
    except MarkedYAMLError as exc:
        raise _syntax_error(exc, name) from exc
    if root is None:
        raise _fatal(name, _START, "the document is empty")
    walker = _Walker(name)
    data = walker.walk(root)
    problems = tuple(walker.problems)
    return Source(name, text, data, walker.values, walker.keys, problems, frozenset(walker.refused))


def _too_large() -> str:
    return f"the file is larger than {MAX_BYTES} bytes"


def _mark(node: Node | Event) -> Mark:
    start = node.start_mark
    return Mark(start.line + 1, start.column + 1)


def _fatal(name: str, mark: Mark, message: str) -> DefinitionError:
    return DefinitionError([Problem(name, mark.line, mark.column, DOCUMENT, message)])


def _syntax_error(exc: MarkedYAMLError, name: str) -> DefinitionError:
    where = exc.problem_mark or exc.context_mark
    mark = Mark(where.line + 1, where.column + 1) if where is not None else _START
    message = f"YAML syntax error: {exc.problem or exc.context}"
    if exc.problem and exc.context:
        message += f" ({exc.context})"
    return _fatal(name, mark, message)


def _check_events(events: Iterator[Event], name: str) -> None:
    """Refuse what must not even be composed: too many nodes (parsing is slow: ~25 µs a node),
    deep nesting, YAML 1.1, reused anchors, a second document."""
    seen = _Seen()
    for event in events:
        problem = seen.problem(event)
        if problem is not None:
            raise _fatal(name, _mark(event), problem)


class _Seen:
    """What the event scan has seen so far."""

    def __init__(self) -> None:
        self.depth = 0
        self.documents = 0
        self.nodes = 0
        self.anchors: set[str] = set()

    def problem(self, event: Event) -> str | None:
        self.nodes += isinstance(event, NodeEvent)
        if self.nodes > MAX_NODES:
            return f"the document has more than {MAX_NODES} nodes"
        if isinstance(event, DocumentStartEvent):
            self.documents += 1
            return _document_problem(event, self.documents)
        if isinstance(event, CollectionEndEvent):
            self.depth -= 1
            return None
        if isinstance(event, CollectionStartEvent):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                return f"the document is nested deeper than {MAX_DEPTH} levels"
        if isinstance(event, NodeEvent) and not isinstance(event, AliasEvent) and event.anchor:
            if event.anchor in self.anchors:
                return f"the anchor '&{event.anchor}' is defined twice"
            self.anchors.add(event.anchor)
        return None


def _document_problem(event: DocumentStartEvent, documents: int) -> str | None:
    if documents > 1:
        return "a workflow file holds exactly one YAML document (found a second '---')"
    if event.version is not None and tuple(event.version) != (1, 2):
        found = ".".join(str(part) for part in event.version)
        return f"only YAML 1.2 is supported (the file says %YAML {found})"
    return None


def _show_tag(tag: str | None) -> str:
    tag = tag or "!"
    return "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag


_ALLOWED_TAGS: dict[type[Node], frozenset[str]] = {
    MappingNode: frozenset([_CORE + "map"]),
    SequenceNode: frozenset([_CORE + "seq"]),
    ScalarNode: _SCALAR_TAGS,
}


class _Walker:
    """Turns the node graph into plain data, counting every node as often as it is reached.

    A refused value (a tag that is not a core tag, a scalar that does not fit its explicit tag) or
    key (a refused tag) makes the value None; each is a problem and a refused path, and reading
    goes on, so the rest of the file is still checked. A key that is not a text leaves its entry
    out.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.values: dict[Path, Mark] = {}
        self.keys: dict[Path, Mark] = {}
        self.problems: list[Problem] = []
        self.refused: set[Path] = set()
        self._count = 0

    def _problem(self, node: Node, path: Path, message: str) -> Problem:
        mark = _mark(node)
        return Problem(self.name, mark.line, mark.column, format_path(path), message)

    def walk(self, node: Node, path: Path = (), depth: int = 0) -> object:
        self._count += 1
        if self._count > MAX_NODES:
            message = f"the document expands to more than {MAX_NODES} nodes (through aliases)"
            raise DefinitionError([self._problem(node, (), message)])
        if depth > MAX_DEPTH:
            message = f"the document is nested deeper than {MAX_DEPTH} levels (through aliases)"
            raise DefinitionError([self._problem(node, (), message)])
        self.values[path] = _mark(node)
        if not self._tag_allowed(node, path, path):
            return None
        if isinstance(node, MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, SequenceNode):
            return [self.walk(child, (*path, i), depth + 1) for i, child in enumerate(node.value)]
        return self._scalar(node, path)

    def _refuse(self, node: Node, path: Path, refused: Path, message: str) -> None:
        self.problems.append(self._problem(node, path, message))
        self.refused.add(refused)

    def _tag_allowed(self, node: Node, path: Path, refused: Path) -> bool:
        if node.tag in _ALLOWED_TAGS.get(type(node), ()):
            return True
        if node.tag == _CORE + "merge":
            message = "merge keys ('<<') are not supported"
        else:
            message = f"tag '{_show_tag(node.tag)}' is not allowed"
        self._refuse(node, path, refused, message)
        return False

    def _mapping(self, node: MappingNode, path: Path, depth: int) -> dict[str, object]:
        """Its entries; a key whose tag is refused keeps its entry, with None as its value."""
        result: dict[str, object] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problems.append(self._problem(key_node, path, "a key must be a plain text"))
                continue
            key = str(key_node.value)
            if key in result:
                first = self.keys[(*path, key)]
                message = f"duplicate key '{key}' (first at line {first.line})"
                self.problems.append(self._problem(key_node, (*path, key), message))
                continue
            self.keys[(*path, key)] = _mark(key_node)
            if self._tag_allowed(key_node, path, (*path, key)):
                result[key] = self.walk(value_node, (*path, key), depth + 1)
            else:
                self.values[(*path, key)] = _mark(value_node)
                result[key] = None
        return result

    def _scalar(self, node: Node, path: Path) -> object:
        value = str(node.value)
        if isinstance(node, ScalarNode) and node.style == ">":  # ruamel marks folds with BEL
            value = value.replace("\a", "")
        kind = str(node.tag).removeprefix(_CORE)
        try:
            return _construct(kind, value)
        except ValueError:
            self._refuse(node, path, path, f"'{value}' is not a valid !!{kind}")
            return None


def _construct(kind: str, text: str) -> object:
    """A YAML 1.2 core-schema scalar; timestamps stay text (the format has no dates)."""
    if kind == "null":
        if text not in ("", "~", "null", "Null", "NULL"):
            raise ValueError(text)
        return None
    if kind == "bool":
        if text.lower() not in ("true", "false"):
            raise ValueError(text)
        return text.lower() == "true"
    if kind == "int":
        return _integer(text)
    if kind == "float":
        return float(text.lower().replace(".inf", "inf").replace(".nan", "nan").replace("_", ""))
    return text


def _integer(text: str) -> int:
    digits = text.replace("_", "")
    sign = -1 if digits.startswith("-") else 1
    digits = digits.lstrip("+-")
    for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
        if digits.lower().startswith(prefix):
            return sign * int(digits[2:], base)
    return sign * int(digits, 10)
