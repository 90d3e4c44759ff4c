"""kosiflow's HTTP API (JSON under ``/api/v1``): ``create_app(services)``."""

from api.app import create_app

__all__ = ["create_app"]
