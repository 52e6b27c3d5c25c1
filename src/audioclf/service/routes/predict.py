"""``POST /v1/predict`` and ``POST /v1/predict/timeline``: uploaded audio → probabilities."""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request

from audioclf.inference.excerpts import scored_excerpts
from audioclf.inference.timeline import TimelineCancelledError, TimelineError, default_vad, timeline
from audioclf.service.cancel import run_cancellable
from audioclf.service.deps import PoolDep, RateLimited, SettingsDep, WorkSlot
from audioclf.service.engine import ALL, ModelResult
from audioclf.service.feedback_tokens import sign_prediction
from audioclf.service.limits import decode_audio, read_audio_bytes
from audioclf.service.registry_models import log_predictions
from audioclf.service.schemas import (
    ErrorResponse,
    InferenceTiming,
    ModelPrediction,
    PredictResponse,
    RequestTiming,
    SpeakerNormalisation,
    TimelineResponse,
    TimelineSegment,
    TopLabel,
)
from audioclf.service.sessions import SessionIdError, check_session_id

log = logging.getLogger("audioclf.service")

MAX_WINDOWS = 5000

AUDIO_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The audio, any format the loader reads: multipart field `file` or raw.",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in {
        400: "Bad request or parameter.",
        404: "Unknown model (the message lists the loaded ones).",
        413: "Upload too big or audio too long.",
        415: "Not a recognised audio format.",
        422: "Audio that cannot be decoded (empty, truncated, corrupt).",
        429: "Rate limited; see Retry-After.",
    }.items()
}

router = APIRouter(prefix="/predict", tags=["predict"], dependencies=[RateLimited, WorkSlot])


SESSION_HELP = (
    "Speaker session id (1-64 of A-Z a-z 0-9 . _ ~ -) for models trained with speaker "
    "normalisation: the clips of one session are standardised with their own running "
    "statistics, kept in memory only (docs/serving.md)."
)


def session_id(value: str | None) -> str | None:
    """A checked session id (400 when malformed), or None."""
    if value is None:
        return None
    try:
        return check_session_id(value)
    except SessionIdError as err:
        raise HTTPException(400, str(err)) from None


def _prediction(result: ModelResult) -> ModelPrediction:
    labels, probs = result.labels, result.probabilities
    best = int(np.argmax(probs))
    norm = result.normalised
    return ModelPrediction(
        model=result.model,
        labels=labels,
        probabilities={label: float(p) for label, p in zip(labels, probs, strict=True)},
        top=TopLabel(label=labels[best], probability=float(probs[best])),
        timing_ms=InferenceTiming(
            inference=round(result.inference_ms, 3),
            stages={name: round(v, 3) for name, v in result.stages.items()},
        ),
        speaker_norm=(
            SpeakerNormalisation(statistics=norm.statistics, session_clips=norm.session_clips)
            if norm is not None
            else None
        ),
    )


@router.post("", response_model=PredictResponse, responses=ERRORS, openapi_extra=AUDIO_BODY)
async def predict_clip(
    request: Request,
    pool: PoolDep,
    settings: SettingsDep,
    model: Annotated[str, Query(description="A model name, or `all`.")] = ALL,
    session: Annotated[str | None, Query(description=SESSION_HELP)] = None,
) -> PredictResponse:
    """Classify one uploaded clip with one model or all of them."""
    start = time.perf_counter()
    session = session_id(session)
    if not pool.select(model):  # 404 before reading the body
        raise HTTPException(503, "no model loaded; pass run folders to serve")
    data = await read_audio_bytes(request, settings.max_upload_bytes)
    decode_start = time.perf_counter()
    audio = await decode_audio(
        request.app.state.decoder,
        data,
        max_seconds=settings.max_audio_seconds,
        timeout=settings.decode_timeout_seconds,
    )
    decode_ms = (time.perf_counter() - decode_start) * 1000
    scored, sampled = scored_excerpts(audio.samples, audio.sample_rate, settings.max_scored_seconds)
    results = await pool.predict(model, scored, audio.sample_rate, session=session)
    total_ms = (time.perf_counter() - start) * 1000
    log.info(
        "predict model=%s bytes=%d seconds=%.2f decode_ms=%.1f total_ms=%.1f",
        model,
        len(data),
        audio.duration,
        decode_ms,
        total_ms,
    )
    logged = log_predictions(request, data, results, total_ms)
    predictions = [_prediction(r) for r in results]
    for p in predictions:
        if p.model in logged:
            p.prediction_id, p.version = logged[p.model]
            p.feedback_token = sign_prediction(request.app.state.feedback_secret, p.prediction_id)
    return PredictResponse(
        duration_seconds=round(audio.duration, 4),
        scored_seconds=round(len(scored) / audio.sample_rate, 4),
        sampled=sampled,
        results=predictions,
        timing_ms=RequestTiming(decode=round(decode_ms, 3), total=round(total_ms, 3)),
    )


@router.post(
    "/timeline", response_model=TimelineResponse, responses=ERRORS, openapi_extra=AUDIO_BODY
)
async def predict_timeline(
    request: Request,
    pool: PoolDep,
    settings: SettingsDep,
    model: Annotated[str | None, Query(description="A model name (default: the first).")] = None,
    window: Annotated[float | None, Query(gt=0, le=60, description="Window seconds.")] = None,
    hop: Annotated[float | None, Query(gt=0, le=60, description="Hop seconds.")] = None,
    vad: Annotated[
        Literal["silero", "energy", "none"] | None,
        Query(description="Voice detector; default silero for speech models, else energy."),
    ] = None,
) -> TimelineResponse:
    """Time-stamped predictions over sliding windows of a long recording, skipping silence."""
    start = time.perf_counter()
    if model is None:
        if not pool.names:
            raise HTTPException(503, "no model loaded")
        model = pool.names[0]
    predictor = pool.get(model)
    window = window or settings.timeline_window
    hop = hop or settings.timeline_hop
    if hop > window:
        raise HTTPException(400, f"hop ({hop} s) must not exceed window ({window} s)")
    data = await read_audio_bytes(request, settings.max_upload_bytes)
    audio = await decode_audio(
        request.app.state.decoder,
        data,
        max_seconds=settings.max_audio_seconds,
        timeout=settings.decode_timeout_seconds,
        sample_rate=predictor.sample_rate,
    )
    if audio.duration / hop > MAX_WINDOWS:
        raise HTTPException(
            400,
            f"{audio.duration:.0f} s with hop {hop} s gives over {MAX_WINDOWS} windows; "
            "use a larger hop",
        )
    method = vad or default_vad(predictor.card)
    try:
        segments = await run_cancellable(
            lambda stop: timeline(
                predictor, audio.samples, window=window, hop=hop, vad=method, cancelled=stop.is_set
            ),
            request,
            deadline=settings.work_timeout_seconds,
            cancelled=TimelineCancelledError,
        )
    except TimelineError as err:
        raise HTTPException(400, str(err)) from None
    log.info(
        "timeline model=%s bytes=%d seconds=%.2f windows=%d total_ms=%.1f",
        model,
        len(data),
        audio.duration,
        len(segments),
        (time.perf_counter() - start) * 1000,
    )
    return TimelineResponse(
        model=model,
        labels=list(predictor.classes_),
        duration_seconds=round(audio.duration, 4),
        vad=method,
        segments=[
            TimelineSegment(
                start=s.start, end=s.end, voiced=s.voiced, probabilities=s.probabilities, top=s.top
            )
            for s in segments
        ],
    )
