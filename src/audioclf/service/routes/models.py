"""``GET /v1/models``: what is loaded, with labels, test metrics and cost per second of
audio; ``GET /v1/models/{name}/web`` and ``…/web/card``: a model's browser export (public,
revalidated by ETag, so a page downloads it once per version)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from audioclf.formats.webcard import WebCardError, read_web_card, web_folder
from audioclf.inference.predictor import Predictor
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
                **_web_summary(predictor),
            )
        )
    return ModelsResponse(models=infos)


def _web_summary(predictor: Predictor) -> dict[str, Any]:
    """``web``, ``web_whole`` and ``web_accuracy`` of a model's list entry."""
    try:
        card = read_web_card(predictor.run.root)
    except WebCardError:
        return {"web": False}
    whole = not card.get("left_out") and not card.get("candidate")
    accuracy = card.get("accuracy")
    return {
        "web": True,
        "web_whole": whole,
        "web_accuracy": float(accuracy) if isinstance(accuracy, int | float) else None,
    }


CACHE_CONTROL = "public, no-cache"
"""Keep the file but ask again each time (a retrained model keeps its name)."""
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "The model is not loaded or has no browser export."}
}


def _web_card(predictor: Predictor) -> dict[str, Any]:
    try:
        return read_web_card(predictor.run.root)
    except WebCardError:
        raise HTTPException(
            404,
            f"model {predictor.name!r} has no browser export; the server's operator can "
            f"make one with `audioclf export RUN --target web --out RUN/web`",
        ) from None


def _etag(card: dict[str, Any]) -> str:
    return f'"{card["sha256"]}"'


def _not_modified(request: Request, etag: str) -> bool:
    asked = request.headers.get("if-none-match", "")
    return any(tag.strip().removeprefix("W/") in (etag, "*") for tag in asked.split(","))


@router.get(
    "/{name}/web",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, 304: {}, **_NOT_FOUND},
)
def web_model(name: str, pool: PoolDep, request: Request) -> Response:
    """The model as one ONNX graph for ONNX Runtime Web: raw mono audio at the card's
    sample rate in (``waveform``, shape 1 × samples), class probabilities out."""
    predictor = pool.get(name)
    card = _web_card(predictor)
    headers = {"ETag": _etag(card), "Cache-Control": CACHE_CONTROL}
    if _not_modified(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return FileResponse(
        web_folder(predictor.run.root) / "model.onnx",
        media_type="application/octet-stream",
        headers=headers,
    )


@router.get("/{name}/web/card", responses=_NOT_FOUND)
def web_card(name: str, pool: PoolDep) -> JSONResponse:
    """The browser export's card: labels, sample rate, longest clip, size, SHA-256, the
    members it holds (and those that run only on the server) and its held-out accuracy."""
    card = _web_card(pool.get(name))
    return JSONResponse(card, headers={"ETag": _etag(card), "Cache-Control": CACHE_CONTROL})
