"""Health: does the service answer and its database too, and what an operator wants to know
besides (no token needed; one statement to the database, no secrets in the answer)."""

import logging
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ServicesDep, quick_read
from api.problems import MEDIA_TYPE, ProblemDetailOut, problem, problem_responses
from kosiflow.errors import StoreError
from kosiflow.services import utc_now
from kosiflow.store.health import check_store

router = APIRouter(tags=["health"])
_log = logging.getLogger(__name__)


class MigrationsOut(BaseModel):
    revision: str | None = Field(description="The schema revision the database is at.")
    expected: str = Field(description="The revision this kosiflow version needs.")
    up_to_date: bool = Field(description="false: run `kosiflow db upgrade` (or an older version).")


class OutboxOut(BaseModel):
    waiting: int = Field(description="Events not yet matched to the webhook subscriptions.")
    pending: int = Field(description="Webhook deliveries still to be sent (or retried).")
    dead: int = Field(description="Deliveries out of attempts: an admin redelivers or skips them.")
    oldest_pending_age_seconds: float | None = Field(
        description="How long the oldest undelivered event has waited; null when none waits."
    )


class HealthOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ok",
                    "database": "ok",
                    "backend": "postgresql",
                    "version": "0.1.0",
                    "migrations": {"revision": "0004", "expected": "0004", "up_to_date": True},
                    "outbox": {
                        "waiting": 0,
                        "pending": 2,
                        "dead": 0,
                        "oldest_pending_age_seconds": 0.8,
                    },
                }
            ]
        }
    )

    status: Literal["ok", "degraded"] = Field(
        description="degraded: the database answers but its schema is not this version's."
    )
    database: Literal["ok"] = Field(description="The database answered.")
    backend: Literal["sqlite", "postgresql"]
    version: str = Field(description="kosiflow's version.")
    migrations: MigrationsOut
    outbox: OutboxOut


def service_version() -> str:
    try:
        return version("kosiflow")
    except PackageNotFoundError:  # pragma: no cover -- running from an uninstalled tree
        return "unknown"


_UNREACHABLE_EXAMPLE = {
    "type": "urn:kosiflow:problem:database-unreachable",
    "title": "Service unavailable",
    "status": 503,
    "detail": "The database (postgresql) is unreachable.",
    "errors": [
        {
            "code": "database_unreachable",
            "message": "The database (postgresql) is unreachable.",
            "params": {"backend": "postgresql"},
            "field": "database",
        }
    ],
}
_RESPONSES: dict[int | str, dict[str, Any]] = problem_responses(503)
_RESPONSES[503] = {
    **_RESPONSES[503],
    "description": "The database is unreachable (or does not answer).",
    "content": {MEDIA_TYPE: {"example": _UNREACHABLE_EXAMPLE}},
}


@router.get("/health", response_model=HealthOut, responses=_RESPONSES)
async def health(services: ServicesDep) -> HealthOut | JSONResponse:
    """200 when the database answers, with the schema revision and the webhook backlog;
    503 (problem details naming the database) when it does not."""
    backend = services.database.backend
    try:
        found = await quick_read(services, lambda: check_store(services.database))
    except StoreError as exc:
        _log.warning("health: %s: %s", exc, exc.__cause__)
        message = f"The database ({backend}) is unreachable."
        error = ProblemDetailOut(
            code="database_unreachable",
            message=message,
            params={"backend": backend},
            field="database",
        )
        return problem(503, "database-unreachable", message, [error])
    backlog = found.backlog
    return HealthOut(
        status="ok" if found.schema_current else "degraded",
        database="ok",
        backend="sqlite" if backend == "sqlite" else "postgresql",
        version=service_version(),
        migrations=MigrationsOut(
            revision=found.revision,
            expected=found.expected_revision,
            up_to_date=found.schema_current,
        ),
        outbox=OutboxOut(
            waiting=backlog.waiting,
            pending=backlog.pending,
            dead=backlog.dead,
            oldest_pending_age_seconds=backlog.oldest_pending_age(utc_now()),
        ),
    )
