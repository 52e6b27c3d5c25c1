"""The schema documents the 400 that invalid requests get, never FastAPI's automatic 422."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from audioclf.registry import Registry
from audioclf.service.openapi_errors import BAD_REQUEST, rewrite_validation_errors
from tests.service.conftest import STRONG_KEY

AUTO_422 = {
    "description": "Validation Error",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
    },
}
OWN = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}


def _schema(responses: dict[str, Any]) -> dict[str, Any]:
    return {
        "paths": {"/x": {"get": {"responses": copy.deepcopy(responses)}}},
        "components": {
            "schemas": {
                "ErrorResponse": {"type": "object"},
                "HTTPValidationError": {
                    "properties": {"detail": {"$ref": "#/components/schemas/ValidationError"}}
                },
                "ValidationError": {"type": "object"},
            }
        },
    }


def test_the_automatic_422_becomes_400_and_its_models_go() -> None:
    schema = rewrite_validation_errors(_schema({"200": {}, "422": AUTO_422}))
    assert schema["paths"]["/x"]["get"]["responses"] == {"200": {}, "400": BAD_REQUEST}
    assert set(schema["components"]["schemas"]) == {"ErrorResponse"}


def test_a_routes_own_400_and_422_are_kept() -> None:
    own = {"400": {**OWN, "description": "bad form"}, "422": {**OWN, "description": "broken"}}
    schema = rewrite_validation_errors(_schema(own))
    assert schema["paths"]["/x"]["get"]["responses"] == own
    rest = rewrite_validation_errors(_schema({"400": own["400"], "422": AUTO_422}))
    assert rest["paths"]["/x"]["get"]["responses"] == {"400": own["400"]}


def test_validation_models_stay_while_something_uses_them() -> None:
    schema = _schema({"422": AUTO_422})
    schema["paths"]["/y"] = {"post": {"responses": {"418": AUTO_422}}}
    models = rewrite_validation_errors(schema)["components"]["schemas"]
    assert {"HTTPValidationError", "ValidationError"} <= set(models)


def test_no_operation_of_a_registry_app_documents_422_validation(
    make_client: Callable[..., TestClient], runs: list[Path], tmp_path: Path
) -> None:
    registry = Registry(f"sqlite:///{tmp_path / 'registry.db'}")
    registry.add(runs[1], "m")
    registry.promote("m", 1)
    client = make_client(
        runs=[],
        registry=["m"],
        db_url=f"sqlite:///{tmp_path / 'registry.db'}",
        feedback_dir=tmp_path / "pool",
        api_key=STRONG_KEY,
    )
    schema = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in json.dumps(schema)
    monitoring = schema["paths"]["/v1/admin/monitoring"]["get"]["responses"]
    assert "400" in monitoring and "422" not in monitoring
    answer = client.get("/v1/admin/monitoring?days=0", headers={"X-API-Key": STRONG_KEY})
    assert answer.status_code == 400
    assert "days" in answer.json()["detail"]
