"""``GET /v1/admin/monitoring``: traffic, label mix and feedback disagreement (API key)."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from audioclf.registry.monitoring import monitoring
from audioclf.service.deps import AdminDep, RateLimited
from audioclf.service.schemas import ErrorResponse

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[RateLimited, AdminDep],
    responses={
        401: {"model": ErrorResponse, "description": "Missing or wrong X-API-Key."},
        403: {"model": ErrorResponse, "description": "Admin API disabled (no key set)."},
    },
)


class DayCount(BaseModel):
    day: str
    count: int


class DayLabels(BaseModel):
    day: str
    counts: dict[str, int]


class Disagreement(BaseModel):
    feedback: int
    wrong: int
    rate: float


class ModelMonitoring(BaseModel):
    """One model's traffic and feedback."""

    name: str
    version: int | None
    labels: list[str]
    train_distribution: dict[str, int]
    per_day: list[DayCount]
    labels_per_day: list[DayLabels]
    disagreement: dict[str, Disagreement]


class MonitoringResponse(BaseModel):
    """Every served or logged model."""

    days: int
    models: list[ModelMonitoring]


@router.get("/monitoring", response_model=MonitoringResponse)
async def show_monitoring(
    request: Request,
    days: Annotated[int, Query(ge=1, le=366, description="How many days back.")] = 30,
) -> MonitoringResponse:
    """Predictions per day, predicted labels per day vs training, disagreement per class."""
    log = request.app.state.prediction_log
    await anyio.to_thread.run_sync(log.flush)
    models = await anyio.to_thread.run_sync(lambda: monitoring(log.sessions, days=days))
    return MonitoringResponse(days=days, models=[ModelMonitoring.model_validate(m) for m in models])
