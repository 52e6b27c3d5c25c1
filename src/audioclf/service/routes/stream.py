"""``WS /v1/stream``: live float32 PCM chunks in, rolling predictions out.

Protocol: the client MAY first send a text frame ``{"sample_rate": 48000}`` (default
16000), then binary frames of little-endian float32 mono samples. Every ``hop`` seconds of
new audio the server answers ``{"t", "model", "probabilities", "top"}`` computed on the
last ``window`` seconds, resampled to the model's rate. Bad input closes the socket with
code 1003 (or 1009 for an oversized frame) and a reason.
"""

from __future__ import annotations

import json
import logging

import numpy as np
from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from audioclf.service.deps import client_key
from audioclf.service.engine import ModelPool
from audioclf.service.limits import RateLimiter
from audioclf.service.settings import Settings

log = logging.getLogger("audioclf.service")

router = APIRouter(tags=["stream"])

DEFAULT_RATE = 16_000
MIN_RATE, MAX_RATE = 8_000, 192_000
MAX_CONFIG_BYTES = 1024
"""The config text frame is one small object; anything longer is refused unparsed."""


class StreamError(ValueError):
    """A client message that breaks the stream protocol."""

    def __init__(self, reason: str, code: int = status.WS_1003_UNSUPPORTED_DATA) -> None:
        super().__init__(reason)
        self.code = code


def parse_config(text: str) -> int:
    """The sample rate announced by the client's first text frame (at most
    :data:`MAX_CONFIG_BYTES`; nesting deep enough to exhaust the parser's recursion is
    refused like any other malformed JSON)."""
    size = len(text.encode("utf-8"))
    if size > MAX_CONFIG_BYTES:
        raise StreamError(
            f"config frame of {size} bytes exceeds {MAX_CONFIG_BYTES}",
            status.WS_1009_MESSAGE_TOO_BIG,
        )
    try:
        config = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise StreamError('the first text frame must be JSON like {"sample_rate": 48000}') from None
    rate = config.get("sample_rate", DEFAULT_RATE) if isinstance(config, dict) else None
    if not isinstance(rate, int) or isinstance(rate, bool) or not MIN_RATE <= rate <= MAX_RATE:
        raise StreamError(f"sample_rate must be an integer from {MIN_RATE} to {MAX_RATE}")
    return rate


def parse_frame(data: bytes, max_bytes: int) -> np.ndarray:
    """Little-endian float32 samples from one binary frame."""
    if len(data) > max_bytes:
        raise StreamError(
            f"frame of {len(data)} bytes exceeds {max_bytes}", status.WS_1009_MESSAGE_TOO_BIG
        )
    if len(data) % 4:
        raise StreamError("binary frames must hold little-endian float32 samples (4 bytes each)")
    samples = np.frombuffer(data, dtype="<f4").astype(np.float32)
    if not np.isfinite(samples).all():
        raise StreamError("the audio contains NaN or infinite samples")
    return samples


@router.websocket("/stream")
async def stream_predictions(websocket: WebSocket, model: str | None = None) -> None:
    """Rolling predictions over live audio chunks."""
    settings: Settings = websocket.app.state.settings
    pool: ModelPool = websocket.app.state.pool
    limiter: RateLimiter = websocket.app.state.limiter
    await websocket.accept()
    if limiter.check(client_key(websocket)) is not None:
        await websocket.close(status.WS_1008_POLICY_VIOLATION, "rate limit reached; retry later")
        return
    name = model or (pool.names[0] if pool.names else "")
    if name not in pool.models:
        loaded = ", ".join(pool.names) or "none"
        await websocket.close(
            status.WS_1008_POLICY_VIOLATION, f"unknown model {name!r}; loaded: {loaded}"
        )
        return
    predictor = pool.get(name)
    rate = DEFAULT_RATE
    buffer = np.zeros(0, dtype=np.float32)
    received = 0
    pending = 0
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            if message.get("text") is not None:
                if received:
                    raise StreamError("the config text frame must come before any audio")
                rate = parse_config(message["text"])
                continue
            samples = parse_frame(message.get("bytes") or b"", settings.max_stream_frame_bytes)
            received += len(samples)
            pending += len(samples)
            keep = int(settings.stream_window * rate)
            buffer = np.concatenate([buffer, samples])[-keep:]
            hop = max(1, int(settings.stream_hop * rate))
            if pending < hop:
                continue
            pending %= hop
            result = (await pool.predict(name, buffer, rate))[0]
            best = int(np.argmax(result.probabilities))
            await websocket.send_json(
                {
                    "t": round(received / rate, 4),
                    "model": name,
                    "probabilities": {
                        label: float(p)
                        for label, p in zip(result.labels, result.probabilities, strict=True)
                    },
                    "top": predictor.classes_[best],
                }
            )
    except StreamError as err:
        log.info("stream closed: %s", err)
        await websocket.close(err.code, str(err))
    except WebSocketDisconnect:
        pass
    log.info("stream model=%s seconds=%.2f", name, received / rate)
