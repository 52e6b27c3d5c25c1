"""Dependencies of the route handlers, as ``Annotated`` aliases (``PoolDep``, ...)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from starlette.requests import HTTPConnection

from audioclf.service.engine import ModelPool
from audioclf.service.limits import RateLimiter, WorkSlots, retry_after_header
from audioclf.service.settings import Settings


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_pool(request: Request) -> ModelPool:
    """The loaded models."""
    pool: ModelPool = request.app.state.pool
    return pool


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
PoolDep = Annotated[ModelPool, Depends(get_pool)]


def client_key(conn: HTTPConnection) -> str:
    """Who is asking: the client IP (behind a proxy, run uvicorn with --proxy-headers)."""
    return conn.client.host if conn.client else "unknown"


def rate_limit(request: Request) -> None:
    """Refuse (429 + Retry-After) a client over its per-minute budget."""
    limiter: RateLimiter = request.app.state.limiter
    wait = limiter.check(client_key(request))
    if wait is not None:
        raise HTTPException(
            429,
            f"rate limit of {limiter.per_minute} requests per minute reached; "
            f"retry in {max(1, round(wait))} s",
            headers=retry_after_header(wait),
        )


RateLimited = Depends(rate_limit)

BUSY_RETRY_SECONDS = 1.0


async def work_slot(request: Request) -> AsyncIterator[None]:
    """Hold one of the server's slots for expensive work while the request runs; 503 +
    Retry-After at once when all ``max_concurrent_requests`` are taken."""
    slots: WorkSlots = request.app.state.work_slots
    if not slots.try_acquire():
        raise HTTPException(
            503,
            f"the server is busy ({slots.limit} requests in progress); retry shortly",
            headers=retry_after_header(BUSY_RETRY_SECONDS),
        )
    try:
        yield
    finally:
        slots.release()


WorkSlot = Depends(work_slot)


def require_admin(settings: SettingsDep, x_api_key: Annotated[str | None, Header()] = None) -> None:
    """403 when no API key is configured, 401 when the X-API-Key header does not match it."""
    if settings.api_key is None:
        raise HTTPException(403, "admin API disabled: set AUDIOCLF_API_KEY to enable it")
    if x_api_key is None or not secrets.compare_digest(
        x_api_key.encode(), settings.api_key.encode()
    ):
        raise HTTPException(401, "missing or wrong X-API-Key header")


AdminDep = Depends(require_admin)
