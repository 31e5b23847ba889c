"""/openapi.json as the service answers: every error in its {error, detail} shape, and every
status an operation can give documented (the role guards' 403, the scope's 404, …)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "stable English code, e.g. NotFound"},
        "detail": {
            "description": "what is wrong: a sentence, or a list of {field, message} problems"
        },
    },
}
_ERROR_REF = {"$ref": "#/components/schemas/Error"}

_DESCRIPTIONS = {
    400: "The body is not JSON",
    401: "Not authenticated (no, expired, tampered or revoked token)",
    403: "Your roles may not do this",
    404: "No such object, or it is not yours to see",
    409: "The object changed under you; reload and retry",
    413: "The request body is too large",
    422: "The input fails validation; detail lists each problem",
    429: "Too many failed logins; wait Retry-After seconds",
}
_WRITES = {"post", "put", "patch", "delete"}
_PUBLIC = {"/api/v1/auth/login"}


def _statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    statuses = {404, 422}  # an unknown id or path; NUL text and bad numbers everywhere
    if path.startswith("/api/") and path not in _PUBLIC:
        statuses |= {401, 403}
    if method in _WRITES:
        statuses.add(409)
    if "requestBody" in operation:
        statuses |= {400, 413}
    if path in _PUBLIC:
        statuses.add(429)
    return statuses


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema FastAPI generated, with its validation-error shape replaced by ours."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["Error"] = ERROR_SCHEMA
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status in _statuses(path, method, operation):
                entry = responses.setdefault(str(status), {"description": _DESCRIPTIONS[status]})
                entry["content"] = {"application/json": {"schema": _ERROR_REF}}
    return schema


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
