"""Audio intake and abuse limits: bounded upload reading, decoding with a timeout, rate limits.

Uploads stay in memory: the body is read chunk by chunk with the byte limit enforced while
reading, multipart bodies are parsed in memory (never spooled to a temp file), and decoding
runs on the bytes in a worker process (service/decode.py). Only sizes and timings are ever logged.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import HTTPException, Request
from python_multipart.multipart import MultipartParser, parse_options_header

from audioclf.audio import Audio, AudioError, AudioTooLongError, NotAudioError
from audioclf.service.decode import DecodeError, DecodePool

log = logging.getLogger("audioclf.service")

FILE_FIELD = "file"


def too_large(limit: int) -> HTTPException:
    """413 for a body over ``limit`` bytes."""
    mb = limit / (1024 * 1024)
    return HTTPException(
        413, f"upload larger than the limit of {limit} bytes ({mb:.1f} MB); send a shorter clip"
    )


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refusing (413) as soon as it passes ``max_bytes``."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise too_large(max_bytes)
    buffer = bytearray()
    async for chunk in request.stream():
        buffer.extend(chunk)
        if len(buffer) > max_bytes:
            raise too_large(max_bytes)
    return bytes(buffer)


@dataclass
class _Part:
    """The multipart part being parsed."""

    header: bytes = b""
    value: bytes = b""
    name: str | None = None
    data: bytearray = field(default_factory=bytearray)


def multipart_file(body: bytes, content_type: str, name: str = FILE_FIELD) -> bytes:
    """The bytes of form field ``name`` of a multipart body, parsed in memory."""
    try:
        _, params = parse_options_header(content_type)
    except UnicodeEncodeError:
        raise HTTPException(400, "Content-Type header with characters outside Latin-1") from None
    boundary = params.get(b"boundary")
    if not boundary:
        raise HTTPException(400, "multipart body without a boundary in its Content-Type header")
    parts: dict[str, bytes] = {}
    part = _Part()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        part.header += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        part.value += data[start:end]

    def on_header_end() -> None:
        if part.header.lower() == b"content-disposition":
            _, options = parse_options_header(part.value)
            part.name = options.get(b"name", b"").decode("utf-8", "replace")
        part.header, part.value = b"", b""

    def on_part_begin() -> None:
        part.data.clear()
        part.name = None

    def on_part_data(data: bytes, start: int, end: int) -> None:
        part.data.extend(data[start:end])

    def on_part_end() -> None:
        if part.name is not None and part.name not in parts:
            parts[part.name] = bytes(part.data)

    parser = MultipartParser(
        boundary,
        {
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except Exception as exc:
        raise HTTPException(400, f"malformed multipart body ({type(exc).__name__})") from exc
    if name not in parts:
        found = ", ".join(parts) or "none"
        raise HTTPException(
            400, f"multipart body has no field {name!r} (found: {found}); send the audio as 'file'"
        )
    return parts[name]


async def read_audio_bytes(request: Request, max_bytes: int) -> bytes:
    """The uploaded audio: multipart field ``file``, else the raw body whatever its
    Content-Type (the format is found from the bytes, so ``curl --data-binary`` works)."""
    body = await read_body(request, max_bytes)
    content_type = request.headers.get("content-type", "")
    if content_type.lower().startswith("multipart/form-data"):
        body = multipart_file(body, content_type)
    return body


def audio_http_error(err: AudioError) -> HTTPException:
    """The status code for an audio the loader refused: 413 too long, 415 unknown, 422 broken."""
    if isinstance(err, AudioTooLongError):
        return HTTPException(413, str(err))
    if isinstance(err, NotAudioError):
        return HTTPException(415, str(err))
    return HTTPException(422, str(err))


async def decode_audio(
    decoder: DecodePool,
    data: bytes,
    *,
    max_seconds: float,
    timeout: float,
    sample_rate: int | None = None,
) -> Audio:
    """Decode bytes (format found from content) in one of ``decoder``'s worker processes,
    killed past ``timeout``; the loader's refusals become 413/415/422."""
    try:
        return await decoder.decode(
            data, max_seconds=max_seconds, timeout=timeout, sample_rate=sample_rate
        )
    except AudioError as err:
        log.info("refused upload: %d bytes, %s", len(data), type(err).__name__)
        raise audio_http_error(err) from None
    except DecodeError as err:
        raise HTTPException(err.status, str(err)) from None


class RateLimiter:
    """Sliding-window limit of ``per_minute`` requests per client key (0 = unlimited)."""

    def __init__(
        self, per_minute: int, *, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_minute = per_minute
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._last_sweep = clock()

    def check(self, key: str) -> float | None:
        """Record a request; None if allowed, else the seconds to wait before retrying."""
        if self.per_minute <= 0:
            return None
        now = self.clock()
        with self._lock:
            if now - self._last_sweep > self.window:
                self._sweep(now)
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return max(0.0, hits[0] + self.window - now)
            hits.append(now)
            return None

    def _sweep(self, now: float) -> None:
        """Forget clients with no request in the window (bounded memory)."""
        self._last_sweep = now
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]


class WorkSlots:
    """At most ``limit`` expensive requests (decode + inference) in progress at once; a
    request past it is refused at once rather than queued until every request times
    out (load shedding)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._in_use = 0
        self._lock = threading.Lock()

    @property
    def in_use(self) -> int:
        return self._in_use

    def try_acquire(self) -> bool:
        """Take a slot if one is free."""
        with self._lock:
            if self._in_use >= self.limit:
                return False
            self._in_use += 1
            return True

    def release(self) -> None:
        with self._lock:
            self._in_use = max(0, self._in_use - 1)


class ConnectionSlots:
    """Open long-lived connections (live streams, job event streams), at most ``total``
    in all and ``per_client`` for one client key."""

    def __init__(self, total: int, per_client: int) -> None:
        self.total = total
        self.per_client = per_client
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> str | None:
        """Take a slot for ``key``: None when taken, else why not."""
        with self._lock:
            if sum(self._open.values()) >= self.total:
                return f"the server has its {self.total} long-lived streams open; retry later"
            if self._open.get(key, 0) >= self.per_client:
                return f"this client has {self.per_client} long-lived streams open already"
            self._open[key] = self._open.get(key, 0) + 1
            return None

    def release(self, key: str) -> None:
        with self._lock:
            left = self._open.get(key, 0) - 1
            if left > 0:
                self._open[key] = left
            else:
                self._open.pop(key, None)

    @property
    def open(self) -> int:
        with self._lock:
            return sum(self._open.values())


def retry_after_header(seconds: float) -> dict[str, str]:
    """A Retry-After header in whole seconds (at least 1)."""
    return {"Retry-After": str(max(1, math.ceil(seconds)))}
