"""``POST /v1/feedback``: the correct label for a logged prediction, and with consent the clip.

How the clip reaches the pool: nothing is stored at predict time. When the user ticks
consent, the browser sends the same clip again with the correction, and the server keeps
it only if its SHA-256 equals the hash logged with the prediction. So audio without
consent never touches the disk, and a prediction id cannot be used to plant another clip
in the training pool. The body is parsed in memory (no temporary files); the pool keeps
the decoded samples (FLAC), bounded in total and per client (``feedback_max_bytes``,
``feedback_client_max_bytes``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import anyio
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from audioclf.registry.feedback import FeedbackError, add_feedback
from audioclf.registry.feedback_pool import PoolQuota, client_id
from audioclf.registry.predictions import PredictionLog
from audioclf.service.deps import RateLimited, SettingsDep, client_key
from audioclf.service.feedback_tokens import FeedbackTokenError, check_token
from audioclf.service.limits import decode_audio, multipart_file, read_body
from audioclf.service.schemas import ErrorResponse

router = APIRouter(tags=["feedback"], dependencies=[RateLimited])

MAX_FIELD_CHARS = 200

FEEDBACK_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "prediction_id": {"type": "string"},
                        "feedback_token": {"type": "string"},
                        "label": {"type": "string"},
                        "who": {"type": "string"},
                        "consent": {"type": "boolean", "enum": [False]},
                    },
                    "required": ["prediction_id", "feedback_token", "label"],
                }
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "prediction_id": {"type": "string"},
                        "feedback_token": {
                            "type": "string",
                            "description": "The token /v1/predict returned with the prediction.",
                        },
                        "label": {"type": "string", "description": "The correct label."},
                        "who": {"type": "string", "description": "Who corrects (optional)."},
                        "consent": {
                            "type": "boolean",
                            "description": "Keep the clip for retraining (then send `file`).",
                        },
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The clip sent to /v1/predict; only with consent.",
                        },
                    },
                    "required": ["prediction_id", "feedback_token", "label"],
                }
            },
        },
    }
}


class FeedbackResponse(BaseModel):
    """What was stored."""

    prediction_id: str
    predicted_label: str
    correct_label: str
    clip_kept: bool = Field(description="True only when consent was given with the clip.")


def _field(body: bytes, content_type: str, name: str, required: bool) -> bytes | None:
    try:
        return multipart_file(body, content_type, name)
    except HTTPException:
        if required:
            raise HTTPException(400, f"feedback form field {name!r} is missing") from None
        return None


def _form_reader(body: bytes, content_type: str) -> Callable[[str, bool], bytes | None]:
    """Field getter for a multipart body (with a clip) or a URL-encoded one (without)."""
    kind = content_type.lower()
    if kind.startswith("multipart/form-data"):
        return lambda name, required: _field(body, content_type, name, required)
    if kind.startswith("application/x-www-form-urlencoded"):
        fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)

        def get(name: str, required: bool) -> bytes | None:
            if name not in fields:
                if required:
                    raise HTTPException(400, f"feedback form field {name!r} is missing")
                return None
            if name == "file":
                raise HTTPException(400, "send the clip as multipart/form-data field 'file'")
            return fields[name][0].encode()

        return get
    raise HTTPException(
        400, "send feedback as a form: multipart/form-data (with a clip) or URL-encoded"
    )


def _text(value: bytes | None, name: str) -> str:
    text = (value or b"").decode("utf-8", "replace").strip()
    if len(text) > MAX_FIELD_CHARS:
        raise HTTPException(400, f"feedback field {name!r} is over {MAX_FIELD_CHARS} characters")
    return text


@router.post(
    "/feedback",
    response_model=FeedbackResponse,
    openapi_extra=FEEDBACK_BODY,
    responses={
        c: {"model": ErrorResponse, "description": d}
        for c, d in {
            400: "Bad form, unknown label, clip without consent or not the predicted one.",
            403: "No valid feedback token for this prediction (missing, forged, expired).",
            404: "Unknown prediction id.",
            409: "This prediction already has feedback.",
            413: "Upload too big.",
            422: "The clip cannot be decoded.",
            429: "This client's share of the feedback pool is used up.",
            507: "The feedback pool is full.",
        }.items()
    },
)
async def send_feedback(request: Request, settings: SettingsDep) -> FeedbackResponse:
    """Correct a prediction; with consent, keep its clip in the feedback pool."""
    content_type = request.headers.get("content-type", "")
    body = await read_body(request, settings.max_upload_bytes)
    get = _form_reader(body, content_type)
    prediction_id = _text(get("prediction_id", True), "prediction_id")
    label = _text(get("label", True), "label")
    who = _text(get("who", False), "who")
    consent_text = _text(get("consent", False), "consent").lower()
    if consent_text not in ("", "true", "false", "1", "0", "on", "yes", "no"):
        raise HTTPException(400, "feedback field 'consent' must be true or false")
    consent = consent_text in ("true", "1", "on", "yes")
    clip = get("file", False)
    if not prediction_id or not label:
        raise HTTPException(400, "feedback needs a prediction_id and a label")
    token = _text(get("feedback_token", False), "feedback_token")
    try:
        check_token(
            request.app.state.feedback_secret,
            token,
            prediction_id,
            settings.feedback_token_seconds,
        )
    except FeedbackTokenError as err:
        raise HTTPException(403, str(err)) from None
    decoded = None
    if clip and consent:
        decoded = await decode_audio(
            request.app.state.decoder,
            clip,
            max_seconds=settings.max_audio_seconds,
            timeout=settings.decode_timeout_seconds,
        )
    quota = PoolQuota(settings.feedback_max_bytes, settings.feedback_client_max_bytes)
    client = client_id(client_key(request), request.app.state.client_salt)
    log: PredictionLog = request.app.state.prediction_log
    await anyio.to_thread.run_sync(log.flush)  # the prediction may still be queued
    try:
        result = await anyio.to_thread.run_sync(
            lambda: add_feedback(
                log.sessions,
                request.app.state.feedback_dir,
                prediction_id=prediction_id,
                correct_label=label,
                who=who,
                consent=consent,
                clip=clip or None,
                decoded=decoded,
                client=client,
                quota=quota,
            )
        )
    except FeedbackError as err:
        raise HTTPException(err.status, str(err)) from None
    return FeedbackResponse(
        prediction_id=result.prediction_id,
        predicted_label=result.predicted_label,
        correct_label=result.correct_label,
        clip_kept=result.clip_kept,
    )
