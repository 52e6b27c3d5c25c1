"""``GET /v1/models``: what is loaded, with labels, test metrics and cost per second of
audio."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from audioclf.service.deps import PoolDep
from audioclf.service.schemas import MetricsSummary, ModelsResponse, ServedModel

router = APIRouter(prefix="/models", tags=["models"])


def _metric(metrics: dict[str, object], key: str) -> float | None:
    value = metrics.get(key)
    return float(value) if isinstance(value, int | float) else None


def _cost(metrics: dict[str, Any]) -> float | None:
    """The run's total inference ms per second of audio (metrics.json ``cost``)."""
    cost = metrics.get("cost")
    per_second = cost.get("ms_per_audio_second") if isinstance(cost, dict) else None
    return _metric(per_second, "total") if isinstance(per_second, dict) else None


@router.get("", response_model=ModelsResponse)
def list_models(pool: PoolDep) -> ModelsResponse:
    """List every loaded model with its labels, task and test metrics."""
    infos = []
    for name, predictor in pool.models.items():
        card, metrics = predictor.card, pool.metrics.get(name, {})
        infos.append(
            ServedModel(
                name=name,
                labels=list(predictor.classes_),
                task=card.task,
                model=card.model,
                params=card.params,
                sample_rate=card.sample_rate,
                clip_seconds=card.clip_seconds,
                metrics=MetricsSummary(
                    accuracy=_metric(metrics, "accuracy"),
                    balanced_accuracy=_metric(metrics, "balanced_accuracy"),
                    macro_f1=_metric(metrics, "macro_f1"),
                ),
                ms_per_audio_second=_cost(metrics),
            )
        )
    return ModelsResponse(models=infos)
