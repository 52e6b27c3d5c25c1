"""Schemathesis fuzzing of every operation of the OpenAPI schema, in-process (ASGI).

Each operation gets a bounded number of derandomised examples (positive and negative
generation: the ``examples``/``coverage``/``generate`` phases), sent through the app's
ASGI transport. Every answer must not be a server error, and must conform to the schema:
a declared status code, a declared content type and a body matching the declared model.

A longer run for hunting bugs (not part of the suite)::

    AUDIOCLF_FUZZ_EXAMPLES=500 .venv/bin/pytest tests/service/test_schema_fuzz.py -q
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from audioclf.registry import Registry
from audioclf.service.app import create_app
from audioclf.service.settings import Settings
from tests.service.conftest import STRONG_KEY, wav_bytes

MAX_EXAMPLES = int(os.environ.get("AUDIOCLF_FUZZ_EXAMPLES", "12"))

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _operations(app: Any) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operations.append(result.ok())
    return operations


def _fuzz(operation: Any, mode: GenerationMode) -> None:
    """Send ``MAX_EXAMPLES`` derandomised cases of ``operation`` and validate each answer."""

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        case.call_and_validate(checks=CHECKS)

    run()


def test_every_operation_is_fuzzed(make_settings: Callable[..., Settings]) -> None:
    """The schema lists every route, so the fuzzing below reaches all of them."""
    app = create_app(make_settings(rate_limit_per_minute=0))
    labels = {op.label for op in _operations(app)}
    assert {"GET /v1/models", "POST /v1/predict", "POST /v1/predict/timeline"} <= labels
    assert {"GET /healthz", "GET /readyz", "GET /metrics", "POST /v1/admin/reload"} <= labels


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_error_and_schema_conformance(
    make_settings: Callable[..., Settings], mode: GenerationMode
) -> None:
    """Generated requests never cause a 5xx, and every answer matches the schema."""
    app = create_app(make_settings(rate_limit_per_minute=0, api_key=STRONG_KEY))
    failures: list[str] = []
    for operation in _operations(app):
        try:
            _fuzz(operation, mode)
        except Unsatisfiable:  # nothing to negate (an operation without parameters)
            assert mode is GenerationMode.NEGATIVE, operation.label
        except Exception as err:
            failures.append(f"{operation.label}: {err}")
    assert not failures, "\n\n".join(failures)


def test_valid_audio_answers_match_the_schema(make_settings: Callable[..., Settings]) -> None:
    """Random bytes are rarely audio, so the 200 answers of the predict routes are checked
    on a real clip, raw and multipart."""
    app = create_app(make_settings(rate_limit_per_minute=0))
    operations = {op.label: op for op in _operations(app)}
    for label in ("POST /v1/predict", "POST /v1/predict/timeline"):
        operation = operations[label]
        for media_type, body in (
            ("application/octet-stream", wav_bytes()),
            ("multipart/form-data", {"file": wav_bytes()}),
        ):
            case = operation.Case(media_type=media_type, body=body)
            response = case.call_and_validate(checks=CHECKS)
            assert response.status_code == 200, (label, media_type, response.text)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_registry_routes_conform_too(
    make_settings: Callable[..., Settings], runs: list[Path], tmp_path: Path, mode: GenerationMode
) -> None:
    """An app serving a registry adds feedback and monitoring: fuzzed the same way."""
    db_url = f"sqlite:///{tmp_path / 'registry.db'}"
    registry = Registry(db_url)
    registry.add(runs[1], "m")
    registry.promote("m", 1)
    settings = make_settings(
        runs=[],
        registry=["m"],
        db_url=db_url,
        feedback_dir=tmp_path / "pool",
        api_key=STRONG_KEY,
        rate_limit_per_minute=0,
    )
    operations = {op.label: op for op in _operations(create_app(settings))}
    assert {"POST /v1/feedback", "GET /v1/admin/monitoring"} <= set(operations)
    failures: list[str] = []
    for label in ("POST /v1/feedback", "GET /v1/admin/monitoring"):
        try:
            _fuzz(operations[label], mode)
        except Exception as err:
            failures.append(f"{label}: {err}")
    assert not failures, "\n\n".join(failures)
