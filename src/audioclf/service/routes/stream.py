"""``WS /v1/stream``: live float32 PCM chunks in, rolling predictions out.

Protocol: the client MAY first send a text frame ``{"sample_rate": 48000}`` (default
16000), then binary frames of little-endian float32 mono samples. Every ``hop`` seconds of
new audio the server answers ``{"t", "model", "probabilities", "top"}`` computed on the
last ``window`` seconds, resampled to the model's rate.

Bounded per connection and per server: at most ``max_streams`` streams open, and
``max_streams_per_client`` per client address (1013 past the first, 1008 past the
second); at most ``stream_predictions_per_minute`` predictions per stream; a stream that
sends nothing for ``stream_idle_seconds`` is closed. Every close carries a code and a
reason: 1003 bad input, 1009 an oversized frame, 1008 a limit, 1011 a server error.
"""

from __future__ import annotations

import json
import logging
from collections.abc import MutableMapping
from typing import Any

import anyio
import numpy as np
from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from audioclf.service.deps import client_key
from audioclf.service.engine import ModelPool
from audioclf.service.limits import ConnectionSlots, RateLimiter
from audioclf.service.sessions import SESSION_ID
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
    refused like any other malformed JSON). A lone surrogate (a str from a server that
    did not check the frame's UTF-8) is counted, not fatal."""
    size = len(text.encode("utf-8", "surrogatepass"))
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
async def stream_predictions(
    websocket: WebSocket, model: str | None = None, session: str | None = None
) -> None:
    """Rolling predictions over live audio chunks (each window a clip of ``session``
    for a speaker-normalised model)."""
    streams: ConnectionSlots = websocket.app.state.streams
    limiter: RateLimiter = websocket.app.state.limiter
    key = client_key(websocket)
    await websocket.accept()
    if limiter.check(key) is not None:
        await websocket.close(status.WS_1008_POLICY_VIOLATION, "rate limit reached; retry later")
        return
    if session is not None and not SESSION_ID.fullmatch(session):
        await websocket.close(
            status.WS_1008_POLICY_VIOLATION, "session must be 1-64 of A-Z a-z 0-9 . _ ~ -"
        )
        return
    refused = streams.acquire(key)
    if refused is not None:
        total = refused.startswith("the server")
        code = status.WS_1013_TRY_AGAIN_LATER if total else status.WS_1008_POLICY_VIOLATION
        await websocket.close(code, refused)
        return
    try:
        await _serve_stream(websocket, model, session)
    finally:
        streams.release(key)


async def _serve_stream(websocket: WebSocket, model: str | None, session: str | None) -> None:
    """One stream, from its first frame to its close frame."""
    settings: Settings = websocket.app.state.settings
    pool: ModelPool = websocket.app.state.pool
    name = model or (pool.names[0] if pool.names else "")
    if name not in pool.models:
        loaded = ", ".join(pool.names) or "none"
        await websocket.close(
            status.WS_1008_POLICY_VIOLATION, f"unknown model {name!r}; loaded: {loaded}"
        )
        return
    predictor = pool.get(name)
    budget = RateLimiter(settings.stream_predictions_per_minute)
    rate = DEFAULT_RATE
    buffer = np.zeros(0, dtype=np.float32)
    received = 0
    pending = 0
    try:
        while True:
            message = await _receive(websocket, settings.stream_idle_seconds)
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
            if budget.check("stream") is not None:
                raise StreamError(
                    f"more than {budget.per_minute} predictions a minute on one stream; "
                    "send audio at its real pace",
                    status.WS_1008_POLICY_VIOLATION,
                )
            result = (await pool.predict(name, buffer, rate, session=session))[0]
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
    except Exception:
        log.exception("stream failed")
        await websocket.close(status.WS_1011_INTERNAL_ERROR, "the server failed on this stream")
    log.info("stream model=%s seconds=%.2f", name, received / rate)


async def _receive(websocket: WebSocket, idle_seconds: float) -> MutableMapping[str, Any]:
    """The next message, or a :class:`StreamError` (1008) after ``idle_seconds`` of none."""
    try:
        with anyio.fail_after(idle_seconds):
            message = await websocket.receive()
    except TimeoutError:
        raise StreamError(
            f"no audio for {idle_seconds:g} s; the stream is closed",
            status.WS_1008_POLICY_VIOLATION,
        ) from None
    return message
