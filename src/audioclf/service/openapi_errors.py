"""The OpenAPI schema says what the API answers to invalid requests: 400, not 422.

FastAPI documents a ``422 HTTPValidationError`` on every operation with parameters, but
this app answers request validation errors with ``400`` and its one-sentence
``ErrorResponse`` (app.py's handler), keeping ``422`` for audio that cannot be decoded. The
generated schema is rewritten once, when first built: the automatic 422 is replaced by a
400 (a route's own 400 keeps its description) and the then unused validation-error
models are dropped, so clients generated from the schema, and schemathesis, see the
answers the server really gives.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI

VALIDATION_REF = "#/components/schemas/HTTPValidationError"
ERROR_REF = "#/components/schemas/ErrorResponse"
BAD_REQUEST = {
    "description": "Invalid parameters or body: the detail names each one and why.",
    "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
}
VALIDATION_MODELS = ("HTTPValidationError", "ValidationError")


def _is_automatic_422(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref") == VALIDATION_REF)


def _fix_operation(operation: dict[str, Any]) -> None:
    responses = operation.get("responses", {})
    if "422" in responses and _is_automatic_422(responses["422"]):
        del responses["422"]
        responses.setdefault("400", BAD_REQUEST)


def _drop_unused_models(schema: dict[str, Any]) -> None:
    models = schema.get("components", {}).get("schemas", {})
    for name in VALIDATION_MODELS:  # HTTPValidationError first: it refers to the other
        rest = {k: v for k, v in models.items() if k != name}
        if f'"#/components/schemas/{name}"' not in json.dumps([schema.get("paths"), rest]):
            models.pop(name, None)


def rewrite_validation_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace the automatic 422 of every operation in ``schema`` by 400 (in place)."""
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            if isinstance(operation, dict):
                _fix_operation(operation)
    _drop_unused_models(schema)
    return schema


def document_400_for_invalid_requests(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the rewritten schema."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = rewrite_validation_errors(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
