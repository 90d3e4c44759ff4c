"""The exception tree of kosiflow.

::

    KosiflowError
    ├── DefinitionError(problems)                     → CLI exit 2
    ├── BadInput(field, message)                      → CLI exit 2 / HTTP 422
    ├── NotFound(kind, key)                           → CLI exit 2 / HTTP 404
    ├── CommandRefused(blockers)                      → CLI exit 1 / HTTP 409
    ├── ConcurrencyConflict(expected, actual)         → CLI exit 1 / HTTP 409, 412 with If-Match
    │   ├── StaleHead                                 (retried inside the services)
    │   └── DuplicateRequest(key)                     (same idempotency key, concurrently)
    ├── IdempotencyMismatch(key)                      → CLI exit 2 / HTTP 422
    ├── PermissionDenied(actor, action)               → HTTP 403
    └── StoreError                                    → HTTP 500 / 503
        ├── StoreUnavailable(outcome_unknown)         (a command is retried, then HTTP 503)
        ├── DefinitionChanged(workflow_id, version)
        └── HistoryCorrupted(initiative_id, seq, problem)

Errors carry their data as attributes; ``str()`` is for people.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kosiflow.engine.blockers import Blocker


class KosiflowError(Exception):
    """Base of every error kosiflow raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a workflow file, with its location (1-based line and column)."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.path}: {self.message}"


class DefinitionError(KosiflowError):
    """A workflow file is invalid; ``problems`` lists every problem found in it."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class BadInput(KosiflowError):
    """A command's input is malformed (not a refusal by the rules: a wrong value)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class NotFound(KosiflowError):
    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key!r} not found")


class CommandRefused(KosiflowError):
    """The rules refuse the command; ``blockers`` lists every reason."""

    def __init__(self, blockers: Sequence[Blocker], lang: str = "en") -> None:
        self.blockers = tuple(blockers)
        self.lang = lang
        super().__init__("; ".join(b.message(lang) for b in self.blockers))


class ConcurrencyConflict(KosiflowError):
    """Somebody else changed the initiative first: its version is no longer ``expected``."""

    def __init__(self, initiative_id: str, expected: int, actual: int | None) -> None:
        self.initiative_id = initiative_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"initiative {initiative_id} changed concurrently: "
            f"expected version {expected}, found {actual}"
        )


class StaleHead(ConcurrencyConflict):
    """The head a writer assumed (from a cache) is no longer the stored one; nothing was written."""


class DuplicateRequest(ConcurrencyConflict):
    """A request with the same idempotency key was applied concurrently; a retry replays it."""

    def __init__(self, initiative_id: str, key: str) -> None:
        super().__init__(initiative_id, 0, None)
        self.key = key
        self.args = (
            f"a request with idempotency key {key!r} was applied concurrently; "
            "send it again to get its answer",
        )


class IdempotencyMismatch(KosiflowError):
    """An idempotency key was reused for a different command."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"idempotency key {key!r} was already used for a different command")


class PermissionDenied(KosiflowError):
    def __init__(self, actor: str, action: str) -> None:
        self.actor = actor
        self.action = action
        super().__init__(f"{actor} may not {action}")


class StoreError(KosiflowError):
    """The database failed or holds something it must not."""


class StoreUnavailable(StoreError):
    """The database failed for a passing reason: a serialization failure, a deadlock, a lost
    connection or none to be had. Nothing was written, unless ``outcome_unknown``: the
    connection was lost while committing, so the transaction may or may not have committed."""

    def __init__(self, message: str, *, outcome_unknown: bool = False) -> None:
        self.outcome_unknown = outcome_unknown
        super().__init__(message)


class DefinitionChanged(StoreError):
    """A workflow file changed without its ``version`` being bumped."""

    def __init__(self, workflow_id: str, version: int) -> None:
        self.workflow_id = workflow_id
        self.version = version
        super().__init__(
            f"workflow {workflow_id!r} version {version} is already stored with different "
            "content: bump 'version' when you change a workflow"
        )


class HistoryCorrupted(StoreError):
    def __init__(self, initiative_id: str, seq: int, problem: str) -> None:
        self.initiative_id = initiative_id
        self.seq = seq
        self.problem = problem
        super().__init__(f"history of {initiative_id} is corrupted at event {seq}: {problem}")
