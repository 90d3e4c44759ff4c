"""Liveness: the service answers and its database is reachable (no token needed)."""

from importlib.metadata import PackageNotFoundError, version
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from api.deps import ServicesDep
from api.problems import problem_responses

router = APIRouter(tags=["health"])


class HealthOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "ok", "database": "ok", "version": "0.1.0"}]}
    )

    status: Literal["ok"]
    database: Literal["ok"]
    version: str


def _version() -> str:
    try:
        return version("kosiflow")
    except PackageNotFoundError:  # pragma: no cover -- running from an uninstalled tree
        return "unknown"


@router.get("/health", response_model=HealthOut, responses=problem_responses(503))
def health(services: ServicesDep) -> HealthOut:
    """200 when the database answers; 503 (problem details) when it does not."""
    services.list_initiatives(limit=1)  # a real round trip to the database
    return HealthOut(status="ok", database="ok", version=_version())
