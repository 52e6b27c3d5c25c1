"""``GET /v1/models``: what is loaded, with labels and test metrics."""

from __future__ import annotations

from fastapi import APIRouter

from audioclf.service.deps import PoolDep
from audioclf.service.schemas import MetricsSummary, ModelsResponse, ServedModel

router = APIRouter(prefix="/models", tags=["models"])


def _metric(metrics: dict[str, object], key: str) -> float | None:
    value = metrics.get(key)
    return float(value) if isinstance(value, int | float) else None


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
            )
        )
    return ModelsResponse(models=infos)
