"""The browsable API docs: Swagger UI at ``/api/v1/docs``, served from our own assets.

FastAPI's own docs page loads Swagger UI from a CDN, which a lab's intranet may not reach and
which we do not want to trust. The ``fastapi-offline`` package ships the same assets; they are
mounted under ``/api/v1/docs/static`` and the page refers to nothing else (Swagger UI's online
validator is switched off too). Neither the page nor ``openapi.json`` needs a token.

The document itself is FastAPI's, with one correction: FastAPI documents a response ``model``
as ``application/json`` and adds validation errors of its own shape, but every error is sent as
problem details (``ProblemOut``), as ``application/problem+json``.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.problems import MEDIA_TYPE

_PROBLEM = {"$ref": "#/components/schemas/ProblemOut"}

ASSETS = ("fastapi_offline", "static")
"""The package folder holding swagger-ui-bundle.js, swagger-ui.css and favicon.png."""


def install(app: FastAPI, prefix: str) -> None:
    """Serve the docs page at ``{prefix}/docs`` and its assets at ``{prefix}/docs/static``."""
    openapi_url = app.openapi_url
    if openapi_url is None:
        raise ValueError("the docs page shows the OpenAPI document: give the app an openapi_url")
    page = f"{prefix}/docs"
    static = f"{page}/static"
    app.mount(static, StaticFiles(packages=[ASSETS]), name="docs-static")
    # FastAPI's documented way to adjust the generated document.
    app.openapi = _with_problem_media_type(app.openapi)  # type: ignore[method-assign]

    @app.get(page, include_in_schema=False)
    def docs_page(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} API",
            swagger_js_url=f"{root}{static}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{static}/swagger-ui.css",
            swagger_favicon_url=f"{root}{static}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},
        )


def _with_problem_media_type(
    generate: Callable[[], dict[str, Any]],
) -> Callable[[], dict[str, Any]]:
    """``generate`` (FastAPI's cached ``app.openapi``) with every error answer documented as it is
    sent: problem details as ``application/problem+json`` (also the validation errors FastAPI
    documents on its own, in a shape we never send), keeping a route's own example."""

    def openapi() -> dict[str, Any]:
        document = generate()
        for path_item in document.get("paths", {}).values():
            for operation in path_item.values():
                for status, response in operation.get("responses", {}).items():
                    if status.startswith(("4", "5")):
                        given = response.get("content", {}).get(MEDIA_TYPE, {})
                        example = {k: v for k, v in given.items() if k in ("example", "examples")}
                        response["content"] = {MEDIA_TYPE: {"schema": _PROBLEM, **example}}
        schemas = document.get("components", {}).get("schemas", {})
        for unsent in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unsent, None)
        return document

    return openapi
